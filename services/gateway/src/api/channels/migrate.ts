/**
 * messages.migrateChat: a basic group becomes a supergroup (docs/decisions/0018-channels.md,
 * "Migration"). Two services own the two halves, so the gateway runs them in an order that a
 * retry completes:
 *
 * 1. messaging (the chat's owner DC) gives the members as the creator sees them;
 * 2. channel (this DC) makes the supergroup, idempotent on the chat id, with message 1
 *    messageActionChannelMigrateFrom, and invites the other members;
 * 3. messaging closes the chat (deactivated, migrated_to) and puts messageActionChatMigrateTo in
 *    every member's box; a retry after a cut-off here finds the same channel in step 2;
 * 4. the closed chat's members are read again, and any added since step 1 are invited too.
 *
 * The old chat's history stays in every member's box, readable as before; only writing to it ends.
 */
import { errors, unary } from '../../../../shared/src';
import type { Updates } from '../../../../shared/src/gen/tern/common/v1/update';
import type { CallContext } from '../../mtproto/invocation';
import type { TlObject } from '../../mtproto/tl-types';
import { tlUpdates } from '../../convert/updates';
import { requestContext } from '../context';
import { followAnswer, type ChannelApiDeps } from './common';

const chatIdOf = (v: unknown): bigint => (typeof v === 'bigint' ? v : BigInt(Number(v ?? 0)));

export async function migrateChat(call: TlObject, ctx: CallContext, d: ChannelApiDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const chatId = chatIdOf(call.chat_id);
  if (chatId <= 0n) throw errors.badRequest('CHAT_ID_INVALID');
  const full = await unary(d.messaging.getFullChat.bind(d.messaging), { context, chatId });
  const chat = full.chats[0];
  if (!full.fullChat || !chat) throw errors.badRequest('CHAT_ID_INVALID');
  if (!chat.creator) throw errors.badRequest('CHAT_ADMIN_REQUIRED');
  if (chat.deactivated && chat.migratedToChannelId === 0n) throw errors.badRequest('CHAT_ID_INVALID');
  const me = context.userId;
  const memberIds = [me, ...full.fullChat.participants.map((p) => p.userId).filter((u) => u !== me)];
  const last = await unary(d.messaging.getHistory.bind(d.messaging), {
    context,
    peer: { kind: { $case: 'chat', value: { chatId } } },
    window: { offsetId: 0, offsetDate: 0, addOffset: 0, limit: 1, maxId: 0, minId: 0 },
    hash: 0n,
  });
  const made = await unary(d.channel.migrateChat.bind(d.channel), {
    context,
    chatId,
    title: chat.title,
    memberIds,
    migratedFromMaxId: last.page?.messages[0]?.id ?? 0,
  });
  const channel = made.channel;
  if (!channel) throw errors.internal(new Error('migrateChat answered no channel'));
  const closed = await unary(d.messaging.markChatMigrated.bind(d.messaging), {
    context,
    chatId,
    channelId: channel.id,
    channelAccessHash: channel.accessHash,
  });
  // A member added between the first read and the close is in the chat but not yet in the
  // supergroup. The closed chat takes no more members (its row changes only by version), so one
  // more read finds them all; the channel's MigrateChat is idempotent and invites the late ones.
  const after = await unary(d.messaging.getFullChat.bind(d.messaging), { context, chatId });
  const known = new Set(memberIds);
  const late = (after.fullChat?.participants ?? []).map((p) => p.userId).filter((u) => !known.has(u));
  if (late.length > 0)
    await unary(d.channel.migrateChat.bind(d.channel), {
      context,
      chatId,
      title: chat.title,
      memberIds: [me, ...late],
      migratedFromMaxId: last.page?.messages[0]?.id ?? 0,
    });
  followAnswer(d, me, made.updates);
  return tlUpdates(merge(closed.updates, made.updates));
}

/** The chat's half (its service message and the closed chat) then the channel's. */
function merge(a: Updates | undefined, b: Updates | undefined): Updates | undefined {
  if (!a) return b;
  if (!b) return a;
  return {
    updates: [...a.updates, ...b.updates],
    users: [...a.users, ...b.users],
    chats: [...a.chats, ...b.chats],
    channels: [...a.channels, ...b.channels],
    date: Math.max(a.date, b.date),
    seq: 0,
  };
}
