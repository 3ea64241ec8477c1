/**
 * Detached background processes with pid files: the stack's programs outlive the command that
 * started them, and `stack:down` (or a later `stack`) finds them again through `.stack/run`.
 * Each leads a process group of its own (`detached`), so `stop` can kill whatever it started
 * too: Tern's processes run under a supervisor (supervise.ts) whose child is in its group.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { paths } from './paths';

export interface ProcessSpec {
  /** Unique name: the pid file and the log file are named after it. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

const pidFile = (name: string) => join(paths.run, `${name}.pid`);
export const logFile = (name: string) => join(paths.logs, `${name}.log`);
/** Where the supervisor of `name` (supervise.ts) keeps its child's pid while the child runs. */
export const childPidFile = (name: string) => join(paths.run, `${name}.child.pid`);

function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * The pid of a running process started under `name`, or undefined: what `startDetached` started,
 * which for Tern's processes is their supervisor (alive while it restarts the service).
 */
export function runningPid(name: string): number | undefined {
  const pid = readPid(pidFile(name));
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

/**
 * The pid of the program the supervisor of `name` runs, while both run: what a chaos tool kills
 * to see the supervisor restart it. Undefined between restarts and for unsupervised processes.
 */
export function childPid(name: string): number | undefined {
  if (runningPid(name) === undefined) return undefined;
  const pid = readPid(childPidFile(name));
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

/**
 * The pid doing a process's work: the supervised service when there is one, else what was started
 * (the infrastructure runs unsupervised). What CPU and memory figures must read.
 */
export function workerPid(name: string): number | undefined {
  return childPid(name) ?? runningPid(name);
}

/** True while `pid` exists; `-pgid` asks whether any process of that group does. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts a process detached from this one, its output appended to `.stack/logs/<name>.log`. */
export function startDetached(spec: ProcessSpec): number {
  mkdirSync(paths.run, { recursive: true });
  mkdirSync(paths.logs, { recursive: true });
  const fd = openSync(logFile(spec.name), 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.name} (${spec.command})`);
    child.unref();
    writeFileSync(pidFile(spec.name), `${child.pid}\n`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * Stops a process and what it started: SIGTERM to the process alone (each program shuts down
 * gracefully on it, a supervisor by passing it on to its child and waiting for it), then SIGKILL
 * to its whole process group if it has not exited within `graceMs`. Only the leader gets the
 * SIGTERM: a Tern service that received a second one (from a group signal, then from its
 * supervisor) would die at once, skipping its drain. Resolves once it is gone.
 */
export async function stop(name: string, graceMs: number): Promise<void> {
  const pid = readPid(pidFile(name));
  if (pid !== undefined && isAlive(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) {
      process.stderr.write(`stack: ${name} did not stop within ${graceMs} ms; killing it\n`);
      await kill(pid);
    }
  } else if (pid !== undefined && isAlive(-pid)) {
    // The leader is gone but its group is not: a supervisor killed with SIGKILL where no
    // parent-death signal took its service along, which still holds the ports the next start
    // needs. (A pid is not reused while a group of that id exists, so this group is its.)
    process.stderr.write(`stack: ${name} is gone but left processes in its group; killing them\n`);
    await kill(pid);
  }
  rmSync(pidFile(name), { force: true });
  rmSync(childPidFile(name), { force: true });
}

/**
 * SIGKILLs the process group `pid` leads (or the process alone, should it lead none) and waits
 * for all of it to go: 5 s at most, as a killed process nobody reaps still counts as alive.
 */
async function kill(pid: number): Promise<void> {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
      break;
    } catch {
      // Not a group leader (or gone): the process alone, then.
    }
  }
  const deadline = Date.now() + 5000;
  while ((isAlive(-pid) || isAlive(pid)) && Date.now() < deadline) await sleep(50);
}

/** The last lines of a process's log, for error messages. */
export function logTail(name: string, lines = 20): string {
  const file = logFile(name);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
