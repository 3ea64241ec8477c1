/**
 * Sending private messages: messages.sendMessage to a user (or to self), and the recipient's
 * side of it (DeliverToBox new_message).
 *
 * A private message is stored twice, each copy in its owner's home DC: the sender's copy here,
 * the recipient's by the recipient's DC (DeliverToBox, local or over gRPC). Each copy appends to
 * its owner's log and is announced on that DC's NATS for live delivery. The recipient's copy
 * carries `origin` (the sender and the sender's id), which is how edits, deletions and read
 * receipts find the other copy later.
 */
import { errors, type AsyncService } from '../../../shared/src';
import type { Chat } from '../../../shared/src/gen/tern/common/v1/chat';
import type { Message } from '../../../shared/src/gen/tern/common/v1/message';
import type { Update } from '../../../shared/src/gen/tern/common/v1/update';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type {
  MessagingServiceServer,
  SendMessageRequest,
  SendMessageResponse,
} from '../../../shared/src/gen/tern/messaging/v1/messaging';
import {
  deliveryKey,
  messageOf,
  now,
  userPeer,
  usersOfMessage,
  type BoxCore,
  type StoreResult,
} from './core';

type Handlers = Pick<AsyncService<MessagingServiceServer>, 'sendMessage' | 'forwardMessages'>;

export const MAX_TEXT = 4096;
/** Messages per forwardMessages call (Telegram's limit). */
const FORWARD_MAX = 100;

/** Checks the text of a new or edited message. */
export function checkText(text: string): void {
  if (!text.trim()) throw errors.badRequest('MESSAGE_EMPTY');
  if (text.length > MAX_TEXT) throw errors.badRequest('MESSAGE_TOO_LONG');
}

/**
 * @param sendToChat messages.sendMessage to a basic group (chats.ts).
 */
export function privateHandlers(
  core: BoxCore,
  sendToChat: (req: SendMessageRequest, sender: bigint) => Promise<SendMessageResponse>,
): Handlers {
  core.onDeliver('newMessage', async (req) => {
    if (req.op?.$case !== 'newMessage') throw errors.badRequest('OPERATION_NOT_SUPPORTED');
    const owner = req.ownerUserId;
    const m = req.op.value.message!;
    const mentioned = await core.users(owner, [req.actorUserId]);
    const r = await core.store(owner, m, deliveryKey(req.actorUserId, req.opId), 0n, mentioned);
    return {
      messageId: r.message.id,
      pts: r.update.pts,
      ptsCount: r.update.ptsCount,
      duplicate: r.duplicate,
    };
  });

  /** The content of a new private message (text, or a forwarded copy's content). */
  type Content = Pick<Message, 'message' | 'entities' | 'silent'> & Partial<Pick<Message, 'fwdFrom'>>;

  /**
   * Stores a private message in the sender's box and delivers the recipient's copy. Always
   * delivered (idempotent per random_id), so a retry completes a send cut off after the sender's
   * copy was stored.
   */
  async function sendPrivate(
    sender: bigint,
    recipient: User,
    content: Content,
    randomId: bigint,
    authKeyId: bigint,
  ): Promise<StoreResult> {
    const base: Omit<Message, 'peer' | 'out'> = {
      id: 0,
      from: userPeer(sender),
      date: now(),
      replyToMsgId: 0,
      editDate: 0,
      mentioned: false,
      mediaUnread: false,
      post: false,
      ...content,
    };
    const mine = await core.store(
      sender,
      { ...base, peer: userPeer(recipient.id), out: true },
      randomId,
      authKeyId,
      [recipient],
    );
    if (recipient.id !== sender)
      await core.deliver(
        {
          ownerUserId: recipient.id,
          actorUserId: sender,
          opId: randomId,
          originDcId: core.dcId,
          op: {
            $case: 'newMessage',
            value: {
              message: {
                ...base,
                date: mine.message.date,
                peer: userPeer(sender),
                out: false,
                origin: { authorUserId: sender, authorMessageId: mine.message.id },
              },
            },
          },
        },
        recipient.dcId,
      );
    return mine;
  }

  /** The Updates a send answers with: updateMessageID, then the sender's updateNewMessage. */
  const sentUpdates = (sent: { result: StoreResult; randomId: bigint }[], users: User[], chats: Chat[]) => ({
    updates: sent.flatMap(({ result, randomId }): Update[] => [
      { pts: 0, ptsCount: 0, kind: { $case: 'messageId', value: { id: result.message.id, randomId } } },
      result.update,
    ]),
    users,
    chats,
    channels: [],
    date: sent[0]?.result.message.date ?? now(),
    seq: 0,
  });

  return {
    async sendMessage(req) {
      const sender = await core.ownBox(req.context);
      checkText(req.message);
      if (req.media) throw errors.badRequest('MEDIA_INVALID');
      if (req.peer?.kind?.$case === 'chat') return sendToChat(req, sender);
      const recipient = await core.privatePeer(sender, req.peer);
      const mine = await sendPrivate(
        sender,
        recipient,
        { message: req.message, entities: req.entities, silent: req.silent },
        req.randomId,
        req.context!.authKeyId,
      );
      return {
        message: mine.message,
        updates: sentUpdates([{ result: mine, randomId: req.randomId }], [recipient], []),
      };
    },

    async forwardMessages(req) {
      const sender = await core.ownBox(req.context);
      if (req.ids.length === 0 || req.ids.length > FORWARD_MAX) throw errors.badRequest('MESSAGE_IDS_EMPTY');
      if (req.randomIds.length !== req.ids.length) throw errors.badRequest('RANDOM_ID_INVALID');
      const from = await core.resolvePeer(sender, req.fromPeer);
      const originals = (await core.boxes.get(sender, req.ids))
        .filter((m) => m.peer === from.key)
        .map(messageOf);
      if (originals.length === 0) throw errors.badRequest('MESSAGE_ID_INVALID');
      if (req.toPeer?.kind?.$case === 'chat') throw errors.badRequest('CHAT_FORWARDS_RESTRICTED');
      const recipient = await core.privatePeer(sender, req.toPeer);
      const sent: { result: StoreResult; randomId: bigint }[] = [];
      for (const m of originals) {
        if (m.action) continue; // service messages are not forwarded
        const randomId = req.randomIds[req.ids.indexOf(m.id)]!;
        const fwdFrom = req.dropAuthor
          ? undefined
          : (m.fwdFrom ?? { from: m.from, fromName: '', date: m.date, channelPost: 0 });
        const content: Content = { message: m.message, entities: m.entities, silent: req.silent };
        if (fwdFrom) content.fwdFrom = fwdFrom;
        const result = await sendPrivate(sender, recipient, content, randomId, req.context!.authKeyId);
        sent.push({ result, randomId });
      }
      // The forwarded headers name the original authors: the users vector must carry them.
      const authors = sent.flatMap(({ result }) => usersOfMessage(result.message));
      return { updates: sentUpdates(sent, [recipient, ...(await core.users(sender, authors))], []) };
    },
  };
}
