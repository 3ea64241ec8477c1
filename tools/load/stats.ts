/**
 * The pure bookkeeping of a load run: latency percentiles, error counts by name, and the
 * receivers' checks (every message delivered exactly once, every pts sequence without holes).
 * Nothing here touches the network, so it is unit-tested on its own (stats.test.ts).
 */

/** Percentiles of a set of samples, in the samples' unit (ms here). */
export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * Nearest-rank percentiles (the smallest sample with at least p% of the samples at or below it).
 * Sorting once at the end is cheaper than a streaming sketch at the few hundred thousand samples a
 * run collects, and it is exact.
 */
export function percentiles(samples: readonly number[]): Percentiles {
  if (samples.length === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const sorted = Float64Array.from(samples).sort();
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return {
    count: sorted.length,
    p50: rank(50),
    p90: rank(90),
    p99: rank(99),
    max: sorted[sorted.length - 1]!,
  };
}

/** Counts by name (rpc_error names, transport failures), kept in first-seen order. */
export class NamedCounts {
  private readonly counts = new Map<string, number>();
  add(name: string, n = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + n);
  }
  get total(): number {
    let t = 0;
    for (const n of this.counts.values()) t += n;
    return t;
  }
  toObject(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/**
 * One receiver's pts sequence. Every change to a user's update log moves pts by pts_count; the
 * client applies an update when `pts - pts_count` equals what it has, and an update that arrives
 * ahead of that waits for the missing ones (Telegram clients wait briefly, then ask
 * updates.getDifference). Answers to the receiver's own sends and live updates from others share
 * the sequence and travel separately, so they may arrive slightly out of order: that is counted
 * (`reordered`) but is not an error. Holes still open when the run ends are errors (`gaps`), as
 * are updates whose range overlaps what was already applied (`overlaps`).
 */
export class PtsSequence {
  private applied: number;
  /** Updates that arrived ahead, by the pts they start from. */
  private readonly waiting = new Map<number, { pts: number; count: number }>();
  /** pts values already applied or waiting, to tell a repeat from an overlap. */
  private readonly seen = new Set<number>();
  reordered = 0;
  repeats = 0;
  overlaps = 0;

  constructor(startPts: number) {
    this.applied = startPts;
  }

  get pts(): number {
    return this.applied;
  }

  /** Records an update that moved pts to `pts` by `count`. */
  add(pts: number, count: number): void {
    if (count <= 0) return; // not a pts update
    if (this.seen.has(pts)) {
      this.repeats++;
      return;
    }
    const from = pts - count;
    if (from < this.applied) {
      this.overlaps++;
      return;
    }
    this.seen.add(pts);
    if (from > this.applied) {
      this.reordered++;
      this.waiting.set(from, { pts, count });
      return;
    }
    this.applied = pts;
    for (let next = this.waiting.get(this.applied); next; next = this.waiting.get(this.applied)) {
      this.waiting.delete(this.applied);
      this.applied = next.pts;
    }
  }

  /**
   * Holes still open: ranges of pts no update covered, before updates that arrived ahead. One
   * missing update counts once however many updates wait behind it.
   */
  get gaps(): number {
    let holes = 0;
    let covered = this.applied;
    for (const from of [...this.waiting.keys()].sort((a, b) => a - b)) {
      if (from > covered) holes++;
      covered = Math.max(covered, this.waiting.get(from)!.pts);
    }
    return holes;
  }
}

/** A message as the sender recorded it, until its receiver sees it. */
interface Expected {
  receiver: number;
  sentAt: number;
}

/** What the delivery checker found. */
export interface DeliveryReport {
  /** Messages the server accepted (the send answered without an error). */
  accepted: number;
  /** Accepted messages their receiver saw, once each. */
  received: number;
  /** Receptions of a message already received. */
  duplicates: number;
  /** Messages that reached a session other than the one they were sent to. */
  misdelivered: number;
  /** Messages with this run's tag that no sender announced (sent but the answer failed, etc.). */
  unannounced: number;
  /** Accepted messages not received by the end. */
  lost: number;
  /** Send → receive latency, ms. */
  latency: Percentiles;
}

/**
 * Exactly-once delivery by message tag: each send announces its tag and intended receiver; each
 * reception names the tag and the session that got it. Receptions may come before the sender's
 * answer (the receiver's gateway can be quicker than the sender's), so they wait for the
 * announcement instead of counting as strays.
 */
export class DeliveryChecker {
  private readonly expected = new Map<string, Expected>();
  private readonly delivered = new Set<string>();
  /** Receptions whose send has not been confirmed yet: tag → receiver and time. */
  private readonly early = new Map<string, { receiver: number; at: number }>();
  private readonly latencies: number[] = [];
  private accepted = 0;
  private duplicates = 0;
  private misdelivered = 0;

  /** The send of `tag` to session `receiver`, started at `sentAt`, was accepted by the server. */
  accept(tag: string, receiver: number, sentAt: number): void {
    this.accepted++;
    const early = this.early.get(tag);
    if (early) {
      this.early.delete(tag);
      this.settle(tag, { receiver, sentAt }, early.receiver, early.at);
    } else this.expected.set(tag, { receiver, sentAt });
  }

  /** Session `receiver` got the message `tag` at `at`; false when it had been received before. */
  receive(tag: string, receiver: number, at: number): boolean {
    if (this.delivered.has(tag) || this.early.has(tag)) {
      this.duplicates++;
      return false;
    }
    const e = this.expected.get(tag);
    if (e) {
      this.expected.delete(tag);
      this.settle(tag, e, receiver, at);
    } else this.early.set(tag, { receiver, at });
    return true;
  }

  private settle(tag: string, e: Expected, receiver: number, at: number): void {
    this.delivered.add(tag);
    if (receiver !== e.receiver) this.misdelivered++;
    this.latencies.push(Math.max(0, at - e.sentAt));
  }

  /** The received count so far (for progress lines). */
  get receivedSoFar(): number {
    return this.latencies.length;
  }

  /** Accepted messages not yet received. */
  get outstanding(): number {
    return this.expected.size;
  }

  report(): DeliveryReport {
    return {
      accepted: this.accepted,
      received: this.latencies.length,
      duplicates: this.duplicates,
      misdelivered: this.misdelivered,
      unannounced: this.early.size,
      lost: this.expected.size,
      latency: percentiles(this.latencies),
    };
  }
}
