/**
 * Graceful shutdown with a bound.
 *
 * Steps registered with `onShutdown` run in reverse order of registration (last
 * opened, first closed), each awaited; the whole sequence is raced against
 * TERN_SHUTDOWN_TIMEOUT_MS so a stuck dependency can never keep a pod in Terminating.
 * Hand-over steps (`onHandOver`) run together at the point the runtime places them: right
 * after health goes NOT_SERVING, before the gRPC server stops taking calls.
 */
import type { Logger } from '../log/logger';

type Step = { name: string; run: () => Promise<void> | void };

export class Lifecycle {
  private readonly steps: Step[] = [];
  private readonly handOvers: Step[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly log: Logger,
    private readonly timeoutMs: number,
  ) {}

  /** Registers a shutdown step; steps run last-registered-first. */
  onShutdown(name: string, run: Step['run']): void {
    this.steps.push({ name, run });
  }

  /**
   * Registers a step that gives this process's work to others while calls can still arrive and
   * be passed on (a messaging replica releasing its boxes), before the server drains.
   */
  onHandOver(name: string, run: Step['run']): void {
    this.handOvers.push({ name, run });
  }

  /** Runs the hand-over steps in registration order (the runtime's shutdown step 'hand over'). */
  async handOver(): Promise<void> {
    for (const step of this.handOvers) {
      try {
        await step.run();
        this.log.debug({ step: step.name }, 'hand-over step done');
      } catch (err) {
        this.log.warn({ step: step.name, err }, 'hand-over step failed');
      }
    }
  }

  /** Installs SIGTERM/SIGINT handlers that call `shutdown` and then exit. */
  installSignalHandlers(): void {
    const handler = (signal: NodeJS.Signals): void => {
      this.log.info({ signal }, 'shutdown requested');
      void this.shutdown().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGTERM', handler);
    process.once('SIGINT', handler);
  }

  /** Runs every step once; concurrent callers share the same run. */
  shutdown(): Promise<void> {
    this.stopping ??= this.runSteps();
    return this.stopping;
  }

  private async runSteps(): Promise<void> {
    const started = Date.now();
    const all = (async () => {
      for (const step of [...this.steps].reverse()) {
        try {
          await step.run();
          this.log.debug({ step: step.name }, 'shutdown step done');
        } catch (err) {
          this.log.warn({ step: step.name, err }, 'shutdown step failed');
        }
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.timeoutMs);
      timer.unref();
    });
    const outcome = await Promise.race([all.then(() => 'done' as const), timeout]);
    if (timer) clearTimeout(timer);
    if (outcome === 'timeout') {
      this.log.error({ timeoutMs: this.timeoutMs }, 'graceful shutdown timed out');
      throw new Error('graceful shutdown timed out');
    }
    this.log.info({ ms: Date.now() - started }, 'stopped');
  }
}
