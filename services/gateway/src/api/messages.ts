/**
 * Messages and the update log: messages.sendMessage / getHistory, updates.getState /
 * getDifference. Translation only; the messaging service of the DC owns boxes and logs.
 */
import { errors, unary } from '../../../shared/src';
import type { MessagingServiceClient } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import type { InputPeer } from '../../../shared/src/gen/tern/common/v1/peer';
import type { CallContext } from '../mtproto/engine';
import type { TlObject } from '../mtproto/tl-types';
import type { AuthDeps } from './auth';
import { requestContext } from './context';
import { text } from './convert';
import { tlEntities, tlMessage, tlUpdate, tlUsers, tlState } from './updates-tl';
import { differenceChats } from './chats';
import { tlChats } from './chats-tl';

export interface MessagingDeps extends AuthDeps {
  messaging: MessagingServiceClient;
}

/** TL InputPeer → proto; PEER_ID_INVALID for kinds Tern does not serve here. */
export function inputPeer(v: unknown): InputPeer {
  const p = v as TlObject | undefined;
  switch (p?._) {
    case 'inputPeerSelf':
      return { kind: { $case: 'self', value: {} } };
    case 'inputPeerUser':
      return {
        kind: { $case: 'user', value: { userId: p.user_id as bigint, accessHash: p.access_hash as bigint } },
      };
    case 'inputPeerChat':
      return { kind: { $case: 'chat', value: { chatId: p.chat_id as bigint } } };
    default:
      throw errors.badRequest('PEER_ID_INVALID');
  }
}

export async function sendMessage(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.messaging.sendMessage.bind(d.messaging), {
    context,
    peer: inputPeer(call.peer),
    message: text(call.message),
    randomId: call.random_id as bigint,
    entities: [],
    replyToMsgId: 0,
    silent: call.silent === true,
    noWebpage: call.no_webpage === true,
    clearDraft: call.clear_draft === true,
  });
  const m = res.message!;
  const stored = res.updates?.updates.find((u) => u.kind?.$case === 'newMessage');
  // What Telegram answers for a private text message: the client already has the text.
  return {
    _: 'updateShortSentMessage',
    out: true,
    id: m.id,
    pts: stored?.pts ?? 0,
    pts_count: stored?.ptsCount ?? 0,
    date: m.date,
    entities: tlEntities(m.entities),
  };
}

export async function getHistory(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
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
  const page = res.page!;
  return {
    _: 'messages.messages',
    messages: page.messages.map(tlMessage),
    chats: tlChats(page.chats),
    users: tlUsers(page.users),
  };
}

export async function getState(_call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  if (context.userId === 0n) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
  const res = await unary(d.messaging.getState.bind(d.messaging), { context });
  return tlState(res.state);
}

export async function getDifference(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  if (context.userId === 0n) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
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
