/**
 * Messages of channels: channels.getMessages, deleteMessages, readHistory, getAdminLog, and the
 * channel branch of messages.sendMessage, sendMedia, editMessage, forwardMessages, getHistory,
 * search, readHistory, getMessagesViews, updatePinnedMessage (the messages.* handlers call these
 * when the peer is a channel). Translation only; the channel's home DC stores each message once.
 */
import { errors, unary } from '../../../../shared/src';
import type {
  AdminLogEvent,
  InputChannel,
  SendChannelMessageRequest,
} from '../../../../shared/src/gen/tern/channel/v1/channel';
import type { RequestContext } from '../../../../shared/src/gen/tern/common/v1/context';
import type { InputMedia } from '../../../../shared/src/gen/tern/common/v1/media';
import type { Message, MessageFwdHeader } from '../../../../shared/src/gen/tern/common/v1/message';
import type { Updates } from '../../../../shared/src/gen/tern/common/v1/update';
import type { CallContext } from '../../mtproto/invocation';
import type { TlObject } from '../../mtproto/tl-types';
import {
  channelOfPeer,
  inputChannel,
  tlChannelParticipant,
  tlChatsAndChannels,
} from '../../convert/channels';
import { tlChannelMessages } from '../../convert/dialogs';
import { inputEntities, replyToMsgIdOf } from '../../convert/entities';
import { inputMediaOf, tlPhoto } from '../../convert/media';
import { tlMessage, tlUpdates, tlUsers } from '../../convert/updates';
import { text } from '../../convert/users';
import { requestContext, type ChannelDeps } from '../context';
import { num } from './common';

/** How long a sender's display name (a signed post's post_author) is reused without asking auth. */
const AUTHOR_CACHE_MS = 30_000;
/** Bound on cached names: the cache is emptied when full (it is only a saving). */
const AUTHOR_CACHE_MAX = 10_000;
const authors = new Map<bigint, { name: string; at: number }>();

/**
 * The caller's display name, which the channel service writes as post_author when the channel
 * signs its posts (the service decides; the gateway only supplies the name, as the contract asks).
 */
async function authorName(d: ChannelDeps, context: RequestContext): Promise<string> {
  const hit = authors.get(context.userId);
  if (hit && Date.now() - hit.at < AUTHOR_CACHE_MS) return hit.name;
  const res = await unary(d.auth.getUsers.bind(d.auth), {
    context,
    users: [{ kind: { $case: 'self', value: {} } }],
  });
  const u = res.users[0];
  const name = u ? [u.firstName, u.lastName].filter((s) => s).join(' ') : '';
  if (authors.size >= AUTHOR_CACHE_MAX) authors.clear();
  authors.set(context.userId, { name, at: Date.now() });
  return name;
}

/** Sends one message to a channel (a client's send, or one copy of a forward). */
async function send(
  d: ChannelDeps,
  context: RequestContext,
  req: Omit<SendChannelMessageRequest, 'context' | 'postAuthor'>,
): Promise<Updates | undefined> {
  const res = await unary(
    d.channel.sendChannelMessage.bind(d.channel),
    { ...req, context, postAuthor: await authorName(d, context) },
    // Completing a large upload reads and copies it inside the DC, as for private sends.
    req.media ? { deadlineMs: 150_000 } : {},
  );
  return res.updates;
}

/** messages.sendMessage / sendMedia to a channel: `updates` with updateMessageID and the post. */
export async function sendToChannel(
  call: TlObject,
  ctx: CallContext,
  d: ChannelDeps,
  channel: InputChannel,
  media?: unknown,
): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const updates = await send(d, context, {
    channel,
    message: text(call.message),
    randomId: call.random_id as bigint,
    entities: inputEntities(call.entities, context.userId),
    media: media === undefined ? undefined : inputMediaOf(media),
    replyToMsgId: replyToMsgIdOf(call),
    silent: call.silent === true,
    noWebpage: media !== undefined || call.no_webpage === true,
  });
  return tlUpdates(updates);
}

/** messages.editMessage with a channel peer. */
export async function editInChannel(
  call: TlObject,
  ctx: CallContext,
  d: ChannelDeps,
  channel: InputChannel,
): Promise<TlObject> {
  if (call.media) throw errors.badRequest('MEDIA_INVALID');
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.channel.editChannelMessage.bind(d.channel), {
    context,
    channel,
    id: num(call.id),
    message: typeof call.message === 'string' ? call.message : '',
    hasMessage: typeof call.message === 'string',
    entities: inputEntities(call.entities, context.userId),
    noWebpage: call.no_webpage === true,
  });
  return tlUpdates(res.updates);
}

/** A stored message's media as the InputMedia that sends it again (by reference). */
export function resendMedia(m: Message): InputMedia | undefined {
  const k = m.media?.kind;
  switch (k?.$case) {
    case 'photo':
      return {
        kind: {
          $case: 'photo',
          value: { id: k.value.id, accessHash: k.value.accessHash, fileReference: k.value.fileReference },
        },
      };
    case 'document':
      return {
        kind: {
          $case: 'document',
          value: { id: k.value.id, accessHash: k.value.accessHash, fileReference: k.value.fileReference },
        },
      };
    default:
      return undefined;
  }
}

/**
 * The "Forwarded from" header of a copy: a forward of a forward keeps the first origin; a channel
 * post names the channel and its post id, as Telegram shows it.
 */
export function forwardHeader(m: Message): MessageFwdHeader {
  if (m.fwdFrom) return m.fwdFrom;
  if (m.peer?.kind?.$case === 'channelId' && (m.post || !m.from))
    return { from: m.peer, fromName: m.postAuthor, date: m.date, channelPost: m.id };
  return { from: m.from, fromName: '', date: m.date, channelPost: 0 };
}

/** Updates batches of several sends as one (a forward of many messages answers one `updates`). */
function merged(all: (Updates | undefined)[]): Updates {
  const out: Updates = { updates: [], users: [], chats: [], channels: [], date: 0, seq: 0 };
  for (const u of all) {
    if (!u) continue;
    out.updates.push(...u.updates);
    out.users.push(...u.users);
    out.chats.push(...u.chats);
    out.channels.push(...u.channels);
    out.date = Math.max(out.date, u.date);
  }
  return out;
}

/**
 * messages.forwardMessages into a channel: the source messages are read where they live (the
 * caller's box through messaging, or the source channel) and each is posted with its forward
 * header and the client's random_id, so a resend posts nothing twice.
 */
export async function forwardToChannel(
  call: TlObject,
  ctx: CallContext,
  d: ChannelDeps,
  to: InputChannel,
  from: InputChannel | undefined,
): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const ids = ((call.id as unknown[] | undefined) ?? []).map(num);
  const randomIds = (call.random_id as bigint[] | undefined) ?? [];
  if (ids.length === 0 || randomIds.length !== ids.length) throw errors.badRequest('RANDOM_ID_INVALID');
  const page = from
    ? (await unary(d.channel.getChannelMessages.bind(d.channel), { context, channel: from, ids })).page
    : (await unary(d.messaging.getMessages.bind(d.messaging), { context, ids })).page;
  const byId = new Map((page?.messages ?? []).map((m) => [m.id, m]));
  const results: (Updates | undefined)[] = [];
  // One after another: the copies keep the order of the originals in the channel.
  for (let i = 0; i < ids.length; i++) {
    const m = byId.get(ids[i]!);
    if (!m || m.action || (!m.peer && m.date === 0)) continue;
    results.push(
      await send(d, context, {
        channel: to,
        message: m.message,
        randomId: randomIds[i]!,
        entities: m.entities,
        media: resendMedia(m),
        replyToMsgId: 0,
        silent: call.silent === true,
        noWebpage: true,
        fwdFrom: call.drop_author === true ? undefined : forwardHeader(m),
      }),
    );
  }
  if (results.length === 0) throw errors.badRequest('MESSAGE_ID_INVALID');
  return tlUpdates(merged(results));
}

/**
 * messages.forwardMessages from a channel to a user or basic group: the posts are read from the
 * channel and each is sent as a new message through messaging with its forward header (SendMessage's
 * `fwd_from`, which messaging takes only from the gateway).
 */
export async function forwardFromChannel(
  call: TlObject,
  ctx: CallContext,
  d: ChannelDeps,
  from: InputChannel,
  toPeer: NonNullable<Parameters<ChannelDeps['messaging']['sendMessage']>[0]['peer']>,
): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const ids = ((call.id as unknown[] | undefined) ?? []).map(num);
  const randomIds = (call.random_id as bigint[] | undefined) ?? [];
  if (ids.length === 0 || randomIds.length !== ids.length) throw errors.badRequest('RANDOM_ID_INVALID');
  const res = await unary(d.channel.getChannelMessages.bind(d.channel), { context, channel: from, ids });
  const byId = new Map((res.page?.messages ?? []).map((m) => [m.id, m]));
  const results: (Updates | undefined)[] = [];
  for (let i = 0; i < ids.length; i++) {
    const m = byId.get(ids[i]!);
    if (!m || m.action || (!m.peer && m.date === 0)) continue;
    const media = resendMedia(m);
    const sent = await unary(
      d.messaging.sendMessage.bind(d.messaging),
      {
        context,
        peer: toPeer,
        message: m.message,
        randomId: randomIds[i]!,
        entities: m.entities,
        media,
        replyToMsgId: 0,
        silent: call.silent === true,
        noWebpage: true,
        clearDraft: false,
        fwdFrom: call.drop_author === true ? undefined : forwardHeader(m),
      },
      media ? { deadlineMs: 150_000 } : {},
    );
    results.push(sent.updates);
  }
  if (results.length === 0) throw errors.badRequest('MESSAGE_ID_INVALID');
  return tlUpdates(merged(results));
}

/** messages.getHistory with a channel peer: messages.channelMessages with the channel pts. */
export async function channelHistory(
  call: TlObject,
  ctx: CallContext,
  d: ChannelDeps,
  channel: InputChannel,
): Promise<TlObject> {
  const res = await unary(d.channel.getChannelHistory.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel,
    window: {
      offsetId: num(call.offset_id),
      offsetDate: num(call.offset_date),
      addOffset: num(call.add_offset),
      limit: num(call.limit),
      maxId: num(call.max_id),
      minId: num(call.min_id),
    },
    hash: 0n,
  });
  return tlChannelMessages(res.page);
}

/** messages.search with a channel peer. */
export async function searchChannel(
  call: TlObject,
  ctx: CallContext,
  d: ChannelDeps,
  channel: InputChannel,
  rest: Pick<
    Parameters<ChannelDeps['channel']['searchChannel']>[0],
    'q' | 'filter' | 'fromId' | 'minDate' | 'maxDate'
  >,
): Promise<TlObject> {
  const res = await unary(d.channel.searchChannel.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel,
    ...rest,
    window: {
      offsetId: num(call.offset_id),
      offsetDate: 0,
      addOffset: num(call.add_offset),
      limit: num(call.limit),
      maxId: num(call.max_id),
      minId: num(call.min_id),
    },
  });
  return tlChannelMessages(res.page);
}

/** Marks a channel read up to `maxId` (channels.readHistory, and messages.readHistory's branch). */
async function readChannel(
  ctx: CallContext,
  d: ChannelDeps,
  channel: InputChannel,
  maxId: number,
): Promise<void> {
  await unary(d.channel.readChannelHistory.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel,
    maxId,
  });
}

export async function readHistory(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<boolean> {
  await readChannel(ctx, d, inputChannel(call.channel), num(call.max_id));
  return true;
}

/**
 * messages.readHistory with a channel peer reads the channel (channels.readHistory) and answers
 * messages.affectedMessages at the caller's own pts with pts_count 0: reading a channel moves no
 * user sequence, and the current pts is what clients may safely apply.
 */
export async function readChannelAsMessages(
  call: TlObject,
  ctx: CallContext,
  d: ChannelDeps,
  channel: InputChannel,
): Promise<TlObject> {
  await readChannel(ctx, d, channel, num(call.max_id));
  const state = await unary(d.messaging.getState.bind(d.messaging), {
    context: await requestContext(ctx, d.auth, d.dcId),
  });
  return { _: 'messages.affectedMessages', pts: state.state?.pts ?? 0, pts_count: 0 };
}

export async function deleteMessages(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const res = await unary(d.channel.deleteChannelMessages.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel: inputChannel(call.channel),
    ids: ((call.id as unknown[] | undefined) ?? []).map(num),
  });
  return {
    _: 'messages.affectedMessages',
    pts: res.affected?.pts ?? 0,
    pts_count: res.affected?.ptsCount ?? 0,
  };
}

/** channels.getMessages: inputMessageID names a post; other InputMessage kinds are not resolved. */
export async function getMessages(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const channel = inputChannel(call.channel);
  const ids = ((call.id as TlObject[] | undefined) ?? []).flatMap((m) =>
    m._ === 'inputMessageID' ? [num(m.id)] : [],
  );
  const res = await unary(d.channel.getChannelMessages.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel,
    ids,
  });
  return tlChannelMessages(res.page);
}

/** messages.getMessagesViews with a channel peer (one messageViews per id, same order). */
export async function messagesViews(
  call: TlObject,
  ctx: CallContext,
  d: ChannelDeps,
  channel: InputChannel,
): Promise<TlObject> {
  const ids = ((call.id as unknown[] | undefined) ?? []).map(num);
  const res = await unary(d.channel.getMessagesViews.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel,
    ids,
    increment: call.increment === true,
  });
  return {
    _: 'messages.messageViews',
    views: ids.map((_, i) => ({ _: 'messageViews', views: res.views[i] ?? 0 })),
    chats: tlChatsAndChannels([], res.channels),
    users: tlUsers(res.users),
  };
}

/** messages.updatePinnedMessage with a channel peer. */
export async function pinInChannel(
  call: TlObject,
  ctx: CallContext,
  d: ChannelDeps,
  channel: InputChannel,
): Promise<TlObject> {
  const res = await unary(d.channel.updateChannelPinnedMessage.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel,
    id: num(call.id),
    unpin: call.unpin === true,
    silent: call.silent === true,
  });
  return tlUpdates(res.updates);
}

/** A participant before a change the log records only the result of: a plain member. */
const plainMember = (userId: bigint): TlObject => ({ _: 'channelParticipant', user_id: userId, date: 0 });

/** One admin log entry's action (the kinds Tern records). */
export function tlAdminLogAction(e: AdminLogEvent): TlObject | undefined {
  const a = e.action;
  switch (a?.$case) {
    case 'changedTitle':
      return { _: 'channelAdminLogEventActionChangeTitle', prev_value: '', new_value: a.value };
    case 'changedPhoto':
      return {
        _: 'channelAdminLogEventActionChangePhoto',
        prev_photo: a.value.prevPhoto ? tlPhoto(a.value.prevPhoto) : { _: 'photoEmpty', id: 0n },
        new_photo: a.value.newPhoto ? tlPhoto(a.value.newPhoto) : { _: 'photoEmpty', id: 0n },
      };
    case 'changedUsername':
      return { _: 'channelAdminLogEventActionChangeUsername', prev_value: '', new_value: a.value };
    case 'participantJoined':
      return { _: 'channelAdminLogEventActionParticipantJoin' };
    case 'participantLeft':
      return { _: 'channelAdminLogEventActionParticipantLeave' };
    case 'participantInvited':
      return { _: 'channelAdminLogEventActionParticipantInvite', participant: tlChannelParticipant(a.value) };
    case 'participantAdminChanged':
      return {
        _: 'channelAdminLogEventActionParticipantToggleAdmin',
        prev_participant: plainMember(a.value.userId),
        new_participant: tlChannelParticipant(a.value),
      };
    case 'participantBannedChanged':
      return {
        _: 'channelAdminLogEventActionParticipantToggleBan',
        prev_participant: plainMember(a.value.userId),
        new_participant: tlChannelParticipant(a.value),
      };
    case 'messageDeleted':
      return { _: 'channelAdminLogEventActionDeleteMessage', message: tlMessage(a.value) };
    case 'messageEdited':
      // Only the edited text is kept: the previous one is shown as the same message.
      return {
        _: 'channelAdminLogEventActionEditMessage',
        prev_message: tlMessage(a.value),
        new_message: tlMessage(a.value),
      };
    case 'messagePinned':
      return { _: 'channelAdminLogEventActionUpdatePinned', message: tlMessage(a.value) };
    case 'signaturesToggled':
      return { _: 'channelAdminLogEventActionToggleSignatures', new_value: a.value };
    case 'slowModeSeconds':
      return { _: 'channelAdminLogEventActionToggleSlowMode', prev_value: 0, new_value: a.value };
    default:
      return undefined;
  }
}

export async function getAdminLog(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const res = await unary(d.channel.getAdminLog.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel: inputChannel(call.channel),
    q: text(call.q),
    maxId: BigInt((call.max_id as bigint | number | undefined) ?? 0),
    minId: BigInt((call.min_id as bigint | number | undefined) ?? 0),
    limit: num(call.limit),
  });
  return {
    _: 'channels.adminLogResults',
    events: res.events.flatMap((e) => {
      const action = tlAdminLogAction(e);
      return action ? [{ _: 'channelAdminLogEvent', id: e.id, date: e.date, user_id: e.userId, action }] : [];
    }),
    chats: tlChatsAndChannels([], res.channels),
    users: tlUsers(res.users),
  };
}

/** messages.getMessagesViews: counts are kept for channel posts only (others show none). */
export async function getMessagesViews(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const channel = channelOfPeer(call.peer);
  if (channel) return messagesViews(call, ctx, d, channel);
  const ids = (call.id as unknown[] | undefined) ?? [];
  return { _: 'messages.messageViews', views: ids.map(() => ({ _: 'messageViews' })), chats: [], users: [] };
}
