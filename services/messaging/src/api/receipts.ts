/**
 * Read receipts: messages.readHistory in the reader's box, and the authors' side of it
 * (DeliverToBox read_outbox).
 *
 * The reader's inbox marker moves up (never back); the reader's log gets
 * updateReadHistoryInbox, which the reader's other sessions receive live. Each author of a newly
 * read message then gets updateReadHistoryOutbox in its own box, on its home DC. The reader's ids
 * mean nothing in the author's box, so the receipt names the newest read message by its origin
 * (the author's own id), which every copy carries.
 */
import { errors, type AsyncService } from '../../../shared/src';
import type { Peer } from '../../../shared/src/gen/tern/common/v1/peer';
import type { MessagingServiceServer } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import { messageOf, peerKey, userPeer, type BoxCore } from './core';

type Handlers = Pick<AsyncService<MessagingServiceServer>, 'readHistory'>;

/** Log types of the read markers. */
export const READ_INBOX = 'read_inbox';
export const READ_OUTBOX = 'read_outbox';

/**
 * Newly read messages looked at to find each author's newest one. A read of more than this many
 * at once tells only the authors of the newest ones; their markers cover everything older.
 */
const RECEIPT_SCAN = 1000;
/** A repeated read resends the receipt for the newest messages only. */
const RESEND_SCAN = 50;

export function receiptHandlers(core: BoxCore): Handlers {
  core.onDeliver('readOutbox', async (req) => {
    if (req.op?.$case !== 'readOutbox') throw errors.badRequest('OPERATION_NOT_SUPPORTED');
    const { peer, max } = req.op.value;
    if (!peer || !max || max.authorUserId !== req.ownerUserId) throw errors.badRequest('MESSAGE_ID_INVALID');
    const owner = req.ownerUserId;
    const moved = await core.dialogs.readOutbox(owner, peerKey(peer), max.authorMessageId);
    if (!moved) return { messageId: 0, pts: 0, ptsCount: 0, duplicate: true };
    const reader = await core.users(owner, [req.actorUserId]);
    const update = await core.append(
      owner,
      READ_OUTBOX,
      { $case: 'readHistoryOutbox', value: { peer, maxId: max.authorMessageId } },
      1,
      0n,
      reader,
    );
    return { messageId: 0, pts: update.pts, ptsCount: update.ptsCount, duplicate: false };
  });

  /** Tells each author of the messages read in (low, high] how far they were read. */
  async function sendReceipts(
    reader: bigint,
    dialog: Peer,
    low: number,
    high: number,
    scan: number,
  ): Promise<void> {
    const key = peerKey(dialog);
    const incoming = (await core.boxes.idsBetween(reader, key, low, high, scan))
      .filter((m) => !m.out)
      .map((m) => m.id);
    const newest = new Map<bigint, number>();
    for (const m of (await core.boxes.get(reader, incoming)).map(messageOf)) {
      const o = m.origin;
      if (o && o.authorMessageId > (newest.get(o.authorUserId) ?? 0))
        newest.set(o.authorUserId, o.authorMessageId);
    }
    if (newest.size === 0) return;
    const homes = await core.homes([...newest.keys()]);
    // The author sees the dialog under the reader (private) or the group.
    const authorsPeer = dialog.kind?.$case === 'chatId' ? dialog : userPeer(reader);
    await Promise.all(
      [...newest].map(([author, maxId]) => {
        const dc = homes.get(author);
        if (dc === undefined) return Promise.resolve();
        return core.deliver(
          {
            ownerUserId: author,
            actorUserId: reader,
            opId: BigInt(maxId),
            originDcId: core.dcId,
            op: {
              $case: 'readOutbox',
              value: { peer: authorsPeer, max: { authorUserId: author, authorMessageId: maxId } },
            },
          },
          dc,
        );
      }),
    );
  }

  return {
    async readHistory(req) {
      const reader = await core.ownBox(req.context);
      const dialog = await core.resolvePeer(reader, req.peer);
      const maxId = req.maxId > 0 ? req.maxId : Number.MAX_SAFE_INTEGER;
      const read = await core.dialogs.readHistory(reader, dialog.key, maxId);
      if (!read.changed) {
        // Nothing new for the reader; a receipt lost by a crash after the marker moved is resent.
        await sendReceipts(reader, dialog.peer, 0, read.readInboxMaxId, RESEND_SCAN);
        return { affected: { pts: await core.pts(reader), ptsCount: 0 } };
      }
      const update = await core.append(
        reader,
        READ_INBOX,
        {
          $case: 'readHistoryInbox',
          value: {
            peer: dialog.peer,
            maxId: read.readInboxMaxId,
            stillUnreadCount: read.unreadCount,
            folderId: 0,
          },
        },
        1,
        req.context!.authKeyId,
        dialog.users,
      );
      await sendReceipts(reader, dialog.peer, read.previousMaxId, read.readInboxMaxId, RECEIPT_SCAN);
      return { affected: { pts: update.pts, ptsCount: update.ptsCount } };
    },
  };
}
