/**
 * Notification settings between TL and proto: the InputNotifyPeer and InputPeerNotifySettings a
 * client sends (TL → tern.common.v1) and the PeerNotifySettings it is shown (proto → TL).
 */
import { errors } from '../../../shared/src';
import type { NotifyPeer, PeerNotifySettings } from '../../../shared/src/gen/tern/common/v1/peer';
import type { TlObject } from '../mtproto/tl-types';
import { text } from './users';
import { long } from './peers';

/**
 * TL InputNotifyPeer → proto. A dialog is named by id only: settings are the caller's own and
 * change nothing anyone else sees, so no access hash is needed. Forum topics are not served.
 */
export function notifyPeer(v: unknown, self: bigint): NotifyPeer {
  const p = v as TlObject | undefined;
  switch (p?._) {
    case 'inputNotifyUsers':
      return { kind: { $case: 'users', value: {} } };
    case 'inputNotifyChats':
      return { kind: { $case: 'chats', value: {} } };
    case 'inputNotifyBroadcasts':
      return { kind: { $case: 'broadcasts', value: {} } };
    case 'inputNotifyPeer': {
      const peer = p.peer as TlObject | undefined;
      switch (peer?._) {
        case 'inputPeerSelf':
          return { kind: { $case: 'peer', value: { kind: { $case: 'userId', value: self } } } };
        case 'inputPeerUser':
          return {
            kind: { $case: 'peer', value: { kind: { $case: 'userId', value: long(peer.user_id) } } },
          };
        case 'inputPeerChat':
          return {
            kind: { $case: 'peer', value: { kind: { $case: 'chatId', value: long(peer.chat_id) } } },
          };
        case 'inputPeerChannel':
          return {
            kind: {
              $case: 'peer',
              value: { kind: { $case: 'channelId', value: long(peer.channel_id) } },
            },
          };
      }
    }
  }
  throw errors.badRequest('PEER_ID_INVALID');
}

/** TL NotificationSound → the stored name: "default", "none", or "local:<data>". */
function soundName(v: unknown): string | undefined {
  const s = v as TlObject | undefined;
  switch (s?._) {
    case 'notificationSoundDefault':
      return 'default';
    case 'notificationSoundNone':
      return 'none';
    case 'notificationSoundLocal':
      return `local:${text(s.data)}`;
    default:
      return undefined;
  }
}

function tlSound(name: string | undefined): TlObject | undefined {
  if (name === undefined) return undefined;
  if (name === 'none') return { _: 'notificationSoundNone' };
  if (name.startsWith('local:')) return { _: 'notificationSoundLocal', title: '', data: name.slice(6) };
  return { _: 'notificationSoundDefault' };
}

const optionalBool = (v: unknown): boolean | undefined => (typeof v === 'boolean' ? v : undefined);

/** TL InputPeerNotifySettings → proto (absent fields stay unset: "use the default"). */
export function inputSettings(v: unknown): PeerNotifySettings {
  const s = (v ?? {}) as TlObject;
  const out: PeerNotifySettings = {};
  const previews = optionalBool(s.show_previews);
  const silent = optionalBool(s.silent);
  if (previews !== undefined) out.showPreviews = previews;
  if (silent !== undefined) out.silent = silent;
  if (typeof s.mute_until === 'number') out.muteUntil = s.mute_until;
  const sound = soundName(s.sound);
  if (sound !== undefined) out.sound = sound;
  return out;
}

export function tlPeerNotifySettings(s: PeerNotifySettings | undefined): TlObject {
  const sound = tlSound(s?.sound);
  return {
    _: 'peerNotifySettings',
    show_previews: s?.showPreviews,
    silent: s?.silent,
    mute_until: s?.muteUntil,
    ios_sound: sound,
    android_sound: sound,
    other_sound: sound,
  };
}
