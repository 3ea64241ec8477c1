/**
 * The one writer of the channels this replica owns (docs/decisions/0018-channels.md, the box
 * writer's model from decision 0017).
 *
 * A channel is written by one channel-service replica at a time: the holder of its shard's lease
 * (shared/src/ownership). Every operation on a channel runs in the channel's queue, one after the
 * other, so an operation may read a row, decide and write without any other operation of the
 * channel in between (participant changes, counters, invites), and the writer keeps the channel's
 * pts and top message id in memory — read once from the log's end on the first operation under a
 * tenure. A post is then one logged batch, whatever the number of members: the log row, the head
 * hint, the message row and (with a random_id) the idempotency row. No lightweight transaction.
 *
 * The fence (the lease) is checked before each batch and again before answering, as the box
 * writer does: a replica that lost the channel's lease stops writing and answers UNAVAILABLE,
 * which callers retry against the new owner. A batch that failed is retried with the same
 * timestamp before anything else touches the channel.
 */
import { errors } from '../../../shared/src';
import { Message } from '../../../shared/src/gen/tern/common/v1/message';
import type { Update } from '../../../shared/src/gen/tern/common/v1/update';
import type { ChannelStore, Head, Stmt } from './store';

/** The lease under which a replica writes a channel (shared/src/ownership `Fence`). */
export interface WriteFence {
  readonly epoch: bigint;
  valid(): boolean;
}

/** The fence of a channel on this replica, or undefined when another replica owns it. */
export type FenceOf = (channelId: bigint) => WriteFence | undefined;

/** Client-side timeout of a channel batch: below the ownership's safety margin (as boxes). */
export const CHANNEL_WRITE_TIMEOUT_MS = 1500;
const WRITE_ATTEMPTS = 3;
/** random_ids remembered in memory per channel (the table covers the rest). */
const RECENT_RANDOM_IDS = 512;
/** Channel states kept in memory. */
const MAX_CHANNELS = 100_000;

/** A stored post. */
export interface Posted {
  message: Message;
  pts: number;
  /** A retry of an earlier send (same sender and random_id): nothing was written. */
  duplicate: boolean;
}

/** What one operation on a channel may do, inside the channel's queue. */
export interface ChannelTx {
  readonly channelId: bigint;
  /** The log's end now. */
  readonly pts: number;
  /** The highest message id allocated. */
  readonly topId: number;
  /** A new number for channel_recent, above every one handed out. */
  nextRecentKey(): Promise<bigint>;
  /**
   * Posts a message under the next id and pts. `build` gets the id and date and returns the
   * message to store. With a random_id, a repeat by the same sender returns the first post.
   */
  post(p: {
    senderId: bigint;
    randomId?: bigint;
    date: number;
    build: (id: number) => Message;
    /** More statements for the same batch (e.g. a pinned id on the channel row). */
    extra?: Stmt[];
  }): Promise<Posted>;
  /** Appends a non-message event of `ptsCount` pts; `build` gets the new pts. */
  append(p: {
    ptsCount: number;
    type: string;
    build: (pts: number) => Update;
    extra?: Stmt[];
  }): Promise<number>;
  /** Writes statements that carry no pts (participants, counters, invites), fenced, as one batch. */
  write(stmts: Stmt[]): Promise<void>;
}

interface State {
  epoch: bigint;
  pts: number;
  topId: number;
  recentKey: bigint;
  /** `${sender}:${random_id}` → the post. */
  recent: Map<string, { id: number; pts: number }>;
  unsettled?: { stmts: Stmt[]; timestamp: number };
}

interface Slot {
  tail: Promise<void>;
  queued: number;
  state?: State;
}

let lastMicros = 0;
/** Microseconds since the epoch, strictly increasing within this process. */
function nextMicros(): number {
  lastMicros = Math.max(lastMicros + 1, Date.now() * 1000);
  return lastMicros;
}

export class ChannelWriter {
  private readonly slots = new Map<bigint, Slot>();
  /** Called with every batch before it is written (metrics; tests count statements). */
  onBatch?: (channelId: bigint, stmts: readonly Stmt[]) => void;

  constructor(
    private readonly store: ChannelStore,
    private readonly fenceOf: FenceOf,
  ) {}

  /** Runs `fn` in the channel's queue with its state loaded under a valid fence. */
  run<T>(channelId: bigint, fn: (tx: ChannelTx) => Promise<T>): Promise<T> {
    let slot = this.slots.get(channelId);
    if (!slot) {
      slot = { tail: Promise.resolve(), queued: 0 };
      this.slots.set(channelId, slot);
      this.evictIdle();
    }
    const s = slot;
    s.queued++;
    const run = s.tail.then(async () => {
      const fence = this.fenceOf(channelId);
      if (!fence?.valid()) throw errors.unavailable('channel owner changing');
      if (!s.state || s.state.epoch !== fence.epoch) s.state = await this.load(channelId, fence);
      const state = s.state;
      if (state.unsettled) await this.settle(channelId, state, fence);
      const out = await fn(this.tx(channelId, state, fence));
      // Answer only while still the owner (a later owner could otherwise overtake the write).
      if (!fence.valid()) throw errors.unavailable('channel owner changed');
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

  /** The channel's end: from memory on the owner, else from the store. */
  async head(channelId: bigint): Promise<Head> {
    const s = this.slots.get(channelId)?.state;
    if (s && !s.unsettled && this.fenceOf(channelId)?.epoch === s.epoch)
      return { pts: s.pts, topId: s.topId };
    return this.store.head(channelId);
  }

  /** Drops the state of every channel `lost` selects (a lease gone). */
  dropWhere(lost: (channelId: bigint) => boolean): void {
    for (const [id, slot] of this.slots) if (lost(id)) delete slot.state;
  }

  /** Resolves when no operation on a channel `selected` picks is running or queued. */
  async drain(selected: (channelId: bigint) => boolean): Promise<void> {
    await Promise.all([...this.slots].filter(([id]) => selected(id)).map(([, slot]) => slot.tail));
  }

  private tx(channelId: bigint, s: State, fence: WriteFence): ChannelTx {
    const commit = (stmts: Stmt[]) => this.commit(channelId, s, fence, stmts);
    const store = this.store;
    return {
      channelId,
      get pts() {
        return s.pts;
      },
      get topId() {
        return s.topId;
      },
      async nextRecentKey() {
        if (s.recentKey === 0n) s.recentKey = await store.lastRecentKey(channelId);
        // Microseconds keep keys increasing across owners without reading the last one each time.
        s.recentKey = BigInt(Math.max(Number(s.recentKey) + 1, nextMicros()));
        return s.recentKey;
      },
      async post(p) {
        const key = p.randomId === undefined ? undefined : `${p.senderId}:${p.randomId}`;
        if (p.randomId !== undefined && key) {
          const earlier =
            s.recent.get(key) ??
            (await store
              .randomId(channelId, p.senderId, p.randomId)
              .then((r) => (r ? { id: r.messageId, pts: r.pts } : undefined)));
          if (earlier) {
            const [m] = await store.messages(channelId, [earlier.id]);
            if (m) return { message: m, pts: earlier.pts, duplicate: true };
          }
        }
        const id = s.topId + 1;
        const pts = s.pts + 1;
        const message = p.build(id);
        const stmts = [
          store.logStmt(
            channelId,
            {
              pts,
              ptsCount: 1,
              type: 'new',
              update: {
                pts,
                ptsCount: 1,
                kind: { $case: 'newChannelMessage', value: { message: Message.create({ id }) } },
              },
              topId: id,
              date: p.date,
            },
            fence.epoch,
          ),
          store.headStmt(channelId, { pts, topId: id }),
          store.messageStmt(channelId, message, p.senderId),
          ...(p.randomId !== undefined
            ? [store.randomIdStmt(channelId, p.senderId, p.randomId, id, pts, p.date)]
            : []),
          ...(p.extra ?? []),
        ];
        await commit(stmts);
        s.pts = pts;
        s.topId = id;
        if (key) {
          s.recent.set(key, { id, pts });
          if (s.recent.size > RECENT_RANDOM_IDS) s.recent.delete(s.recent.keys().next().value!);
        }
        return { message, pts, duplicate: false };
      },
      async append(p) {
        if (!Number.isInteger(p.ptsCount) || p.ptsCount < 1 || p.ptsCount > 1000)
          throw new RangeError(`pts_count ${p.ptsCount} out of 1..1000`);
        const pts = s.pts + p.ptsCount;
        const date = Math.floor(Date.now() / 1000);
        await commit([
          store.logStmt(
            channelId,
            { pts, ptsCount: p.ptsCount, type: p.type, update: p.build(pts), topId: s.topId, date },
            fence.epoch,
          ),
          store.headStmt(channelId, { pts, topId: s.topId }),
          ...(p.extra ?? []),
        ]);
        s.pts = pts;
        return pts;
      },
      async write(stmts) {
        if (stmts.length > 0) await commit(stmts);
      },
    };
  }

  private async load(channelId: bigint, fence: WriteFence): Promise<State> {
    const head = await this.store.head(channelId);
    return { epoch: fence.epoch, pts: head.pts, topId: head.topId, recentKey: 0n, recent: new Map() };
  }

  private async commit(channelId: bigint, s: State, fence: WriteFence, stmts: Stmt[]): Promise<void> {
    s.unsettled = { stmts, timestamp: nextMicros() };
    this.onBatch?.(channelId, stmts);
    await this.settle(channelId, s, fence);
  }

  /** Lands the unsettled batch (same cells and timestamp however often it is tried). */
  private async settle(_channelId: bigint, s: State, fence: WriteFence): Promise<void> {
    const batch = s.unsettled!;
    let lastError: unknown;
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      if (!fence.valid()) throw errors.unavailable('channel owner changing');
      try {
        await this.store.db.batch(batch.stmts, {
          prepare: true,
          logged: true,
          timestamp: batch.timestamp,
          readTimeout: CHANNEL_WRITE_TIMEOUT_MS,
        });
        delete s.unsettled;
        return;
      } catch (e) {
        lastError = e;
      }
    }
    throw errors.unavailable('channel store unavailable', lastError);
  }

  private evictIdle(): void {
    if (this.slots.size <= MAX_CHANNELS) return;
    for (const [id, slot] of this.slots) {
      if (slot.queued === 0 && !slot.state?.unsettled) this.slots.delete(id);
      if (this.slots.size <= MAX_CHANNELS * 0.9) return;
    }
  }
}
