/**
 * The one way a Tern service process runs. Every service is a {@link ServiceModule};
 * `runService` gives each the same life:
 *
 *   1. read and check ALL configuration (exit 78 naming every problem),
 *   2. logs, metrics endpoint, gRPC server with health = NOT_SERVING,
 *   3. connect dependencies (Cassandra + schema check, NATS, MinIO),
 *   4. let the module start its work, then health = SERVING,
 *   5. on SIGTERM: NOT_SERVING, stop taking calls, drain, close dependencies and
 *      exporters, all within TERN_SHUTDOWN_TIMEOUT_MS.
 *
 * Tracing was already started by services/main.ts before any instrumented module
 * was loaded.
 */
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { Server } from '@grpc/grpc-js';
import type { Client as CassandraClient } from 'cassandra-driver';
import type { Client as MinioClient } from 'minio';
import { ConfigError, readEnv, type HostPort, type SpecOf } from '../config/env';
import { dcOf, loadTopology, type DcTopology, type ServiceName, type Topology } from '../config/topology';
import { createLogger, type Logger } from '../log/logger';
import { initMetrics, serveMetrics } from '../metrics/metrics';
import { Health } from '../health/health';
import { Lifecycle } from '../lifecycle/lifecycle';
import { adaptService, bindServer, createServer, drainServer, type AsyncImplOf } from '../grpc/server';
import { PLAINTEXT, mutualTls, useTransportSecurity, type TransportSecurity } from '../grpc/tls';
import { identityUri, type Identity } from '../grpc/access';
import { EventBus } from '../nats/bus';
import { connectWithRetry, createCassandraClient, keyspacesFor } from '../cassandra/client';
import { assertMigrated, loadMigrations } from '../cassandra/migrate';
import { createObjectStore, filesBucketFor } from '../storage/objects';
import { stopTracing } from '../telemetry/tracing';
import { installProfilerSignal } from '../telemetry/cpu-profile';
import {
  cassandraSpec,
  commonSpec,
  natsSpec,
  objectStoreSpec,
  type CassandraEnv,
  type CommonSettings,
  type NatsEnv,
  type ObjectStoreEnv,
} from './settings';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { Events } from 'nats';

/** What a module may declare it needs; each `true` adds the matching dependency to its context. */
export interface Needs {
  cassandra?: true;
  nats?: true;
  objects?: true;
}

/** Sessions on this DC's keyspace and on the global keyspace. */
export interface CassandraSessions {
  dc: CassandraClient;
  global: CassandraClient;
}

/** This DC's object store and its files bucket. */
export interface ObjectStoreHandle {
  client: MinioClient;
  bucket: string;
}

/** The settings a module with needs `N` and own settings `Extra` reads. */
export type SettingsOf<Extra, N extends Needs> = CommonSettings &
  (N extends { cassandra: true } ? CassandraEnv : unknown) &
  (N extends { nats: true } ? NatsEnv : unknown) &
  (N extends { objects: true } ? ObjectStoreEnv : unknown) &
  Extra;

/** The dependencies a module with needs `N` is given: exactly those it declared, never optional. */
export type DepsOf<N extends Needs> = (N extends { cassandra: true }
  ? { cassandra: CassandraSessions }
  : unknown) &
  (N extends { nats: true } ? { bus: EventBus } : unknown) &
  (N extends { objects: true } ? { objects: ObjectStoreHandle } : unknown);

/** What a running module has at hand: its identity, settings, and the dependencies it declared. */
export type ServiceContext<Extra = Record<string, never>, N extends Needs = Needs> = {
  name: ServiceName;
  dcId: number;
  dc: DcTopology;
  topology: Topology;
  settings: SettingsOf<Extra, N>;
  log: Logger;
  lifecycle: Lifecycle;
} & DepsOf<N>;

/** The one gRPC service a module serves: its fully qualified name (for health) and generated definition. */
export interface GrpcServiceSpec<D extends ServiceDefinition> {
  fullName: string;
  definition: D;
}

/**
 * A service: what it needs, how its configuration is checked, and how it starts. Declare one with
 * {@link defineService} so `needs`, `settings` and the served definition type its context and its
 * implementation.
 */
export interface ServiceModule<Extra, N extends Needs, D extends ServiceDefinition> {
  name: ServiceName;
  /** The gRPC service served besides health (e.g. tern.auth.v1.AuthService); null for the gateway. */
  grpc: GrpcServiceSpec<D> | null;
  needs: N;
  /** Settings beyond the common ones and those of its needs. */
  settings?: SpecOf<Extra>;
  /**
   * Rules across settings (A is required when B is set, ...): one message per problem, naming the
   * setting. Runs with the per-setting checks, before anything binds or connects.
   */
  verify?: (settings: SettingsOf<Extra, N>, topology: Topology) => string[];
  /** Starts the module's work; returns the implementation of the service in `grpc`. */
  start(ctx: ServiceContext<Extra, N>): Promise<AsyncImplOf<D>>;
}

/** Declares a service module; exists only so TypeScript infers `Extra`, `N` and `D` from the object. */
export function defineService<
  Extra = Record<string, never>,
  N extends Needs = Needs,
  D extends ServiceDefinition = Record<never, never>,
>(mod: ServiceModule<Extra, N, D>): ServiceModule<Extra, N, D> {
  return mod;
}

/** Any module, as the runner and the configuration tools see it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the runner is generic over every module's types
export type AnyServiceModule = ServiceModule<any, Needs, ServiceDefinition>;

/** Where services/ lives at run time (dist/services or services), for migrations. */
export function servicesDir(): string {
  // This file is services/shared/src/service/runtime.(ts|js); migrations stay in the
  // source tree (services/<name>/migrations), which the image copies beside dist/.
  return join(
    __dirname,
    '..',
    '..',
    '..',
    '..',
    ...(__dirname.includes(`${'/'}dist${'/'}`) ? ['..', 'services'] : ['services']),
  );
}

/** Reads `spec` from `env`, adding its problems to `problems` instead of throwing. */
function readInto<T>(spec: SpecOf<T>, env: NodeJS.ProcessEnv, problems: string[]): T | undefined {
  try {
    return readEnv(spec, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
    return undefined;
  }
}

/** Settings as read for a module, with the parts its dependencies need kept apart and typed. */
export interface LoadedSettings<Extra, N extends Needs> {
  settings: SettingsOf<Extra, N>;
  topology: Topology;
  cassandra?: CassandraEnv;
  nats?: NatsEnv;
  objects?: ObjectStoreEnv;
}

/**
 * The one configuration phase: reads and checks every setting the module needs (common, its
 * dependencies', its own), the topology file, then the module's cross-setting `verify`; throws one
 * ConfigError naming every problem. Nothing binds or connects before this has passed.
 */
export function loadSettings<Extra, N extends Needs>(
  mod: { name: string } & Pick<ServiceModule<Extra, N, ServiceDefinition>, 'needs' | 'settings' | 'verify'>,
  env = process.env,
): LoadedSettings<Extra, N> {
  const problems: string[] = [];
  const common = readInto(commonSpec, env, problems);
  const cassandra = mod.needs.cassandra ? readInto(cassandraSpec, env, problems) : undefined;
  const nats = mod.needs.nats ? readInto(natsSpec, env, problems) : undefined;
  const objects = mod.needs.objects ? readInto(objectStoreSpec, env, problems) : undefined;
  const extra = mod.settings ? readInto(mod.settings, env, problems) : ({} as Extra);
  let topology: Topology | undefined;
  const topoPath = env.TERN_TOPOLOGY_FILE?.trim();
  if (topoPath) {
    try {
      topology = loadTopology(topoPath);
      const dcId = Number(env.TERN_DC_ID);
      if (Number.isInteger(dcId) && !topology.dcs.some((d) => d.id === dcId))
        problems.push(`TERN_DC_ID ${dcId} is not a DC of the topology in ${topoPath}`);
    } catch (err) {
      problems.push(`TERN_TOPOLOGY_FILE: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0 || !common || !topology || extra === undefined) throw new ConfigError(problems);
  // Each part was read by the spec its need selects, so the union is SettingsOf<Extra, N>.
  const settings = { ...common, ...cassandra, ...nats, ...objects, ...extra } as SettingsOf<Extra, N>;
  const crossProblems = [...verifyCommon(settings, topology), ...(mod.verify?.(settings, topology) ?? [])];
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);
  return { settings, topology, cassandra, nats, objects };
}

/** Rules across the settings every process reads. */
function verifyCommon(settings: CommonSettings, topology: Topology): string[] {
  const problems: string[] = [];
  // Test numbers sign in with a code anyone can compute (docs: "Testing Redirects").
  if (settings.TERN_PRODUCTION && topology.testMode)
    problems.push(
      `TERN_TOPOLOGY_FILE ${settings.TERN_TOPOLOGY_FILE} has "testMode": true (test phone numbers with known codes): it is refused with TERN_PRODUCTION=true`,
    );
  // Plaintext gRPC lets anything that reaches a port act as any service (docs/security.md).
  if (settings.TERN_PRODUCTION && !settings.TERN_TLS_DIR)
    problems.push(
      'TERN_TLS_DIR is unset (plaintext gRPC between services): it is refused with TERN_PRODUCTION=true; mount the process certificate (ca.crt, tls.crt, tls.key) and set TERN_TLS_DIR',
    );
  return problems;
}

/**
 * This process's transport security from TERN_TLS_DIR (grpc/tls.ts), checked against who the
 * process is: a certificate of another service or DC is a deployment mistake, refused at start.
 */
export function transportSecurityFor(dir: string | undefined, expected: Identity): TransportSecurity {
  if (!dir) return PLAINTEXT;
  let security: TransportSecurity;
  try {
    security = mutualTls(dir);
  } catch (err) {
    throw new ConfigError([`TERN_TLS_DIR: ${(err as Error).message}`]);
  }
  const got = security.identity!;
  if (identityUri(got) !== identityUri(expected))
    throw new ConfigError([
      `TERN_TLS_DIR ${dir}: the certificate names ${identityUri(got)}, but this process is ${identityUri(expected)}`,
    ]);
  return security;
}

/** Runs `mod` as this process's service until SIGTERM. */
export async function runService<Extra, N extends Needs, D extends ServiceDefinition>(
  mod: ServiceModule<Extra, N, D>,
): Promise<void> {
  const loaded = loadSettings(mod);
  const { settings, topology } = loaded;
  applyHeapGrowth(settings.TERN_HEAP_GROWING_PERCENT);
  const dc = dcOf(topology, settings.TERN_DC_ID);
  useTransportSecurity(
    transportSecurityFor(settings.TERN_TLS_DIR, { kind: 'service', service: mod.name, dcId: dc.id }),
  );
  const log = createLogger({
    level: settings.TERN_LOG_LEVEL,
    base: { service: mod.name, dc: settings.TERN_DC_ID },
  });
  const lifecycle = new Lifecycle(log, settings.TERN_SHUTDOWN_TIMEOUT_MS);
  lifecycle.installSignalHandlers();
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  lifecycle.onShutdown('tracing', () => stopTracing());
  const stopProfiler = installProfilerSignal({
    dir: settings.TERN_PROFILE_DIR,
    label: `${mod.name}-dc${settings.TERN_DC_ID}`,
    log,
  });
  lifecycle.onShutdown('cpu profile', stopProfiler);

  initMetrics({ service: mod.name, dc: String(settings.TERN_DC_ID) });
  const health = new Health(mod.grpc ? [mod.grpc.fullName] : []);
  const metricsServer = await serveMetrics(
    settings.TERN_METRICS_LISTEN ?? { host: '0.0.0.0', port: 9400 },
    () => health.current === 'SERVING',
  );
  lifecycle.onShutdown('metrics', () => new Promise<void>((r) => metricsServer.close(() => r())));

  const server: Server = createServer();
  health.addTo(server);
  const ready: { impl?: AsyncImplOf<D> } = {};
  // The service is registered up front (grpc-js wants it before binding); each call looks up the
  // implementation, which exists once start() has returned.
  if (mod.grpc)
    server.addService(
      mod.grpc.definition,
      adaptService(mod.grpc.definition, () => ready.impl, log, { service: mod.name, dcId: dc.id }),
    );
  const listen: HostPort = settings.TERN_GRPC_LISTEN ?? { host: '0.0.0.0', port: dc.services[mod.name].port };
  await bindServer(server, listen);
  log.info({ listen, health: 'NOT_SERVING' }, 'gRPC listening; connecting dependencies');

  const deps: { cassandra?: CassandraSessions; bus?: EventBus; objects?: ObjectStoreHandle } = {};
  if (loaded.cassandra) deps.cassandra = await connectCassandra(loaded.cassandra, dc.id, log, lifecycle);
  if (loaded.nats) {
    const bus = await EventBus.connect({
      servers: loaded.nats.TERN_NATS_URL.split(','),
      name: `tern-${mod.name}-dc${dc.id}`,
      log,
      storage: {
        replicas: loaded.nats.TERN_NATS_REPLICAS,
        cluster: loaded.nats.TERN_NATS_PLACEMENT_CLUSTER,
      },
    });
    lifecycle.onShutdown('nats', () => bus.close());
    watchBus(bus, health);
    deps.bus = bus;
  }
  if (loaded.objects) deps.objects = await openObjectStore(loaded.objects, dc.id);
  // `deps` holds exactly what `mod.needs` asked for (each branch above follows one need).
  const ctx = {
    name: mod.name,
    dcId: dc.id,
    dc,
    topology,
    settings,
    log,
    lifecycle,
    ...deps,
  } as ServiceContext<Extra, N>;

  ready.impl = await mod.start(ctx);
  // Shutdown runs steps in reverse: health goes NOT_SERVING first, then the server drains the
  // calls in flight, and only then do the module's own steps and the stores (NATS, Cassandra,
  // registered earlier) close — closing them first failed in-flight calls with INTERNAL.
  lifecycle.onShutdown('grpc', () => drainServer(server, Math.floor(settings.TERN_SHUTDOWN_TIMEOUT_MS / 2)));
  // Work handed to other replicas before the drain, while calls can still reach this process and
  // be passed on to the new owners.
  lifecycle.onShutdown('hand over', () => lifecycle.handOver());
  lifecycle.onShutdown('health', () => health.enter('stopping'));
  health.enter('started');
  log.info({ listen }, 'SERVING');
}

/**
 * Lets the old generation grow by `percent` of the live heap after a full GC. With V8's own
 * factor, a service's ~50 MB heap got a limit only 12–20 MB above it, less than the young
 * generation can promote, so incremental marking restarted as soon as it ended: under a file
 * download, 55% of the gateway's CPU went to full GCs that freed under 1 MB each
 * (docs/decisions/0019-heap-growth.md). The flag is read at run time by V8's heap controller.
 */
function applyHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}

async function openObjectStore(o: ObjectStoreEnv, dcId: number): Promise<ObjectStoreHandle> {
  const client = createObjectStore({
    endpoint: o.TERN_MINIO_ENDPOINT,
    accessKey: o.TERN_MINIO_ACCESS_KEY,
    secretKey: o.TERN_MINIO_SECRET_KEY,
    bucketPrefix: o.TERN_MINIO_BUCKET_PREFIX,
  });
  const bucket = filesBucketFor(o.TERN_MINIO_BUCKET_PREFIX, dcId);
  if (!(await client.bucketExists(bucket)))
    throw new Error(`bucket ${bucket} does not exist (run: node dist/services/main.js migrate)`);
  return { client, bucket };
}

async function connectCassandra(s: CassandraEnv, dcId: number, log: Logger, lifecycle: Lifecycle) {
  const ks = keyspacesFor(s.TERN_CASSANDRA_KEYSPACE_PREFIX, dcId);
  const base = {
    contactPoints: s.TERN_CASSANDRA_CONTACT_POINTS,
    localDc: s.TERN_CASSANDRA_LOCAL_DC,
    keyspacePrefix: s.TERN_CASSANDRA_KEYSPACE_PREFIX,
    username: s.TERN_CASSANDRA_USERNAME,
    password: s.TERN_CASSANDRA_PASSWORD,
  };
  const dc = createCassandraClient(base, ks.dc);
  const global = createCassandraClient(base, ks.global);
  lifecycle.onShutdown('cassandra', async () => {
    await Promise.all([dc.shutdown(), global.shutdown()]);
  });
  await connectWithRetry(dc);
  await connectWithRetry(global);
  await assertMigrated(dc, ks.dc, loadMigrations(servicesDir(), 'dc'));
  await assertMigrated(global, ks.global, loadMigrations(servicesDir(), 'global'));
  log.info({ keyspaces: ks }, 'cassandra connected, schema current');
  return { dc, global } satisfies CassandraSessions;
}

/** A NATS outage makes the process NOT_SERVING until the client reconnects (see Health). */
function watchBus(bus: EventBus, health: Health): void {
  void (async () => {
    for await (const s of bus.nc.status()) {
      if (s.type === Events.Disconnect) health.dependency('nats', false);
      if (s.type === Events.Reconnect) health.dependency('nats', true);
    }
  })();
}
