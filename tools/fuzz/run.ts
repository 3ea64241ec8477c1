/**
 * `npm run fuzz`: every fuzz target (tools/fuzz/targets) for N inputs, each in a worker thread
 * watched from here for hangs and memory, then a table. docs/fuzzing.md says what counts as a
 * failure and how to keep a crasher.
 *
 *   npx tsx tools/fuzz/run.ts [--inputs N] [--target name[,name]] [--seconds S] [--seed S]
 *       [--time-bound-ms 1000] [--max-growth-mb 256] [--max-heap-growth-mb 64] [--max-peak-mb 1536] [--input-peak-mb 256] [--pool N]
 *       [--save-crashers] [--write-corpus] [--allow-known] [--list]
 *   npx tsx tools/fuzz/run.ts --target name --replay file.hex      (one input, with its stack)
 */
import { fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { openSignatures, readCorpus, readInput, writeCorpus, writeCrasher, writeInput } from './corpus';
import { runOne } from './loop';
import { allTargets, findTargets } from './targets';
import { PHASE, type Failure, type RunResult, type WorkerInput } from './types';

const USAGE =
  'usage: tsx tools/fuzz/run.ts [--inputs N] [--target a,b] [--seconds S] [--seed S] [--time-bound-ms MS]\n' +
  '       [--max-growth-mb MB] [--max-heap-growth-mb MB] [--max-peak-mb MB] [--input-peak-mb MB] [--pool N] [--save-crashers] [--write-corpus] [--allow-known]\n' +
  '       [--list] | --target name --replay file.hex';

interface Options {
  inputs: number;
  targets: string[];
  seconds?: number;
  seed: number;
  timeBoundMs: number;
  maxGrowthMb: number;
  maxHeapGrowthMb: number;
  maxPeakMb: number;
  inputPeakMb: number;
  poolSize: number;
  saveCrashers: boolean;
  writeCorpus: boolean;
  allowKnown: boolean;
  list: boolean;
  replay?: string;
  /** Internal: this process runs one target for a parent run.ts (fresh rss and peak figures). */
  child: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    inputs: 1_000_000,
    targets: [],
    seed: (Date.now() ^ (process.pid << 16)) >>> 0,
    timeBoundMs: 1000,
    maxGrowthMb: 256,
    maxHeapGrowthMb: 64,
    maxPeakMb: 1536,
    inputPeakMb: 256,
    poolSize: 400,
    saveCrashers: false,
    writeCorpus: false,
    allowKnown: false,
    list: false,
    child: false,
  };
  const num = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) usage(`${flag} needs a number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => argv[++i];
    switch (a) {
      case '--inputs':
        o.inputs = Math.floor(num(a, next()));
        break;
      case '--target':
        o.targets.push(...(next() ?? usage('--target needs a name')).split(',').filter(Boolean));
        break;
      case '--seconds':
        o.seconds = num(a, next());
        break;
      case '--seed':
        o.seed = num(a, next()) >>> 0;
        break;
      case '--time-bound-ms':
        o.timeBoundMs = num(a, next());
        break;
      case '--max-growth-mb':
        o.maxGrowthMb = num(a, next());
        break;
      case '--max-heap-growth-mb':
        o.maxHeapGrowthMb = num(a, next());
        break;
      case '--max-peak-mb':
        o.maxPeakMb = num(a, next());
        break;
      case '--input-peak-mb':
        o.inputPeakMb = num(a, next());
        break;
      case '--pool':
        o.poolSize = Math.floor(num(a, next()));
        break;
      case '--save-crashers':
        o.saveCrashers = true;
        break;
      case '--write-corpus':
        o.writeCorpus = true;
        break;
      case '--allow-known':
        o.allowKnown = true;
        break;
      case '--list':
        o.list = true;
        break;
      case '--child':
        o.child = true;
        break;
      case '--replay':
        o.replay = next() ?? usage('--replay needs a file');
        break;
      default:
        usage(`unknown argument ${a}`);
    }
  }
  return o;
}

function usage(message: string): never {
  process.stderr.write(`fuzz: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const MB = 1024 * 1024;
const mb = (n: number) => `${Math.round(n / MB)}`;

interface TargetReport {
  result?: RunResult;
  failures: Failure[];
  rss: { start: number; end: number; peak: number };
  heap?: { start: number; end: number };
  fatal?: string;
}

/** A worker evaluates this: tsx's CommonJS hook, then the worker module (TypeScript). */
function workerSource(): string {
  const tsx = require.resolve('tsx/cjs');
  return `require(${JSON.stringify(tsx)}); require(${JSON.stringify(join(__dirname, 'worker.ts'))});`;
}

async function runInWorker(name: string, o: Options): Promise<TargetReport> {
  const control = new SharedArrayBuffer(16);
  const current = new SharedArrayBuffer(2 * MB);
  const ctl = new Int32Array(control);
  const data: WorkerInput = {
    target: name,
    inputs: o.inputs,
    ...(o.seconds !== undefined ? { seconds: o.seconds } : {}),
    seed: o.seed,
    timeBoundMs: o.timeBoundMs,
    inputPeakMb: o.inputPeakMb,
    poolSize: o.poolSize,
    control,
    current,
  };
  const worker = new Worker(workerSource(), {
    eval: true,
    workerData: data,
    execArgv: [],
    // A cap near what a target needs (its schemas and caches, ~170 MiB, plus one large input) makes
    // "memory that grows without bound" testable: a leak ends in ERR_WORKER_OUT_OF_MEMORY, a
    // memory failure. Under a 4 GiB cap, V8 let the fastest targets' heaps fill with garbage it
    // had not collected yet: tl-api and convert-from-tl ended 1,000,000 inputs 380 and 317 MiB above
    // their start while their heaps after a forced GC had grown 30 and 2 MiB (docs/fuzzing.md).
    resourceLimits: { maxOldGenerationSizeMb: 512 },
  });
  const report: TargetReport = { failures: [], rss: { start: 0, end: 0, peak: 0 } };
  const currentInput = () => Buffer.from(new Uint8Array(current, 0, Atomics.load(ctl, 1)));
  const fail = (kind: Failure['kind'], signature: string, message: string) =>
    report.failures.push({
      kind,
      signature,
      message,
      stack: message,
      seed: o.seed,
      index: Atomics.load(ctl, 0),
      input: currentInput(),
    });
  // A hang: the worker has not started a new input for this long (the loop itself flags inputs
  // that finish but take longer than the time bound).
  const hangMs = Math.max(30 * o.timeBoundMs, 30_000);
  let beat = -1;
  let beatAt = Date.now();
  let stopped = false;
  return new Promise<TargetReport>((resolve) => {
    const watch = setInterval(() => {
      const rss = process.memoryUsage.rss();
      if (Atomics.load(ctl, 2) !== PHASE.running) return;
      if (report.rss.start === 0) report.rss.start = report.rss.peak = rss;
      report.rss.peak = Math.max(report.rss.peak, rss);
      if (!stopped && rss - report.rss.start > o.maxPeakMb * MB) {
        stopped = true;
        fail(
          'memory',
          `memory: rss over ${o.maxPeakMb} MiB above the start`,
          `rss ${mb(rss)} MiB at this input`,
        );
        void worker.terminate();
      }
      const b = Atomics.load(ctl, 3);
      if (b !== beat) {
        beat = b;
        beatAt = Date.now();
      } else if (!stopped && Date.now() - beatAt > hangMs) {
        stopped = true;
        fail('hang', `hang: no progress for ${hangMs} ms`, `input ${Atomics.load(ctl, 0)} still running`);
        void worker.terminate();
      }
    }, 50);
    worker.on(
      'message',
      (m: {
        type: string;
        done?: number;
        result?: RunResult;
        heap?: TargetReport['heap'];
        message?: string;
      }) => {
        if (m.type === 'progress' && process.stderr.isTTY)
          process.stderr.write(`  ${name}: ${m.done} inputs\r`);
        if (m.type === 'result') {
          report.rss.end = process.memoryUsage.rss();
          report.rss.peak = Math.max(report.rss.peak, report.rss.end);
          if (report.rss.start === 0) report.rss.start = m.result!.rss.start;
          report.result = m.result!;
          report.heap = m.heap!;
          // Buffers arrive as Uint8Arrays.
          report.failures.push(...m.result!.failures.map((f) => ({ ...f, input: Buffer.from(f.input) })));
          void worker.terminate();
        }
        if (m.type === 'fatal') {
          report.fatal = m.message!;
          void worker.terminate();
        }
      },
    );
    worker.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'ERR_WORKER_OUT_OF_MEMORY')
        fail('memory', 'memory: worker heap exhausted', err.message);
      else report.fatal = err.stack ?? err.message;
    });
    worker.on('exit', () => {
      clearInterval(watch);
      if (report.rss.end === 0) report.rss.end = process.memoryUsage.rss();
      resolve(report);
    });
  });
}

type WireReport = Omit<TargetReport, 'failures'> & {
  failures: Array<Omit<Failure, 'input'> & { input: string }>;
};

/**
 * Each target runs in a process of its own (this file with --child), which runs it in a worker:
 * rss figures and the peak-rss high-water mark then belong to that target alone.
 */
function runInChild(name: string, o: Options): Promise<TargetReport> {
  const args = [
    '--child',
    '--target',
    name,
    '--inputs',
    String(o.inputs),
    '--seed',
    String(o.seed),
    '--time-bound-ms',
    String(o.timeBoundMs),
    '--input-peak-mb',
    String(o.inputPeakMb),
    '--max-peak-mb',
    String(o.maxPeakMb),
    '--pool',
    String(o.poolSize),
    ...(o.seconds !== undefined ? ['--seconds', String(o.seconds)] : []),
  ];
  return new Promise((resolve) => {
    const child = fork(__filename, args, {
      execArgv: process.execArgv,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let report: TargetReport | undefined;
    child.on('message', (m: WireReport) => {
      report = { ...m, failures: m.failures.map((f) => ({ ...f, input: Buffer.from(f.input, 'hex') })) };
    });
    child.on('exit', (code, signal) =>
      resolve(
        report ?? {
          failures: [],
          rss: { start: 0, end: 0, peak: 0 },
          fatal: `child exited (${signal ?? code})`,
        },
      ),
    );
  });
}

async function child(o: Options): Promise<number> {
  const r = await runInWorker(o.targets[0]!, o);
  const wire: WireReport = {
    ...r,
    failures: r.failures.map((f) => ({ ...f, input: f.input.toString('hex') })),
  };
  await new Promise<void>((resolve) => process.send!(wire, () => resolve()));
  return 0;
}

function pad(s: string, n: number, left = false): string {
  return left ? s.padStart(n) : s.padEnd(n);
}

async function replay(o: Options): Promise<number> {
  const [target] = findTargets(o.targets);
  if (!target || o.targets.length !== 1) usage('--replay needs exactly one --target');
  const instance = await target.setup({ seed: o.seed, poolSize: 8 });
  const input = readInput(o.replay!);
  const out = await runOne(instance, input);
  process.stdout.write(
    `${target.name}: ${input.length} bytes, ${out.ms.toFixed(1)} ms, peak rss +${mb(out.peakRise)} MiB, `,
  );
  if (!out.failure) {
    process.stdout.write(out.refused ? 'refused (expected)\n' : 'accepted\n');
    return out.ms > o.timeBoundMs || out.peakRise > o.inputPeakMb * MB ? 1 : 0;
  }
  const err = out.failure.err;
  process.stdout.write(`${out.failure.kind}\n${err instanceof Error ? err.stack : String(err)}\n`);
  return 1;
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  if (o.list) {
    for (const t of allTargets()) process.stdout.write(`${pad(t.name, 22)} ${t.what}\n`);
    return 0;
  }
  if (o.replay) return replay(o);
  if (o.child) return child(o);
  const targets = findTargets(o.targets);
  process.stdout.write(
    `fuzz: ${targets.length} targets × ${o.inputs} inputs${o.seconds ? ` (≤ ${o.seconds} s each)` : ''}, seed ${o.seed}, ` +
      `time bound ${o.timeBoundMs} ms/input, one input's peak rss rise ≤ ${o.inputPeakMb} MiB, ` +
      `rss growth ≤ ${o.maxGrowthMb} MiB, heap growth after GC ≤ ${o.maxHeapGrowthMb} MiB, peak ≤ ${o.maxPeakMb} MiB\n` +
      `      reproduce: npx tsx tools/fuzz/run.ts --seed ${o.seed} --inputs ${o.inputs}${o.targets.length ? ` --target ${o.targets.join(',')}` : ''}\n\n`,
  );
  if (o.writeCorpus)
    for (const t of targets) {
      const instance = await t.setup({ seed: o.seed, poolSize: o.poolSize });
      const files = writeCorpus(t.name, instance.seeds);
      process.stdout.write(
        `corpus: ${files.length} files in test/fuzz/corpus/${t.name} (${readCorpus(t.name).length} there now)\n`,
      );
    }
  const head = [
    'target',
    'inputs',
    'seconds',
    'inputs/s',
    'refused',
    'failures',
    'rss start→end MiB',
    'growth',
    'peak',
    'heap Δ',
    'slowest ms',
  ];
  const widths = [20, 9, 8, 9, 8, 9, 18, 7, 6, 7, 10];
  process.stdout.write(head.map((c, i) => pad(c, widths[i]!, i > 0)).join(' ') + '\n');
  let bad = 0;
  const started = Date.now();
  for (const t of targets) {
    const r = await runInChild(t.name, o);
    const known = openSignatures(t.name);
    const res = r.result;
    const growth = r.rss.end - r.rss.start;
    if (res && growth > o.maxGrowthMb * MB)
      r.failures.push({
        kind: 'memory',
        signature: `memory: rss grew over ${o.maxGrowthMb} MiB`,
        message: `rss ${mb(r.rss.start)} → ${mb(r.rss.end)} MiB over the run`,
        stack: '',
        seed: o.seed,
        index: res.inputs,
        input: Buffer.alloc(0),
      });
    const heapGrowth = r.heap ? r.heap.end - r.heap.start : 0;
    if (res && heapGrowth > o.maxHeapGrowthMb * MB)
      r.failures.push({
        kind: 'memory',
        signature: `memory: heap after GC grew over ${o.maxHeapGrowthMb} MiB`,
        message: `heap ${mb(r.heap!.start)} → ${mb(r.heap!.end)} MiB after GC`,
        stack: '',
        seed: o.seed,
        index: res.inputs,
        input: Buffer.alloc(0),
      });
    for (const f of r.failures) if (known.has(f.signature)) f.known = true;
    const counted = r.failures.filter((f) => !(o.allowKnown && f.known));
    if (r.fatal || counted.length > 0) bad++;
    const cells = res
      ? [
          t.name,
          String(res.inputs),
          res.seconds.toFixed(1),
          String(Math.round(res.inputs / res.seconds)),
          `${((100 * res.refused) / Math.max(1, res.inputs)).toFixed(0)}%`,
          r.failures.length === 0
            ? '0'
            : `${r.failures.length}${r.failures.every((f) => f.known) ? ' known' : ''}`,
          `${mb(r.rss.start)}→${mb(r.rss.end)}`,
          `${growth >= 0 ? '+' : ''}${mb(growth)}`,
          mb(r.rss.peak - r.rss.start),
          `${heapGrowth >= 0 ? '+' : ''}${mb(heapGrowth)}`,
          res.slowestMs.toFixed(0),
        ]
      : [
          t.name,
          '-',
          '-',
          '-',
          '-',
          r.fatal ? 'FATAL' : String(r.failures.length),
          '-',
          '-',
          mb(r.rss.peak - r.rss.start),
          '-',
          '-',
        ];
    process.stdout.write(cells.map((c, i) => pad(c, widths[i]!, i > 0)).join(' ') + '\n');
    if (r.fatal) process.stdout.write(`  FATAL: ${r.fatal}\n`);
    for (const f of r.failures) {
      const dir = join(tmpdir(), 'tern-fuzz', t.name);
      let file: string;
      if (o.saveCrashers && !f.known && f.input.length > 0) file = writeCrasher(t.name, f);
      else {
        mkdirSync(dir, { recursive: true });
        file = writeInput(join(dir, `${f.kind}-${o.seed}-${f.index}`), f.input);
      }
      process.stdout.write(
        `  ${f.known ? 'known' : 'NEW'} ${f.kind} at input ${f.index} (seed ${f.seed})${f.ms ? `, ${f.ms} ms` : ''}: ${f.signature}\n` +
          `    input: ${file}\n` +
          `    ${f.stack.split('\n').slice(0, 6).join('\n    ')}\n`,
      );
    }
  }
  process.stdout.write(
    `\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s; ${bad === 0 ? 'no failures' : `${bad} target(s) failed`}` +
      `${o.allowKnown ? ' (known open crashers allowed)' : ''}\n`,
  );
  return bad === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
