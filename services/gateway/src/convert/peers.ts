/**
 * Peers between TL and proto: the InputPeer a client names (TL → tern.common.v1) and the Peer it
 * is shown (proto → TL).
 */
import { errors } from '../../../shared/src';
import type { InputPeer, Peer } from '../../../shared/src/gen/tern/common/v1/peer';
import type { TlObject } from '../mtproto/tl-types';

/**
 * A TL `long` as a bigint. Layers before 133 carry user, chat and channel ids as `int`, which the
 * codec decodes to numbers; every id read from a client passes here so that both arrive as bigints.
 */
export function long(v: unknown): bigint {
  return typeof v === 'number' ? BigInt(v) : (v as bigint);
}

/** TL InputPeer → proto; PEER_ID_INVALID for kinds Tern does not serve here. */
export function inputPeer(v: unknown): InputPeer {
  const p = v as TlObject | undefined;
  switch (p?._) {
    case 'inputPeerSelf':
      return { kind: { $case: 'self', value: {} } };
    case 'inputPeerUser':
      return {
        kind: { $case: 'user', value: { userId: long(p.user_id), accessHash: p.access_hash as bigint } },
      };
    case 'inputPeerChat':
      return { kind: { $case: 'chat', value: { chatId: long(p.chat_id) } } };
    // Only where a box keeps something of its own about a channel (a draft): channel messages go
    // to the channel service, which checks the access hash (channelOfPeer before this).
    case 'inputPeerChannel':
      return {
        kind: {
          $case: 'channel',
          value: { channelId: long(p.channel_id), accessHash: p.access_hash as bigint },
        },
      };
    default:
      throw errors.badRequest('PEER_ID_INVALID');
  }
}

/** proto Peer → TL; a message without a peer is a service's bug, answered as an internal error. */
export function tlPeer(p: Peer | undefined): TlObject {
  switch (p?.kind?.$case) {
    case 'userId':
      return { _: 'peerUser', user_id: p.kind.value };
    case 'chatId':
      return { _: 'peerChat', chat_id: p.kind.value };
    case 'channelId':
      return { _: 'peerChannel', channel_id: p.kind.value };
    default:
      throw new Error('message without a peer');
  }
}
