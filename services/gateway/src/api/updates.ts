/**
 * updates.*: getState, getDifference (the messaging service of the caller's home DC owns the
 * user's update log) and getChannelDifference (the channel service: each channel has its own
 * log). Translation only.
 */
import { errors, unary } from '../../../shared/src';
import type { Channel, Chat } from '../../../shared/src/gen/tern/common/v1/chat';
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

export async function getDifference(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const since = Number(call.date);
  const [res, resync] = await Promise.all([
    unary(d.messaging.getDifference.bind(d.messaging), {
      context,
      pts: Number(call.pts),
      date: since,
      qts: Number(call.qts ?? 0),
      ptsTotalLimit: Number(call.pts_total_limit ?? 0),
    }),
    channelsToResync(d, context, since),
  ]);
  const r = res.result;
  switch (r?.$case) {
    case 'empty': {
      if (resync.updates.length === 0)
        return { _: 'updates.differenceEmpty', date: r.value.date, seq: r.value.seq };
      // Nothing in the user's own log, but channels moved: a difference that names them.
      const state = await unary(d.messaging.getState.bind(d.messaging), { context });
      return {
        _: 'updates.difference',
        new_messages: [],
        new_encrypted_messages: [],
        other_updates: resync.updates,
        chats: tlChatsAndChannels([], resync.channels),
        users: [],
        state: tlState(state.state),
      };
    }
    case 'tooLong':
      return { _: 'updates.differenceTooLong', pts: r.value.pts };
    case 'difference':
    case 'slice': {
      const v = r.value;
      // Channels are named once, in the last part of a sliced difference.
      const last = r.$case === 'difference';
      const body = {
        new_messages: v.newMessages.map(tlMessage),
        new_encrypted_messages: [],
        other_updates: [
          ...v.otherUpdates.map(tlUpdate).filter((u) => u !== undefined),
          ...(last ? resync.updates : []),
        ],
        chats: await differenceChats(d, context, {
          ...v,
          channels: [...v.channels, ...(last ? resync.channels : [])],
        }),
        users: tlUsers(v.users),
      };
      return last
        ? { _: 'updates.difference', ...body, state: tlState(v.state) }
        : { _: 'updates.differenceSlice', ...body, intermediate_state: tlState(v.state) };
    }
    default:
      throw errors.internal(new Error('empty GetDifference result'));
  }
}

/** Channels named in one difference at most (the newest first; getDialogs finds the rest). */
const RESYNC_MAX = 100;

/**
 * The user's channels whose newest message is not older than the client's state `since`: one
 * updateChannelTooLong each (with the channel's pts), which is how a difference tells a client
 * which channels to catch up with updates.getChannelDifference (channels keep their own logs,
 * seed 002). A channel the client already followed live costs it one empty channel difference.
 */
async function channelsToResync(
  d: ChannelDeps,
  context: RequestContext,
  since: number,
): Promise<{ updates: TlObject[]; channels: Channel[] }> {
  if (!(since > 0)) return { updates: [], channels: [] };
  const res = await unary(d.channel.getChannelDialogs.bind(d.channel), {
    context,
    offsetDate: 0,
    limit: RESYNC_MAX,
    only: [],
  });
  const topDate = new Map(
    res.messages.flatMap((m) =>
      m.peer?.kind?.$case === 'channelId' ? [[m.peer.kind.value, m.date] as const] : [],
    ),
  );
  const moved = new Set<bigint>();
  const updates: TlObject[] = [];
  for (const dialog of res.dialogs) {
    if (dialog.peer?.kind?.$case !== 'channelId') continue;
    const id = dialog.peer.kind.value;
    // Same second counts: dates are whole seconds, and a spare channel difference costs little.
    if ((topDate.get(id) ?? 0) < since) continue;
    moved.add(id);
    updates.push({ _: 'updateChannelTooLong', channel_id: id, pts: dialog.pts });
  }
  return { updates, channels: res.channels.filter((c) => moved.has(c.id)) };
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
