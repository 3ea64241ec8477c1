/**
 * Token buckets that pace the push fan-out: one per destination DC, so that a post in a channel
 * of 100,000 members enters each DC's push queue at a bounded rate (TERN_CHANNEL_PUSH_RATE per
 * second per channel replica) instead of all at once, and small channels' posts, queued behind
 * its pages, still go out promptly.
 */

/** Time and waiting, replaceable in tests. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** A token bucket: `ratePerSecond` tokens a second, at most `burst` saved up. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Takers queue here, so tokens are handed out in arrival order. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    if (ratePerSecond <= 0 || burst <= 0) throw new Error('token bucket: rate and burst must be positive');
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
    this.last = now;
  }

  /** Waits until `n` tokens (at most `burst`) are available and takes them. */
  take(n: number): Promise<void> {
    const want = Math.min(n, this.burst);
    const turn = this.tail.then(async () => {
      this.refill();
      while (this.tokens < want) {
        await this.clock.sleep(Math.ceil(((want - this.tokens) * 1000) / this.ratePerSecond));
        this.refill();
      }
      this.tokens -= want;
    });
    this.tail = turn;
    return turn;
  }
}

/** One bucket per key (destination DC), made on first use with the same rate. */
export class RateLimits {
  private readonly buckets = new Map<number, TokenBucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly clock: Clock = realClock,
  ) {}

  /** Waits for `n` tokens of DC `dc`'s bucket (burst: one second's worth). */
  take(dc: number, n: number): Promise<void> {
    let b = this.buckets.get(dc);
    if (!b) {
      b = new TokenBucket(this.ratePerSecond, Math.max(1, this.ratePerSecond), this.clock);
      this.buckets.set(dc, b);
    }
    return b.take(n);
  }
}
