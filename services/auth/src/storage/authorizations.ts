/**
 * Authorizations in this DC's keyspace: which user each logged-in auth key is (auth_key_users),
 * the same rows by user for account.getAuthorizations (authorizations_by_user), and the links
 * between keys of different DCs made by auth.exportAuthorization/importAuthorization
 * (authorization_exports on the issuing DC, imported_authorizations on the importing one).
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';

/** What a client said about itself, kept with its authorization. */
export interface DeviceInfo {
  apiId: number;
  deviceModel: string;
  systemVersion: string;
  appVersion: string;
}

export interface Binding {
  authKeyId: bigint;
  userId: bigint;
  device: DeviceInfo;
  clientIp: string;
  /** Unix seconds. */
  createdAt: number;
  /** For a key authorized with auth.importAuthorization: the issuing DC and its key. */
  importedFrom?: { dc: number; authKeyId: bigint };
}

type Statement = { query: string; params: unknown[] };

function toBinding(row: { get(name: string): unknown }, userId: bigint): Binding {
  const fromDc = row.get('imported_from_dc') as number | null;
  const created = row.get('created_at') as Date | null;
  return {
    authKeyId: fromLong(row.get('auth_key_id')),
    userId,
    device: {
      apiId: (row.get('api_id') as number | null) ?? 0,
      deviceModel: (row.get('device_model') as string | null) ?? '',
      systemVersion: (row.get('system_version') as string | null) ?? '',
      appVersion: (row.get('app_version') as string | null) ?? '',
    },
    clientIp: (row.get('client_ip') as string | null) ?? '',
    createdAt: created ? Math.floor(created.getTime() / 1000) : 0,
    importedFrom:
      fromDc === null ? undefined : { dc: fromDc, authKeyId: fromLong(row.get('imported_from_key')) },
  };
}

export class AuthorizationStore {
  constructor(private readonly db: Client) {}

  /** Authorizes `b.authKeyId` as `b.userId` (replacing an earlier binding of the key). */
  async bind(b: Omit<Binding, 'createdAt'>): Promise<void> {
    const previous = await this.keyUser(b.authKeyId);
    const d = b.device;
    const from = b.importedFrom;
    const queries: Statement[] = [
      {
        query:
          'INSERT INTO auth_key_users (auth_key_id, user_id, api_id, device_model, system_version, app_version, client_ip, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, toTimestamp(now()))',
        params: [
          toLong(b.authKeyId),
          toLong(b.userId),
          d.apiId,
          d.deviceModel,
          d.systemVersion,
          d.appVersion,
          b.clientIp,
        ],
      },
      {
        query:
          'INSERT INTO authorizations_by_user (user_id, auth_key_id, api_id, device_model, system_version, app_version, client_ip, created_at, imported_from_dc, imported_from_key) VALUES (?, ?, ?, ?, ?, ?, ?, toTimestamp(now()), ?, ?)',
        params: [
          toLong(b.userId),
          toLong(b.authKeyId),
          d.apiId,
          d.deviceModel,
          d.systemVersion,
          d.appVersion,
          b.clientIp,
          from?.dc ?? null,
          from ? toLong(from.authKeyId) : null,
        ],
      },
    ];
    if (previous !== 0n && previous !== b.userId)
      queries.push({
        query: 'DELETE FROM authorizations_by_user WHERE user_id = ? AND auth_key_id = ?',
        params: [toLong(previous), toLong(b.authKeyId)],
      });
    if (from)
      queries.push({
        query:
          'INSERT INTO imported_authorizations (source_dc, source_auth_key_id, auth_key_id, user_id) VALUES (?, ?, ?, ?)',
        params: [from.dc, toLong(from.authKeyId), toLong(b.authKeyId), toLong(b.userId)],
      });
    // A logged batch: both views of the binding are written, or (after a crash) replayed, together.
    await this.db.batch(queries, { prepare: true, logged: true });
  }

  /** The user `authKeyId` is logged in as; 0n when none. */
  async keyUser(authKeyId: bigint): Promise<bigint> {
    const row = (
      await this.db.execute('SELECT user_id FROM auth_key_users WHERE auth_key_id = ?', [toLong(authKeyId)], {
        prepare: true,
      })
    ).first();
    return row ? fromLong(row.get('user_id')) : 0n;
  }

  /** Every authorization of `userId` in this DC. */
  async list(userId: bigint): Promise<Binding[]> {
    const rs = await this.db.execute(
      'SELECT * FROM authorizations_by_user WHERE user_id = ?',
      [toLong(userId)],
      {
        prepare: true,
        fetchSize: 1000,
      },
    );
    return rs.rows.map((row) => toBinding(row, userId));
  }

  /** Removes the binding of `authKeyId` (both views). Returns what it was, if anything. */
  async unbind(authKeyId: bigint): Promise<Binding | undefined> {
    const userId = await this.keyUser(authKeyId);
    if (userId === 0n) return undefined;
    const row = (
      await this.db.execute(
        'SELECT * FROM authorizations_by_user WHERE user_id = ? AND auth_key_id = ?',
        [toLong(userId), toLong(authKeyId)],
        { prepare: true },
      )
    ).first();
    const binding = row ? toBinding(row, userId) : undefined;
    const queries: Statement[] = [
      { query: 'DELETE FROM auth_key_users WHERE auth_key_id = ?', params: [toLong(authKeyId)] },
      {
        query: 'DELETE FROM authorizations_by_user WHERE user_id = ? AND auth_key_id = ?',
        params: [toLong(userId), toLong(authKeyId)],
      },
    ];
    const from = binding?.importedFrom;
    if (from)
      queries.push({
        query:
          'DELETE FROM imported_authorizations WHERE source_dc = ? AND source_auth_key_id = ? AND auth_key_id = ?',
        params: [from.dc, toLong(from.authKeyId), toLong(authKeyId)],
      });
    await this.db.batch(queries, { prepare: true, logged: true });
    return (
      binding ?? {
        authKeyId,
        userId,
        device: { apiId: 0, deviceModel: '', systemVersion: '', appVersion: '' },
        clientIp: '',
        createdAt: 0,
      }
    );
  }

  /** Keys of this DC authorized from `sourceDc`'s key `sourceKey`. */
  async importedFrom(sourceDc: number, sourceKey: bigint): Promise<bigint[]> {
    const rs = await this.db.execute(
      'SELECT auth_key_id FROM imported_authorizations WHERE source_dc = ? AND source_auth_key_id = ?',
      [sourceDc, toLong(sourceKey)],
      { prepare: true },
    );
    return rs.rows.map((r) => fromLong(r.get('auth_key_id')));
  }

  /** Records that `authKeyId`'s login was imported on `targetDc`. */
  async recordExport(authKeyId: bigint, targetDc: number): Promise<void> {
    await this.db.execute(
      'INSERT INTO authorization_exports (auth_key_id, target_dc) VALUES (?, ?)',
      [toLong(authKeyId), targetDc],
      { prepare: true },
    );
  }

  /** DCs `authKeyId`'s login was imported on. */
  async exportTargets(authKeyId: bigint): Promise<number[]> {
    const rs = await this.db.execute(
      'SELECT target_dc FROM authorization_exports WHERE auth_key_id = ?',
      [toLong(authKeyId)],
      { prepare: true },
    );
    return rs.rows.map((r) => r.get('target_dc') as number);
  }

  async forgetExports(authKeyId: bigint): Promise<void> {
    await this.db.execute('DELETE FROM authorization_exports WHERE auth_key_id = ?', [toLong(authKeyId)], {
      prepare: true,
    });
  }
}
