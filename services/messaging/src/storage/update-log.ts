/**
 * update_log, update_log_head (this DC's keyspace): reading each user's update log (pts).
 *
 * A row is one update and covers pts first_pts .. pts (pts_count = pts - first_pts + 1). Rows
 * are written only by the box's owner (box-writer.ts), which allocates pts in memory, one
 * update after the other, so the rows form one contiguous chain: pts strictly increases with no
 * gap and no duplicate. Each row records `max_message_id`, the highest box message id allocated
 * up to it, and the `epoch` (the owner's lease) it was written under.
 *
 * update_log_head is a hint written in the same batch as each row; the true end is found by
 * reading the chain forward from it (a new owner does so before its first write).
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';

/** Rows (not pts) per partition of update_log: bucket = floor(first_pts / LOG_BUCKET). */
export const LOG_BUCKET = 1000;
/** The most pts one update may take (keeps a row inside at most two buckets). */
export const MAX_PTS_COUNT = LOG_BUCKET;

export const logBucket = (pts: number): number => Math.floor(pts / LOG_BUCKET);

export interface LogEntry {
  /** The user's pts after this update. */
  pts: number;
  ptsCount: number;
  type: string;
  payload: Buffer;
  /** Highest box message id allocated up to and including this update. */
  maxMessageId: number;
  /** The sendMessage random_id this update came from, 0n if none. */
  randomId: bigint;
  /** Unix seconds. */
  date: number;
}

export interface Head {
  pts: number;
  maxMessageId: number;
}

export interface DifferencePage {
  updates: LogEntry[];
  /** Where the client continues from: the pts of the last update returned, or fromPts. */
  pts: number;
  /** More updates follow after `pts`. */
  more: boolean;
}

const SCAN_PAGE = 200;

function toEntry(row: { get(name: string): unknown }): LogEntry {
  const created = row.get('created_at') as Date | null;
  return {
    pts: row.get('pts') as number,
    ptsCount: row.get('pts_count') as number,
    type: row.get('type') as string,
    payload: (row.get('payload') as Buffer | null) ?? Buffer.alloc(0),
    maxMessageId: (row.get('max_message_id') as number | null) ?? 0,
    randomId: fromLong(row.get('random_id')),
    date: created ? Math.floor(created.getTime() / 1000) : 0,
  };
}

export class UpdateLog {
  constructor(private readonly db: Client) {}

  /** The current pts of `userId` (0 for an empty log). */
  async state(userId: bigint): Promise<number> {
    return (await this.head(userId)).pts;
  }

  /** The true end of the log: the hint, then the chain read forward from it. */
  async head(userId: bigint): Promise<Head> {
    const row = (
      await this.db.execute(
        'SELECT pts, max_message_id FROM update_log_head WHERE user_id = ?',
        [toLong(userId)],
        { prepare: true },
      )
    ).first();
    const hint: Head = row
      ? {
          pts: (row.get('pts') as number | null) ?? 0,
          maxMessageId: (row.get('max_message_id') as number | null) ?? 0,
        }
      : { pts: 0, maxMessageId: 0 };
    return this.forward(userId, hint);
  }

  /** Follows the chain from a known end `from` (a row end, or 0) to its true end. */
  private async forward(userId: bigint, from: Head): Promise<Head> {
    const head = { ...from };
    await this.walk(userId, head.pts, Number.MAX_SAFE_INTEGER, true, (e) => {
      head.pts = e.pts;
      head.maxMessageId = e.maxMessageId;
    });
    return head;
  }

  /**
   * Visits the chain's rows after pts `after` in order, across buckets, until the chain ends or
   * `limit` rows were visited. The first row may start anywhere after `after`; later ones must
   * follow without a gap (they always do: see the top of this file). Returns whether the limit
   * stopped the walk with rows left. `rowEnd`: `after` is 0 or the end of a row (a pts the log
   * handed out); otherwise it may lie inside a row that began in an earlier bucket, and the next
   * row may then start in the following bucket.
   */
  private async walk(
    userId: bigint,
    after: number,
    limit: number,
    rowEnd: boolean,
    visit: (e: LogEntry) => void,
  ): Promise<boolean> {
    let end = after;
    let started = false;
    let seen = 0;
    let bucket = logBucket(end + 1);
    for (;;) {
      const rs = await this.db.execute(
        `SELECT first_pts, pts, pts_count, type, payload, max_message_id, random_id, created_at
           FROM update_log WHERE user_id = ? AND bucket = ? AND first_pts > ? LIMIT ?`,
        [toLong(userId), bucket, end, SCAN_PAGE],
        { prepare: true },
      );
      for (const row of rs.rows) {
        if (started && (row.get('first_pts') as number) !== end + 1) return false;
        if (seen === limit) return true;
        const e = toEntry(row);
        visit(e);
        started = true;
        end = e.pts;
        seen++;
      }
      const next = logBucket(end + 1);
      // A full page: read on (same bucket, or the next one if the chain crossed into it).
      // An exhausted bucket: the chain goes on only if its last row reached the next bucket.
      if (rs.rows.length === SCAN_PAGE || next > bucket) {
        bucket = next;
        continue;
      }
      // Rows take at most LOG_BUCKET pts, so the row after a mid-row `after` starts at most one
      // bucket later.
      if (!started && !rowEnd && bucket === logBucket(after + 1)) {
        bucket++;
        continue;
      }
      return false;
    }
  }

  /** Up to `limit` updates after `fromPts`, in pts order (updates.getDifference). */
  async difference(userId: bigint, fromPts: number, limit: number): Promise<DifferencePage> {
    const updates: LogEntry[] = [];
    const more = await this.walk(userId, fromPts, Math.max(1, limit), false, (e) => updates.push(e));
    return { updates, pts: updates.at(-1)?.pts ?? fromPts, more };
  }
}
