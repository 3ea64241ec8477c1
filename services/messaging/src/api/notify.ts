/**
 * Push devices and notification settings of the caller's own account: account.registerDevice /
 * unregisterDevice, account.updateNotifySettings / getNotifySettings. Both are stored in the
 * caller's home DC (ownBox answers USER_MIGRATE_X elsewhere), where the push worker that reads
 * them runs (consumers/push.ts).
 */
import { errors, type AsyncService } from '../../../shared/src';
import type { NotifyPeer, PeerNotifySettings } from '../../../shared/src/gen/tern/common/v1/peer';
import type { MessagingServiceServer } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import { peerKey, type BoxCore } from './core';
import { MAX_SECRET_LENGTH, MAX_TOKEN_LENGTH, type Devices, type NotifySettings } from '../storage/devices';

type Handlers = Pick<
  AsyncService<MessagingServiceServer>,
  'registerDevice' | 'unregisterDevice' | 'updateNotifySettings' | 'getNotifySettings'
>;

/** Longest notification sound name kept (a file name or "default"). */
const MAX_SOUND_LENGTH = 128;

/** The notify_settings scope of a NotifyPeer: a dialog key or a default scope; PEER_ID_INVALID otherwise. */
export function scopeOf(p: NotifyPeer | undefined): string {
  switch (p?.kind?.$case) {
    case 'users':
      return 'users';
    case 'chats':
      return 'chats';
    case 'broadcasts':
      return 'broadcasts';
    case 'peer': {
      const peer = p.kind.value;
      if (peer.kind?.$case === 'channelId') return `h${peer.kind.value}`;
      const key = peerKey(peer);
      if (key) return key;
      break;
    }
  }
  throw errors.badRequest('PEER_ID_INVALID');
}

/**
 * @param tokenTypes the TL token types this deployment can deliver to (consumers/push-providers.ts):
 *   registering any other type is TOKEN_INVALID, so a client never believes it will be notified
 *   through a provider the deployment does not have.
 */
export function notifyHandlers(
  core: BoxCore,
  devices: Devices,
  settings: NotifySettings,
  tokenTypes: ReadonlySet<number>,
): Handlers {
  const checkToken = (type: number, token: string) => {
    if (!token.trim() || token.length > MAX_TOKEN_LENGTH) throw errors.badRequest('TOKEN_INVALID');
    if (!tokenTypes.has(type)) throw errors.badRequest('TOKEN_INVALID', `token type ${type} not served here`);
  };

  return {
    async registerDevice(req) {
      const userId = await core.ownBox(req.context);
      checkToken(req.tokenType, req.token);
      if (req.secret.length > MAX_SECRET_LENGTH) throw errors.badRequest('TOKEN_INVALID');
      await devices.register(userId, {
        tokenType: req.tokenType,
        token: req.token,
        appSandbox: req.appSandbox,
        secret: Buffer.from(req.secret),
        noMuted: req.noMuted,
      });
      return {};
    },

    async unregisterDevice(req) {
      const userId = await core.ownBox(req.context);
      if (!req.token.trim() || req.token.length > MAX_TOKEN_LENGTH) throw errors.badRequest('TOKEN_INVALID');
      await devices.unregister(userId, req.tokenType, req.token);
      return {};
    },

    async updateNotifySettings(req) {
      const userId = await core.ownBox(req.context);
      const scope = scopeOf(req.peer);
      const s: PeerNotifySettings = { ...req.settings };
      // Telegram clients send absolute times; anything past 2^31-1 (or negative) means "forever"
      // or "not muted" respectively.
      if (s.muteUntil !== undefined) s.muteUntil = Math.max(0, s.muteUntil);
      if (s.sound !== undefined && s.sound.length > MAX_SOUND_LENGTH)
        s.sound = s.sound.slice(0, MAX_SOUND_LENGTH);
      await settings.put(userId, scope, s);
      return {};
    },

    async getNotifySettings(req) {
      const userId = await core.ownBox(req.context);
      return { settings: await settings.get(userId, scopeOf(req.peer)) };
    },
  };
}
