/**
 * The shared infrastructure of the local stack, each started as a plain program on 127.0.0.1:
 * NATS with JetStream, Cassandra 5 (on the machine's Java 17), MinIO and Jaeger v2. Each start
 * is idempotent: a program already running under its pid file is left alone and only probed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client as CqlClient } from 'cassandra-driver';
import { ensureCassandra, ensureTool } from './install';
import { INFRA, type LocalSecrets } from './plan';
import { paths } from './paths';
import { runningPid, startDetached } from './processes';
import { httpOk, waitUntil } from './wait';

const HOST = INFRA.host;

/** One infrastructure program: how to start it and how to know it really answers. */
export interface InfraComponent {
  readonly name: string;
  /** Seconds its graceful stop may take before it is killed. */
  readonly stopGraceMs: number;
  start(secrets: LocalSecrets): Promise<void>;
  ready(): Promise<void>;
}

async function startOnce(name: string, launch: () => Promise<void>): Promise<void> {
  if (runningPid(name) !== undefined) return;
  await launch();
}

export const nats: InfraComponent = {
  name: 'nats',
  stopGraceMs: 15_000,
  start: () =>
    startOnce('nats', async () => {
      const bin = await ensureTool('nats-server');
      const store = join(paths.data, 'nats');
      mkdirSync(store, { recursive: true });
      startDetached({
        name: 'nats',
        command: bin,
        args: [
          '--addr',
          HOST,
          '--port',
          String(INFRA.nats.port),
          '--http_port',
          String(INFRA.nats.monitorPort),
          '--jetstream',
          '--store_dir',
          store,
          '--server_name',
          'tern-local',
        ],
      });
    }),
  // /healthz with JetStream included answers 200 only once JetStream is usable.
  ready: () =>
    waitUntil('NATS JetStream', () => httpOk(`http://${HOST}:${INFRA.nats.monitorPort}/healthz`), {
      timeoutMs: 30_000,
      owner: 'nats',
    }),
};

export const minio: InfraComponent = {
  name: 'minio',
  stopGraceMs: 15_000,
  start: (secrets) =>
    startOnce('minio', async () => {
      const bin = await ensureTool('minio');
      const store = join(paths.data, 'minio');
      mkdirSync(store, { recursive: true });
      startDetached({
        name: 'minio',
        command: bin,
        args: [
          'server',
          store,
          '--address',
          `${HOST}:${INFRA.minio.port}`,
          '--console-address',
          `${HOST}:${INFRA.minio.consolePort}`,
          '--quiet',
        ],
        env: {
          ...process.env,
          MINIO_ROOT_USER: secrets.minio.accessKey,
          MINIO_ROOT_PASSWORD: secrets.minio.secretKey,
          MINIO_BROWSER_REDIRECT: 'off',
        },
      });
    }),
  ready: () =>
    waitUntil('MinIO', () => httpOk(`http://${HOST}:${INFRA.minio.port}/minio/health/ready`), {
      timeoutMs: 60_000,
      owner: 'minio',
    }),
};

export const jaeger: InfraComponent = {
  name: 'jaeger',
  stopGraceMs: 15_000,
  start: () =>
    startOnce('jaeger', async () => {
      const bin = await ensureTool('jaeger');
      const config = join(paths.config, 'jaeger.yaml');
      mkdirSync(paths.config, { recursive: true });
      writeFileSync(config, jaegerConfig());
      startDetached({ name: 'jaeger', command: bin, args: ['--config', config] });
    }),
  // The query API answering /api/services means the UI and the trace store are up; the OTLP
  // receiver starts before the query extension.
  ready: () =>
    waitUntil('Jaeger', () => httpOk(`http://${HOST}:${INFRA.jaeger.queryPort}/api/services`), {
      timeoutMs: 60_000,
      owner: 'jaeger',
    }),
};

/** Jaeger v2 is an OpenTelemetry Collector: an OTLP receiver feeding an in-memory trace store. */
function jaegerConfig(): string {
  const j = INFRA.jaeger;
  return `# Written by tools/stack/infra.ts for the local stack; edits are overwritten.
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: ${HOST}:${j.healthPort}
  jaeger_storage:
    backends:
      local_memory:
        memory:
          max_traces: 50000
  jaeger_query:
    storage:
      traces: local_memory
    http:
      endpoint: ${HOST}:${j.queryPort}
    grpc:
      endpoint: ${HOST}:${j.queryGrpcPort}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${HOST}:${j.otlpGrpcPort}
      http:
        endpoint: ${HOST}:${j.otlpHttpPort}
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: local_memory
`;
}

/** The heap Cassandra gets: small, a development node on a shared 2-core machine. */
const CASSANDRA_HEAP = '1G';

export const cassandra: InfraComponent = {
  name: 'cassandra',
  stopGraceMs: 60_000,
  start: () =>
    startOnce('cassandra', async () => {
      const install = await ensureCassandra();
      const home = join(paths.data, 'cassandra');
      mkdirSync(home, { recursive: true });
      mkdirSync(paths.config, { recursive: true });
      const yaml = join(paths.config, 'cassandra.yaml');
      const logback = join(paths.config, 'logback.xml');
      writeFileSync(yaml, cassandraYaml(home));
      writeFileSync(logback, cassandraLogback());
      startDetached({
        name: 'cassandra',
        command: 'java',
        args: [
          ...cassandraJvmArgs(),
          `-Dcassandra.config=file://${yaml}`,
          `-Dlogback.configurationFile=${logback}`,
          `-Dcassandra.storagedir=${home}`,
          `-Dcassandra.logdir=${paths.logs}`,
          '-cp',
          install.classpath,
          'org.apache.cassandra.service.CassandraDaemon',
        ],
      });
    }),
  ready: () =>
    waitUntil(
      'Cassandra (CQL)',
      async () => {
        const client = new CqlClient({
          contactPoints: [`${HOST}:${INFRA.cassandra.port}`],
          localDataCenter: INFRA.cassandra.localDc,
        });
        try {
          await client.connect();
          const rs = await client.execute('SELECT release_version FROM system.local');
          return rs.rows.length === 1;
        } finally {
          await client.shutdown();
        }
      },
      { timeoutMs: 240_000, owner: 'cassandra', everyMs: 2000 },
    ),
};

/**
 * JVM options Cassandra 5 needs on Java 17: the module system must open the JDK internals it
 * uses (the same set Cassandra's own jvm17-server.options lists), plus a small fixed heap.
 */
function cassandraJvmArgs(): string[] {
  const exports = [
    'java.base/jdk.internal.misc',
    'java.management.rmi/com.sun.jmx.remote.internal.rmi',
    'java.rmi/sun.rmi.registry',
    'java.rmi/sun.rmi.server',
    'java.sql/java.sql',
    'java.base/java.lang.ref',
    'jdk.unsupported/sun.misc',
    'jdk.compiler/com.sun.tools.javac.file',
    'jdk.attach/sun.tools.attach',
  ];
  const opens = [
    'java.base/java.lang.module',
    'java.base/jdk.internal.loader',
    'java.base/jdk.internal.ref',
    'java.base/jdk.internal.reflect',
    'java.base/jdk.internal.math',
    'java.base/jdk.internal.module',
    'java.base/jdk.internal.util.jar',
    'jdk.management/com.sun.management.internal',
    'java.base/sun.nio.ch',
    'java.base/java.io',
    'java.base/java.lang.reflect',
    'jdk.compiler/com.sun.tools.javac',
    'java.base/java.lang',
    'java.base/java.util',
  ];
  return [
    `-Xms${CASSANDRA_HEAP}`,
    `-Xmx${CASSANDRA_HEAP}`,
    '-Xss512k',
    '-XX:+UseG1GC',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djdk.attach.allowAttachSelf=true',
    '-Dio.netty.tryReflectionSetAccessible=true',
    '-Dcassandra-foreground=yes',
    // A single local node: no need to wait for gossip to settle or for peers.
    '-Dcassandra.skip_wait_for_gossip_to_settle=0',
    '-Dcassandra.ring_delay_ms=1000',
    ...exports.flatMap((e) => ['--add-exports', `${e}=ALL-UNNAMED`]),
    ...opens.flatMap((o) => ['--add-opens', `${o}=ALL-UNNAMED`]),
  ];
}

/**
 * Cassandra's configuration for the local node. The commit log is synced before a write is
 * acknowledged (`group`: one fsync per 2 ms window of writes; 15 ms made each sequential write
 * wait 15.6 ms and the box-transfer test time out): with `periodic`, a kill -9 lost
 * the last acknowledged writes, because a restart replays the log only up to its last sync marker
 * (found by `npm run chaos`: an acknowledged message missing, a hole in its box's pts; see
 * docs/reliability.md).
 */
function cassandraYaml(home: string): string {
  const c = INFRA.cassandra;
  return `# Written by tools/stack/infra.ts for the local stack; edits are overwritten.
cluster_name: tern-local
num_tokens: 16
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "${HOST}:${c.storagePort}"
listen_address: ${HOST}
rpc_address: ${HOST}
storage_port: ${c.storagePort}
native_transport_port: ${c.port}
start_native_transport: true
data_file_directories: [${join(home, 'data')}]
commitlog_directory: ${join(home, 'commitlog')}
saved_caches_directory: ${join(home, 'saved_caches')}
hints_directory: ${join(home, 'hints')}
cdc_raw_directory: ${join(home, 'cdc_raw')}
commitlog_sync: group
commitlog_sync_group_window: 2ms
disk_failure_policy: stop
commit_failure_policy: stop
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 8
memtable_heap_space: 128MiB
memtable_offheap_space: 128MiB
key_cache_size: 16MiB
# Lightweight transactions (used for unique ids and auth keys) on one node.
cas_contention_timeout: 2000ms
write_request_timeout: 5000ms
read_request_timeout: 10000ms
materialized_views_enabled: false
`;
}

function cassandraLogback(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by tools/stack/infra.ts: Cassandra logs WARN and above to its stdout (the stack's log file). -->
<configuration>
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{ISO8601} %-5level [%thread] %logger{0} %msg%n</pattern></encoder>
  </appender>
  <logger name="org.apache.cassandra.service.StorageService" level="INFO"/>
  <logger name="org.apache.cassandra.transport" level="INFO"/>
  <root level="WARN"><appender-ref ref="STDOUT"/></root>
</configuration>
`;
}

/** In start order: the message bus and the trace collector first, the slowest (Cassandra) overlaps them. */
export const INFRA_COMPONENTS: readonly InfraComponent[] = [cassandra, nats, minio, jaeger];
