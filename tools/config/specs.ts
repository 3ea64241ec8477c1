/**
 * Every setting a Tern process reads, per command of `node dist/services/main.js <command>`, taken
 * from the code that reads them, never retyped: docs/configuration.md (reference.ts), the Helm
 * chart (tools/deploy) and the local stack (tools/stack/plan.ts) are checked against it.
 *
 * - A service reads what services/shared/src/service/runtime.ts `loadSettings` composes from its
 *   module: the common spec, the Cassandra, NATS and object-store specs its `needs` names, and
 *   its own `settings`. specs.test.ts checks this composition against `loadSettings` itself.
 * - `migrate` and `move-user` declare their reads inside their run functions, so those are run
 *   once against an environment that records every variable read and holds none: each stops
 *   with its configuration error before doing anything (see `recordReads`).
 * - Tracing reads OTEL_* before any spec is read (TELEMETRY_SPEC).
 */
import { authService } from '../../services/auth/src/service';
import { runMoveUser } from '../../services/auth/src/commands/move-user';
import { channelService } from '../../services/channel/src/service';
import { gatewayService } from '../../services/gateway/src/service';
import { mediaService } from '../../services/media/src/service';
import { messagingService } from '../../services/messaging/src/service';
import { runMigrate } from '../../services/shared/src/commands/migrate';
import { optionalStr } from '../../services/shared/src/config/env';
import { fileReferenceSpec } from '../../services/shared/src/files/file-reference';
import {
  cassandraSpec,
  commonSpec,
  natsSpec,
  objectStoreSpec,
} from '../../services/shared/src/service/settings';
import type { AnySetting, AnySpec } from './facts';

/** What specs.ts needs of a service module (services/shared/src/service/runtime.ts ServiceModule). */
export interface ServiceLike {
  readonly name: string;
  readonly needs: { readonly cassandra?: boolean; readonly nats?: boolean; readonly objects?: boolean };
  readonly settings?: unknown;
}

/** The service modules services/main.ts runs, one command each. */
export const SERVICE_MODULES: readonly ServiceLike[] = [
  gatewayService,
  authService,
  messagingService,
  channelService,
  mediaService,
];

/** The commands that finish, by name in services/main.ts, and how to run each without effect. */
const ONE_SHOT_COMMANDS: Readonly<Record<string, () => Promise<unknown>>> = {
  migrate: () => runMigrate(),
  // Any user and DC: the arguments are checked before the environment is read.
  'move-user': () => runMoveUser(['1', '1']),
};

/**
 * Read by services/shared/src/telemetry/tracing.ts straight from process.env, not through a spec:
 * services/main.ts starts tracing (telemetry/register.ts) before it loads any module that reads
 * one, because OpenTelemetry must instrument gRPC and Cassandra before they are first required.
 * register.ts starts it for every command but `migrate` (TRACED). The two sampler variables are
 * read by the OpenTelemetry SDK itself; they are listed so deployments find them (the chart's
 * `tracing.sampleRatio`, and `npm run stack` passes them on). The SDK reads its other standard
 * OTEL_* variables too; Tern sets none of them.
 */
export const TELEMETRY_SPEC: AnySpec = {
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalStr({
    describe: 'OTLP/gRPC endpoint of the trace collector (Jaeger); tracing is off when unset',
  }),
  OTEL_SERVICE_NAME: optionalStr({ describe: 'service name on the traces (default tern-<command>)' }),
  OTEL_TRACES_SAMPLER: optionalStr({
    describe:
      'which requests are traced (read by the OpenTelemetry SDK): unset, every one; parentbased_traceidratio, the share OTEL_TRACES_SAMPLER_ARG of them, decided where a trace starts (a gateway) and followed by every service it reaches. Tracing every request costs about a fifth of a busy process (docs/benchmarks.md)',
  }),
  OTEL_TRACES_SAMPLER_ARG: optionalStr({
    describe:
      "the sampler's argument: for parentbased_traceidratio the share of traces kept, 0 to 1 (0.1: one in ten)",
  }),
};
const TRACED = (command: string): boolean => command !== 'migrate';

/** One command and every variable it reads, in the order it reads them. */
export interface Command {
  name: string;
  /** A service (serves until stopped), or a command that finishes (`migrate`, `move-user`). */
  service: boolean;
  settings: ReadonlyMap<string, AnySetting>;
}

/** The spec `loadSettings` (services/shared/src/service/runtime.ts) reads for a service module. */
export function serviceSpec(mod: ServiceLike): AnySpec {
  return {
    ...commonSpec,
    ...(mod.needs.cassandra ? cassandraSpec : {}),
    ...(mod.needs.nats ? natsSpec : {}),
    ...(mod.needs.objects ? objectStoreSpec : {}),
    ...((mod.settings ?? {}) as AnySpec),
  };
}

/**
 * The specs settings come from, each with a title (docs/configuration.md groups its tables so);
 * a variable belongs to the first one that has it.
 */
export function specGroups(): Array<{ title: string; spec: AnySpec }> {
  return [
    { title: 'Every process', spec: commonSpec },
    { title: 'Cassandra', spec: cassandraSpec },
    { title: 'NATS', spec: natsSpec },
    { title: 'Object store (MinIO)', spec: objectStoreSpec },
    { title: 'File references', spec: fileReferenceSpec },
    ...SERVICE_MODULES.map((m) => ({ title: `${m.name} service`, spec: (m.settings ?? {}) as AnySpec })),
    { title: 'Tracing', spec: TELEMETRY_SPEC },
  ];
}

/** Every known setting by variable name; throws when two specs define one name differently. */
export function knownSettings(): Map<string, AnySetting> {
  const known = new Map<string, AnySetting>();
  for (const { title, spec } of specGroups()) {
    for (const [name, setting] of Object.entries(spec)) {
      const seen = known.get(name);
      if (seen && seen !== setting) throw new Error(`${name} is defined twice (again in "${title}")`);
      known.set(name, setting);
    }
  }
  return known;
}

/**
 * The names settings have. Only these are recorded: while a command runs, Node and its loaders
 * read variables of their own (tsx reads WATCH_REPORT_DEPENDENCIES when a module loads lazily).
 */
const SETTING_NAME = /^(TERN|OTEL)_[A-Z0-9_]+$/;

/** Thrown by a recorded command that did not stop at its configuration, or read nothing. */
class RecordingFailed extends Error {}

/**
 * Runs `run` with a process.env that holds nothing and records every variable read, until `run`
 * fails with its configuration error (status 78 in services/main.ts), which a command meets
 * before it connects to anything. Returns the names read, in order.
 */
export async function recordReads(what: string, run: () => Promise<unknown>): Promise<string[]> {
  const read: string[] = [];
  const note = (key: string | symbol): void => {
    if (typeof key === 'string' && SETTING_NAME.test(key) && !read.includes(key)) read.push(key);
  };
  const empty: NodeJS.ProcessEnv = new Proxy<NodeJS.ProcessEnv>(
    {},
    {
      get: (_t, key) => (note(key), undefined),
      has: (_t, key) => (note(key), false),
    },
  );
  const real = process.env;
  process.env = empty;
  let timer: NodeJS.Timeout | undefined;
  try {
    const outcome = await Promise.race([
      run().then(
        () => new RecordingFailed(`${what} ran to completion with an empty environment`),
        (err: unknown) => err,
      ),
      new Promise<Error>((resolve) => {
        timer = setTimeout(
          () => resolve(new RecordingFailed(`${what} did not stop at its configuration within 10 s`)),
          10_000,
        );
      }),
    ]);
    if (outcome instanceof RecordingFailed) throw outcome;
    if (!(outcome instanceof Error && outcome.name === 'ConfigError'))
      throw new RecordingFailed(
        `${what} failed with an empty environment, not with a ConfigError: ${String(outcome)}`,
      );
  } finally {
    clearTimeout(timer);
    process.env = real;
  }
  if (read.length === 0) throw new RecordingFailed(`${what} read no variable`);
  return read;
}

let cached: Promise<Command[]> | undefined;

/** Every command of services/main.ts and what it reads. */
export function loadCommands(): Promise<Command[]> {
  cached ??= buildCommands();
  return cached;
}

async function buildCommands(): Promise<Command[]> {
  const known = knownSettings();
  const withTelemetry = (name: string, spec: AnySpec): Map<string, AnySetting> =>
    new Map(Object.entries(TRACED(name) ? { ...spec, ...TELEMETRY_SPEC } : spec));
  const commands: Command[] = SERVICE_MODULES.map((mod) => ({
    name: mod.name,
    service: true,
    settings: withTelemetry(mod.name, serviceSpec(mod)),
  }));
  for (const [name, run] of Object.entries(ONE_SHOT_COMMANDS)) {
    const spec: Record<string, AnySetting> = {};
    for (const variable of await recordReads(name, run)) {
      const setting = known.get(variable);
      if (!setting)
        throw new Error(`${name} reads ${variable}, which no spec defines: add it to tools/config/specs.ts`);
      spec[variable] = setting;
    }
    commands.push({ name, service: false, settings: withTelemetry(name, spec) });
  }
  return commands;
}

/** The commands by name. */
export async function commandsByName(): Promise<Map<string, Command>> {
  return new Map((await loadCommands()).map((c) => [c.name, c]));
}
