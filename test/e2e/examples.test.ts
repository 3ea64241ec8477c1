/**
 * The examples of docs/clients.md (examples/) against the running stack, each run as a user runs it:
 * `tsx examples/<name> <deployment.json>` in a child process, with the deployment written from
 * stack:info. Each signs two test users in on two DCs and exchanges a message each way, received
 * live; it exits 0 only then.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stack } from '../support/stack';

const s = stack();
const tsx = join(s.repoRoot, 'node_modules', '.bin', 'tsx');
const EXAMPLES = [
  { file: 'gramjs.ts', library: 'GramJS' },
  { file: 'teleproto.ts', library: 'teleproto' },
  { file: 'mtcute.mts', library: 'mtcute' },
];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(example: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      tsx,
      [join(s.repoRoot, 'examples', example), ...args],
      { cwd: s.repoRoot, env, encoding: 'utf8', timeout: 150_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('the client examples (examples/, docs/clients.md)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tern-examples-'));
  // What `npm run --silent stack:info > tern.json` writes.
  const deployment = join(dir, 'tern.json');
  writeFileSync(deployment, `${JSON.stringify(s, null, 2)}\n`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(EXAMPLES)(
    '$file signs in on two DCs and exchanges messages live ($library)',
    async ({ file, library }) => {
      const r = await run(file, [deployment]);
      if (r.code !== 0) throw new Error(`${file} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
      expect(r.stdout).toMatch(/^Alice: signed in as \+999661\d{4} \(user \d+, @\w+\) on DC 1$/m);
      expect(r.stdout).toMatch(/^Bob: signed in as \+999662\d{4} \(user \d+, @\w+\) on DC 2$/m);
      expect(r.stdout).toMatch(
        /^Bob: received live message \d+ "hello Bob, from \w+ \(\w+\)" from user \d+$/m,
      );
      expect(r.stdout).toMatch(
        /^Alice: received live message \d+ "hello Alice, from \w+ \(\w+\)" from user \d+$/m,
      );
      expect(r.stdout).toContain(`OK: ${library} signed in on two DCs and exchanged messages live`);
    },
    180_000,
  );

  it.each(EXAMPLES)(
    '$file reads the deployment from TERN_STACK_INFO and fails clearly without one',
    async ({ file }) => {
      const missing = join(dir, 'missing.json');
      const r = await run(file, [], { ...process.env, TERN_STACK_INFO: missing });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`FAILED: no deployment description at ${missing}`);
    },
  );
});
