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
import type { Message } from '../../../shared/src/gen/tern/common/v1/message';
import type {
  MessagingServiceServer,
  SendMessageRequest,
  SendMessageResponse,
} from '../../../shared/src/gen/tern/messaging/v1/messaging';
import { deliveryKey, now, userPeer, type BoxCore } from './core';

type Handlers = Pick<AsyncService<MessagingServiceServer>, 'sendMessage'>;

export const MAX_TEXT = 4096;

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

  return {
    async sendMessage(req) {
      const sender = await core.ownBox(req.context);
      checkText(req.message);
      if (req.media) throw errors.badRequest('MEDIA_INVALID');
      if (req.peer?.kind?.$case === 'chat') return sendToChat(req, sender);
      const recipient = await core.privatePeer(sender, req.peer);
      const base: Omit<Message, 'peer' | 'out'> = {
        id: 0,
        from: userPeer(sender),
        date: now(),
        message: req.message,
        entities: req.entities,
        replyToMsgId: 0,
        editDate: 0,
        mentioned: false,
        mediaUnread: false,
        silent: req.silent,
        post: false,
      };
      const mine = await core.store(
        sender,
        { ...base, peer: userPeer(recipient.id), out: true },
        req.randomId,
        req.context!.authKeyId,
        [recipient],
      );
      // Always delivered (idempotent per random_id), so a retry completes a send cut off after the
      // sender's copy was stored.
      if (recipient.id !== sender)
        await core.deliver(
          {
            ownerUserId: recipient.id,
            actorUserId: sender,
            opId: req.randomId,
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
      return {
        message: mine.message,
        updates: {
          updates: [
            {
              pts: 0,
              ptsCount: 0,
              kind: { $case: 'messageId', value: { id: mine.message.id, randomId: req.randomId } },
            },
            mine.update,
          ],
          users: [recipient],
          chats: [],
          channels: [],
          date: mine.message.date,
          seq: 0,
        },
      };
    },
  };
}
