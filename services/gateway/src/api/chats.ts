/**
 * Basic groups: messages.createChat, addChatUser, deleteChatUser, editChatTitle, getChats,
 * getFullChat. Translation only; the messaging service of the caller's home DC answers (passing
 * the call on to the chat's owner DC when needed).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { errors, unary } from '../../../shared/src';
import type { Chat } from '../../../shared/src/gen/tern/common/v1/chat';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import type { InputUser } from '../../../shared/src/gen/tern/common/v1/peer';
import type { Updates } from '../../../shared/src/gen/tern/common/v1/update';
import type { Difference } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import type { CallContext } from '../mtproto/engine';
import type { TlObject } from '../mtproto/tl-types';
import { findGeneratedDir, servingLayer } from '../tl/registry';
import { tlChatFull, tlChats } from './chats-tl';
import { requestContext } from './context';
import { inputUser, text } from './convert';
import type { MessagingDeps } from './messages';
import { tlUpdates, tlUsers } from './updates-tl';

const invitedUsersByLayer = new Map<number, boolean>();

/**
 * Whether the schema serving `layer` has createChat and addChatUser answer messages.invitedUsers
 * (newer layers) rather than a bare Updates (older ones). Read once per layer from the generated
 * schema the codec serves that layer with, so the answer always matches what the codec encodes.
 */
function answersInvitedUsers(layer: number): boolean {
  const known = invitedUsersByLayer.get(layer);
  if (known !== undefined) return known;
  const dir = findGeneratedDir();
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
    layers: { layer: number; file: string }[];
  };
  const layers = index.layers.map((l) => l.layer);
  const served = servingLayer(layers, layer) ?? Math.max(...layers);
  const schema = JSON.parse(
    readFileSync(join(dir, index.layers.find((l) => l.layer === served)!.file), 'utf8'),
  ) as { methods: { name: string; type: string }[] };
  const answer =
    schema.methods.find((m) => m.name === 'messages.createChat')?.type === 'messages.InvitedUsers';
  invitedUsersByLayer.set(layer, answer);
  return answer;
}

/** messages.invitedUsers, or the bare Updates for layers that predate it. */
function invited(ctx: CallContext, updates: Updates | undefined, missing: bigint[]): TlObject {
  const tl = tlUpdates(updates);
  if (!answersInvitedUsers(ctx.layer)) return tl;
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

export async function createChat(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const users = ((call.users as unknown[] | undefined) ?? []).map(requiredUser);
  const res = await unary(d.messaging.createChat.bind(d.messaging), {
    context,
    users,
    title: text(call.title),
    randomId: createRandomId(context),
  });
  return invited(ctx, res.updates, res.missingInvitees);
}

export async function addChatUser(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.messaging.addChatUser.bind(d.messaging), {
    context,
    chatId: chatId(call.chat_id),
    user: requiredUser(call.user_id),
    fwdLimit: Number(call.fwd_limit ?? 0),
  });
  return invited(ctx, res.updates, res.missingInvitees);
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

/**
 * The chats vector of a getDifference answer: the chats the service sent, plus any chat a message
 * in it names that the service left out (asked for with one getChats), so the client can show
 * every group message it is given.
 */
export async function differenceChats(
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
  return tlChats([...v.chats, ...fetched]);
}
