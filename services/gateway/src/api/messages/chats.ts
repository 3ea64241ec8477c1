/**
 * Basic groups: messages.createChat, addChatUser, deleteChatUser, editChatTitle, getChats,
 * getFullChat. Translation only; the messaging service of the caller's home DC answers (passing
 * the call on to the chat's owner DC when needed).
 */
import { createHash } from 'node:crypto';
import { errors, unary } from '../../../../shared/src';
import type { RequestContext } from '../../../../shared/src/gen/tern/common/v1/context';
import type { InputUser } from '../../../../shared/src/gen/tern/common/v1/peer';
import type { Updates } from '../../../../shared/src/gen/tern/common/v1/update';
import type { CallContext } from '../../mtproto/invocation';
import type { TlObject, TlRuntime } from '../../mtproto/tl-types';
import { tlChatFull, tlChats } from '../../convert/chats';
import { tlUpdates, tlUsers } from '../../convert/updates';
import { inputUser, text } from '../../convert/users';
import { requestContext, type MessagingDeps } from '../context';

/** createChat and addChatUser answer in the shape of the client's layer, which the TL runtime knows. */
export interface ChatDeps extends MessagingDeps {
  tl: Pick<TlRuntime, 'resultType'>;
}

/**
 * messages.invitedUsers for layers whose createChat answers it (and addChatUser with it), the
 * bare Updates for layers that predate it. Asked of the schema the codec serves the layer with,
 * so the answer always matches what the codec can encode.
 */
function invited(ctx: CallContext, d: ChatDeps, updates: Updates | undefined, missing: bigint[]): TlObject {
  const tl = tlUpdates(updates);
  if (d.tl.resultType(ctx.layer, 'messages.createChat') !== 'messages.InvitedUsers') return tl;
  return {
    _: 'messages.invitedUsers',
    updates: tl,
    missing_invitees: missing.map((id) => ({ _: 'missingInvitee', user_id: id })),
  };
}

function requiredUser(v: unknown): InputUser {
  const u = inputUser(v as TlObject | undefined);
  if (!u) throw errors.badRequest('USER_ID_INVALID');
  return u;
}

const chatId = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(Number(v ?? 0)));

/**
 * TL createChat has no random_id, so the gateway derives the idempotency key from the request
 * itself: a transport-level resend of the same message (same key, session and msg_id) returns
 * the same chat, while a new call creates a new one.
 */
function createRandomId(c: RequestContext): bigint {
  return createHash('sha256').update(`${c.authKeyId}:${c.sessionId}:${c.msgId}`).digest().readBigInt64LE(0);
}

export async function createChat(call: TlObject, ctx: CallContext, d: ChatDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const users = ((call.users as unknown[] | undefined) ?? []).map(requiredUser);
  const res = await unary(d.messaging.createChat.bind(d.messaging), {
    context,
    users,
    title: text(call.title),
    randomId: createRandomId(context),
  });
  return invited(ctx, d, res.updates, res.missingInvitees);
}

export async function addChatUser(call: TlObject, ctx: CallContext, d: ChatDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.messaging.addChatUser.bind(d.messaging), {
    context,
    chatId: chatId(call.chat_id),
    user: requiredUser(call.user_id),
    fwdLimit: Number(call.fwd_limit ?? 0),
  });
  return invited(ctx, d, res.updates, res.missingInvitees);
}

export async function deleteChatUser(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.messaging.deleteChatUser.bind(d.messaging), {
    context,
    chatId: chatId(call.chat_id),
    user: requiredUser(call.user_id),
    revokeHistory: call.revoke_history === true,
  });
  return tlUpdates(res.updates);
}

export async function editChatTitle(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.messaging.editChatTitle.bind(d.messaging), {
    context,
    chatId: chatId(call.chat_id),
    title: text(call.title),
  });
  return tlUpdates(res.updates);
}

export async function getChats(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const ids = ((call.id as unknown[] | undefined) ?? []).map(chatId);
  const res = await unary(d.messaging.getChats.bind(d.messaging), { context, ids });
  return { _: 'messages.chats', chats: tlChats(res.chats) };
}

export async function getFullChat(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.messaging.getFullChat.bind(d.messaging), {
    context,
    chatId: chatId(call.chat_id),
  });
  const chat = res.chats[0];
  if (!res.fullChat || !chat) throw errors.badRequest('CHAT_ID_INVALID');
  return {
    _: 'messages.chatFull',
    full_chat: tlChatFull(res.fullChat, chat),
    chats: tlChats(res.chats),
    users: tlUsers(res.users),
  };
}
