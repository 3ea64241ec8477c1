/**
 * The fuzz corpus and crashers in the repository:
 *
 *   test/fuzz/corpus/<target>/<hash>.hex     valid encodings built by the target (--write-corpus)
 *   test/fuzz/crashers/<target>/<name>.hex   an input that failed, replayed by regressions.test.ts
 *   test/fuzz/crashers/<target>/<name>.json  what it did (CrasherInfo): status open until fixed
 *
 * Inputs are hex text (64 bytes a line), so they diff and review like code; a large input is
 * kept gzip-compressed as <name>.gz.hex (the hex of its gzip).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Failure } from './types';

export const REPO_ROOT = join(__dirname, '..', '..');
export const CORPUS_DIR = join(REPO_ROOT, 'test', 'fuzz', 'corpus');
export const CRASHERS_DIR = join(REPO_ROOT, 'test', 'fuzz', 'crashers');

export interface CrasherInfo {
  target: string;
  kind: Failure['kind'];
  /** open: the bug is still there (the regression test expects the failure); fixed: it must pass. */
  status: 'open' | 'fixed';
  signature: string;
  message: string;
  stack: string;
  seed: number;
  index: number;
  found: string;
  suggestedFix: string;
}

export interface Crasher {
  name: string;
  input: Buffer;
  info?: CrasherInfo;
}

export function toHex(b: Buffer): string {
  const hex = b.toString('hex');
  const lines: string[] = [];
  for (let i = 0; i < hex.length; i += 128) lines.push(hex.slice(i, i + 128));
  return lines.join('\n') + '\n';
}

export function fromHex(text: string): Buffer {
  const clean = text.replace(/#.*$/gm, '').replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new Error('not a hex file');
  return Buffer.from(clean, 'hex');
}

/** Reads an input file (.hex, or .gz.hex for a compressed one). */
export function readInput(file: string): Buffer {
  const bytes = fromHex(readFileSync(file, 'utf8'));
  return file.endsWith('.gz.hex') ? gunzipSync(bytes) : bytes;
}

/** Writes an input as <base>.hex, or <base>.gz.hex when it is large; returns the path. */
export function writeInput(base: string, input: Buffer): string {
  if (input.length <= 16384) {
    writeFileSync(`${base}.hex`, toHex(input));
    return `${base}.hex`;
  }
  writeFileSync(`${base}.gz.hex`, toHex(gzipSync(input, { level: 9 })));
  return `${base}.gz.hex`;
}

function hexFiles(dir: string): Array<{ name: string; input: Buffer }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.hex'))
    .sort()
    .map((f) => ({ name: f.replace(/(\.gz)?\.hex$/, ''), input: readInput(join(dir, f)) }));
}

export function readCorpus(target: string): Buffer[] {
  return hexFiles(join(CORPUS_DIR, target)).map((e) => e.input);
}

export function readCrashers(target: string): Crasher[] {
  const dir = join(CRASHERS_DIR, target);
  return hexFiles(dir).map(({ name, input }) => {
    const meta = join(dir, `${name}.json`);
    const info = existsSync(meta) ? (JSON.parse(readFileSync(meta, 'utf8')) as CrasherInfo) : undefined;
    return { name, input, ...(info ? { info } : {}) };
  });
}

/** Signatures of the target's open crashers: failures matching one are known, not new. */
export function openSignatures(target: string): Set<string> {
  return new Set(
    readCrashers(target)
      .filter((c) => c.info?.status === 'open')
      .map((c) => c.info!.signature),
  );
}

const shortHash = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 12);

/** Writes up to `max` seeds (the smallest distinct ones, spread over sizes) as the target's corpus. */
export function writeCorpus(target: string, seeds: readonly Buffer[], max = 12): string[] {
  const dir = join(CORPUS_DIR, target);
  mkdirSync(dir, { recursive: true });
  const distinct = [...new Map(seeds.map((s) => [shortHash(s), s])).values()]
    .filter((s) => s.length <= 8192)
    .sort((a, b) => a.length - b.length);
  const chosen: Buffer[] = [];
  for (let i = 0; i < Math.min(max, distinct.length); i++)
    chosen.push(distinct[Math.floor((i * distinct.length) / Math.min(max, distinct.length))]!);
  return chosen.map((s) => {
    const file = join(dir, `${shortHash(s)}.hex`);
    writeFileSync(file, toHex(s));
    return file;
  });
}

/** Keeps a failure as a crasher (input + what happened); returns the input's path. */
export function writeCrasher(
  target: string,
  f: Failure,
  suggestedFix = '',
  name = `${f.kind}-${shortHash(f.input)}`,
): string {
  const dir = join(CRASHERS_DIR, target);
  mkdirSync(dir, { recursive: true });
  const file = writeInput(join(dir, name), f.input);
  const info: CrasherInfo = {
    target,
    kind: f.kind,
    status: 'open',
    signature: f.signature,
    message: f.message,
    stack: f.stack.split(`${REPO_ROOT}/`).join(''),
    seed: f.seed,
    index: f.index,
    found: new Date().toISOString().slice(0, 10),
    suggestedFix,
  };
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(info, null, 2) + '\n');
  return file;
}
