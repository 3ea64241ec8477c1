/**
 * One target's fuzz loop in a worker thread (started by run.ts). Before each input it publishes
 * the input's index and bytes in shared memory, so the main thread's watchdog can name the input
 * that hangs or blows memory up, and stop the worker.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { openSignatures, readCorpus, readCrashers } from './corpus';
import { runTarget } from './loop';
import { findTargets } from './targets';
import { PHASE, type WorkerInput } from './types';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function main(): Promise<void> {
  const w = workerData as WorkerInput;
  const control = new Int32Array(w.control);
  const current = new Uint8Array(w.current);
  const [target] = findTargets([w.target]);
  const instance = await target!.setup({ seed: w.seed, poolSize: w.poolSize });
  // Fixed crashers join the corpus; open ones would spend the run on the bug already known.
  const fixed = readCrashers(target!.name).filter((c) => c.info?.status !== 'open');
  const corpus = [...readCorpus(target!.name), ...fixed.map((c) => c.input)];
  gc();
  const heapStart = process.memoryUsage().heapUsed;
  parentPort!.postMessage({ type: 'ready' });
  Atomics.store(control, 2, PHASE.running);
  const result = await runTarget(target!, instance, {
    inputs: w.inputs,
    ...(w.seconds !== undefined ? { seconds: w.seconds } : {}),
    seed: w.seed,
    timeBoundMs: w.timeBoundMs,
    inputPeakMb: w.inputPeakMb,
    corpus,
    known: openSignatures(target!.name),
    before: (index, input) => {
      Atomics.store(control, 0, index);
      const n = Math.min(input.length, current.length);
      current.set(input.subarray(0, n));
      Atomics.store(control, 1, n);
      Atomics.add(control, 3, 1);
    },
    progress: (done) => parentPort!.postMessage({ type: 'progress', done }),
    progressEvery: 50_000,
  });
  Atomics.store(control, 2, PHASE.done);
  await instance.close?.();
  gc();
  const heapEnd = process.memoryUsage().heapUsed;
  parentPort!.postMessage({ type: 'result', result, heap: { start: heapStart, end: heapEnd } });
}

main().catch((err: unknown) => {
  parentPort!.postMessage({
    type: 'fatal',
    message: err instanceof Error ? (err.stack ?? err.message) : String(err),
  });
});
