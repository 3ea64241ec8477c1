/**
 * One `npm run stack` / `stack:down` at a time per checkout. Two at once (two shells, two helpers
 * sharing a work tree) each start supervisors and each write the pid files, so the one that
 * writes first loses track of its processes: they keep the ports, every later start of that
 * service fails with EADDRINUSE while the orphan, still running the old build, answers the
 * health checks. A second command therefore waits for the first.
 */
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { isAlive } from './processes';

/** Takes the lock file `path` (its content: the holder's pid), false if a live process holds it. */
function tryTake(path: string): boolean {
  try {
    const fd = openSync(path, 'wx');
    writeSync(fd, String(process.pid));
    closeSync(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
  // A holder that died (killed, machine restarted) leaves its file behind: not a holder any more.
  if (!Number.isInteger(holder) || holder <= 0 || !isAlive(holder)) {
    rmSync(path, { force: true });
    return tryTake(path);
  }
  return false;
}

/**
 * Runs `fn` holding the lock file `path`, waiting (polling every `pollMs`) while another live
 * process holds it; `onWait` is told the holder's pid once.
 */
export async function withLock<T>(
  path: string,
  fn: () => Promise<T>,
  opts: { pollMs?: number; onWait?: (holder: string) => void } = {},
): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  let told = false;
  while (!tryTake(path)) {
    if (!told) opts.onWait?.(readFileSync(path, 'utf8').trim());
    told = true;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 1_000));
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
