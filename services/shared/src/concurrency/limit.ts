/**
 * The one bounded-concurrency helper of the codebase. Fan-outs (deliveries to group members,
 * S3 copies, photo renditions) must never start an unbounded number of calls at once: a group of
 * a thousand members would open a thousand gRPC calls, and a burst of photo uploads would run as
 * many sharp pipelines as there are requests.
 */

/** Runs at most `n` of the functions passed to it at a time; the rest wait their turn (FIFO). */
export type Limiter = <T>(fn: () => Promise<T>) => Promise<T>;

/** A limiter shared by every caller that holds it (e.g. one per process for CPU-heavy work). */
export function limiter(n: number): Limiter {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`limiter needs a positive integer, got ${n}`);
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    while (active >= n) await new Promise<void>((wake) => waiting.push(wake));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/**
 * Calls `fn` for every item with at most `n` calls in flight, in item order. Every item is tried
 * even when some fail; afterwards the first failure is thrown (with the others as its `cause`
 * chain left to the caller's logs), so one bad target never starves the rest.
 */
export async function forEachLimited<T>(
  items: readonly T[],
  n: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const queue = items.slice();
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        await fn(item);
      } catch (err) {
        failures.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, n), queue.length) }, worker));
  if (failures.length > 0) throw failures[0];
}
