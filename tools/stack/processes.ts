/**
 * Detached background processes with pid files: the stack's programs outlive the command that
 * started them, and `stack:down` (or a later `stack`) finds them again through `.stack/run`.
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

/** The pid of a running process started under `name`, or undefined. */
export function runningPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

function isAlive(pid: number): boolean {
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
 * Stops a process: SIGTERM (each program shuts down gracefully on it), then SIGKILL if it has
 * not exited within `graceMs`. Resolves once it is gone.
 */
export async function stop(name: string, graceMs: number): Promise<void> {
  const pid = runningPid(name);
  if (pid !== undefined) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) {
      process.stderr.write(`stack: ${name} did not stop within ${graceMs} ms; killing it\n`);
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(50);
    }
  }
  rmSync(pidFile(name), { force: true });
}

/** The last lines of a process's log, for error messages. */
export function logTail(name: string, lines = 20): string {
  const file = logFile(name);
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
