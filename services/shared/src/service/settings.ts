/**
 * The settings every Tern process reads (docs/configuration.md is the reference).
 */
import {
  bool,
  hostPorts,
  int,
  json,
  oneOf,
  optionalHostPort,
  optionalStr,
  str,
  url,
  settingProblem,
  type SpecOf,
  type HostPort,
} from '../config/env';

/** Settings shared by every service process. */
export interface CommonSettings {
  TERN_DC_ID: number;
  TERN_TOPOLOGY_FILE: string;
  TERN_GRPC_LISTEN: HostPort | undefined;
  TERN_METRICS_LISTEN: HostPort | undefined;
  TERN_LOG_LEVEL: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  TERN_SHUTDOWN_TIMEOUT_MS: number;
  TERN_PRODUCTION: boolean;
  TERN_PROFILE_DIR: string;
  TERN_HEAP_GROWING_PERCENT: number;
  TERN_TLS_DIR: string | undefined;
}

export const commonSpec: SpecOf<CommonSettings> = {
  TERN_DC_ID: int({ min: 1, max: 1000, describe: 'this process’s data center id' }),
  TERN_TOPOLOGY_FILE: str({ describe: 'path of the topology JSON file' }),
  TERN_GRPC_LISTEN: optionalHostPort({ describe: 'gRPC listen address host:port' }),
  TERN_METRICS_LISTEN: optionalHostPort({ describe: 'Prometheus /metrics listen address host:port' }),
  TERN_LOG_LEVEL: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const, {
    default: 'info',
    describe: 'log level',
  }),
  TERN_SHUTDOWN_TIMEOUT_MS: int({
    default: 10_000,
    min: 100,
    max: 120_000,
    describe: 'graceful shutdown bound in ms',
  }),
  TERN_PRODUCTION: bool({ default: false, describe: 'production mode (no development conveniences)' }),
  TERN_HEAP_GROWING_PERCENT: int({
    default: 100,
    min: 0,
    max: 400,
    describe:
      'V8 old-generation growth after a full GC, in percent of the live heap (0: V8 decides); docs/decisions/0019-heap-growth.md',
  }),
  TERN_TLS_DIR: optionalStr({
    describe:
      'directory with ca.crt, tls.crt and tls.key (a Kubernetes TLS Secret): mutual TLS for all gRPC between Tern processes, certificate naming spiffe://tern/dc/<id>/<service>; unset = plaintext, refused with TERN_PRODUCTION',
  }),
  TERN_PROFILE_DIR: str({
    default: '/tmp',
    describe:
      'where a service writes CPU profiles on SIGUSR2 (the first signal starts one, the second writes it)',
  }),
};

export interface CassandraEnv {
  TERN_CASSANDRA_CONTACT_POINTS: HostPort[];
  TERN_CASSANDRA_LOCAL_DC: string;
  TERN_CASSANDRA_KEYSPACE_PREFIX: string;
  TERN_CASSANDRA_USERNAME: string | undefined;
  TERN_CASSANDRA_PASSWORD: string | undefined;
  TERN_CASSANDRA_REPLICATION: Record<string, string | number>;
  TERN_CASSANDRA_GLOBAL_REPLICATION: Record<string, string | number> | null;
}

/** A keyspace replication map: a JSON object with a "class". */
function replicationMap(v: unknown): Record<string, string | number> {
  if (!v || typeof v !== 'object' || typeof (v as Record<string, unknown>).class !== 'string')
    settingProblem('must be a JSON object with a "class"');
  return v as Record<string, string | number>;
}

export const cassandraSpec: SpecOf<CassandraEnv> = {
  TERN_CASSANDRA_CONTACT_POINTS: hostPorts({ describe: 'Cassandra contact points host:port,...' }),
  TERN_CASSANDRA_LOCAL_DC: str({ default: 'datacenter1', describe: 'Cassandra local datacenter name' }),
  TERN_CASSANDRA_KEYSPACE_PREFIX: str({ default: 'tern', describe: 'keyspace name prefix' }),
  TERN_CASSANDRA_USERNAME: optionalStr({ describe: 'Cassandra user' }),
  TERN_CASSANDRA_PASSWORD: optionalStr({ describe: 'Cassandra password', secret: true }),
  TERN_CASSANDRA_REPLICATION: json({
    default: { class: 'SimpleStrategy', replication_factor: 1 },
    describe: "replication map for new keyspaces (the DC's own)",
    check: replicationMap,
  }),
  // Across regions the DC keyspace stays in its region and the global one (the user directory,
  // usernames) is in every region: docs/deploy.md, "Production topology".
  TERN_CASSANDRA_GLOBAL_REPLICATION: json<Record<string, string | number> | null>({
    default: null,
    describe: 'replication map for a new global keyspace; unset: TERN_CASSANDRA_REPLICATION',
    check: replicationMap,
  }),
};

export interface NatsEnv {
  TERN_NATS_URL: string;
  TERN_NATS_REPLICAS: number;
  TERN_NATS_PLACEMENT_CLUSTER: string | undefined;
}

export const natsSpec: SpecOf<NatsEnv> = {
  TERN_NATS_URL: str({ describe: 'NATS server URL(s), comma-separated' }),
  // A production region runs three NATS servers; its streams and buckets are replicated on all
  // three and placed in the region's own cluster of the super-cluster (docs/deploy.md).
  TERN_NATS_REPLICAS: int({
    default: 1,
    min: 1,
    max: 5,
    describe: 'JetStream replicas of the streams and KV buckets this DC creates (1, 3 or 5)',
  }),
  TERN_NATS_PLACEMENT_CLUSTER: optionalStr({
    describe: "NATS cluster (in a super-cluster) holding this DC's streams and buckets",
  }),
};

export interface ObjectStoreEnv {
  TERN_MINIO_ENDPOINT: string;
  TERN_MINIO_ACCESS_KEY: string;
  TERN_MINIO_SECRET_KEY: string;
  TERN_MINIO_BUCKET_PREFIX: string;
}

export const objectStoreSpec: SpecOf<ObjectStoreEnv> = {
  TERN_MINIO_ENDPOINT: url({ describe: 'MinIO endpoint URL' }),
  TERN_MINIO_ACCESS_KEY: str({ describe: 'MinIO access key', secret: true }),
  TERN_MINIO_SECRET_KEY: str({ describe: 'MinIO secret key', secret: true }),
  TERN_MINIO_BUCKET_PREFIX: str({ default: 'tern', describe: 'bucket name prefix' }),
};
