/**
 * Running external programs from the stack tooling: one helper that captures output to a log
 * file and, on failure, throws an error carrying the log's tail (the part that says why).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class CommandError extends Error {
  override readonly name = 'CommandError';
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Output goes here (appended); its tail is quoted when the command fails. */
  logFile: string;
  timeoutMs?: number;
}

/** Runs `cmd args` to completion; resolves on exit 0, rejects with the log's tail otherwise. */
export async function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<void> {
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  log.write(`\n$ ${cmd} ${args.join(' ')}\n`);
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  }).finally(() => clearTimeout(timer));
  await new Promise<void>((resolve) => log.end(resolve));
  if (code !== 0) {
    const tail = readFileSync(opts.logFile, 'utf8').split('\n').slice(-25).join('\n');
    throw new CommandError(
      `${cmd} ${args.join(' ')} exited with ${code ?? 'a signal'} (log: ${opts.logFile})\n${tail}`,
    );
  }
}

/** Runs a command and returns its standard output (for short queries such as `go env`). */
export async function capture(
  cmd: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
): Promise<string> {
  const child = spawn(cmd, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new CommandError(`${cmd} ${args.join(' ')} exited with ${code}: ${err.trim()}`);
  return out;
}
