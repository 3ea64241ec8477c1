/**
 * The SIGUSR2 profiler in a child process of its own: Jest's sandboxed `process` does not carry
 * signal handlers to the real one, so the signal would end the test runner.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const MODULE = join(__dirname, 'cpu-profile.ts');
const LOGGER = join(__dirname, '..', 'log', 'logger.ts');

/** Runs `body` in a child with `install(dir)` in scope (installProfilerSignal with a quiet logger). */
function child(dir: string, body: string): Promise<string> {
  const script = `
    const { installProfilerSignal, PROFILE_SIGNAL } = require(${JSON.stringify(MODULE)});
    const { createLogger } = require(${JSON.stringify(LOGGER)});
    const log = createLogger({ level: 'fatal', base: {} });
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const busy = (ms) => { let x = 0; const until = Date.now() + ms; while (Date.now() < until) x += Math.sqrt(x + 1); return x; };
    const install = () => installProfilerSignal({ dir: ${JSON.stringify(dir)}, label: 'test-dc9', log });
    (async () => { ${body} })().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
  `;
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', '-e', script],
      { timeout: 30_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    ),
  );
}

describe('CPU profile on SIGUSR2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-profile-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts on the first signal and writes a V8 profile on the second', async () => {
    const sub = mkdtempSync(join(dir, 'toggle-'));
    const out = await child(
      sub,
      `install();
       process.kill(process.pid, PROFILE_SIGNAL);
       await sleep(100); busy(200);
       console.log('before:' + require('fs').readdirSync(${JSON.stringify(sub)}).length);
       process.kill(process.pid, PROFILE_SIGNAL);
       await sleep(1000);
       console.log('pid:' + process.pid);`,
    );
    expect(out).toContain('before:0');
    const pid = /pid:(\d+)/.exec(out)![1];
    const files = readdirSync(sub);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(new RegExp(`^test-dc9-${pid}-\\d+\\.cpuprofile$`));
    const profile = JSON.parse(readFileSync(join(sub, files[0]!), 'utf8')) as {
      nodes: unknown[];
      samples: number[];
    };
    expect(profile.nodes.length).toBeGreaterThan(1);
    expect(profile.samples.length).toBeGreaterThan(10);
  }, 40_000);

  it('writes a running profile when stopped, and then leaves the signal alone', async () => {
    const sub = mkdtempSync(join(dir, 'stop-'));
    const out = await child(
      sub,
      `const stop = install();
       process.kill(process.pid, PROFILE_SIGNAL);
       await sleep(100);
       await stop();
       console.log('listeners:' + process.listenerCount(PROFILE_SIGNAL));`,
    );
    expect(out).toContain('listeners:0');
    expect(readdirSync(sub)).toHaveLength(1);
  }, 40_000);
});
