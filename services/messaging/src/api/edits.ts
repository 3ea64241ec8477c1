/**
 * Changing stored messages: messages.editMessage and messages.deleteMessages (with revoke), and
 * their application to the other copies (DeliverToBox edit_message / delete_messages).
 *
 * The caller changes its own copy and appends the update to its own log; then every other party
 * of the dialog gets the same change in its box on its home DC. Copies are named by their origin
 * (author, author's id), which each box resolves to its own id through message_origins.
 * Applying an edit twice rewrites the same content (no second update); deleting twice finds
 * nothing the second time (no update either).
 */
import { errors, type AsyncService } from '../../../shared/src';
import { Message, type MessageOrigin } from '../../../shared/src/gen/tern/common/v1/message';
import type { Peer } from '../../../shared/src/gen/tern/common/v1/peer';
import type { MessagingServiceServer } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import type { BoxMessage } from '../storage/boxes';
import { checkedEntities, sameEntities } from '../internal/entities';
import { messageOf, now, peerOfKey, type BoxCore } from './core';
import { checkText } from './private-messages';

type Handlers = Pick<AsyncService<MessagingServiceServer>, 'editMessage' | 'deleteMessages'>;

export const EDIT_MESSAGE = 'edit_message';
export const DELETE_MESSAGES = 'delete_messages';

/** Own messages can be edited for two days, as in Telegram's private chats and groups. */
const EDIT_WINDOW_S = 48 * 3600;
/** Ids per deleteMessages call (Telegram's limit). */
const DELETE_MAX = 100;

/** The origin of a copy: its own, or (for the author's copy) the box owner and its id. */
const originOf = (owner: bigint, m: Message): MessageOrigin =>
  m.origin ?? { authorUserId: owner, authorMessageId: m.id };

export function editHandlers(core: BoxCore): Handlers {
  /** Rewrites `owner`'s copy and appends updateEditMessage; undefined if nothing changed. */
  async function applyEdit(
    owner: bigint,
    stored: Message,
    change: Pick<Message, 'message' | 'entities' | 'editDate'>,
    excludeAuthKeyId: bigint,
  ): Promise<{ message: Message; pts: number; ptsCount: number } | undefined> {
    if (
      stored.message === change.message &&
      stored.editDate === change.editDate &&
      sameEntities(stored.entities, change.entities)
    )
      return undefined;
    const message: Message = { ...stored, ...change };
    const body = Buffer.from(Message.encode({ ...message, id: 0 }).finish());
    if (!(await core.boxes.replaceBody(owner, stored.id, body))) return undefined;
    const author = message.from?.kind?.$case === 'userId' ? [message.from.kind.value] : [];
    const update = await core.append(
      owner,
      EDIT_MESSAGE,
      { $case: 'editMessage', value: { message } },
      1,
      excludeAuthKeyId,
      await core.users(owner, author),
    );
    return { message, pts: update.pts, ptsCount: update.ptsCount };
  }

  /** Deletes `owner`'s copies and appends updateDeleteMessages; undefined if none was there. */
  async function applyDelete(
    owner: bigint,
    copies: BoxMessage[],
    excludeAuthKeyId: bigint,
  ): Promise<{ pts: number; ptsCount: number } | undefined> {
    if (copies.length === 0) return undefined;
    const messages = copies.map((c) => ({ ...c, message: messageOf(c) }));
    await core.boxes.remove(
      owner,
      messages.map((m) => ({
        id: m.id,
        peer: m.peer,
        ...(m.message.origin ? { origin: m.message.origin } : {}),
      })),
    );
    // Per dialog: the top message may have gone, and unread incoming ones with it.
    const byDialog = new Map<string, typeof messages>();
    for (const m of messages) byDialog.set(m.peer, [...(byDialog.get(m.peer) ?? []), m]);
    for (const [peer, gone] of byDialog) {
      const dialog = await core.dialogs.get(owner, peer);
      if (!dialog) continue;
      const ids = new Set(gone.map((m) => m.id));
      const unreadGone = gone.filter((m) => !m.out && m.id > dialog.readInboxMaxId).length;
      let newTop = { id: dialog.topMessageId, date: dialog.topDate };
      if (ids.has(dialog.topMessageId)) {
        const [next] = await core.boxes.dialogIds(owner, peer, dialog.topMessageId, 1);
        const nextMessage = next ? (await core.boxes.get(owner, [next.id]))[0] : undefined;
        newTop = { id: nextMessage?.id ?? 0, date: nextMessage?.date ?? 0 };
      }
      await core.dialogs.onDeleted(
        owner,
        peer,
        ids.has(dialog.topMessageId) ? dialog.topMessageId : undefined,
        newTop,
        unreadGone,
        gone.length,
      );
    }
    const update = await core.append(
      owner,
      DELETE_MESSAGES,
      { $case: 'deleteMessages', value: { messages: copies.map((c) => c.id) } },
      copies.length,
      excludeAuthKeyId,
      [],
    );
    return { pts: update.pts, ptsCount: update.ptsCount };
  }

  /** Sends one operation to every other party of `dialog`, each on its home DC. */
  async function toOtherParties(
    actor: bigint,
    dialog: Peer,
    opId: bigint,
    op: Parameters<BoxCore['deliver']>[0]['op'],
  ): Promise<void> {
    const parties = await core.otherParties(actor, dialog);
    await Promise.all(
      [...parties].map(([owner, dc]) =>
        core.deliver({ ownerUserId: owner, actorUserId: actor, opId, originDcId: core.dcId, op }, dc),
      ),
    );
  }

  core.onDeliver('editMessage', async (req) => {
    if (req.op?.$case !== 'editMessage') throw errors.badRequest('OPERATION_NOT_SUPPORTED');
    const { target, message, entities, editDate } = req.op.value;
    // Only the author edits, and the target names the author's own copy.
    if (!target || target.authorUserId !== req.actorUserId)
      throw errors.badRequest('MESSAGE_AUTHOR_REQUIRED');
    const [copy] = await core.copiesOf(req.ownerUserId, [target]);
    if (!copy) return { messageId: 0, pts: 0, ptsCount: 0, duplicate: true };
    const r = await applyEdit(req.ownerUserId, messageOf(copy), { message, entities, editDate }, 0n);
    return r
      ? { messageId: copy.id, pts: r.pts, ptsCount: r.ptsCount, duplicate: false }
      : { messageId: copy.id, pts: 0, ptsCount: 0, duplicate: true };
  });

  core.onDeliver('deleteMessages', async (req) => {
    if (req.op?.$case !== 'deleteMessages') throw errors.badRequest('OPERATION_NOT_SUPPORTED');
    const targets = req.op.value.targets.slice(0, DELETE_MAX);
    const copies = await core.copiesOf(req.ownerUserId, targets);
    // In a private chat either side may revoke any message of the chat; in a group only the
    // author its own (there are no group admins yet).
    const actorKey = `u${req.actorUserId}`;
    const allowed = copies.filter(
      (c) =>
        c.peer === actorKey ||
        (c.peer.startsWith('c') && messageOf(c).origin?.authorUserId === req.actorUserId),
    );
    const r = await applyDelete(req.ownerUserId, allowed, 0n);
    return r
      ? { messageId: 0, pts: r.pts, ptsCount: r.ptsCount, duplicate: false }
      : { messageId: 0, pts: 0, ptsCount: 0, duplicate: true };
  });

  return {
    async editMessage(req) {
      const editor = await core.ownBox(req.context);
      const dialog = await core.resolvePeer(editor, req.peer);
      const [copy] = await core.boxes.get(editor, [req.id]);
      if (!copy || copy.peer !== dialog.key) throw errors.badRequest('MESSAGE_ID_INVALID');
      const stored = messageOf(copy);
      if (!copy.out || stored.action) throw errors.forbidden('MESSAGE_AUTHOR_REQUIRED');
      if (req.media) throw errors.badRequest('MEDIA_INVALID');
      if (now() - stored.date > EDIT_WINDOW_S) throw errors.badRequest('MESSAGE_EDIT_TIME_EXPIRED');
      const text = req.message ?? stored.message;
      checkText(text);
      const entities =
        req.message === undefined
          ? stored.entities
          : await checkedEntities(editor, text, req.entities, (v, ids) => core.users(v, ids));
      if (text === stored.message && sameEntities(entities, stored.entities))
        throw errors.badRequest('MESSAGE_NOT_MODIFIED');
      const change = { message: text, entities, editDate: now() };
      const mine = await applyEdit(editor, stored, change, req.context!.authKeyId);
      if (!mine) throw errors.badRequest('MESSAGE_ID_INVALID'); // deleted meanwhile
      await toOtherParties(editor, peerOfKey(copy.peer), BigInt(change.editDate), {
        $case: 'editMessage',
        value: { target: originOf(editor, stored), ...change },
      });
      return {
        updates: {
          updates: [
            {
              pts: mine.pts,
              ptsCount: mine.ptsCount,
              kind: { $case: 'editMessage', value: { message: mine.message } },
            },
          ],
          users: [...dialog.users, ...(await core.users(editor, [editor]))],
          chats: dialog.chats,
          channels: [],
          date: now(),
          seq: 0,
        },
      };
    },

    async deleteMessages(req) {
      const owner = await core.ownBox(req.context);
      if (req.ids.length > DELETE_MAX) throw errors.badRequest('MESSAGE_IDS_TOO_MUCH');
      const copies = await core.boxes.get(owner, [...new Set(req.ids)]);
      const mine = await applyDelete(owner, copies, req.context!.authKeyId);
      if (!mine) return { affected: { pts: await core.pts(owner), ptsCount: 0 } };
      if (req.revoke) {
        const byDialog = new Map<string, MessageOrigin[]>();
        for (const c of copies) {
          // Others' messages in a group are deleted for the caller only.
          if (c.peer.startsWith('c') && !c.out) continue;
          byDialog.set(c.peer, [...(byDialog.get(c.peer) ?? []), originOf(owner, messageOf(c))]);
        }
        for (const [peer, origins] of byDialog)
          await toOtherParties(owner, peerOfKey(peer), BigInt(mine.pts), {
            $case: 'deleteMessages',
            value: { targets: origins },
          });
      }
      return { affected: { pts: mine.pts, ptsCount: mine.ptsCount } };
    },
  };
}
