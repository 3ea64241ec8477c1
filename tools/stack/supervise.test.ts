import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BACKOFF, exitLine, nextRestart, parseArgs } from './supervise';

describe('the crash-loop backoff', () => {
  /** The delays of `n` quick exits in a row. */
  const delays = (n: number, ranMs = 100) => {
    const out: number[] = [];
    let streak = 0;
    for (let i = 0; i < n; i++) {
      const r = nextRestart(streak, ranMs);
      streak = r.streak;
      out.push(r.delayMs);
    }
    return out;
  };

  it('doubles from 1 s for each quick exit in a row, up to 16 s', () => {
    expect(delays(8)).toEqual([1000, 2000, 4000, 8000, 16_000, 16_000, 16_000, 16_000]);
    expect(nextRestart(1000, 0)).toEqual({ streak: 1001, delayMs: BACKOFF.capMs });
  });

  it('starts over at 1 s after a child that ran 30 s or more', () => {
    expect(nextRestart(6, BACKOFF.resetAfterMs - 1)).toEqual({ streak: 7, delayMs: 16_000 });
    expect(nextRestart(6, BACKOFF.resetAfterMs)).toEqual({ streak: 1, delayMs: 1000 });
    expect(nextRestart(1, 3_600_000)).toEqual({ streak: 1, delayMs: 1000 });
  });
});

describe('the supervisor command line', () => {
  it('says how the child ended, how long it ran and when it comes back', () => {
    expect(exitLine('dc1-gateway', { code: null, signal: 'SIGKILL' }, 12_345, 3, 1000)).toBe(
      'supervise: dc1-gateway exited (signal SIGKILL) after 12.3 s; restart 3 in 1.0 s',
    );
    expect(exitLine('dc2-auth', { code: 1, signal: null }, 400, 1, 16_000)).toBe(
      'supervise: dc2-auth exited (code 1) after 0.4 s; restart 1 in 16.0 s',
    );
    expect(exitLine('x', { code: null, signal: null }, 0, 2, 2000)).toBe(
      'supervise: x exited (never started) after 0.0 s; restart 2 in 2.0 s',
    );
  });

  it('takes a name, an optional pid file and the command after --', () => {
    expect(parseArgs(['dc1-auth', '--', 'node', 'main.js', 'auth'])).toEqual({
      name: 'dc1-auth',
      pidFile: resolve(__dirname, '..', '..', '.stack', 'run', 'dc1-auth.child.pid'),
      command: 'node',
      args: ['main.js', 'auth'],
    });
    expect(parseArgs(['x', '--pid-file', '/tmp/x.pid', '--', 'sleep', '--', '9'])).toMatchObject({
      pidFile: '/tmp/x.pid',
      command: 'sleep',
      args: ['--', '9'],
    });
    for (const bad of [
      [],
      ['x'],
      ['x', '--'],
      ['--', 'sleep'],
      ['x', '--pid-file', '--', 'sleep'],
      ['x', 'y', '--', 'z'],
    ])
      expect(() => parseArgs(bad)).toThrow(/usage/);
  });
});

const SUPERVISOR = join(__dirname, 'supervise.ts');
const REPO_ROOT = resolve(__dirname, '..', '..');

/** Alive and not a zombie (a dead process nobody has reaped yet still answers signal 0). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (process.platform !== 'linux') return true;
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A child that says when it starts and when SIGTERM stops it, and otherwise runs forever. */
const CHILD = [
  "process.on('SIGTERM', () => { console.log('child ' + process.pid + ' got SIGTERM'); process.exit(0); });",
  "console.log('child ' + process.pid + ' up');",
  'setInterval(() => {}, 1000);',
].join(' ');

describe('the supervisor process', () => {
  let dir: string;
  let supervisor: ChildProcess | undefined;
  let output = '';

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tern-supervise-'));
    output = '';
  });
  afterEach(() => {
    // Whatever a failed test left: the supervisor leads a group that holds its child too.
    if (supervisor?.pid !== undefined && alive(supervisor.pid)) process.kill(-supervisor.pid, 'SIGKILL');
    supervisor = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the real supervisor as startDetached would: detached, so it leads its own group. */
  function startSupervisor(pidFile: string): ChildProcess {
    const args = ['--import', 'tsx', SUPERVISOR, 'test-child', '--pid-file', pidFile, '--'];
    const p = spawn(process.execPath, [...args, process.execPath, '-e', CHILD], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    p.stdout.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr.on('data', (d: Buffer) => (output += d.toString()));
    supervisor = p;
    return p;
  }

  /** The child's pid once the pid file names a live one other than `not`. */
  const childPid = (pidFile: string, not?: number) =>
    until(`a child pid other than ${not}`, () => {
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
      return pid > 0 && pid !== not && alive(pid) ? pid : undefined;
    });

  it('restarts a child killed with SIGKILL, and on SIGTERM stops it without a restart', async () => {
    const pidFile = join(dir, 'test-child.child.pid');
    const p = startSupervisor(pidFile);
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));

    const first = await childPid(pidFile);
    await until('the child up', () => (output.includes(`child ${first} up`) ? true : undefined));
    process.kill(first, 'SIGKILL');
    const second = await childPid(pidFile, first);
    expect(second).not.toBe(first);
    expect(output).toMatch(
      /supervise: test-child exited \(signal SIGKILL\) after \d+\.\d s; restart 1 in 1\.0 s/,
    );
    await until('the new child up', () => (output.includes(`child ${second} up`) ? true : undefined));

    process.kill(p.pid!, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(output).toContain(`child ${second} got SIGTERM`);
    expect(alive(second)).toBe(false);
    expect(existsSync(pidFile)).toBe(false);
    expect(output.match(/restart \d+ in/g)).toHaveLength(1);
  }, 15_000);

  const setpriv = process.platform === 'linux' && spawnSync('setpriv', ['--version']).status === 0;
  (setpriv ? it : it.skip)(
    'takes its child along when it is itself killed with SIGKILL',
    async () => {
      const pidFile = join(dir, 'test-child.child.pid');
      const p = startSupervisor(pidFile);
      const child = await childPid(pidFile);
      process.kill(p.pid!, 'SIGKILL');
      await until('the child to die with its supervisor', () => (alive(child) ? undefined : true), 3000);
    },
    15_000,
  );
});
