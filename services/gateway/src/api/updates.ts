/**
 * updates.*: getState, getDifference (the messaging service of the caller's home DC owns the
 * user's update log) and getChannelDifference (the channel service: each channel has its own
 * log). Translation only.
 */
import { errors, unary } from '../../../shared/src';
import type { Chat } from '../../../shared/src/gen/tern/common/v1/chat';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import type { Difference } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import type { CallContext } from '../mtproto/invocation';
import type { TlObject } from '../mtproto/tl-types';
import { inputChannel, tlChatsAndChannels } from '../convert/channels';
import { tlChannelDifference } from '../convert/dialogs';
import { tlMessage, tlState, tlUpdate, tlUsers } from '../convert/updates';
import { requestContext, type ChannelDeps, type MessagingDeps } from './context';

export async function getState(_call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.messaging.getState.bind(d.messaging), { context });
  return tlState(res.state);
}

export async function getDifference(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.messaging.getDifference.bind(d.messaging), {
    context,
    pts: Number(call.pts),
    date: Number(call.date),
    qts: Number(call.qts ?? 0),
    ptsTotalLimit: Number(call.pts_total_limit ?? 0),
  });
  const r = res.result;
  switch (r?.$case) {
    case 'empty':
      return { _: 'updates.differenceEmpty', date: r.value.date, seq: r.value.seq };
    case 'tooLong':
      return { _: 'updates.differenceTooLong', pts: r.value.pts };
    case 'difference':
    case 'slice': {
      const v = r.value;
      const body = {
        new_messages: v.newMessages.map(tlMessage),
        new_encrypted_messages: [],
        other_updates: v.otherUpdates.map(tlUpdate).filter((u) => u !== undefined),
        chats: await differenceChats(d, context, v),
        users: tlUsers(v.users),
      };
      return r.$case === 'difference'
        ? { _: 'updates.difference', ...body, state: tlState(v.state) }
        : { _: 'updates.differenceSlice', ...body, intermediate_state: tlState(v.state) };
    }
    default:
      throw errors.internal(new Error('empty GetDifference result'));
  }
}

/**
 * The chats vector of a getDifference answer: the chats and channels the service sent, plus any chat a message
 * in it names that the service left out (asked for with one getChats), so the client can show
 * every group message it is given.
 */
async function differenceChats(
  d: MessagingDeps,
  context: RequestContext,
  v: Difference,
): Promise<TlObject[]> {
  const have = new Set(v.chats.map((c) => c.id));
  const messages = [
    ...v.newMessages,
    ...v.otherUpdates.flatMap((u) =>
      u.kind?.$case === 'newMessage' || u.kind?.$case === 'editMessage' ? [u.kind.value.message] : [],
    ),
  ];
  const missing = [
    ...new Set(messages.flatMap((m) => (m?.peer?.kind?.$case === 'chatId' ? [m.peer.kind.value] : []))),
  ].filter((id) => !have.has(id));
  let fetched: Chat[] = [];
  if (missing.length > 0)
    fetched = (await unary(d.messaging.getChats.bind(d.messaging), { context, ids: missing })).chats;
  // Channels a membership update names (updateChannel) come as they are.
  return tlChatsAndChannels([...v.chats, ...fetched], v.channels);
}

/** Telegram's largest channel difference for a user (bots may ask for more; Tern has none). */
const MAX_CHANNEL_DIFFERENCE = 100;

/**
 * updates.getChannelDifference. Only channelMessagesFilterEmpty is served: a filtered
 * difference is answered as the whole one (the client's ranges are a saving, not a meaning).
 */
export async function getChannelDifference(
  call: TlObject,
  ctx: CallContext,
  d: ChannelDeps,
): Promise<TlObject> {
  const limit = Number(call.limit ?? 0);
  const res = await unary(d.channel.getChannelDifference.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel: inputChannel(call.channel),
    pts: Number(call.pts ?? 0),
    limit: limit > 0 ? Math.min(limit, MAX_CHANNEL_DIFFERENCE) : MAX_CHANNEL_DIFFERENCE,
    force: call.force === true,
  });
  return tlChannelDifference(res);
}
