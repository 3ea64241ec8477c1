/**
 * Token buckets keyed by string (an auth key id, a client network): a key may make `capacity`
 * calls at once and regains `refillPerSecond` of them per second, never more than `capacity`.
 *
 * Each bucket is stored as one number: the moment (ms on a monotonic clock, e.g.
 * `performance.now()`) at which it will be full again. A key without an entry has a full bucket,
 * so a bucket that has refilled carries no information and is dropped.
 *
 * Memory is bounded: never more than `maxKeys` entries (one Map entry each, about 100–200 bytes
 * with its key). Entries are kept in the order of their last call; full buckets are dropped as
 * calls go by (the oldest entry is checked on each take, and every entry at most once per
 * `sweepEveryMs` when the table is at its bound), and when the table is still at its bound the
 * least recently used entry is forgotten. A forgotten key starts full again, so under a flood of
 * distinct keys an idle, partly emptied bucket may be reset; a bucket in use never is.
 */

/** One bucket's shape. */
export interface BucketSpec {
  /** Calls a key may make at once: whole tokens, at least 1. */
  readonly capacity: number;
  /** Tokens a key regains per second (> 0; fractions allowed: 0.1 = one every 10 s). */
  readonly refillPerSecond: number;
}

/** Float sums of refill intervals may exceed their product by an ulp; this much is no debt. */
const EPSILON_MS = 1e-6;

export class TokenBuckets {
  /** key → when its bucket is full again (ms, monotonic); insertion order = order of last take. */
  private readonly fullAt = new Map<string, number>();
  /** ms it takes to regain one token. */
  private readonly msPerToken: number;
  /** The most refill (ms) a bucket may be missing and still hold a whole token. */
  private readonly maxDebtMs: number;
  private lastSweep = -Infinity;

  constructor(
    readonly spec: BucketSpec,
    /** The bound on remembered keys. */
    readonly maxKeys: number,
    private readonly sweepEveryMs = 1000,
  ) {
    if (!Number.isInteger(spec.capacity) || spec.capacity < 1)
      throw new RangeError(`bucket capacity must be a whole number ≥ 1, got ${spec.capacity}`);
    if (!(spec.refillPerSecond > 0) || !Number.isFinite(spec.refillPerSecond))
      throw new RangeError(`bucket refill must be > 0 per second, got ${spec.refillPerSecond}`);
    if (!Number.isInteger(maxKeys) || maxKeys < 1)
      throw new RangeError(`maxKeys must be a whole number ≥ 1, got ${maxKeys}`);
    this.msPerToken = 1000 / spec.refillPerSecond;
    this.maxDebtMs = (spec.capacity - 1) * this.msPerToken;
  }

  /** Keys remembered now (never more than `maxKeys`). */
  get size(): number {
    return this.fullAt.size;
  }

  /** Tokens `key` holds at `now` (fractional while refilling). */
  tokens(key: string, now: number): number {
    return this.spec.capacity - this.debtMs(key, now) / this.msPerToken;
  }

  /**
   * Seconds until `key` holds a whole token, in whole milliseconds rounded up (so a float excess
   * never turns 2 s into FLOOD_WAIT_3): 0 when it holds one now. Takes nothing.
   */
  wait(key: string, now: number): number {
    const excess = this.debtMs(key, now) - this.maxDebtMs;
    return excess > EPSILON_MS ? Math.ceil(excess - EPSILON_MS) / 1000 : 0;
  }

  /**
   * Takes one token from `key`'s bucket: returns 0 when it was taken, otherwise the seconds until
   * one is available (nothing is taken then; a refused call does not push the wait further).
   */
  take(key: string, now: number): number {
    this.dropOldestIfFull(now);
    const wait = this.wait(key, now);
    if (wait > 0) return wait;
    const debt = this.debtMs(key, now);
    // Re-inserted at the end: the Map's order is the order of last use.
    const known = this.fullAt.delete(key);
    if (!known && this.fullAt.size >= this.maxKeys) this.makeRoom(now);
    this.fullAt.set(key, now + debt + this.msPerToken);
    return 0;
  }

  /** ms of refill `key`'s bucket is missing to be full. */
  private debtMs(key: string, now: number): number {
    const full = this.fullAt.get(key);
    return full === undefined || full <= now ? 0 : full - now;
  }

  /** The cheap, steady clean-up: the least recently used entry goes once it has refilled. */
  private dropOldestIfFull(now: number): void {
    for (const [key, full] of this.fullAt) {
      if (full <= now) this.fullAt.delete(key);
      return;
    }
  }

  /** At the bound: drop every full bucket (at most once per sweepEveryMs), then the least recently used. */
  private makeRoom(now: number): void {
    if (now - this.lastSweep >= this.sweepEveryMs) {
      this.lastSweep = now;
      for (const [key, full] of this.fullAt) if (full <= now) this.fullAt.delete(key);
    }
    for (const key of this.fullAt.keys()) {
      if (this.fullAt.size < this.maxKeys) break;
      this.fullAt.delete(key);
    }
  }
}
