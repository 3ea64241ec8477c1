/**
 * The one writer of the boxes this replica owns (docs/decisions/0017-one-writer-per-box.md).
 *
 * A box (a user's update log, messages, dialog index and dialog tops) is written by one
 * messaging replica at a time: its owner (shared/src/ownership). The owner keeps the box's end — pts
 * and the highest message id — in memory, allocates the next ones there, and stores each update
 * with plain writes: one logged batch per update, which Cassandra applies entirely or not at all
 * (the log row, the head hint, the message, its dialog index, the dialog's top, the random_id).
 * No lightweight transaction is on this path; the Paxos round per message of the old design is
 * replaced by ownership, which changes hands rarely.
 *
 * Operations on one box run one at a time (a queue per box), so two concurrent sends cannot
 * take the same pts, and a failed write never leaves a gap behind a later one: a batch that
 * fails is tried again, with the same timestamp, before anything else touches the box. Boxes of
 * different users run in parallel.
 *
 * Every operation checks the box's fence (the owner's lease) before it writes and again before
 * it answers: a replica that lost its lease stops writing and answers UNAVAILABLE, which callers
 * retry (the retry reaches the new owner). The lease outlives any single write (the driver's
 * timeout for these batches is below the lease's safety margin), so a stale owner's write cannot
 * land after a new owner read the box's end.
 */
import type { Client } from 'cassandra-driver';
import { errors, toLong } from '../../../shared/src';
import { boxBucket, NEW_MESSAGE, type NewMessage, type Stored } from './boxes';
import { logBucket, MAX_PTS_COUNT, type Head, type UpdateLog } from './update-log';

/** The lease under which a replica writes a box (shared/src/ownership `Fence`). */
export interface WriteFence {
  /** The lease's fencing token, stored with every log row written under it. */
  readonly epoch: bigint;
  /** True while this replica may still write: its lease is held and not about to expire. */
  valid(): boolean;
}

/** The fence of a box on this replica, or undefined when another replica owns it. */
export type FenceOf = (userId: bigint) => WriteFence | undefined;

/** A message's place in its box once written. */
export interface Written {
  id: number;
  pts: number;
  ptsCount: number;
  date: number;
}

/** What a non-message update took. */
export interface AppendedUpdate {
  pts: number;
  ptsCount: number;
  date: number;
}

/** random_ids remembered per box: enough for any client's retries, bounded per box. */
const RECENT_RANDOM_IDS = 256;
/** Box states kept in memory (idle ones beyond this are dropped and read again when needed). */
const MAX_BOXES = 200_000;
/**
 * Client-side timeout of a box batch. It must stay below the ownership's safety margin, so that a
 * write still in flight when a lease runs out has failed before another replica may take over.
 */
export const BOX_WRITE_TIMEOUT_MS = 1500;
/** Attempts at one batch before the operation fails (the box stays blocked on it until it lands). */
const WRITE_ATTEMPTS = 3;
/** random_id rows live one day (the table's default TTL). */
const RANDOM_ID_TTL = 86_400;

interface PendingBatch {
  queries: { query: string; params: unknown[] }[];
  /** The write timestamp (µs): a retry of the same batch writes the same cells again. */
  timestamp: number;
  /**
   * Moves the box's end in memory past what the batch wrote. Applied when the batch lands, by
   * whichever operation lands it: a batch that failed and is landed later by the next operation
   * must still move the end, or that operation would take the same pts and id again and
   * overwrite it (found by `npm run chaos` across a Cassandra restart).
   */
  landed: (s: BoxState) => void;
}

interface BoxState {
  epoch: bigint;
  pts: number;
  maxMessageId: number;
  /** random_id → where the message went (recent sends of this box only). */
  recent: Map<bigint, Written>;
  /** A batch that failed and must land before the box takes another write. */
  unsettled?: PendingBatch;
}

interface BoxSlot {
  /** The end of the queue of operations on this box. */
  tail: Promise<void>;
  queued: number;
  state?: BoxState;
}

/** Microseconds since the epoch, strictly increasing within this process. */
let lastMicros = 0;
function nextMicros(): number {
  lastMicros = Math.max(lastMicros + 1, Date.now() * 1000);
  return lastMicros;
}

export class BoxWriter {
  private readonly slots = new Map<bigint, BoxSlot>();

  constructor(
    private readonly db: Client,
    private readonly log: UpdateLog,
    private readonly fenceOf: FenceOf,
  ) {}

  /**
   * Stores a new message: one update (pts_count 1), the message under the box's next id, the
   * dialog's top moved to it, and for an incoming message one more unread. With a random_id, a
   * retry returns the first result with `duplicate` and writes nothing.
   */
  storeMessage(userId: bigint, m: NewMessage & { date: number }): Promise<Stored> {
    return this.exclusive(userId, async (s, fence) => {
      if (m.randomId !== undefined) {
        const earlier = s.recent.get(m.randomId) ?? (await this.storedRandomId(userId, m.randomId));
        if (earlier) {
          remember(s, m.randomId, earlier);
          return { ...earlier, duplicate: true };
        }
      }
      const w: Written = { id: s.maxMessageId + 1, pts: s.pts + 1, ptsCount: 1, date: m.date };
      const u = toLong(userId);
      const queries = [
        logRow(userId, { ...w, first: w.pts, maxMessageId: w.id }, NEW_MESSAGE, m.body, fence, m.randomId),
        headHint(userId, { pts: w.pts, maxMessageId: w.id }),
        {
          query: `INSERT INTO box_messages (user_id, bucket, id, peer, out, date, pts, random_id, body)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          params: [
            u,
            boxBucket(w.id),
            w.id,
            m.peer,
            m.out,
            w.date,
            w.pts,
            m.randomId === undefined ? null : toLong(m.randomId),
            m.body,
          ],
        },
        {
          query: 'INSERT INTO dialog_messages (user_id, peer, bucket, id, out) VALUES (?, ?, ?, ?, ?)',
          params: [u, m.peer, boxBucket(w.id), w.id, m.out],
        },
        // The owner allocates ids in order, so a new message is always the dialog's newest.
        {
          query: 'UPDATE dialogs SET top_message_id = ?, top_date = ? WHERE user_id = ? AND peer = ?',
          params: [w.id, w.date, u, m.peer],
        },
      ];
      if (m.origin)
        queries.push({
          query: `INSERT INTO message_origins (user_id, author_user_id, bucket, author_message_id, id)
                  VALUES (?, ?, ?, ?, ?)`,
          params: [
            u,
            toLong(m.origin.authorUserId),
            boxBucket(m.origin.authorMessageId),
            m.origin.authorMessageId,
            w.id,
          ],
        });
      if (m.randomId !== undefined)
        queries.push({
          query: `INSERT INTO random_ids (user_id, random_id, message_id, pts, pts_count, date, done)
                  VALUES (?, ?, ?, ?, ?, ?, true) USING TTL ?`,
          params: [u, toLong(m.randomId), w.id, w.pts, 1, w.date, RANDOM_ID_TTL],
        });
      const randomId = m.randomId;
      await this.commit(s, fence, {
        queries,
        timestamp: nextMicros(),
        landed: (st) => {
          st.pts = w.pts;
          st.maxMessageId = w.id;
          if (randomId !== undefined) remember(st, randomId, w);
        },
      });
      return { ...w, duplicate: false };
    });
  }

  /** Appends one non-message update of `ptsCount` pts (an edit, a deletion, a read marker). */
  append(userId: bigint, ptsCount: number, type: string, payload: Buffer): Promise<AppendedUpdate> {
    if (!Number.isInteger(ptsCount) || ptsCount < 1 || ptsCount > MAX_PTS_COUNT)
      throw new RangeError(`pts_count ${ptsCount} out of 1..${MAX_PTS_COUNT}`);
    return this.exclusive(userId, async (s, fence) => {
      const pts = s.pts + ptsCount;
      const date = Math.floor(Date.now() / 1000);
      const end = { pts, maxMessageId: s.maxMessageId };
      await this.commit(s, fence, {
        queries: [
          logRow(userId, { ...end, first: s.pts + 1, ptsCount, date }, type, payload, fence),
          headHint(userId, end),
        ],
        timestamp: nextMicros(),
        landed: (st) => {
          st.pts = pts;
        },
      });
      return { pts, ptsCount, date };
    });
  }

  /**
   * Runs `fn` while no other operation writes `userId`'s box (read-modify-write of dialog
   * markers, edits, deletions). `fn` must not call back into the writer for the same box.
   */
  withBox<T>(userId: bigint, fn: () => Promise<T>): Promise<T> {
    return this.exclusive(userId, () => fn());
  }

  /** The box's end: from memory on the owner, else from the store. */
  async head(userId: bigint): Promise<Head> {
    const s = this.slots.get(userId)?.state;
    if (s && !s.unsettled && this.fenceOf(userId)?.epoch === s.epoch)
      return { pts: s.pts, maxMessageId: s.maxMessageId };
    return this.log.head(userId);
  }

  /** Forgets what memory holds of a box that was written by other means (a move's import or delete). */
  forget(userId: bigint): Promise<void> {
    return this.exclusive(
      userId,
      () => {
        const slot = this.slots.get(userId);
        if (slot) delete slot.state;
        return Promise.resolve();
      },
      false,
    );
  }

  /** Drops the state of every idle box `lost` selects (a lease gone: another replica may write them). */
  dropWhere(lost: (userId: bigint) => boolean): void {
    for (const [userId, slot] of this.slots) if (lost(userId)) delete slot.state;
  }

  /** Resolves when no operation on a box `selected` picks is running or queued (a handover). */
  async drain(selected: (userId: bigint) => boolean): Promise<void> {
    const tails = [...this.slots].filter(([u]) => selected(u)).map(([, slot]) => slot.tail);
    await Promise.all(tails);
  }

  /** Operations queued or running, all boxes together (metrics, tests). */
  get busy(): number {
    let n = 0;
    for (const slot of this.slots.values()) n += slot.queued;
    return n;
  }

  /**
   * Queues `fn` behind the box's running operations, with its state loaded under a valid fence.
   * `fenced` false: no fence needed (forgetting state is safe anywhere).
   */
  private exclusive<T>(
    userId: bigint,
    fn: (s: BoxState, fence: WriteFence) => Promise<T>,
    fenced = true,
  ): Promise<T> {
    let slot = this.slots.get(userId);
    if (!slot) {
      slot = { tail: Promise.resolve(), queued: 0 };
      this.slots.set(userId, slot);
      this.evictIdle();
    }
    const s = slot;
    s.queued++;
    const run = s.tail.then(async () => {
      if (!fenced) return fn(undefined as never, undefined as never);
      const fence = this.fenceOf(userId);
      if (!fence?.valid()) throw errors.unavailable('box owner changing');
      if (!s.state || s.state.epoch !== fence.epoch) s.state = await this.load(userId, fence);
      if (s.state.unsettled) await this.settle(s.state, fence);
      const out = await fn(s.state, fence);
      // Answer only while still the owner: a write acknowledged after the lease ran out could be
      // overtaken by the next owner's.
      if (!fence.valid()) throw errors.unavailable('box owner changed');
      return out;
    });
    s.tail = run.then(
      () => undefined,
      () => undefined,
    );
    void s.tail.then(() => {
      s.queued--;
    });
    return run;
  }

  /** Reads the box's true end (the head hint, then the log read forward from it). */
  private async load(userId: bigint, fence: WriteFence): Promise<BoxState> {
    const head = await this.log.head(userId);
    return { epoch: fence.epoch, pts: head.pts, maxMessageId: head.maxMessageId, recent: new Map() };
  }

  /** A send of `randomId` stored before this replica held the box (or before memory forgot it). */
  private async storedRandomId(userId: bigint, randomId: bigint): Promise<Written | undefined> {
    const row = (
      await this.db.execute(
        'SELECT message_id, pts, pts_count, date, done FROM random_ids WHERE user_id = ? AND random_id = ?',
        [toLong(userId), toLong(randomId)],
        { prepare: true },
      )
    ).first();
    if (!row || row.get('done') !== true) return undefined;
    return {
      id: row.get('message_id') as number,
      pts: row.get('pts') as number,
      ptsCount: (row.get('pts_count') as number | null) ?? 1,
      date: (row.get('date') as number | null) ?? 0,
    };
  }

  /** Writes a batch; on failure keeps it as the box's unsettled batch, to be landed first. */
  private async commit(s: BoxState, fence: WriteFence, batch: PendingBatch): Promise<void> {
    s.unsettled = batch;
    await this.settle(s, fence);
  }

  /** Lands the unsettled batch (the same cells and timestamp however often it is tried). */
  private async settle(s: BoxState, fence: WriteFence): Promise<void> {
    const batch = s.unsettled!;
    let lastError: unknown;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      if (!fence.valid()) throw errors.unavailable('box owner changing');
      try {
        await this.db.batch(batch.queries, {
          prepare: true,
          logged: true,
          timestamp: batch.timestamp,
          readTimeout: BOX_WRITE_TIMEOUT_MS,
        });
        delete s.unsettled;
        batch.landed(s);
        return;
      } catch (e) {
        lastError = e;
      }
    }
    throw errors.unavailable('box store unavailable', lastError);
  }

  private evictIdle(): void {
    if (this.slots.size <= MAX_BOXES) return;
    for (const [userId, slot] of this.slots) {
      if (slot.queued === 0 && !slot.state?.unsettled) this.slots.delete(userId);
      if (this.slots.size <= MAX_BOXES * 0.9) return;
    }
  }
}

function remember(s: BoxState, randomId: bigint, w: Written): void {
  s.recent.delete(randomId);
  s.recent.set(randomId, w);
  if (s.recent.size > RECENT_RANDOM_IDS) s.recent.delete(s.recent.keys().next().value!);
}

/** The log row of one update covering pts first .. pts. */
function logRow(
  userId: bigint,
  r: { first: number; pts: number; ptsCount: number; maxMessageId: number; date: number },
  type: string,
  payload: Buffer,
  fence: WriteFence,
  randomId?: bigint,
): { query: string; params: unknown[] } {
  return {
    query: `INSERT INTO update_log (user_id, bucket, first_pts, pts, pts_count, type, payload, max_message_id, random_id, created_at, epoch)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    params: [
      toLong(userId),
      logBucket(r.first),
      r.first,
      r.pts,
      r.ptsCount,
      type,
      payload,
      r.maxMessageId,
      randomId === undefined ? null : toLong(randomId),
      new Date(r.date * 1000),
      toLong(fence.epoch),
    ],
  };
}

/**
 * The head hint, with the pts as its write timestamp: box moves copy and delete it by that
 * timestamp (storage/transfer.ts), and the highest pts always wins.
 */
function headHint(userId: bigint, head: Head): { query: string; params: unknown[] } {
  return {
    query: 'UPDATE update_log_head USING TIMESTAMP ? SET pts = ?, max_message_id = ? WHERE user_id = ?',
    params: [toLong(BigInt(head.pts)), head.pts, head.maxMessageId, toLong(userId)],
  };
}
