/**
 * dialogs, dialog_unread, user_counters (this DC's keyspace): each user's dialogs and unread counts.
 *
 * A dialog row's top message and read markers only move up. They are written by the box's owner
 * alone (box-writer.ts): the top message in the same batch as each new message, the markers here
 * under the owner's lock (`BoxOwner.withBox`), read and written with plain statements.
 *
 * Unread counts are Cassandra counters (dialog_unread per dialog, user_counters for the total),
 * so getDialogs and the total are one row read each. The price: a counter update is not
 * idempotent, and it is a statement apart from the message's batch (counters cannot share a
 * batch with other writes), so a crash between the two may leave a message uncounted. A read of
 * the whole dialog (maxId at or past the top message) brings the dialog back to exactly 0 and
 * takes the same amount off the total, so errors never outlive the next full read.
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';
import { dialogIdsBetween, type BoxOwner } from './boxes';

export interface Dialog {
  peer: string;
  topMessageId: number;
  /** Unix seconds of the top message. */
  topDate: number;
  readInboxMaxId: number;
  readOutboxMaxId: number;
  unreadCount: number;
  /** When the user pinned the dialog (Unix ms); absent when not pinned. */
  pinnedAt?: number;
}

export interface ReadResult {
  /** The marker moved (false: nothing new was read). */
  changed: boolean;
  /** The marker before this read (equal to readInboxMaxId when nothing changed). */
  previousMaxId: number;
  readInboxMaxId: number;
  /** Unread messages left in the dialog. */
  unreadCount: number;
}

/** Counters are bigint columns; unread counts fit a number. */
const count = (v: unknown): number => Number(fromLong(v));

export class Dialogs {
  constructor(
    private readonly db: Client,
    private readonly owner: BoxOwner,
  ) {}

  /** An incoming message arrived in `peer`'s dialog: one more there, unread, and in the total unread. */
  async countIncoming(userId: bigint, peer: string): Promise<void> {
    const u = toLong(userId);
    await this.db.batch(
      [
        {
          query:
            'UPDATE dialog_unread SET unread = unread + 1, messages = messages + 1 WHERE user_id = ? AND peer = ?',
          params: [u, peer],
        },
        { query: 'UPDATE user_counters SET unread = unread + 1 WHERE user_id = ?', params: [u] },
      ],
      { prepare: true, counter: true },
    );
  }

  /** The owner's own copy of a message (sent, or a service message of theirs) joined `peer`'s dialog. */
  async countOutgoing(userId: bigint, peer: string): Promise<void> {
    await this.db.execute(
      'UPDATE dialog_unread SET messages = messages + 1 WHERE user_id = ? AND peer = ?',
      [toLong(userId), peer],
      { prepare: true },
    );
  }

  /** How many messages `peer`'s dialog holds (0 for dialogs older than the count, or none). */
  async messageCount(userId: bigint, peer: string): Promise<number> {
    const row = (
      await this.db.execute(
        'SELECT messages FROM dialog_unread WHERE user_id = ? AND peer = ?',
        [toLong(userId), peer],
        { prepare: true },
      )
    ).first();
    return row ? Math.max(0, count(row.get('messages') ?? 0)) : 0;
  }

  /**
   * messages.readHistory: the user read `peer` up to `maxId`. Moves read_inbox_max_id up (never
   * back) and takes the newly read incoming messages off the dialog's and the total unread.
   */
  readHistory(userId: bigint, peer: string, maxId: number): Promise<ReadResult> {
    return this.owner.withBox(userId, async () => {
      const dialog = await this.get(userId, peer);
      if (!dialog) return { changed: false, previousMaxId: 0, readInboxMaxId: 0, unreadCount: 0 };
      const target = Math.min(maxId, dialog.topMessageId);
      const old = dialog.readInboxMaxId;
      if (old >= target)
        return { changed: false, previousMaxId: old, readInboxMaxId: old, unreadCount: dialog.unreadCount };
      await this.db.execute(
        'UPDATE dialogs SET read_inbox_max_id = ? WHERE user_id = ? AND peer = ?',
        [target, toLong(userId), peer],
        { prepare: true },
      );
      // This call moved the marker from `old` to `target`: it alone takes those messages off.
      const unread = dialog.unreadCount;
      const readAll = target >= dialog.topMessageId;
      const newlyRead = readAll
        ? unread
        : (await dialogIdsBetween(this.db, userId, peer, old, target)).filter((m) => !m.out).length;
      const take = Math.max(0, Math.min(newlyRead, unread));
      await this.takeUnread(userId, peer, take);
      return { changed: true, previousMaxId: old, readInboxMaxId: target, unreadCount: unread - take };
    });
  }

  /** The peer read the user's messages up to `maxId` (updateReadHistoryOutbox). */
  readOutbox(userId: bigint, peer: string, maxId: number): Promise<boolean> {
    return this.owner.withBox(userId, async () => {
      const old = (await this.get(userId, peer))?.readOutboxMaxId;
      if (old === undefined || old >= maxId) return false;
      await this.db.execute(
        'UPDATE dialogs SET read_outbox_max_id = ? WHERE user_id = ? AND peer = ?',
        [maxId, toLong(userId), peer],
        { prepare: true },
      );
      return true;
    });
  }

  /**
   * Messages were deleted from the dialog: `unreadGone` of them were unread incoming ones, and
   * if the top message went, `newTop` (0 = the dialog is empty) replaces it. The top moves down
   * only from the value it had, so a message arriving meanwhile keeps its place.
   */
  onDeleted(
    userId: bigint,
    peer: string,
    deletedTop: number | undefined,
    newTop: { id: number; date: number },
    unreadGone: number,
    gone: number,
  ): Promise<void> {
    return this.owner.withBox(userId, async () => {
      const dialog = await this.get(userId, peer);
      if (!dialog) return;
      if (gone > 0)
        await this.db.execute(
          'UPDATE dialog_unread SET messages = messages - ? WHERE user_id = ? AND peer = ?',
          [toLong(BigInt(gone)), toLong(userId), peer],
          { prepare: true },
        );
      if (deletedTop !== undefined && dialog.topMessageId === deletedTop)
        await this.db.execute(
          'UPDATE dialogs SET top_message_id = ?, top_date = ? WHERE user_id = ? AND peer = ?',
          [newTop.id, newTop.date, toLong(userId), peer],
          { prepare: true },
        );
      await this.takeUnread(userId, peer, Math.min(unreadGone, dialog.unreadCount));
    });
  }

  /**
   * Pins or unpins a dialog (messages.toggleDialogPin). False when the dialog does not exist: the
   * conditional update never creates a dialog without messages.
   */
  setPinned(userId: bigint, peer: string, pinned: boolean): Promise<boolean> {
    return this.owner.withBox(userId, async () => {
      // Never creates a dialog without messages.
      if (!(await this.get(userId, peer))) return false;
      await this.db.execute(
        'UPDATE dialogs SET pinned_at = ? WHERE user_id = ? AND peer = ?',
        [pinned ? toLong(BigInt(Date.now())) : null, toLong(userId), peer],
        { prepare: true },
      );
      return true;
    });
  }

  /** Takes `n` messages off the dialog's and the user's unread counts (one counter batch). */
  private async takeUnread(userId: bigint, peer: string, n: number): Promise<void> {
    if (n <= 0) return;
    const u = toLong(userId);
    await this.db.batch(
      [
        {
          query: 'UPDATE dialog_unread SET unread = unread - ? WHERE user_id = ? AND peer = ?',
          params: [toLong(BigInt(n)), u, peer],
        },
        {
          query: 'UPDATE user_counters SET unread = unread - ? WHERE user_id = ?',
          params: [toLong(BigInt(n)), u],
        },
      ],
      { prepare: true, counter: true },
    );
  }

  async get(userId: bigint, peer: string): Promise<Dialog | undefined> {
    const row = (
      await this.db.execute('SELECT * FROM dialogs WHERE user_id = ? AND peer = ?', [toLong(userId), peer], {
        prepare: true,
      })
    ).first();
    if (!row) return undefined;
    return { ...toDialog(row), unreadCount: await this.unread(userId, peer) };
  }

  /** Every dialog of the user with its unread count, newest top message first. */
  async list(userId: bigint): Promise<Dialog[]> {
    const u = toLong(userId);
    const [rows, counters] = await Promise.all([
      this.db.execute('SELECT * FROM dialogs WHERE user_id = ?', [u], { prepare: true, fetchSize: 5000 }),
      this.db.execute('SELECT peer, unread FROM dialog_unread WHERE user_id = ?', [u], {
        prepare: true,
        fetchSize: 5000,
      }),
    ]);
    const unread = new Map(counters.rows.map((r) => [r.get('peer') as string, count(r.get('unread'))]));
    return rows.rows
      .map((r) => ({ ...toDialog(r), unreadCount: Math.max(0, unread.get(r.get('peer') as string) ?? 0) }))
      .sort((a, b) => b.topMessageId - a.topMessageId);
  }

  /** The dialog's unread count: one row read. */
  async unread(userId: bigint, peer: string): Promise<number> {
    const row = (
      await this.db.execute(
        'SELECT unread FROM dialog_unread WHERE user_id = ? AND peer = ?',
        [toLong(userId), peer],
        { prepare: true },
      )
    ).first();
    return Math.max(0, row ? count(row.get('unread')) : 0);
  }

  /** The user's total unread count: one row read. */
  async totalUnread(userId: bigint): Promise<number> {
    const row = (
      await this.db.execute('SELECT unread FROM user_counters WHERE user_id = ?', [toLong(userId)], {
        prepare: true,
      })
    ).first();
    return Math.max(0, row ? count(row.get('unread')) : 0);
  }
}

function toDialog(row: { get(name: string): unknown }): Omit<Dialog, 'unreadCount'> {
  const pinnedAt = row.get('pinned_at');
  return {
    ...(pinnedAt === null || pinnedAt === undefined ? {} : { pinnedAt: Number(fromLong(pinnedAt)) }),
    peer: row.get('peer') as string,
    topMessageId: (row.get('top_message_id') as number | null) ?? 0,
    topDate: (row.get('top_date') as number | null) ?? 0,
    readInboxMaxId: (row.get('read_inbox_max_id') as number | null) ?? 0,
    readOutboxMaxId: (row.get('read_outbox_max_id') as number | null) ?? 0,
  };
}
