/**
 * box_messages, dialog_messages, random_ids (this DC's keyspace): each user's box of messages.
 *
 * Ids: a box numbers its messages 1, 2, 3... with no gap and no duplicate. They are derived from
 * the update log rather than kept in a second sequence: the update that announces a new message
 * (updateNewMessage) is claimed with one lightweight transaction that also takes the next ids
 * (update_log.max_message_id), so one Paxos round gives both pts and id and they can never
 * disagree. The log row is the commit point; the box rows are written after it.
 *
 * random_id: a send is claimed on (user, random_id) with a lightweight transaction before
 * anything is written. The winner (the attempt that owns the lease) appends and stores; other
 * attempts wait for its result and return it. If the owner dies, a retry takes the lease over
 * after LEASE_MS and first looks for the owner's append in the log (rows carry the random_id),
 * so the message is stored once even then.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';
import type { UpdateLog } from './update-log';

/** Message ids per partition of box_messages and dialog_messages: bucket = floor(id / BOX_BUCKET). */
export const BOX_BUCKET = 1000;
export const boxBucket = (id: number): number => Math.floor(id / BOX_BUCKET);

/** How long an attempt owns a random_id before a retry may take the send over. */
export const LEASE_MS = 15_000;
/** random_id rows live one day (the table's default TTL). */
const RANDOM_ID_TTL = 86_400;

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

export class Boxes {
  constructor(
    private readonly db: Client,
    private readonly log: UpdateLog,
    private readonly leaseMs = LEASE_MS,
  ) {}

  /**
   * Stores a new message in `userId`'s box: one update (pts_count 1) in the log, the message
   * under the next id. With a random_id, a retry (even a concurrent one) returns the first
   * result with `duplicate` and stores nothing new.
   */
  async storeNew(userId: bigint, m: NewMessage): Promise<Stored> {
    if (m.randomId === undefined) return { ...(await this.appendAndStore(userId, m)), duplicate: false };
    const randomId = m.randomId;
    const token = randomUUID();
    const claimedAt = Date.now();
    const headPts = await this.log.state(userId);
    const claim = (
      await this.db.execute(
        `INSERT INTO random_ids (user_id, random_id, owner, lease_until, head_pts)
         VALUES (?, ?, ?, ?, ?) IF NOT EXISTS USING TTL ?`,
        [
          toLong(userId),
          toLong(randomId),
          token,
          new Date(Date.now() + this.leaseMs),
          headPts,
          RANDOM_ID_TTL,
        ],
        { prepare: true },
      )
    ).first();
    if (claim.get('[applied]') === true) return this.own(userId, m, claimedAt, undefined);
    return this.await(userId, m);
  }

  /** Another attempt holds the random_id: wait for its result, or take over when its lease ends. */
  private async await(userId: bigint, m: NewMessage): Promise<Stored> {
    const randomId = m.randomId!;
    for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
      const row = (
        await this.db.execute(
          'SELECT owner, lease_until, head_pts, message_id, pts, pts_count, done FROM random_ids WHERE user_id = ? AND random_id = ?',
          [toLong(userId), toLong(randomId)],
          { prepare: true },
        )
      ).first();
      if (!row) return this.storeNew(userId, m); // expired meanwhile: a new send
      if (row.get('done') === true) {
        const id = row.get('message_id') as number;
        const stored = await this.get(userId, [id]);
        return {
          id,
          pts: row.get('pts') as number,
          ptsCount: row.get('pts_count') as number,
          date: stored[0]?.date ?? 0,
          duplicate: true,
        };
      }
      const leaseUntil = row.get('lease_until') as Date | null;
      if (leaseUntil && leaseUntil.getTime() <= Date.now()) {
        const token = randomUUID();
        const claimedAt = Date.now();
        const rs = await this.db.execute(
          'UPDATE random_ids USING TTL ? SET owner = ?, lease_until = ? WHERE user_id = ? AND random_id = ? IF owner = ?',
          [
            RANDOM_ID_TTL,
            token,
            new Date(Date.now() + this.leaseMs),
            toLong(userId),
            toLong(randomId),
            row.get('owner') as string,
          ],
          { prepare: true },
        );
        if (rs.first().get('[applied]') === true) {
          const earlier = await this.log.findByRandomId(
            userId,
            (row.get('head_pts') as number | null) ?? 0,
            randomId,
          );
          return this.own(
            userId,
            m,
            claimedAt,
            earlier && { pts: earlier.pts, id: earlier.maxMessageId, date: earlier.date },
          );
        }
        continue;
      }
      await sleep(wait);
    }
  }

  /** The lease holder: append (unless a crashed owner already did), store, record the result. */
  private async own(
    userId: bigint,
    m: NewMessage,
    claimedAt: number,
    earlier: { id: number; pts: number; date: number } | undefined,
  ): Promise<Stored> {
    let result: Omit<Stored, 'duplicate'>;
    if (earlier) {
      result = { ...earlier, ptsCount: 1 };
      await this.write(userId, { ...m, id: earlier.id, pts: earlier.pts, date: earlier.date });
    } else {
      // A paused owner must not append after its lease could have been taken over.
      if (Date.now() - claimedAt > this.leaseMs / 2) throw new Error('random_id lease lost before append');
      result = await this.appendAndStore(userId, m);
    }
    await this.db.execute(
      `UPDATE random_ids USING TTL ? SET message_id = ?, pts = ?, pts_count = ?, done = true
       WHERE user_id = ? AND random_id = ?`,
      [RANDOM_ID_TTL, result.id, result.pts, result.ptsCount, toLong(userId), toLong(m.randomId!)],
      { prepare: true },
    );
    return { ...result, duplicate: false };
  }

  private async appendAndStore(userId: bigint, m: NewMessage): Promise<Omit<Stored, 'duplicate'>> {
    const a = await this.log.appendUpdate(userId, 1, NEW_MESSAGE, m.body, {
      messages: 1,
      ...(m.randomId === undefined ? {} : { randomId: m.randomId }),
    });
    await this.write(userId, { ...m, id: a.firstMessageId, pts: a.pts, date: a.date });
    return { id: a.firstMessageId, pts: a.pts, ptsCount: a.ptsCount, date: a.date };
  }

  /** Writes a message under its id (idempotent: the same row again on a retry). */
  private async write(
    userId: bigint,
    m: NewMessage & { id: number; pts: number; date: number },
  ): Promise<void> {
    const u = toLong(userId);
    const b = boxBucket(m.id);
    await this.db.batch(
      [
        {
          query: `INSERT INTO box_messages (user_id, bucket, id, peer, out, date, pts, random_id, body)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          params: [
            u,
            b,
            m.id,
            m.peer,
            m.out,
            m.date,
            m.pts,
            m.randomId === undefined ? null : toLong(m.randomId),
            m.body,
          ],
        },
        {
          query: 'INSERT INTO dialog_messages (user_id, peer, bucket, id, out) VALUES (?, ?, ?, ?, ?)',
          params: [u, m.peer, b, m.id, m.out],
        },
        ...(m.origin
          ? [
              {
                query: `INSERT INTO message_origins (user_id, author_user_id, bucket, author_message_id, id)
                        VALUES (?, ?, ?, ?, ?)`,
                params: [
                  u,
                  toLong(m.origin.authorUserId),
                  boxBucket(m.origin.authorMessageId),
                  m.origin.authorMessageId,
                  m.id,
                ],
              },
            ]
          : []),
      ],
      { prepare: true, logged: true },
    );
  }

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
  async replaceBody(userId: bigint, id: number, body: Buffer): Promise<boolean> {
    const rs = await this.db.execute(
      'UPDATE box_messages SET body = ? WHERE user_id = ? AND bucket = ? AND id = ? IF EXISTS',
      [body, toLong(userId), boxBucket(id), id],
      { prepare: true },
    );
    return rs.first().get('[applied]') === true;
  }

  /** Deletes messages from the box and its indexes (one logged batch per message). */
  async remove(userId: bigint, messages: { id: number; peer: string; origin?: Origin }[]): Promise<void> {
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
    const top = offsetId > 0 ? offsetId - 1 : (await this.log.head(userId)).maxMessageId;
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
    const top = Math.min(high, (await this.log.head(userId)).maxMessageId);
    if (top <= low) return [];
    return dialogIdsBetween(this.db, userId, peer, low, top, limit);
  }

  /** Ids of one dialog with low < id <= high, OLDEST first, at most `limit` (jumps into history). */
  async idsAbove(userId: bigint, peer: string, low: number, high: number, limit: number): Promise<number[]> {
    const top = Math.min(high, (await this.log.head(userId)).maxMessageId);
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
    const top = offsetId > 0 ? offsetId - 1 : (await this.log.head(userId)).maxMessageId;
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
