/**
 * dialogs, dialog_unread, user_counters (this DC's keyspace): each user's dialogs and unread counts.
 *
 * The dialog row's top message and read markers only move up: each is changed with a lightweight
 * transaction conditioned on the value it replaces, so concurrent or out-of-order writers can
 * never move them back.
 *
 * Unread counts are Cassandra counters (dialog_unread per dialog, user_counters for the total):
 * an incoming message is one counter batch, and both counts are one single-row read. Counters
 * rather than a compare-and-set on the dialog row because every incoming message would otherwise
 * need two more Paxos rounds (dialog and total) contending on the user's one total row. The
 * price: a counter update is not idempotent, so a send retried after a crash between storing
 * and counting may count a message twice (or, racing a readHistory, once after it was read). A
 * read of the whole dialog (maxId at or past the top message) brings the dialog back to exactly 0
 * and takes the same amount off the total, so errors never outlive the next full read.
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';
import { dialogIdsBetween } from './boxes';

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
  constructor(private readonly db: Client) {}

  /**
   * Records message `messageId` of `peer` in `userId`'s dialogs: the dialog appears (or its top
   * message moves up), and an incoming message adds one to the dialog's and the user's unread.
   */
  async onNewMessage(
    userId: bigint,
    peer: string,
    messageId: number,
    date: number,
    incoming: boolean,
  ): Promise<void> {
    const u = toLong(userId);
    const created = (
      await this.db.execute(
        `INSERT INTO dialogs (user_id, peer, top_message_id, top_date, read_inbox_max_id, read_outbox_max_id)
         VALUES (?, ?, ?, ?, 0, 0) IF NOT EXISTS`,
        [u, peer, messageId, date],
        { prepare: true },
      )
    ).first();
    let current = created.get('[applied]') === true ? messageId : (created.get('top_message_id') as number);
    while (current < messageId) {
      const rs = await this.db.execute(
        'UPDATE dialogs SET top_message_id = ?, top_date = ? WHERE user_id = ? AND peer = ? IF top_message_id = ?',
        [messageId, date, u, peer, current],
        { prepare: true },
      );
      const row = rs.first();
      if (row.get('[applied]') === true) break;
      current = row.get('top_message_id') as number;
    }
    if (!incoming) return;
    // An incoming message the user has already read (a late write) is not unread.
    if (
      created.get('[applied]') !== true &&
      messageId <= ((created.get('read_inbox_max_id') as number | null) ?? 0)
    )
      return;
    await this.db.batch(
      [
        {
          query: 'UPDATE dialog_unread SET unread = unread + 1 WHERE user_id = ? AND peer = ?',
          params: [u, peer],
        },
        { query: 'UPDATE user_counters SET unread = unread + 1 WHERE user_id = ?', params: [u] },
      ],
      { prepare: true, counter: true },
    );
  }

  /**
   * messages.readHistory: the user read `peer` up to `maxId`. Moves read_inbox_max_id up (never
   * back) and takes the newly read incoming messages off the dialog's and the total unread.
   */
  async readHistory(userId: bigint, peer: string, maxId: number): Promise<ReadResult> {
    const u = toLong(userId);
    const dialog = await this.get(userId, peer);
    if (!dialog) return { changed: false, previousMaxId: 0, readInboxMaxId: 0, unreadCount: 0 };
    const target = Math.min(maxId, dialog.topMessageId);
    let old = dialog.readInboxMaxId;
    while (old < target) {
      const row = (
        await this.db.execute(
          'UPDATE dialogs SET read_inbox_max_id = ? WHERE user_id = ? AND peer = ? IF read_inbox_max_id = ?',
          [target, u, peer, old],
          { prepare: true },
        )
      ).first();
      if (row.get('[applied]') === true) break;
      old = (row.get('read_inbox_max_id') as number | null) ?? 0;
    }
    if (old >= target)
      return {
        changed: false,
        previousMaxId: old,
        readInboxMaxId: old,
        unreadCount: await this.unread(userId, peer),
      };
    // This call moved the marker from `old` to `target`: it alone takes those messages off.
    const unread = await this.unread(userId, peer);
    const readAll = target >= dialog.topMessageId;
    const newlyRead = readAll
      ? unread
      : (await dialogIdsBetween(this.db, userId, peer, old, target)).filter((m) => !m.out).length;
    const take = Math.max(0, Math.min(newlyRead, unread));
    await this.takeUnread(userId, peer, take);
    return { changed: true, previousMaxId: old, readInboxMaxId: target, unreadCount: unread - take };
  }

  /** The peer read the user's messages up to `maxId` (updateReadHistoryOutbox). */
  async readOutbox(userId: bigint, peer: string, maxId: number): Promise<boolean> {
    const u = toLong(userId);
    let old: number | undefined = (await this.get(userId, peer))?.readOutboxMaxId;
    while (old !== undefined && old < maxId) {
      const row = (
        await this.db.execute(
          'UPDATE dialogs SET read_outbox_max_id = ? WHERE user_id = ? AND peer = ? IF read_outbox_max_id = ?',
          [maxId, u, peer, old],
          { prepare: true },
        )
      ).first();
      if (row.get('[applied]') === true) return true;
      old = (row.get('read_outbox_max_id') as number | null) ?? 0;
    }
    return false;
  }

  /**
   * Messages were deleted from the dialog: `unreadGone` of them were unread incoming ones, and
   * if the top message went, `newTop` (0 = the dialog is empty) replaces it. The top moves down
   * only from the value it had, so a message arriving meanwhile keeps its place.
   */
  async onDeleted(
    userId: bigint,
    peer: string,
    deletedTop: number | undefined,
    newTop: { id: number; date: number },
    unreadGone: number,
  ): Promise<void> {
    const u = toLong(userId);
    if (deletedTop !== undefined)
      await this.db.execute(
        'UPDATE dialogs SET top_message_id = ?, top_date = ? WHERE user_id = ? AND peer = ? IF top_message_id = ?',
        [newTop.id, newTop.date, u, peer, deletedTop],
        { prepare: true },
      );
    const take = Math.min(unreadGone, await this.unread(userId, peer));
    await this.takeUnread(userId, peer, take);
  }

  /**
   * Pins or unpins a dialog (messages.toggleDialogPin). False when the dialog does not exist: the
   * conditional update never creates a dialog without messages.
   */
  async setPinned(userId: bigint, peer: string, pinned: boolean): Promise<boolean> {
    const rs = await this.db.execute(
      'UPDATE dialogs SET pinned_at = ? WHERE user_id = ? AND peer = ? IF EXISTS',
      [pinned ? toLong(BigInt(Date.now())) : null, toLong(userId), peer],
      { prepare: true },
    );
    return rs.first().get('[applied]') === true;
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
