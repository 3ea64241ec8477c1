/**
 * CPU profiles of a running service on a signal, without a restart or an open inspector port.
 *
 * `kill -USR2 <pid>` starts V8's sampling profiler inside the process (node:inspector's in-process
 * session, nothing listens on a port); a second `kill -USR2` stops it and writes
 * `<dir>/<service>-dc<id>-<pid>-<time>.cpuprofile`, which Chrome DevTools, speedscope or
 * `npx tsx tools/bench/profile-summary.ts <file>` read. Benchmarks use it to profile the exact
 * window they measure (`npm run bench:media -- --profile`). SIGUSR1 stays Node's own (it opens the
 * inspector port); SIGUSR2 is free in Node.
 *
 * The profiler costs a few percent of CPU while it runs and nothing otherwise.
 */
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/logger';

/** The signal that starts and stops a profile. */
export const PROFILE_SIGNAL = 'SIGUSR2';

/** Sampling interval: 1 ms gives a usable profile of a 10–60 s window at small cost. */
const SAMPLING_INTERVAL_US = 1000;

export interface ProfilerOptions {
  /** Where profiles are written. */
  dir: string;
  /** Names the file: the service and its DC. */
  label: string;
  log: Logger;
}

/**
 * Installs the SIGUSR2 toggle; returns a function that stops a running profile (writing it) and
 * removes the handler, for shutdown.
 */
export function installProfilerSignal(o: ProfilerOptions): () => Promise<void> {
  let session: Session | undefined;
  let startedAt = 0;

  const post = <T>(s: Session, method: string, params?: object) =>
    new Promise<T>((resolve, reject) =>
      s.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as T))),
    );

  async function start(): Promise<void> {
    const s = new Session();
    s.connect();
    await post(s, 'Profiler.enable');
    await post(s, 'Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
    await post(s, 'Profiler.start');
    session = s;
    startedAt = Date.now();
    o.log.info({ signal: PROFILE_SIGNAL }, 'CPU profile started; send the signal again to write it');
  }

  async function stop(): Promise<void> {
    const s = session;
    if (!s) return;
    session = undefined;
    try {
      const { profile } = await post<{ profile: object }>(s, 'Profiler.stop');
      mkdirSync(o.dir, { recursive: true });
      const file = join(o.dir, `${o.label}-${process.pid}-${startedAt}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      o.log.info({ file, seconds: (Date.now() - startedAt) / 1000 }, 'CPU profile written');
    } finally {
      s.disconnect();
    }
  }

  // One toggle at a time: a signal that arrives while the previous one is being handled waits.
  let busy: Promise<void> = Promise.resolve();
  const onSignal = () => {
    busy = busy
      .then(() => (session ? stop() : start()))
      .catch((err: unknown) => o.log.warn({ err }, 'CPU profile failed'));
  };
  process.on(PROFILE_SIGNAL, onSignal);
  return async () => {
    process.off(PROFILE_SIGNAL, onSignal);
    await busy;
    await stop().catch((err: unknown) => o.log.warn({ err }, 'CPU profile failed'));
  };
}
