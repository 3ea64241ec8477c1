/**
 * push_devices and notify_settings (this DC's keyspace, migrations/dc/0005_push.cql): the push
 * tokens of the users homed here and what they asked to be notified about. Both live in the
 * owner's home DC, next to the box the notifications are about, so the push worker of a DC only
 * reads its own keyspace.
 */
import type { Client } from 'cassandra-driver';
import { toLong } from '../../../shared/src';
import type { PeerNotifySettings } from '../../../shared/src/gen/tern/common/v1/peer';

/**
 * Devices one user may register. Telegram accounts are used on a handful of devices; the cap keeps
 * the worker's per-notification read and fan-out bounded (a client that re-registers a new token
 * on every start must not grow the partition forever): the oldest registration is evicted.
 */
export const MAX_DEVICES_PER_USER = 20;
/** Longest token accepted: FCM tokens are ~160 chars, APNs 64 hex, Web Push JSON a few hundred. */
export const MAX_TOKEN_LENGTH = 1024;
/** Longest encryption secret accepted (Telegram's is 256 bytes). */
export const MAX_SECRET_LENGTH = 512;

export interface Device {
  tokenType: number;
  token: string;
  appSandbox: boolean;
  secret: Buffer;
  noMuted: boolean;
  registeredAt: Date;
}

/** Scope keys of the default rows (TL inputNotifyUsers / Chats / Broadcasts). */
export type NotifyScope = 'users' | 'chats' | 'broadcasts';

/** Settings after falling back from dialog to scope to Telegram's defaults. */
export interface EffectiveSettings {
  showPreviews: boolean;
  silent: boolean;
  muteUntil: number;
}

export class Devices {
  constructor(private readonly db: Client) {}

  /**
   * Registers (or refreshes) a token of `userId`; beyond MAX_DEVICES_PER_USER the oldest other
   * registrations are removed.
   */
  async register(userId: bigint, d: Omit<Device, 'registeredAt'>): Promise<void> {
    const u = toLong(userId);
    await this.db.execute(
      `INSERT INTO push_devices (user_id, token_type, device_token, app_sandbox, secret, no_muted, registered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [u, d.tokenType, d.token, d.appSandbox, d.secret, d.noMuted, new Date()],
      { prepare: true },
    );
    const all = await this.list(userId);
    if (all.length <= MAX_DEVICES_PER_USER) return;
    const oldest = all
      .filter((x) => !(x.tokenType === d.tokenType && x.token === d.token))
      .sort((a, b) => a.registeredAt.getTime() - b.registeredAt.getTime())
      .slice(0, all.length - MAX_DEVICES_PER_USER);
    for (const o of oldest) await this.unregister(userId, o.tokenType, o.token);
  }

  async unregister(userId: bigint, tokenType: number, token: string): Promise<void> {
    await this.db.execute(
      'DELETE FROM push_devices WHERE user_id = ? AND token_type = ? AND device_token = ?',
      [toLong(userId), tokenType, token],
      { prepare: true },
    );
  }

  /** Every device of `userId` (at most a few more than MAX_DEVICES_PER_USER under races). */
  async list(userId: bigint): Promise<Device[]> {
    const rs = await this.db.execute(
      `SELECT token_type, device_token, app_sandbox, secret, no_muted, registered_at FROM push_devices
       WHERE user_id = ? LIMIT ${MAX_DEVICES_PER_USER * 2}`,
      [toLong(userId)],
      { prepare: true },
    );
    return rs.rows.map((r) => ({
      tokenType: r.get('token_type') as number,
      token: r.get('device_token') as string,
      appSandbox: (r.get('app_sandbox') as boolean | null) ?? false,
      secret: (r.get('secret') as Buffer | null) ?? Buffer.alloc(0),
      noMuted: (r.get('no_muted') as boolean | null) ?? false,
      registeredAt: (r.get('registered_at') as Date | null) ?? new Date(0),
    }));
  }
}

export class NotifySettings {
  constructor(private readonly db: Client) {}

  /**
   * Replaces the settings of `scope` (a dialog key or a NotifyScope): unset fields are stored as
   * null, i.e. "use the default", as account.updateNotifySettings means.
   */
  async put(userId: bigint, scope: string, s: PeerNotifySettings): Promise<void> {
    await this.db.execute(
      `INSERT INTO notify_settings (user_id, scope, show_previews, silent, mute_until, sound)
       VALUES (?, ?, ?, ?, ?, ?)`,
      [toLong(userId), scope, s.showPreviews ?? null, s.silent ?? null, s.muteUntil ?? null, s.sound ?? null],
      { prepare: true },
    );
  }

  /** The stored settings of `scope`, unset fields absent. */
  async get(userId: bigint, scope: string): Promise<PeerNotifySettings> {
    return (await this.getMany(userId, [scope])).get(scope) ?? {};
  }

  async getMany(userId: bigint, scopes: string[]): Promise<Map<string, PeerNotifySettings>> {
    const out = new Map<string, PeerNotifySettings>();
    if (scopes.length === 0) return out;
    const rs = await this.db.execute(
      `SELECT scope, show_previews, silent, mute_until, sound FROM notify_settings
       WHERE user_id = ? AND scope IN ?`,
      [toLong(userId), scopes],
      { prepare: true },
    );
    for (const r of rs.rows) {
      const s: PeerNotifySettings = {};
      const previews = r.get('show_previews') as boolean | null;
      const silent = r.get('silent') as boolean | null;
      const mute = r.get('mute_until') as number | null;
      const sound = r.get('sound') as string | null;
      if (previews !== null) s.showPreviews = previews;
      if (silent !== null) s.silent = silent;
      if (mute !== null) s.muteUntil = mute;
      if (sound !== null) s.sound = sound;
      out.set(r.get('scope') as string, s);
    }
    return out;
  }

  /**
   * What applies to dialog `dialogKey` ('u…', 'c…') of `userId`: each field from the dialog's row
   * if set there, else from its scope's row, else Telegram's default.
   */
  async effective(userId: bigint, dialogKey: string): Promise<EffectiveSettings> {
    const scope = scopeOfDialog(dialogKey);
    const rows = await this.getMany(userId, [dialogKey, scope]);
    const own = rows.get(dialogKey) ?? {};
    const def = rows.get(scope) ?? {};
    return {
      showPreviews: own.showPreviews ?? def.showPreviews ?? true,
      silent: own.silent ?? def.silent ?? false,
      muteUntil: own.muteUntil ?? def.muteUntil ?? 0,
    };
  }
}

/** The default scope a dialog falls back to: private chats → users, groups → chats, channels → broadcasts. */
export function scopeOfDialog(dialogKey: string): NotifyScope {
  if (dialogKey.startsWith('c')) return 'chats';
  if (dialogKey.startsWith('h')) return 'broadcasts';
  return 'users';
}
