/**
 * Readiness probes that ask each program a real question: a TCP port that accepts is not
 * enough for Cassandra (it must answer CQL) or for a Tern service (its health must be SERVING).
 */
import { logTail, runningPid, sleep } from './processes';

export class NotReadyError extends Error {
  override readonly name = 'NotReadyError';
}

/**
 * Polls `probe` until it resolves true. Fails early, with the process's log, if the process
 * named `owner` has died, and after `timeoutMs` otherwise.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  opts: { timeoutMs: number; owner?: string; everyMs?: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    if (opts.owner && runningPid(opts.owner) === undefined) {
      throw new NotReadyError(`${what}: the process exited. Its log ends with:\n${logTail(opts.owner)}`);
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : '';
      const log = opts.owner ? `\nIts log ends with:\n${logTail(opts.owner)}` : '';
      throw new NotReadyError(`${what} did not become ready within ${opts.timeoutMs / 1000} s${why}${log}`);
    }
    await sleep(opts.everyMs ?? 500);
  }
}

/** True when `url` answers HTTP 2xx. */
export async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok;
}
