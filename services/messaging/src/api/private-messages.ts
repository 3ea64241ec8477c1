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
import type {
  Message,
  MessageAction,
  MessageFwdHeader,
  MessageOrigin,
  ReplyQuote,
} from '../../../shared/src/gen/tern/common/v1/message';
import type { Update } from '../../../shared/src/gen/tern/common/v1/update';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type {
  MessagingServiceServer,
  SendMessageRequest,
  SendMessageResponse,
} from '../../../shared/src/gen/tern/messaging/v1/messaging';
import { checkedEntities, checkedQuote, originOf, replyTarget } from '../internal/entities';
import {
  deliveryKey,
  messageOf,
  now,
  userPeer,
  usersOfMessage,
  type BoxCore,
  type StoreResult,
} from './core';
import type { Attachments, MediaFor } from './attachments';

type Handlers = Pick<AsyncService<MessagingServiceServer>, 'sendMessage' | 'forwardMessages'>;

export const MAX_TEXT = 4096;
/** A media caption's limit (help.getConfig's caption_length_max). */
export const MAX_CAPTION = 1024;
/** Messages per forwardMessages call (Telegram's limit). */
const FORWARD_MAX = 100;

/** Checks the text of a new or edited message. */
export function checkText(text: string): void {
  if (!text.trim()) throw errors.badRequest('MESSAGE_EMPTY');
  if (text.length > MAX_TEXT) throw errors.badRequest('MESSAGE_TOO_LONG');
}

/** What a send to a basic group carries besides the request (chats.ts `send`). */
export interface ChatSendExtras {
  fwdFrom?: MessageFwdHeader;
  media?: MediaFor;
  /** The replied-to message (checked in the sender's copy of the chat), for every member's copy. */
  replyTo?: MessageOrigin;
  /** A service message (a pin): the action it records; the text is then empty. */
  action?: MessageAction;
}

/** The content of a new private message (text, a forwarded copy's content, or a service action). */
export type Content = Pick<Message, 'message' | 'entities' | 'silent'> &
  Partial<Pick<Message, 'fwdFrom' | 'media' | 'action' | 'replyQuote'>>;

/** The message replied to: its id in the sender's box, and its origin for the recipient's box. */
export interface Reply {
  id: number;
  origin: MessageOrigin;
}

/**
 * Stores a private message in the sender's box and delivers the recipient's copy. Always
 * delivered (idempotent per random_id), so a retry completes a send cut off after the sender's
 * copy was stored.
 */
export async function sendPrivate(
  core: BoxCore,
  sender: bigint,
  recipient: User,
  content: Content,
  randomId: bigint,
  authKeyId: bigint,
  reply?: Reply,
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
    views: 0,
    postAuthor: '',
    pinned: false,
    ...content,
  };
  const mine = await core.store(
    sender,
    { ...base, peer: userPeer(recipient.id), out: true, replyToMsgId: reply?.id ?? 0 },
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
            // The recipient's box maps it to its own copy of the replied-to message.
            ...(reply ? { replyTo: reply.origin } : {}),
          },
        },
      },
      recipient.dcId,
    );
  return mine;
}

/**
 * @param sendToChat messages.sendMessage to a basic group (chats.ts).
 * @param files media on messages (attachments.ts); without it media is refused.
 */
export function privateHandlers(
  core: BoxCore,
  sendToChat: (
    req: SendMessageRequest,
    sender: bigint,
    extras?: ChatSendExtras,
  ) => Promise<SendMessageResponse>,
  files?: Attachments,
): Handlers {
  core.onDeliver('newMessage', async (req) => {
    if (req.op?.$case !== 'newMessage') throw errors.badRequest('OPERATION_NOT_SUPPORTED');
    const owner = req.ownerUserId;
    const { message, replyTo } = req.op.value;
    // The replied-to message as the owner's own copy (absent: deleted there, or never delivered).
    const replyToMsgId = replyTo
      ? ((await core.boxes.byOrigin(owner, [replyTo])).values().next().value ?? 0)
      : 0;
    const m: Message = { ...message!, replyToMsgId };
    // The sender, and whoever a forward or a mention names.
    const mentioned = await core.users(owner, [req.actorUserId, ...usersOfMessage(m)]);
    const r = await core.store(owner, m, deliveryKey(req.actorUserId, req.opId), 0n, mentioned);
    return {
      messageId: r.message.id,
      pts: r.update.pts,
      ptsCount: r.update.ptsCount,
      duplicate: r.duplicate,
    };
  });

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
      if (!req.media) checkText(req.message);
      else if (req.message.length > MAX_CAPTION) throw errors.badRequest('MEDIA_CAPTION_TOO_LONG');
      const input = req.media;
      if (input && !files) throw errors.badRequest('MEDIA_INVALID');
      const profiles = (v: bigint, ids: bigint[]) => core.users(v, ids);
      const entities = await checkedEntities(sender, req.message, req.entities, profiles);
      const mediaFor: MediaFor | undefined =
        input && ((holders) => files!.attach(req.context!, input, holders));
      if (req.peer?.kind?.$case === 'chat') {
        // The reply must be in the sender's copy of that chat (a non-member has none).
        const key = `c${req.peer.kind.value.chatId}`;
        const extras: ChatSendExtras = {};
        let replyQuote: ReplyQuote | undefined;
        if (req.replyToMsgId) {
          const t = messageOf(
            await replyTarget(sender, key, req.replyToMsgId, core.boxes.get.bind(core.boxes)),
          );
          extras.replyTo = originOf(sender, t);
          replyQuote = req.replyQuote && (await checkedQuote(sender, req.replyQuote, t, profiles));
        }
        if (mediaFor) extras.media = mediaFor;
        if (req.fwdFrom) extras.fwdFrom = req.fwdFrom;
        return sendToChat({ ...req, entities, replyQuote }, sender, extras);
      }
      const recipient = await core.privatePeer(sender, req.peer);
      const replied = req.replyToMsgId
        ? messageOf(
            await replyTarget(sender, `u${recipient.id}`, req.replyToMsgId, core.boxes.get.bind(core.boxes)),
          )
        : undefined;
      const reply: Reply | undefined = replied && { id: replied.id, origin: originOf(sender, replied) };
      const replyQuote =
        replied && req.replyQuote && (await checkedQuote(sender, req.replyQuote, replied, profiles));
      // Completes the upload and grants the recipient the file before either copy exists. Both
      // copies name the same file, which stays in this DC; the recipient's client fetches it here
      // (FILE_MIGRATE_X elsewhere).
      const stored = mediaFor && (await mediaFor([recipient.id]));
      const content: Content = { message: req.message, entities, silent: req.silent };
      if (stored) content.media = stored;
      if (replyQuote) content.replyQuote = replyQuote;
      if (req.fwdFrom) content.fwdFrom = req.fwdFrom;
      const mine = await sendPrivate(
        core,
        sender,
        recipient,
        content,
        req.randomId,
        req.context!.authKeyId,
        reply,
      );
      // Every user the answer mentions, the sender included: clients resolve each user of an
      // answer and fail the send when one is missing (a message to oneself names one user).
      const users =
        recipient.id === sender ? [recipient] : [recipient, ...(await core.users(sender, [sender]))];
      return {
        message: mine.message,
        updates: sentUpdates([{ result: mine, randomId: req.randomId }], users, []),
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
      const toChat = req.toPeer?.kind?.$case === 'chat';
      const recipient = toChat ? undefined : await core.privatePeer(sender, req.toPeer);
      const sent: { result: StoreResult; randomId: bigint }[] = [];
      const chats: Chat[] = [];
      for (const m of originals) {
        if (m.action) continue; // service messages are not forwarded
        const randomId = req.randomIds[req.ids.indexOf(m.id)]!;
        const fwdFrom = req.dropAuthor
          ? undefined
          : (m.fwdFrom ?? { from: m.from, fromName: '', date: m.date, channelPost: 0 });
        const original = m.media;
        if (original && !files) throw errors.badRequest('MEDIA_INVALID');
        // The same file, granted to the new holders where it lives (perhaps another DC).
        const mediaFor: MediaFor | undefined =
          original && ((holders) => files!.share(req.context!, original, holders));
        if (!recipient) {
          // To a basic group: the group's own send (membership, fan-out), with the header.
          const r = await sendToChat(
            {
              context: req.context,
              peer: req.toPeer,
              message: m.message,
              randomId,
              entities: m.entities,
              replyToMsgId: 0,
              silent: req.silent,
              noWebpage: true,
              clearDraft: false,
            },
            sender,
            { ...(fwdFrom ? { fwdFrom } : {}), ...(mediaFor ? { media: mediaFor } : {}) },
          );
          const update = r.updates?.updates.find((u) => u.kind?.$case === 'newMessage');
          if (r.message && update)
            sent.push({ result: { message: r.message, update, duplicate: false }, randomId });
          chats.push(...(r.updates?.chats ?? []));
          continue;
        }
        const content: Content = { message: m.message, entities: m.entities, silent: req.silent };
        if (fwdFrom) content.fwdFrom = fwdFrom;
        if (mediaFor) content.media = await mediaFor([recipient.id]);
        const result = await sendPrivate(core, sender, recipient, content, randomId, req.context!.authKeyId);
        sent.push({ result, randomId });
      }
      // The forwarded headers name the original authors: the users vector must carry them.
      const authors = sent.flatMap(({ result }) => usersOfMessage(result.message));
      const users = await core.users(sender, authors);
      return { updates: sentUpdates(sent, recipient ? [recipient, ...users] : users, chats.slice(0, 1)) };
    },
  };
}
