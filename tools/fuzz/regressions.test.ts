/**
 * The fuzz corpus and crashers as regression cases, and a short fuzz run of every target (the CI
 * part of `npm run fuzz`; docs/fuzzing.md).
 *
 *  - every corpus entry (test/fuzz/corpus/<target>) runs without a failure;
 *  - every crasher (test/fuzz/crashers/<target>): a fixed one must now pass (no failure, within
 *    the time and memory bounds); an open one may still fail, but only the way it is recorded;
 *  - TERN_FUZZ_INPUTS inputs (default 2,000) of each target, seed TERN_FUZZ_SEED (default fixed,
 *    so CI is repeatable): no failure other than an open crasher's.
 */
import { openSignatures, readCorpus, readCrashers } from './corpus';
import { HANG_SIGNATURE, MEMORY_SIGNATURE, runOne, runTarget, signatureOf, type Outcome } from './loop';
import { allTargets } from './targets';
import type { TargetInstance } from './types';

const INPUTS = Number(process.env.TERN_FUZZ_INPUTS ?? 2000);
const SEED = Number(process.env.TERN_FUZZ_SEED ?? 20261201);
const TIME_BOUND_MS = Number(process.env.TERN_FUZZ_TIME_BOUND_MS ?? 1000);
const INPUT_PEAK_MB = 256;
const MB = 1024 * 1024;

/** What went wrong with one replayed input, as a failure signature (undefined: nothing). */
function problem(out: Outcome): string | undefined {
  if (out.failure) return signatureOf(out.failure.err);
  if (out.peakRise > INPUT_PEAK_MB * MB) return MEMORY_SIGNATURE(INPUT_PEAK_MB);
  if (out.ms > TIME_BOUND_MS) return HANG_SIGNATURE(TIME_BOUND_MS);
  return undefined;
}

describe.each(allTargets().map((t) => [t.name, t] as const))('fuzz target %s', (name, target) => {
  let t: TargetInstance;
  const known = openSignatures(name);

  beforeAll(async () => {
    t = await target.setup({ seed: SEED, poolSize: 16 });
  }, 120_000);

  afterAll(async () => {
    await t?.close?.();
  });

  it('runs its corpus without a failure', async () => {
    const failed: string[] = [];
    for (const input of readCorpus(name)) {
      const p = problem(await runOne(t, input));
      if (p !== undefined && !known.has(p)) failed.push(p);
    }
    expect(failed).toEqual([]);
  }, 60_000);

  const crashers = readCrashers(name);
  const byStatus = (open: boolean) => crashers.filter((c) => (c.info?.status === 'open') === open);

  const fixed = byStatus(false).map((c) => [c.name, c] as const);
  const open = byStatus(true).filter((c) => c.info?.kind === 'crash' || c.info?.kind === 'check');
  // Open hangs and memory blow-ups take seconds each and their outcome depends on the machine:
  // listed here, replayed with `run.ts --replay` until fixed.
  for (const c of byStatus(true).filter((x) => !open.includes(x)))
    it.todo(`open ${c.info!.kind} crasher ${c.name} (tools/fuzz/run.ts --replay; a fixed one must pass)`);

  if (fixed.length > 0)
    it.each(fixed)(
      'fixed crasher %s passes',
      async (_n, c) => {
        const out = await runOne(t, c.input);
        expect(problem(out)).toBeUndefined();
      },
      60_000,
    );

  if (open.length > 0)
    it.each(open.map((c) => [c.name, c] as const))(
      'open crasher %s fails only the recorded way (set its status to "fixed" once it passes)',
      async (_n, c) => {
        const out = await runOne(t, c.input);
        const p = problem(out);
        if (p !== undefined && !p.startsWith('hang:') && !p.startsWith('memory:'))
          expect(p).toBe(c.info!.signature);
      },
      60_000,
    );

  it(`survives ${INPUTS} inputs (seed ${SEED})`, async () => {
    const r = await runTarget(target, t, {
      inputs: INPUTS,
      seed: SEED,
      timeBoundMs: TIME_BOUND_MS,
      inputPeakMb: INPUT_PEAK_MB,
      corpus: readCorpus(name),
      known,
    });
    expect(r.inputs).toBe(INPUTS);
    expect(
      r.failures.filter((f) => !f.known).map((f) => `${f.kind} at input ${f.index}: ${f.signature}`),
    ).toEqual([]);
  }, 120_000);
});
