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
import type { Server } from '@grpc/grpc-js';
import type { Client as CassandraClient } from 'cassandra-driver';
import type { Client as MinioClient } from 'minio';
import { ConfigError, readEnv, type HostPort, type SpecOf } from '../config/env';
import { dcOf, loadTopology, type DcTopology, type ServiceName, type Topology } from '../config/topology';
import { createLogger, type Logger } from '../log/logger';
import { initMetrics, serveMetrics } from '../metrics/metrics';
import { Health } from '../health/health';
import { Lifecycle } from '../lifecycle/lifecycle';
import { adaptService, bindServer, createServer, drainServer, type AsyncService } from '../grpc/server';
import { EventBus } from '../nats/bus';
import { connectWithRetry, createCassandraClient, keyspacesFor } from '../cassandra/client';
import { assertMigrated, loadMigrations } from '../cassandra/migrate';
import { createObjectStore, filesBucketFor } from '../storage/objects';
import { stopTracing } from '../telemetry/tracing';
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

/** One gRPC service a module serves: its fully qualified name (for health) and generated definition. */
export interface GrpcServiceSpec {
  fullName: string;
  definition: ServiceDefinition;
}

/** Implementations returned by `start`, keyed by fully qualified service name. */
export type ServiceImpls = Record<string, Partial<AsyncService<unknown>> | object>;

/** What a running module has at hand. */
export interface ServiceContext<Extra = Record<string, never>> {
  name: ServiceName;
  dcId: number;
  dc: DcTopology;
  topology: Topology;
  settings: CommonSettings & Extra;
  log: Logger;
  lifecycle: Lifecycle;
  /** Sessions on this DC's keyspace and on the global keyspace (when `needs.cassandra`). */
  cassandra?: { dc: CassandraClient; global: CassandraClient };
  bus?: EventBus;
  objects?: { client: MinioClient; bucket: string };
}

/** A service: what it needs and how it starts. */
export interface ServiceModule<Extra = Record<string, never>> {
  name: ServiceName;
  /** The gRPC services served (besides health), e.g. tern.auth.v1.AuthService. */
  grpc: GrpcServiceSpec[];
  needs: { cassandra?: boolean; nats?: boolean; objects?: boolean };
  /** Settings beyond the common ones. */
  settings?: SpecOf<Extra>;
  /** Starts the module's work; returns the implementation of every service in `grpc`. */
  start(ctx: ServiceContext<Extra>): Promise<ServiceImpls>;
}

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

/** Reads and checks every setting the module needs, including the topology file. */
export function loadSettings<Extra>(
  mod: { name: string; needs: ServiceModule['needs']; settings?: SpecOf<Extra> },
  env = process.env,
) {
  const spec = {
    ...commonSpec,
    ...(mod.needs.cassandra ? cassandraSpec : {}),
    ...(mod.needs.nats ? natsSpec : {}),
    ...(mod.needs.objects ? objectStoreSpec : {}),
    ...(mod.settings ?? {}),
  } as SpecOf<CommonSettings & Partial<CassandraEnv & NatsEnv & ObjectStoreEnv> & Extra>;
  const problems: string[] = [];
  let settings: (CommonSettings & Partial<CassandraEnv & NatsEnv & ObjectStoreEnv> & Extra) | undefined;
  try {
    settings = readEnv(spec, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
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
  if (problems.length > 0 || !settings || !topology) throw new ConfigError(problems);
  return { settings, topology };
}

/** Runs `mod` as this process's service until SIGTERM. */
export async function runService<Extra>(mod: ServiceModule<Extra>): Promise<void> {
  const { settings, topology } = loadSettings(mod);
  const dc = dcOf(topology, settings.TERN_DC_ID);
  const log = createLogger({
    level: settings.TERN_LOG_LEVEL,
    base: { service: mod.name, dc: settings.TERN_DC_ID },
  });
  const lifecycle = new Lifecycle(log, settings.TERN_SHUTDOWN_TIMEOUT_MS);
  lifecycle.installSignalHandlers();
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
  lifecycle.onShutdown('tracing', () => stopTracing());

  initMetrics({ service: mod.name, dc: String(settings.TERN_DC_ID) });
  const metricsServer = await serveMetrics(settings.TERN_METRICS_LISTEN ?? { host: '0.0.0.0', port: 9400 });
  lifecycle.onShutdown('metrics', () => new Promise<void>((r) => metricsServer.close(() => r())));

  const health = new Health(mod.grpc.map((g) => g.fullName));
  const server: Server = createServer();
  health.addTo(server);
  const ready: { impls?: ServiceImpls } = {};
  // Services are registered up front (grpc-js wants them before binding); each call
  // looks up the implementation, which exists once start() has returned.
  for (const { fullName, definition } of mod.grpc) {
    server.addService(
      definition,
      adaptService(
        definition,
        () => ready.impls?.[fullName] as Partial<AsyncService<unknown>> | undefined,
        log,
      ),
    );
  }
  const listen: HostPort = settings.TERN_GRPC_LISTEN ?? { host: '0.0.0.0', port: dc.services[mod.name].port };
  await bindServer(server, listen);
  log.info({ listen, health: 'NOT_SERVING' }, 'gRPC listening; connecting dependencies');

  const ctx: ServiceContext<Extra> = { name: mod.name, dcId: dc.id, dc, topology, settings, log, lifecycle };
  if (mod.needs.cassandra)
    ctx.cassandra = await connectCassandra(settings as unknown as CassandraEnv, dc.id, log, lifecycle);
  if (mod.needs.nats) {
    const bus = await EventBus.connect({
      servers: (settings as unknown as NatsEnv).TERN_NATS_URL.split(','),
      name: `tern-${mod.name}-dc${dc.id}`,
      log,
    });
    lifecycle.onShutdown('nats', () => bus.close());
    watchBus(bus, health);
    ctx.bus = bus;
  }
  if (mod.needs.objects) {
    const o = settings as unknown as ObjectStoreEnv;
    const client = createObjectStore({
      endpoint: o.TERN_MINIO_ENDPOINT,
      accessKey: o.TERN_MINIO_ACCESS_KEY,
      secretKey: o.TERN_MINIO_SECRET_KEY,
      bucketPrefix: o.TERN_MINIO_BUCKET_PREFIX,
    });
    const bucket = filesBucketFor(o.TERN_MINIO_BUCKET_PREFIX, dc.id);
    if (!(await client.bucketExists(bucket)))
      throw new Error(`bucket ${bucket} does not exist (run: node dist/services/main.js migrate)`);
    ctx.objects = { client, bucket };
  }

  const started = await mod.start(ctx);
  const missing = mod.grpc.filter((g) => !(g.fullName in started)).map((g) => g.fullName);
  if (missing.length > 0) throw new Error(`${mod.name} did not implement ${missing.join(', ')}`);
  ready.impls = started;
  // Shutdown runs steps in reverse: health goes NOT_SERVING first, then the server drains the
  // calls in flight, and only then do the module's own steps and the stores (NATS, Cassandra,
  // registered earlier) close — closing them first failed in-flight calls with INTERNAL.
  lifecycle.onShutdown('grpc', () => drainServer(server, Math.floor(settings.TERN_SHUTDOWN_TIMEOUT_MS / 2)));
  lifecycle.onShutdown('health', () => health.set('NOT_SERVING'));
  health.set('SERVING');
  log.info({ listen }, 'SERVING');
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
  return { dc, global };
}

/** NATS outages flip health to NOT_SERVING until the client reconnects. */
function watchBus(bus: EventBus, health: Health): void {
  void (async () => {
    for await (const s of bus.nc.status()) {
      if (s.type === Events.Disconnect && health.current === 'SERVING') health.set('NOT_SERVING');
      if (s.type === Events.Reconnect && health.current === 'NOT_SERVING') health.set('SERVING');
    }
  })();
}
