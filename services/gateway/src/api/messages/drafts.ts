/**
 * Drafts: messages.saveDraft, getAllDrafts, clearAllDrafts. Translation only; the messaging service
 * of the caller's home DC keeps them and tells the caller's other sessions (updateDraftMessage).
 */
import { unary } from '../../../../shared/src';
import type { CallContext } from '../../mtproto/invocation';
import type { TlObject } from '../../mtproto/tl-types';
import { tlChats } from '../../convert/chats';
import { inputEntities, replyToMsgIdOf } from '../../convert/entities';
import { inputPeer, tlPeer } from '../../convert/peers';
import { tlDraft, tlUsers } from '../../convert/updates';
import { text } from '../../convert/users';
import { requestContext, type MessagingDeps } from '../context';

export async function saveDraft(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  await unary(d.messaging.saveDraft.bind(d.messaging), {
    context,
    peer: inputPeer(call.peer),
    message: text(call.message),
    entities: inputEntities(call.entities, context.userId),
    replyToMsgId: replyToMsgIdOf(call),
    noWebpage: call.no_webpage === true,
  });
  return true;
}

/** Updates with one updateDraftMessage per draft, as Telegram answers it. */
export async function getAllDrafts(_call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.messaging.getAllDrafts.bind(d.messaging), { context });
  return {
    _: 'updates',
    updates: res.drafts.map((x) => ({
      _: 'updateDraftMessage',
      peer: tlPeer(x.peer),
      draft: tlDraft(x.draft),
    })),
    users: tlUsers(res.users),
    chats: tlChats(res.chats),
    date: Math.floor(Date.now() / 1000),
    seq: 0,
  };
}

export async function clearAllDrafts(_call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  await unary(d.messaging.clearAllDrafts.bind(d.messaging), { context });
  return true;
}
