import { errors } from '../../../shared/src';
import { TokenBuckets } from './token-bucket';

/** Takes `n` tokens of `key` at `now`; returns how many were given. */
function takeMany(b: TokenBuckets, key: string, n: number, now: number): number {
  let given = 0;
  for (let i = 0; i < n; i++) if (b.take(key, now) === 0) given++;
  return given;
}

describe('TokenBuckets', () => {
  it('gives a full bucket at once (the burst), then refuses with the seconds until the next token', () => {
    const b = new TokenBuckets({ capacity: 5, refillPerSecond: 2 }, 100);
    expect(takeMany(b, 'k', 5, 1000)).toBe(5);
    expect(b.take('k', 1000)).toBeCloseTo(0.5, 9);
    // A refused call takes nothing: the wait does not grow.
    expect(b.take('k', 1000)).toBeCloseTo(0.5, 9);
    expect(b.take('k', 1200)).toBeCloseTo(0.3, 9);
    expect(b.tokens('k', 1000)).toBeCloseTo(0, 9);
  });

  it('refills at refillPerSecond, never beyond the capacity', () => {
    const b = new TokenBuckets({ capacity: 10, refillPerSecond: 4 }, 100);
    expect(takeMany(b, 'k', 10, 0)).toBe(10);
    expect(b.tokens('k', 250)).toBeCloseTo(1, 9);
    expect(b.tokens('k', 1000)).toBeCloseTo(4, 9);
    expect(takeMany(b, 'k', 10, 1000)).toBe(4);
    expect(b.tokens('k', 1000)).toBeCloseTo(0, 9);
    // Long idle: full, not more.
    expect(b.tokens('k', 60_000)).toBe(10);
    expect(takeMany(b, 'k', 11, 60_000)).toBe(10);
  });

  it('refills fractional rates exactly: one token every 10 s at 0.1/s', () => {
    const b = new TokenBuckets({ capacity: 3, refillPerSecond: 0.1 }, 100);
    expect(takeMany(b, 'k', 3, 0)).toBe(3);
    expect(b.take('k', 0)).toBeCloseTo(10, 9);
    expect(b.take('k', 9_999)).toBeCloseTo(0.001, 9);
    expect(b.take('k', 10_000)).toBe(0);
    expect(b.take('k', 10_000)).toBeCloseTo(10, 9);
  });

  it('gives exactly the capacity where float sums of the refill interval drift (1/3 s per token)', () => {
    for (const capacity of [3, 7, 30, 1000]) {
      const b = new TokenBuckets({ capacity, refillPerSecond: 3 }, 100);
      expect(takeMany(b, 'k', capacity + 5, 123.456)).toBe(capacity);
    }
  });

  it('keeps keys apart', () => {
    const b = new TokenBuckets({ capacity: 2, refillPerSecond: 1 }, 100);
    expect(takeMany(b, 'a', 3, 0)).toBe(2);
    expect(takeMany(b, 'b', 3, 0)).toBe(2);
  });

  it('answers FLOOD_WAIT_X with X the wait rounded up, at least 1', () => {
    const b = new TokenBuckets({ capacity: 1, refillPerSecond: 0.25 }, 100);
    b.take('k', 0);
    const name = (now: number) => errors.floodWait(b.take('k', now)).telegramName;
    expect(name(0)).toBe('FLOOD_WAIT_4');
    expect(name(1)).toBe('FLOOD_WAIT_4'); // 3.999 s
    expect(name(1000)).toBe('FLOOD_WAIT_3');
    expect(name(3_990)).toBe('FLOOD_WAIT_1'); // 0.01 s
    expect(errors.floodWait(b.take('k', 3_990)).telegramCode).toBe(420);
    const c = new TokenBuckets({ capacity: 3, refillPerSecond: 0.1 }, 100);
    takeMany(c, 'k', 3, 0);
    expect(errors.floodWait(c.take('k', 8_000)).telegramName).toBe('FLOOD_WAIT_2');
    // Whole seconds stay whole: at 0.3/s the float sum of two refill intervals is 2.0000000000000004
    // s too many here, which must not round up to FLOOD_WAIT_3.
    const d = new TokenBuckets({ capacity: 2, refillPerSecond: 0.3 }, 100);
    takeMany(d, 'k', 2, 0);
    expect(d.take('k', 1000 / 0.3 - 2000)).toBe(2);
    expect(errors.floodWait(d.take('k', 1000 / 0.3 - 2000)).telegramName).toBe('FLOOD_WAIT_2');
  });

  it('never remembers more than maxKeys keys, forgetting the least recently used', () => {
    const b = new TokenBuckets({ capacity: 2, refillPerSecond: 0.001 }, 50);
    for (let i = 0; i < 10_000; i++) {
      b.take(`flood-${i}`, i);
      expect(b.size).toBeLessThanOrEqual(50);
    }
    expect(b.size).toBe(50);
    // The newest keys are remembered (one token left of two), the oldest forgotten (full again).
    expect(b.tokens('flood-9999', 10_000)).toBeLessThan(2);
    expect(b.tokens('flood-0', 10_000)).toBe(2);
  });

  it('keeps a key in use over idle ones when it must forget', () => {
    const b = new TokenBuckets({ capacity: 100, refillPerSecond: 0.001 }, 10);
    b.take('busy', 0);
    for (let i = 0; i < 100; i++) {
      b.take(`other-${i}`, i + 1);
      b.take('busy', i + 1);
    }
    expect(b.size).toBe(10);
    expect(b.tokens('busy', 200)).toBeLessThan(1);
  });

  it('drops buckets once they are full again, so idle keys cost nothing', () => {
    const b = new TokenBuckets({ capacity: 5, refillPerSecond: 10 }, 1000);
    for (let i = 0; i < 100; i++) b.take(`k${i}`, 0);
    expect(b.size).toBe(100);
    // Each later take (given or refused) drops the oldest entry once it has refilled (0.1 s here).
    for (let i = 0; i < 100; i++) b.take('late', 1000 + i);
    expect(b.size).toBe(1);
  });

  it('sweeps full buckets before forgetting one that is still refilling', () => {
    const b = new TokenBuckets({ capacity: 5, refillPerSecond: 1 }, 10, 1000);
    takeMany(b, 'slow', 5, 0); // empty: full again at 5 s
    for (let i = 0; i < 9; i++) b.take(`quick-${i}`, 1); // full again at 1.001 s
    expect(b.size).toBe(10);
    // At the bound at 2 s: the nine full buckets go, 'slow' (empty, least recently used) stays.
    b.take('new', 2000);
    expect(b.size).toBe(2);
    expect(b.take('slow', 2000)).toBeCloseTo(0, 9);
    expect(b.tokens('slow', 2000)).toBeCloseTo(1, 9);
  });

  it('refuses a shape that cannot be a bucket', () => {
    expect(() => new TokenBuckets({ capacity: 0, refillPerSecond: 1 }, 10)).toThrow(RangeError);
    expect(() => new TokenBuckets({ capacity: 1.5, refillPerSecond: 1 }, 10)).toThrow(RangeError);
    expect(() => new TokenBuckets({ capacity: 1, refillPerSecond: 0 }, 10)).toThrow(RangeError);
    expect(() => new TokenBuckets({ capacity: 1, refillPerSecond: 1 }, 0)).toThrow(RangeError);
  });
});
