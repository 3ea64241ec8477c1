/**
 * Pinned messages in private chats and basic groups: messages.updatePinnedMessage and
 * messages.unpinAllMessages, and the other parties' side of them (DeliverToBox pin_messages).
 * Channels pin in the channel service.
 *
 * Like an edit, a pin changes the caller's copy first, then every other copy of the dialog, each
 * in its owner's box on its home DC, found by origin. Each box records a pin twice: the `pinned`
 * flag of the stored body (what getHistory shows) and the pinned_messages index (what the pinned
 * search filter and unpinAllMessages read), then appends updatePinnedMessages to its own log.
 * Pinning (not unpinning) also posts a service message, messageActionPinMessage replying to the
 * pinned message, as Telegram does; with pm_oneside (private chats) only the caller's copy is
 * pinned and there is no service message.
 *
 * Applying a pin twice changes nothing the second time and appends no update, so deliveries can
 * be repeated by the outbox.
 */
import { randomBytes } from 'node:crypto';
import { errors, type AsyncService } from '../../../shared/src';
import type { Chat } from '../../../shared/src/gen/tern/common/v1/chat';
import { Message, type MessageAction } from '../../../shared/src/gen/tern/common/v1/message';
import type { Update, Updates } from '../../../shared/src/gen/tern/common/v1/update';
import type {
  MessagingServiceServer,
  SendMessageRequest,
  SendMessageResponse,
} from '../../../shared/src/gen/tern/messaging/v1/messaging';
import { originOf } from '../internal/entities';
import type { BoxMessage } from '../storage/boxes';
import { PIN_PAGE, type Pins } from '../storage/pins';
import { messageOf, now, peerOfKey, usersOfMessage, type BoxCore, type ResolvedPeer } from './core';
import { sendPrivate, type ChatSendExtras } from './private-messages';

type Handlers = Pick<AsyncService<MessagingServiceServer>, 'updatePinnedMessage' | 'unpinAllMessages'>;

/** The update log type of updatePinnedMessages. */
export const PINNED_MESSAGES = 'pinned_messages';

const PIN_ACTION: MessageAction = { kind: { $case: 'pinMessage', value: true } };

/** A random 64-bit id: the service message of each pin is a new message (pin, unpin, pin again). */
const serviceRandomId = (): bigint => randomBytes(8).readBigInt64LE(0);

/**
 * @param sendToChat the basic-group send (chats.ts), for the service message of a pin in a group.
 */
export function pinHandlers(
  core: BoxCore,
  pins: Pins,
  sendToChat: (
    req: SendMessageRequest,
    sender: bigint,
    extras: ChatSendExtras,
  ) => Promise<SendMessageResponse>,
): Handlers {
  /**
   * Sets the pinned state of `owner`'s copies (all of dialog `peer`) and appends one
   * updatePinnedMessages for those that changed; undefined when none did.
   */
  async function applyPin(
    owner: bigint,
    peer: string,
    copies: BoxMessage[],
    pinned: boolean,
    excludeAuthKeyId: bigint,
  ): Promise<Update | undefined> {
    const ids = copies.map((c) => c.id);
    // The index first when pinning and last when unpinning: whatever a crash leaves, the body's
    // flag never claims a pin the index does not list, and a retry completes the rest.
    if (pinned) await pins.pin(owner, peer, ids);
    const changed: number[] = [];
    for (const copy of copies) {
      const m = messageOf(copy);
      if (m.pinned === pinned) continue;
      const body = Buffer.from(Message.encode({ ...m, id: 0, pinned }).finish());
      if (await core.boxes.replaceBody(owner, copy.id, body)) changed.push(copy.id);
    }
    if (!pinned) await pins.unpin(owner, peer, ids);
    if (changed.length === 0) return undefined;
    const dialog = peerOfKey(peer);
    const party = dialog.kind?.$case === 'userId' ? [dialog.kind.value] : [];
    const chats =
      dialog.kind?.$case === 'chatId' ? await core.chatDirectory.chats(owner, [dialog.kind.value]) : [];
    return core.append(
      owner,
      PINNED_MESSAGES,
      { $case: 'pinnedMessages', value: { peer: dialog, messages: changed, pinned } },
      1,
      excludeAuthKeyId,
      await core.users(owner, party),
      chats,
    );
  }

  /** Groups: only current members pin (a former member still reads the history). */
  async function requireWriter(actor: bigint, dialog: ResolvedPeer): Promise<void> {
    if (dialog.peer.kind?.$case !== 'chatId') return;
    const members = await core.chatDirectory.members(dialog.peer.kind.value);
    if (!members.includes(actor)) throw errors.forbidden('CHAT_WRITE_FORBIDDEN');
  }

  /** The same pin in every other party's copy, each on its home DC. */
  async function toOtherParties(actor: bigint, dialog: ResolvedPeer, copies: BoxMessage[], pinned: boolean) {
    const targets = copies.map((c) => originOf(actor, messageOf(c)));
    if (targets.length === 0) return;
    const parties = await core.otherParties(actor, dialog.peer);
    const opId = serviceRandomId();
    await Promise.all(
      [...parties].map(([owner, dc]) =>
        core.deliver(
          {
            ownerUserId: owner,
            actorUserId: actor,
            opId,
            originDcId: core.dcId,
            op: { $case: 'pinMessages', value: { targets, pinned } },
          },
          dc,
        ),
      ),
    );
  }

  /** The service message of a pin, in every copy of the dialog: the caller's Updates of it. */
  async function announcePin(
    actor: bigint,
    dialog: ResolvedPeer,
    pinnedCopy: BoxMessage,
    req: { context: SendMessageRequest['context']; silent: boolean },
  ): Promise<Updates> {
    const origin = originOf(actor, messageOf(pinnedCopy));
    const randomId = serviceRandomId();
    if (dialog.peer.kind?.$case === 'chatId') {
      const sent = await sendToChat(
        {
          context: req.context,
          peer: { kind: { $case: 'chat', value: { chatId: dialog.peer.kind.value } } },
          message: '',
          randomId,
          entities: [],
          replyToMsgId: pinnedCopy.id,
          silent: req.silent,
          noWebpage: true,
          clearDraft: false,
        },
        actor,
        { replyTo: origin, action: PIN_ACTION },
      );
      return sent.updates!;
    }
    const recipient = dialog.users[0]!;
    const mine = await sendPrivate(
      core,
      actor,
      recipient,
      { message: '', entities: [], silent: req.silent, action: PIN_ACTION },
      randomId,
      req.context!.authKeyId,
      { id: pinnedCopy.id, origin },
    );
    return {
      updates: [
        { pts: 0, ptsCount: 0, kind: { $case: 'messageId', value: { id: mine.message.id, randomId } } },
        mine.update,
      ],
      users: [],
      chats: [],
      channels: [],
      date: mine.message.date,
      seq: 0,
    };
  }

  core.onDeliver('pinMessages', async (req) => {
    if (req.op?.$case !== 'pinMessages') throw errors.badRequest('OPERATION_NOT_SUPPORTED');
    const owner = req.ownerUserId;
    const copies = await core.copiesOf(owner, req.op.value.targets.slice(0, PIN_PAGE));
    // Only in dialogs the actor shares with the owner: their private chat, or a group they are in.
    const byDialog = new Map<string, BoxMessage[]>();
    for (const c of copies) byDialog.set(c.peer, [...(byDialog.get(c.peer) ?? []), c]);
    let last: Update | undefined;
    let count = 0;
    for (const [peer, list] of byDialog) {
      const dialog = peerOfKey(peer);
      const allowed =
        peer === `u${req.actorUserId}` ||
        (dialog.kind?.$case === 'chatId' &&
          (await core.chatDirectory.members(dialog.kind.value)).includes(req.actorUserId));
      if (!allowed) continue;
      const u = await applyPin(owner, peer, list, req.op.value.pinned, 0n);
      if (u) [last, count] = [u, count + u.ptsCount];
    }
    return last
      ? { messageId: 0, pts: last.pts, ptsCount: count, duplicate: false }
      : { messageId: 0, pts: 0, ptsCount: 0, duplicate: true };
  });

  return {
    async updatePinnedMessage(req) {
      const actor = await core.ownBox(req.context);
      const dialog = await core.resolvePeer(actor, req.peer);
      await requireWriter(actor, dialog);
      const [copy] = await core.boxes.get(actor, [req.id]);
      if (!copy || copy.peer !== dialog.key || messageOf(copy).action)
        throw errors.badRequest('MESSAGE_ID_INVALID');
      const pinned = !req.unpin;
      const oneSide = req.pmOneside && dialog.peer.kind?.$case === 'userId';
      const mine = await applyPin(actor, dialog.key, [copy], pinned, req.context!.authKeyId);
      const answer: Updates = {
        updates: mine ? [mine] : [],
        users: [...dialog.users, ...(await core.users(actor, [actor]))],
        chats: dialog.chats,
        channels: [],
        date: now(),
        seq: 0,
      };
      // Nothing changed here (already in that state): nothing to tell anyone.
      if (!mine) return { updates: answer };
      const selfChat = dialog.peer.kind?.$case === 'userId' && dialog.peer.kind.value === actor;
      if (!oneSide && !selfChat) await toOtherParties(actor, dialog, [copy], pinned);
      if (pinned && !oneSide) {
        const service = await announcePin(actor, dialog, copy, { context: req.context, silent: req.silent });
        answer.updates.push(...service.updates);
        answer.date = service.date;
        const known = new Set(answer.users.map((u) => u.id));
        const more = service.updates.flatMap((u) =>
          u.kind?.$case === 'newMessage' && u.kind.value.message ? usersOfMessage(u.kind.value.message) : [],
        );
        const missing = [...new Set(more)].filter((id) => !known.has(id));
        answer.users.push(...(missing.length > 0 ? await core.users(actor, missing) : []));
        answer.chats = mergeChats(answer.chats, service.chats);
      }
      return { updates: answer };
    },

    async unpinAllMessages(req) {
      const actor = await core.ownBox(req.context);
      const dialog = await core.resolvePeer(actor, req.peer);
      await requireWriter(actor, dialog);
      const ids = await pins.of(actor, dialog.key, PIN_PAGE);
      const copies = (await core.boxes.get(actor, ids)).filter((c) => c.peer === dialog.key);
      // Rows of messages deleted since are dropped with the rest.
      await pins.unpin(actor, dialog.key, ids);
      const mine = await applyPin(actor, dialog.key, copies, false, req.context!.authKeyId);
      const selfChat = dialog.peer.kind?.$case === 'userId' && dialog.peer.kind.value === actor;
      if (mine && !selfChat) await toOtherParties(actor, dialog, copies, false);
      const more = (await pins.of(actor, dialog.key, 1)).length > 0;
      return mine
        ? { pts: mine.pts, ptsCount: mine.ptsCount, offset: more ? 1 : 0 }
        : { pts: await core.pts(actor), ptsCount: 0, offset: more ? 1 : 0 };
    },
  };
}

/** Chats of both lists, each once (the first list's view wins). */
function mergeChats(a: Chat[], b: Chat[]): Chat[] {
  const seen = new Set(a.map((c) => c.id));
  return [...a, ...b.filter((c) => !seen.has(c.id))];
}
