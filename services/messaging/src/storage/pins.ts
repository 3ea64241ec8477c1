/**
 * pinned_messages (this DC's keyspace, migrations/dc/0010_pinned_messages.cql): the pinned
 * messages of each dialog of a user's box, newest first. Written beside the body's `pinned` flag
 * (api/pins.ts), so listing a dialog's pins never scans its history. Rows of a message deleted
 * since are skipped by readers (they look the messages up) and removed by `unpin`.
 */
import type { Client } from 'cassandra-driver';
import { toLong } from '../../../shared/src';

/** Pins read at most per dialog and call (unpinAllMessages pages on with its offset). */
export const PIN_PAGE = 100;

export class Pins {
  constructor(private readonly db: Client) {}

  async pin(userId: bigint, peer: string, ids: number[]): Promise<void> {
    await Promise.all(
      ids.map((id) =>
        this.db.execute(
          'INSERT INTO pinned_messages (user_id, peer, message_id) VALUES (?, ?, ?)',
          [toLong(userId), peer, id],
          { prepare: true },
        ),
      ),
    );
  }

  async unpin(userId: bigint, peer: string, ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.execute(
      'DELETE FROM pinned_messages WHERE user_id = ? AND peer = ? AND message_id IN ?',
      [toLong(userId), peer, ids],
      { prepare: true },
    );
  }

  /** The pinned ids of one dialog, newest first, below `below` (exclusive; 0 = from the newest). */
  async of(userId: bigint, peer: string, limit = PIN_PAGE, below = 0): Promise<number[]> {
    const bound = below > 0 ? ' AND message_id < ?' : '';
    const rs = await this.db.execute(
      `SELECT message_id FROM pinned_messages WHERE user_id = ? AND peer = ?${bound} LIMIT ?`,
      [toLong(userId), peer, ...(below > 0 ? [below] : []), Math.min(Math.max(limit, 1), PIN_PAGE)],
      { prepare: true },
    );
    return rs.rows.map((r) => r.get('message_id') as number);
  }
}
