/**
 * box_messages, dialog_messages, message_origins (this DC's keyspace): reading each user's box of
 * messages, and the changes to stored messages (edits, deletions).
 *
 * Ids: a box numbers its messages 1, 2, 3... with no gap and no duplicate. New messages are
 * written by the box's owner (box-writer.ts), which allocates the next id and pts in memory and
 * stores the log row and the message in one batch; the log row records `max_message_id`, so the
 * box's end is the log's end. Changes here (edits, deletions) run under the same owner's lock.
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';
import type { Head } from './update-log';

/** Message ids per partition of box_messages and dialog_messages: bucket = floor(id / BOX_BUCKET). */
export const BOX_BUCKET = 1000;
export const boxBucket = (id: number): number => Math.floor(id / BOX_BUCKET);

/** The update log type of a new message. */
export const NEW_MESSAGE = 'new_message';

export interface BoxMessage {
  id: number;
  /** The dialog: 'u<user id>' or 'c<chat id>'. */
  peer: string;
  out: boolean;
  /** Unix seconds. */
  date: number;
  /** The owner's pts after the update that stored it. */
  pts: number;
  randomId: bigint;
  /** The serialized message. */
  body: Buffer;
}

export interface NewMessage {
  peer: string;
  out: boolean;
  /** The serialized message, also the payload of the updateNewMessage log row. */
  body: Buffer;
  /** The sender's idempotency key (its own box only); omitted for received copies. */
  randomId?: bigint;
  /** The author's copy, for a copy in another box (indexed in message_origins). */
  origin?: Origin;
}

/** A message's author and its id in the author's box (MessageOrigin). */
export interface Origin {
  authorUserId: bigint;
  authorMessageId: number;
}

/** A map key for an origin. */
export const originKey = (o: Origin): string => `${o.authorUserId}:${o.authorMessageId}`;

export interface Stored {
  id: number;
  pts: number;
  ptsCount: number;
  date: number;
  /** True when an earlier attempt with the same random_id had already stored it. */
  duplicate: boolean;
}

function toMessage(row: { get(name: string): unknown }): BoxMessage {
  return {
    id: row.get('id') as number,
    peer: row.get('peer') as string,
    out: row.get('out') === true,
    date: (row.get('date') as number | null) ?? 0,
    pts: (row.get('pts') as number | null) ?? 0,
    randomId: fromLong(row.get('random_id')),
    body: (row.get('body') as Buffer | null) ?? Buffer.alloc(0),
  };
}

/** Where a box ends and who may change it (box-writer.ts). */
export interface BoxOwner {
  /** The box's end: pts and the highest message id. */
  head(userId: bigint): Promise<Head>;
  /** Runs `fn` while no other operation writes the box. */
  withBox<T>(userId: bigint, fn: () => Promise<T>): Promise<T>;
}

export class Boxes {
  constructor(
    private readonly db: Client,
    private readonly owner: BoxOwner,
  ) {}

  /** The ids of the owner's copies of `origins` ('author:id' → id); absent copies are skipped. */
  async byOrigin(userId: bigint, origins: Origin[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    await Promise.all(
      origins.map(async (o) => {
        if (o.authorUserId === userId) {
          found.set(originKey(o), o.authorMessageId);
          return;
        }
        const row = (
          await this.db.execute(
            `SELECT id FROM message_origins
              WHERE user_id = ? AND author_user_id = ? AND bucket = ? AND author_message_id = ?`,
            [toLong(userId), toLong(o.authorUserId), boxBucket(o.authorMessageId), o.authorMessageId],
            { prepare: true },
          )
        ).first();
        if (row) found.set(originKey(o), row.get('id') as number);
      }),
    );
    return found;
  }

  /**
   * Replaces the serialized body of message `id` (an edit). False if the message is gone: the
   * conditional update never recreates a row a concurrent delete removed.
   */
  replaceBody(userId: bigint, id: number, body: Buffer): Promise<boolean> {
    // Under the owner's lock: a deletion cannot slip between the check and the write.
    return this.owner.withBox(userId, async () => {
      const u = toLong(userId);
      const found = (
        await this.db.execute(
          'SELECT id FROM box_messages WHERE user_id = ? AND bucket = ? AND id = ?',
          [u, boxBucket(id), id],
          { prepare: true },
        )
      ).first();
      if (!found) return false;
      await this.db.execute(
        'UPDATE box_messages SET body = ? WHERE user_id = ? AND bucket = ? AND id = ?',
        [body, u, boxBucket(id), id],
        { prepare: true },
      );
      return true;
    });
  }

  /** Deletes messages from the box and its indexes (one logged batch per message). */
  remove(userId: bigint, messages: { id: number; peer: string; origin?: Origin }[]): Promise<void> {
    return this.owner.withBox(userId, () => this.removeNow(userId, messages));
  }

  private async removeNow(
    userId: bigint,
    messages: { id: number; peer: string; origin?: Origin }[],
  ): Promise<void> {
    const u = toLong(userId);
    await Promise.all(
      messages.map((m) =>
        this.db.batch(
          [
            {
              query: 'DELETE FROM box_messages WHERE user_id = ? AND bucket = ? AND id = ?',
              params: [u, boxBucket(m.id), m.id],
            },
            {
              query: 'DELETE FROM dialog_messages WHERE user_id = ? AND peer = ? AND bucket = ? AND id = ?',
              params: [u, m.peer, boxBucket(m.id), m.id],
            },
            ...(m.origin && m.origin.authorUserId !== userId
              ? [
                  {
                    query: `DELETE FROM message_origins
                             WHERE user_id = ? AND author_user_id = ? AND bucket = ? AND author_message_id = ?`,
                    params: [
                      u,
                      toLong(m.origin.authorUserId),
                      boxBucket(m.origin.authorMessageId),
                      m.origin.authorMessageId,
                    ],
                  },
                ]
              : []),
          ],
          { prepare: true, logged: true },
        ),
      ),
    );
  }

  /** Messages by id (absent ids are skipped), in the order asked. */
  async get(userId: bigint, ids: number[]): Promise<BoxMessage[]> {
    const byBucket = new Map<number, number[]>();
    for (const id of ids) byBucket.set(boxBucket(id), [...(byBucket.get(boxBucket(id)) ?? []), id]);
    const found = new Map<number, BoxMessage>();
    await Promise.all(
      [...byBucket].map(async ([bucket, list]) => {
        const rs = await this.db.execute(
          'SELECT * FROM box_messages WHERE user_id = ? AND bucket = ? AND id IN ?',
          [toLong(userId), bucket, list],
          { prepare: true },
        );
        for (const row of rs.rows) found.set(row.get('id') as number, toMessage(row));
      }),
    );
    return ids.flatMap((id) => found.get(id) ?? []);
  }

  /**
   * A page of the whole box, newest first: up to `limit` messages with id < offsetId
   * (offsetId 0 = from the newest), across buckets.
   */
  async page(userId: bigint, offsetId: number, limit: number): Promise<BoxMessage[]> {
    const top = offsetId > 0 ? offsetId - 1 : (await this.owner.head(userId)).maxMessageId;
    const out: BoxMessage[] = [];
    for (let bucket = boxBucket(top); bucket >= 0 && out.length < limit; bucket--) {
      const rs = await this.db.execute(
        'SELECT * FROM box_messages WHERE user_id = ? AND bucket = ? AND id <= ? LIMIT ?',
        [toLong(userId), bucket, top, limit - out.length],
        { prepare: true },
      );
      for (const row of rs.rows) out.push(toMessage(row));
    }
    return out;
  }

  /**
   * Ids (and direction) of one dialog with low < id <= high, newest first, at most `limit`.
   * `high` may be any large number: it is cut to the box's newest id.
   */
  async idsBetween(
    userId: bigint,
    peer: string,
    low: number,
    high: number,
    limit: number,
  ): Promise<{ id: number; out: boolean }[]> {
    const top = Math.min(high, (await this.owner.head(userId)).maxMessageId);
    if (top <= low) return [];
    return dialogIdsBetween(this.db, userId, peer, low, top, limit);
  }

  /** Ids of one dialog with low < id <= high, OLDEST first, at most `limit` (jumps into history). */
  async idsAbove(userId: bigint, peer: string, low: number, high: number, limit: number): Promise<number[]> {
    const top = Math.min(high, (await this.owner.head(userId)).maxMessageId);
    const out: number[] = [];
    for (let bucket = boxBucket(low + 1); bucket <= boxBucket(top) && out.length < limit; bucket++) {
      const rs = await this.db.execute(
        `SELECT id FROM dialog_messages WHERE user_id = ? AND peer = ? AND bucket = ? AND id > ? AND id <= ?
          ORDER BY id ASC LIMIT ?`,
        [toLong(userId), peer, bucket, low, top, limit - out.length],
        { prepare: true },
      );
      for (const row of rs.rows) out.push(row.get('id') as number);
    }
    return out;
  }

  /** Ids of one dialog, newest first: up to `limit` ids with id < offsetId (0 = newest). */
  async dialogIds(
    userId: bigint,
    peer: string,
    offsetId: number,
    limit: number,
  ): Promise<{ id: number; out: boolean }[]> {
    const top = offsetId > 0 ? offsetId - 1 : (await this.owner.head(userId)).maxMessageId;
    return dialogIdsBetween(this.db, userId, peer, 0, top, limit);
  }
}

/** Ids (and direction) of `peer`'s messages in `userId`'s box with low < id <= high, newest first. */
export async function dialogIdsBetween(
  db: Client,
  userId: bigint,
  peer: string,
  low: number,
  high: number,
  limit = Number.MAX_SAFE_INTEGER,
): Promise<{ id: number; out: boolean }[]> {
  const out: { id: number; out: boolean }[] = [];
  for (
    let bucket = boxBucket(high);
    bucket >= boxBucket(low) && bucket >= 0 && out.length < limit;
    bucket--
  ) {
    const rs = await db.execute(
      'SELECT id, out FROM dialog_messages WHERE user_id = ? AND peer = ? AND bucket = ? AND id <= ? AND id > ? LIMIT ?',
      [toLong(userId), peer, bucket, high, low, Math.min(limit - out.length, 100_000)],
      { prepare: true },
    );
    for (const row of rs.rows) out.push({ id: row.get('id') as number, out: row.get('out') === true });
  }
  return out;
}
