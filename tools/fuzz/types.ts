/**
 * What a fuzz target is (tools/fuzz/targets/*) and what a run reports. Every input is a byte
 * string: a target that needs structure reads it from the bytes (a mode byte, a chunking seed, a
 * layer index), so every input, crasher and corpus entry is one file of bytes.
 */
import type { Rng } from './rng';

/** Features an input exercised (constructor names, outcomes); a new one puts it in the corpus. */
export type Features = readonly string[] | string | undefined;

export interface SetupOptions {
  /** The run's seed: pools of generated valid objects are drawn from it. */
  seed: number;
  /** How many valid objects to generate for a target's seed pool (smaller for the short CI run). */
  poolSize: number;
}

export interface TargetInstance {
  /** Valid encodings built from real objects with Tern's encoders (the generated corpus). */
  seeds: Buffer[];
  /** 32-bit tokens the generic mutator inserts or overwrites with (constructor ids, tags). */
  dictionary?: readonly number[];
  /** Largest input the generic mutator produces (default 64 KiB). */
  maxLength?: number;
  /** A fresh input. */
  generate(rng: Rng): Buffer;
  /** A structure-aware mutation; undefined falls back to the generic mutator. */
  mutate?(rng: Rng, input: Buffer): Buffer | undefined;
  /**
   * Runs one input through real Tern code. Returns normally when the input was accepted or
   * refused the protocol's way; throws otherwise (FuzzCheckFailed for a wrong answer).
   */
  run(input: Buffer): Features | Promise<Features>;
  /** True when `err` is the protocol's refusal of bad input rather than a failure. */
  expected(err: unknown): boolean;
  /** Checked every few thousand inputs and at the end: state that must stay bounded. */
  invariant?(): void;
  close?(): void | Promise<void>;
}

export interface FuzzTarget {
  readonly name: string;
  /** One line: the Tern code it drives and what counts as a refusal. */
  readonly what: string;
  setup(options: SetupOptions): TargetInstance | Promise<TargetInstance>;
}

/** An oracle saw a wrong answer (not an exception of the code under test): always a failure. */
export class FuzzCheckFailed extends Error {
  override readonly name = 'FuzzCheckFailed';
}

/**
 * A failure of Tern code caught and named by the target (where it escaped, what the client
 * would see); `fuzzSignature` groups every input that hits the same bug. The original error is
 * the cause and its stack is kept.
 */
export class FuzzEscape extends Error {
  override readonly name: string;
  constructor(
    readonly fuzzSignature: string,
    message: string,
    cause: unknown,
  ) {
    super(message, { cause });
    this.name = cause instanceof Error ? cause.name : 'Error';
    if (cause instanceof Error && cause.stack)
      this.stack = `${this.name}: ${message}\n${cause.stack.split('\n').slice(1).join('\n')}`;
  }
}

export type FailureKind = 'crash' | 'check' | 'hang' | 'memory';

export interface Failure {
  kind: FailureKind;
  /** Error class, message with numbers blanked, and the first Tern frame: one per distinct bug. */
  signature: string;
  message: string;
  stack: string;
  seed: number;
  index: number;
  input: Buffer;
  ms?: number;
  /** Matches an open crasher kept under test/fuzz/crashers (reported, not new). */
  known?: boolean;
}

export interface RunResult {
  target: string;
  inputs: number;
  seconds: number;
  /** Inputs refused the protocol's way (expected errors). */
  refused: number;
  failures: Failure[];
  corpus: number;
  slowestMs: number;
  slowestIndex: number;
  /** Inputs over the time bound. */
  hangs: number;
  /** In-thread view: rss and heap at start, end, and the peak of the samples. */
  rss: { start: number; end: number; peak: number };
  heap: { start: number; end: number };
}

/** What run.ts hands a worker (worker.ts). */
export interface WorkerInput {
  target: string;
  inputs: number;
  seconds?: number;
  seed: number;
  timeBoundMs: number;
  inputPeakMb: number;
  poolSize: number;
  /** Int32Array view: [0] index, [1] input length, [2] phase (0 setup, 1 running, 2 done), [3] heartbeat. */
  control: SharedArrayBuffer;
  /** The current input's bytes (up to its size). */
  current: SharedArrayBuffer;
}

export const PHASE = { setup: 0, running: 1, done: 2 } as const;
