/**
 * Reading a box: messages.getHistory, getMessages, search, readHistory. Translation only; the
 * messaging service of the caller's home DC owns the box; channel peers go to the channel service
 * (api/channels/messages.ts).
 */
import { unary } from '../../../../shared/src';
import { MessagesFilter } from '../../../../shared/src/gen/tern/common/v1/message';
import type { CallContext } from '../../mtproto/invocation';
import type { TlObject } from '../../mtproto/tl-types';
import { channelOfPeer } from '../../convert/channels';
import { tlMessages } from '../../convert/dialogs';
import { inputPeer } from '../../convert/peers';
import { text } from '../../convert/users';
import { channelHistory, readChannelAsMessages, searchChannel } from '../channels/messages';
import { requestContext, type ChannelDeps, type MessagingDeps } from '../context';

const num = (v: unknown): number => Number(v ?? 0);

export async function getHistory(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const channel = channelOfPeer(call.peer);
  if (channel) return channelHistory(call, ctx, d, channel);
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.messaging.getHistory.bind(d.messaging), {
    context,
    peer: inputPeer(call.peer),
    window: {
      offsetId: Number(call.offset_id ?? 0),
      offsetDate: Number(call.offset_date ?? 0),
      addOffset: Number(call.add_offset ?? 0),
      limit: Number(call.limit ?? 0),
      maxId: Number(call.max_id ?? 0),
      minId: Number(call.min_id ?? 0),
    },
    hash: 0n,
  });
  // messages.messagesSlice with the dialog's count when the page is not all of it.
  return tlMessages(res.page);
}

export async function getMessages(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  // inputMessageID names a message of the caller's box; replies and pins are not resolved yet.
  const ids = (call.id as TlObject[]).flatMap((m) => (m._ === 'inputMessageID' ? [num(m.id)] : []));
  const res = await unary(d.messaging.getMessages.bind(d.messaging), {
    context: await requestContext(ctx, d.auth, d.dcId),
    ids,
  });
  return { ...tlMessages(res.page), _: 'messages.messages' };
}

const FILTERS: Record<string, MessagesFilter> = {
  inputMessagesFilterEmpty: MessagesFilter.EMPTY,
  inputMessagesFilterPhotos: MessagesFilter.PHOTOS,
  inputMessagesFilterVideo: MessagesFilter.VIDEO,
  inputMessagesFilterPhotoVideo: MessagesFilter.PHOTO_VIDEO,
  inputMessagesFilterDocument: MessagesFilter.DOCUMENT,
  inputMessagesFilterUrl: MessagesFilter.URL,
  inputMessagesFilterVoice: MessagesFilter.VOICE,
  inputMessagesFilterMusic: MessagesFilter.MUSIC,
  inputMessagesFilterMyMentions: MessagesFilter.MENTIONS,
  inputMessagesFilterPinned: MessagesFilter.PINNED,
};

export async function search(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const peer = call.peer as TlObject | undefined;
  const from = call.from_id as TlObject | undefined;
  const common = {
    q: text(call.q),
    filter: FILTERS[(call.filter as TlObject | undefined)?._ ?? ''] ?? MessagesFilter.EMPTY,
    ...(from ? { fromId: inputPeer(from) } : {}),
    minDate: num(call.min_date),
    maxDate: num(call.max_date),
  };
  const channel = channelOfPeer(peer);
  if (channel) return searchChannel(call, ctx, d, channel, common);
  const res = await unary(d.messaging.search.bind(d.messaging), {
    context: await requestContext(ctx, d.auth, d.dcId),
    ...(peer && peer._ !== 'inputPeerEmpty' ? { peer: inputPeer(peer) } : {}),
    ...common,
    window: {
      offsetId: num(call.offset_id),
      offsetDate: 0,
      addOffset: num(call.add_offset),
      limit: num(call.limit),
      maxId: num(call.max_id),
      minId: num(call.min_id),
    },
    hash: 0n,
  });
  return tlMessages(res.page);
}

/** With a channel peer, channels.readHistory's semantics (see readChannelAsMessages). */
export async function readHistory(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const channel = channelOfPeer(call.peer);
  if (channel) return readChannelAsMessages(call, ctx, d, channel);
  const res = await unary(d.messaging.readHistory.bind(d.messaging), {
    context: await requestContext(ctx, d.auth, d.dcId),
    peer: inputPeer(call.peer),
    maxId: num(call.max_id),
  });
  return {
    _: 'messages.affectedMessages',
    pts: res.affected?.pts ?? 0,
    pts_count: res.affected?.ptsCount ?? 0,
  };
}
