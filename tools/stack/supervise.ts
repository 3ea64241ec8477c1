/**
 * The local stack's stand-in for the kubelet restarting a crashed container: runs one of Tern's
 * processes as its child and starts it again whenever it exits without being asked to, after a
 * crash-loop backoff, with one line in the process's log per restart.
 *
 * Run by `npm run stack` (tern.ts) under startDetached, so its stdout and stderr are already
 * `.stack/logs/<name>.log` and it leads a process group of its own:
 *
 *   node --import tsx tools/stack/supervise.ts <name> [--pid-file <file>] -- <command> <args...>
 *
 * The child
 * - inherits that stdio: its output lands in the same log as it did before supervision;
 * - has its pid in `.stack/run/<name>.child.pid` (or `--pid-file`) while it runs, for a chaos
 *   tool that kills the service itself (processes.ts `childPid`) rather than its supervisor;
 * - stays in the supervisor's process group, which processes.ts `stop` kills as a whole when the
 *   supervisor does not stop in time or leaves anything behind;
 * - is started, on Linux, through util-linux `setpriv --pdeathsig KILL`, so the kernel kills it
 *   when the supervisor dies however it dies (SIGKILL included) instead of leaving it holding
 *   the ports the next start needs.
 *
 * SIGTERM or SIGINT: the child gets SIGTERM (its graceful drain) and is not restarted; the
 * supervisor waits for it, SIGKILLs it after STOP_GRACE_MS or on a second signal, removes the
 * child pid file and exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { childPidFile } from './processes';

/**
 * The crash-loop backoff. Kubernetes waits 10 s, doubling to 5 min, and forgets after 10 min of
 * running; a development stack wants a service back within seconds (a crash on start is often
 * "Cassandra was not ready yet"), while the cap keeps a service that cannot start from costing a
 * core: a Node start is about a second of CPU, so at most one per 16 s. A run of 30 s got well
 * past startup (a service is SERVING within seconds), so its exit starts a new streak.
 */
export const BACKOFF = { firstMs: 1_000, capMs: 16_000, resetAfterMs: 30_000 } as const;

/**
 * How long the supervisor gives its child to drain after SIGTERM before SIGKILL: above the
 * services' TERN_SHUTDOWN_TIMEOUT_MS (8 s, plan.ts) and below the 15 s processes.ts `stop`
 * gives the supervisor, so the supervisor, not `stop`, is the one that kills a stuck child.
 */
export const STOP_GRACE_MS = 14_000;

/** What to do after the child exited: wait `delayMs`; `streak` counts the exits in a row. */
export interface Restart {
  readonly streak: number;
  readonly delayMs: number;
}

/**
 * The restart after a child that ran `ranMs` exited, given the streak before that exit (0 when
 * none): 1 s, 2 s, 4 s, 8 s, then 16 s for every further quick exit; a child that ran at least
 * BACKOFF.resetAfterMs starts over at 1 s.
 */
export function nextRestart(streak: number, ranMs: number): Restart {
  const next = ranMs >= BACKOFF.resetAfterMs ? 1 : streak + 1;
  return { streak: next, delayMs: Math.min(BACKOFF.capMs, BACKOFF.firstMs * 2 ** (next - 1)) };
}

/** How the child ended: both null when it could not be started at all. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * The log line for an exit nobody asked for, e.g.
 * `supervise: dc1-gateway exited (signal SIGKILL) after 12.3 s; restart 3 in 1.0 s`.
 */
export function exitLine(
  name: string,
  exit: ChildExit,
  ranMs: number,
  restart: number,
  delayMs: number,
): string {
  const how = exit.signal
    ? `signal ${exit.signal}`
    : exit.code === null
      ? 'never started'
      : `code ${exit.code}`;
  const s = (ms: number) => (ms / 1000).toFixed(1);
  return `supervise: ${name} exited (${how}) after ${s(ranMs)} s; restart ${restart} in ${s(delayMs)} s`;
}

/** The supervisor's command line. */
export interface SuperviseArgs {
  readonly name: string;
  /** Where the child's pid is kept while it runs (default `.stack/run/<name>.child.pid`). */
  readonly pidFile: string;
  readonly command: string;
  readonly args: readonly string[];
}

const USAGE = 'usage: supervise.ts <name> [--pid-file <file>] -- <command> <args...>';

/** Parses `<name> [--pid-file <file>] -- <command> <args...>`, throwing the usage when it is not that. */
export function parseArgs(argv: readonly string[]): SuperviseArgs {
  const dashes = argv.indexOf('--');
  const [name, ...options] = dashes < 0 ? [] : argv.slice(0, dashes);
  const [command, ...args] = dashes < 0 ? [] : argv.slice(dashes + 1);
  if (!name || name.startsWith('-') || !command) throw new Error(USAGE);
  let pidFile = childPidFile(name);
  if (options.length === 2 && options[0] === '--pid-file' && options[1]) pidFile = options[1];
  else if (options.length > 0) throw new Error(USAGE);
  return { name, pidFile, command, args };
}

/**
 * The prefix that makes the kernel SIGKILL the child when the supervisor dies: `setpriv` sets the
 * parent-death signal and then execs the command, so the child keeps setpriv's pid. Empty where
 * that cannot work (not Linux, no setpriv, or one too old for --pdeathsig): then only `stop`
 * killing the process group cleans up after a killed supervisor.
 */
function parentDeathPrefix(): string[] {
  if (process.platform !== 'linux') return [];
  const prefix = ['setpriv', '--pdeathsig', 'KILL', '--'];
  const probe = spawnSync(prefix[0]!, [...prefix.slice(1), process.execPath, '--version'], {
    stdio: 'ignore',
  });
  return probe.status === 0 ? prefix : [];
}

/** Runs `opts.command` until SIGTERM or SIGINT, restarting it whenever it exits. */
function supervise(opts: SuperviseArgs): void {
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} ${line}\n`);
  const [command, ...args] = [...parentDeathPrefix(), opts.command, ...opts.args];
  mkdirSync(dirname(opts.pidFile), { recursive: true });

  let child: ChildProcess | undefined;
  let startedAt = 0;
  let streak = 0;
  let restarts = 0;
  let pending: NodeJS.Timeout | undefined;
  let stopping = false;

  const finish = (code: number) => {
    rmSync(opts.pidFile, { force: true });
    process.exit(code);
  };

  const exited = (exit: ChildExit) => {
    child = undefined;
    rmSync(opts.pidFile, { force: true });
    if (stopping) {
      finish(exit.code === 0 ? 0 : 1);
      return;
    }
    const ranMs = performance.now() - startedAt;
    const restart = nextRestart(streak, ranMs);
    streak = restart.streak;
    restarts += 1;
    log(exitLine(opts.name, exit, ranMs, restarts, restart.delayMs));
    pending = setTimeout(start, restart.delayMs);
  };

  function start(): void {
    pending = undefined;
    startedAt = performance.now();
    const c = spawn(command!, args, { stdio: 'inherit' });
    child = c;
    let done = false;
    const once = (exit: ChildExit) => {
      if (done) return;
      done = true;
      exited(exit);
    };
    c.once('exit', (code, signal) => once({ code, signal }));
    // 'error' also reports a failed kill of a running child; only one that never started ends it.
    c.on('error', (err) => {
      log(`supervise: ${opts.name}: ${err.message}`);
      if (c.pid === undefined) once({ code: null, signal: null });
    });
    if (c.pid !== undefined) writeFileSync(opts.pidFile, `${c.pid}\n`);
  }

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal: whoever sent it does not want to wait for the drain.
      if (child) {
        log(`supervise: ${signal} again; killing ${opts.name} (pid ${child.pid})`);
        child.kill('SIGKILL');
      }
      return;
    }
    stopping = true;
    if (!child) {
      // Between restarts: nothing runs, so nothing to drain.
      clearTimeout(pending);
      finish(0);
      return;
    }
    const c = child;
    log(`supervise: ${signal}; stopping ${opts.name} (pid ${c.pid}), no restart`);
    c.kill('SIGTERM');
    setTimeout(() => {
      if (child !== c) return;
      log(`supervise: ${opts.name} did not stop within ${STOP_GRACE_MS / 1000} s; killing it`);
      c.kill('SIGKILL');
    }, STOP_GRACE_MS).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // A supervisor that fails takes its child along even where there is no parent-death signal.
  process.on('exit', () => child?.kill('SIGKILL'));

  start();
}

if (require.main === module) {
  try {
    supervise(parseArgs(process.argv.slice(2)));
  } catch (err) {
    process.stderr.write(`supervise: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(64);
  }
}
