/**
 * The fuzz loop of one target, in the calling thread: input i is drawn from Rng.forInput(seed, i)
 * (generated fresh, or a corpus entry mutated), run, and classified. run.ts calls it inside a
 * worker with a watchdog; regressions.test.ts calls it directly for the short CI run.
 */
import { relative } from 'node:path';
import { REPO_ROOT } from './corpus';
import { havoc, type MutationContext } from './mutate';
import { Rng } from './rng';
import { FuzzCheckFailed, type Failure, type FuzzTarget, type RunResult, type TargetInstance } from './types';

export interface LoopOptions {
  inputs: number;
  /** Stop after this many seconds even if fewer inputs ran. */
  seconds?: number;
  seed: number;
  /** An input running longer than this (twice in a row) is a hang. */
  timeBoundMs: number;
  /** Entries of test/fuzz/corpus/<target> and crashers, mutated besides the target's own seeds. */
  corpus: readonly Buffer[];
  /** One input raising the process's peak rss (getrusage maxrss) by more than this is a memory failure. */
  inputPeakMb?: number;
  /** Signatures of open crashers: failures with them are marked known. */
  known?: ReadonlySet<string>;
  /** Distinct failures kept (the first input of each signature). */
  maxFailures?: number;
  /** Called before each input (the worker publishes it to the watchdog). */
  before?: (index: number, input: Buffer) => void;
  /** Called every `progressEvery` inputs. */
  progress?: (done: number) => void;
  progressEvery?: number;
}

const GENERATE_SHARE = 0.25;
const DISCOVERED_MAX = 4096;
const DISCOVERED_BYTES = 32 << 20;
const FEATURES_MAX = 200_000;

/** A short, stable name of a failure: class, message with numbers blanked, first Tern frame. */
export function signatureOf(err: unknown): string {
  const own = (err as { fuzzSignature?: unknown } | null)?.fuzzSignature;
  if (typeof own === 'string') return own;
  const e = err instanceof Error ? err : new Error(String(err));
  const message = blankNumbers(e.message);
  return `${e.name}: ${message} @ ${firstFrame(e.stack ?? '')}`;
}

/** Numbers and hex blanked, so one bug has one signature whatever the input's values. */
export function blankNumbers(message: string): string {
  return message
    .replace(/0x[0-9a-f]+/gi, '0x#')
    .replace(/-?(?:NaN|Infinity|\d+(?:\.\d+)?(?:e[+-]?\d+)?)/g, '#')
    .slice(0, 100);
}

/** The file of the first stack frame in Tern's own code (not node internals, not the fuzzer), or under `within`. */
export function firstFrame(stack: string, within?: string): string {
  for (const line of stack.split('\n').slice(1)) {
    const m = /at (?:(.+?) \()?(.+?):\d+:\d+\)?$/.exec(line.trim());
    if (!m) continue;
    const file = m[2]!;
    if (file.startsWith('node:') || file.includes('node_modules') || file.includes('/tools/fuzz/')) continue;
    const rel = relative(REPO_ROOT, file);
    if (within !== undefined && !rel.startsWith(within)) continue;
    // The file only: function names differ between runtimes (tsx, Jest's transform).
    return rel;
  }
  return '<no Tern frame>';
}

function describe(err: unknown): { message: string; stack: string } {
  if (err instanceof Error) return { message: err.message, stack: err.stack ?? err.message };
  return { message: String(err), stack: String(err) };
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

export interface Outcome {
  /** undefined: accepted or refused as expected. */
  failure?: { kind: 'crash' | 'check'; err: unknown };
  refused: boolean;
  features?: readonly string[] | string;
  ms: number;
  /** How much this input raised the process's peak rss (bytes; 0 when it stayed below the old peak). */
  peakRise: number;
}

/** The process's peak rss so far (bytes). */
export const maxRss = () => process.resourceUsage().maxRSS * 1024;

/** Runs one input and classifies what happened. */
export async function runOne(t: TargetInstance, input: Buffer): Promise<Outcome> {
  const peak = maxRss();
  const start = performance.now();
  const done = (o: Omit<Outcome, 'ms' | 'peakRise'>): Outcome => ({
    ...o,
    ms: performance.now() - start,
    peakRise: maxRss() - peak,
  });
  try {
    let r = t.run(input);
    if (isThenable(r)) r = await r;
    return done({ refused: false, features: r });
  } catch (err) {
    if (err instanceof FuzzCheckFailed) return done({ failure: { kind: 'check', err }, refused: false });
    if (t.expected(err)) return done({ refused: true });
    return done({ failure: { kind: 'crash', err }, refused: false });
  }
}

export const HANG_SIGNATURE = (ms: number) => `hang: input over ${ms} ms`;
export const MEMORY_SIGNATURE = (mb: number) => `memory: one input raised peak rss by over ${mb} MiB`;

/** The input the loop makes for index `i`: the same for the same seed, corpus and target. */
export function makeInput(
  t: TargetInstance,
  rng: Rng,
  pool: readonly Buffer[],
  ctx: MutationContext,
): Buffer {
  if (pool.length === 0 || rng.chance(GENERATE_SHARE)) return t.generate(rng);
  let input = rng.pick(pool);
  if (t.mutate && rng.chance(0.35)) {
    const m = t.mutate(rng, input);
    if (m) return rng.chance(0.3) ? havoc(rng, m, ctx) : m;
  }
  input = havoc(rng, input, ctx);
  return input;
}

export async function runTarget(target: FuzzTarget, t: TargetInstance, o: LoopOptions): Promise<RunResult> {
  const base = [...t.seeds, ...o.corpus];
  const discovered: Buffer[] = [];
  let discoveredBytes = 0;
  const pool: Buffer[] = [...base];
  const seen = new Set<string>();
  const ctx: MutationContext = { dictionary: t.dictionary ?? [], pool, maxLength: t.maxLength ?? 65536 };
  const failures = new Map<string, Failure>();
  const maxFailures = o.maxFailures ?? 20;
  const inputPeakMb = o.inputPeakMb ?? 256;
  const mem0 = process.memoryUsage();
  const rss = { start: mem0.rss, end: mem0.rss, peak: mem0.rss };
  let refused = 0;
  let hangs = 0;
  let slowestMs = 0;
  let slowestIndex = -1;
  const started = performance.now();
  let i = 0;
  const record = (kind: Failure['kind'], err: unknown, input: Buffer, index: number, ms?: number) => {
    const signature =
      kind === 'hang'
        ? HANG_SIGNATURE(o.timeBoundMs)
        : kind === 'memory'
          ? MEMORY_SIGNATURE(inputPeakMb)
          : signatureOf(err);
    if (failures.has(signature) || failures.size >= maxFailures) return;
    const { message, stack } = describe(err);
    failures.set(signature, {
      kind,
      signature,
      message,
      stack,
      seed: o.seed,
      index,
      input: Buffer.from(input),
      ...(ms !== undefined ? { ms: Math.round(ms) } : {}),
      ...(o.known?.has(signature) ? { known: true } : {}),
    });
  };
  for (; i < o.inputs; i++) {
    if (o.seconds !== undefined && (i & 63) === 0 && performance.now() - started > o.seconds * 1000) break;
    const rng = Rng.forInput(o.seed, i);
    const input = makeInput(t, rng, pool, ctx);
    o.before?.(i, input);
    let out = await runOne(t, input);
    if (out.ms > o.timeBoundMs) {
      // A busy machine can stall one run: a hang is an input that is slow twice (once is enough
      // when this target already has a hang on record).
      const again = failures.has(HANG_SIGNATURE(o.timeBoundMs)) ? out : await runOne(t, input);
      if (again.ms > o.timeBoundMs) {
        hangs++;
        record('hang', new Error(`${Math.round(again.ms)} ms`), input, i, again.ms);
      }
      out = again;
    }
    if (out.peakRise > inputPeakMb * 1024 * 1024)
      record('memory', new Error(`peak rss +${Math.round(out.peakRise / 1048576)} MiB`), input, i, out.ms);
    if (out.ms > slowestMs) {
      slowestMs = out.ms;
      slowestIndex = i;
    }
    if (out.failure) record(out.failure.kind, out.failure.err, input, i);
    else if (out.refused) refused++;
    else if (out.features !== undefined && seen.size < FEATURES_MAX) {
      let novel = false;
      for (const f of typeof out.features === 'string' ? [out.features] : out.features)
        if (!seen.has(f)) {
          seen.add(f);
          novel = true;
        }
      if (novel && input.length <= ctx.maxLength) {
        if (discovered.length < DISCOVERED_MAX && discoveredBytes + input.length <= DISCOVERED_BYTES) {
          discovered.push(input);
          discoveredBytes += input.length;
        } else if (discovered.length > 0) {
          const k = rng.int(discovered.length);
          discoveredBytes += input.length - discovered[k]!.length;
          discovered[k] = input;
        }
        pool.length = base.length;
        pool.push(...discovered);
      }
    }
    if ((i & 255) === 255) {
      // Let the event loop turn, as it does between a server's packets: Node defers some
      // cleanup (zlib handles of failed inflates) to process.nextTick.
      await new Promise<void>((resolve) => setImmediate(resolve));
      const m = process.memoryUsage.rss();
      if (m > rss.peak) rss.peak = m;
    }
    if ((i & 4095) === 4095 && t.invariant) {
      try {
        t.invariant();
      } catch (err) {
        record('check', err, input, i);
      }
    }
    if (o.progress && (i + 1) % (o.progressEvery ?? 10000) === 0) o.progress(i + 1);
  }
  if (t.invariant) {
    try {
      t.invariant();
    } catch (err) {
      record('check', err, Buffer.alloc(0), i);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const mem1 = process.memoryUsage();
  rss.end = mem1.rss;
  rss.peak = Math.max(rss.peak, mem1.rss);
  return {
    target: target.name,
    inputs: i,
    seconds,
    refused,
    failures: [...failures.values()],
    corpus: pool.length,
    slowestMs,
    slowestIndex,
    hangs,
    rss,
    heap: { start: mem0.heapUsed, end: mem1.heapUsed },
  };
}
