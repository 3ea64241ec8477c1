/**
 * Pinned messages: messages.updatePinnedMessage and messages.unpinAllMessages. Private chats and
 * basic groups pin in the caller's box (the messaging service of the caller's home DC, which
 * passes the pin on to every other copy); channels and supergroups pin in the channel service.
 */
import { errors, unary } from '../../../../shared/src';
import type { CallContext } from '../../mtproto/invocation';
import type { TlObject } from '../../mtproto/tl-types';
import { channelOfPeer } from '../../convert/channels';
import { inputPeer } from '../../convert/peers';
import { tlUpdates } from '../../convert/updates';
import { pinInChannel } from '../channels/messages';
import { requestContext, type ChannelDeps } from '../context';

export async function updatePinnedMessage(
  call: TlObject,
  ctx: CallContext,
  d: ChannelDeps,
): Promise<TlObject> {
  const channel = channelOfPeer(call.peer);
  if (channel) return pinInChannel(call, ctx, d, channel);
  const res = await unary(d.messaging.updatePinnedMessage.bind(d.messaging), {
    context: await requestContext(ctx, d.auth, d.dcId),
    peer: inputPeer(call.peer),
    id: Number(call.id ?? 0),
    unpin: call.unpin === true,
    silent: call.silent === true,
    pmOneside: call.pm_oneside === true,
  });
  return tlUpdates(res.updates);
}

/** messages.affectedHistory; offset > 0 asks the client to call again (more were pinned). */
export async function unpinAllMessages(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  // The channel service keeps no index of a channel's pins yet.
  if (channelOfPeer(call.peer)) throw errors.notImplemented('messages.unpinAllMessages');
  if (call.top_msg_id !== undefined || call.saved_peer_id !== undefined)
    throw errors.badRequest('MSG_ID_INVALID'); // forum topics and saved-message sub-chats: none here
  const res = await unary(d.messaging.unpinAllMessages.bind(d.messaging), {
    context: await requestContext(ctx, d.auth, d.dcId),
    peer: inputPeer(call.peer),
  });
  return { _: 'messages.affectedHistory', pts: res.pts, pts_count: res.ptsCount, offset: res.offset };
}
