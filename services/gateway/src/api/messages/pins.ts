/**
 * Pinned messages: messages.updatePinnedMessage and messages.unpinAllMessages. Private chats and
 * basic groups pin in the caller's box (the messaging service of the caller's home DC, which
 * passes the pin on to every other copy); channels and supergroups pin in the channel service
 * (unpinAllMessages there unpins the pinned messages the channel's search finds, one by one).
 */
import { errors, unary } from '../../../../shared/src';
import type { InputChannel } from '../../../../shared/src/gen/tern/channel/v1/channel';
import { MessagesFilter } from '../../../../shared/src/gen/tern/common/v1/message';
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
  if (call.top_msg_id !== undefined || call.saved_peer_id !== undefined)
    throw errors.badRequest('MSG_ID_INVALID'); // forum topics and saved-message sub-chats: none here
  const channel = channelOfPeer(call.peer);
  if (channel) return unpinAllInChannel(ctx, d, channel);
  const res = await unary(d.messaging.unpinAllMessages.bind(d.messaging), {
    context: await requestContext(ctx, d.auth, d.dcId),
    peer: inputPeer(call.peer),
  });
  return { _: 'messages.affectedHistory', pts: res.pts, pts_count: res.ptsCount, offset: res.offset };
}

/** Channel pins unpinned per unpinAllMessages call; a full page asks the client to call again. */
const CHANNEL_UNPIN_PAGE = 50;

/**
 * unpinAllMessages in a channel: its pinned messages (the channel's search with the pinned
 * filter), each unpinned like messages.updatePinnedMessage with unpin, so the channel service
 * checks the caller's right to pin and logs each change in the channel's pts.
 */
async function unpinAllInChannel(ctx: CallContext, d: ChannelDeps, channel: InputChannel): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const found = await unary(d.channel.searchChannel.bind(d.channel), {
    context,
    channel,
    q: '',
    filter: MessagesFilter.PINNED,
    minDate: 0,
    maxDate: 0,
    window: { offsetId: 0, offsetDate: 0, addOffset: 0, limit: CHANNEL_UNPIN_PAGE, maxId: 0, minId: 0 },
  });
  const pinned = found.page?.messages ?? [];
  let pts = found.page?.pts ?? 0;
  let ptsCount = 0;
  for (const m of pinned) {
    const res = await unary(d.channel.updateChannelPinnedMessage.bind(d.channel), {
      context,
      channel,
      id: m.id,
      unpin: true,
      silent: true,
    });
    for (const u of res.updates?.updates ?? [])
      if (u.pts > 0) [pts, ptsCount] = [Math.max(pts, u.pts), ptsCount + u.ptsCount];
  }
  return {
    _: 'messages.affectedHistory',
    pts,
    pts_count: ptsCount,
    offset: pinned.length === CHANNEL_UNPIN_PAGE ? 1 : 0,
  };
}
