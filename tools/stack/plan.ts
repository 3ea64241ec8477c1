/**
 * The shape of the local stack, as data: which DCs, which loopback address and ports each
 * program uses, and the environment each Tern process gets. Pure: no I/O, unit-tested.
 *
 * Each DC n lives on its own loopback address 127.0.0.n so that every DC's gateway can listen on
 * port 443 (GramJS dials 443 whatever port dc_options names). Shared infrastructure listens on
 * 127.0.0.1 only.
 */
import { join } from 'node:path';
import { SERVICE_NAMES, type ServiceName } from '../../services/shared/src/config/topology';
import { cassandraSpec, objectStoreSpec } from '../../services/shared/src/service/settings';
import { factsOf, type AnySetting } from '../config/facts';
import { identityDirName } from './certs';

export const DC_IDS = [1, 2, 3] as const;

/** gRPC port of each service, the same in every DC (the DCs differ by address). */
export const GRPC_PORTS: Record<ServiceName, number> = {
  gateway: 50050,
  auth: 50051,
  messaging: 50052,
  channel: 50053,
  media: 50054,
};
/** Prometheus /metrics port of each service. */
export const METRICS_PORTS: Record<ServiceName, number> = {
  gateway: 9400,
  auth: 9401,
  messaging: 9402,
  channel: 9403,
  media: 9404,
};
export const GATEWAY_TCP_PORT = 443;
export const GATEWAY_WS_PORT = 8443;
/** Where each local auth service serves its development login codes (TERN_AUTH_DEV_CODES_LISTEN). */
export const AUTH_DEV_CODES_PORT = 9480;

/**
 * What a service uses when the variable is unset: the stack leaves such settings unset, so its
 * processes and its description (stack:info, which tests read) cannot disagree.
 */
function serviceDefault(name: string, setting: AnySetting): string {
  const value = factsOf(name, setting).defaultText;
  if (value === undefined) throw new Error(`${name} has no default`);
  return value;
}

const INFRA_HOST = '127.0.0.1';
export const INFRA = {
  host: INFRA_HOST,
  nats: { port: 4222, monitorPort: 8222 },
  cassandra: {
    port: 9042,
    storagePort: 7000,
    // What SimpleSnitch (infra.ts) calls the node's datacenter; processes are told (TERN_CASSANDRA_LOCAL_DC).
    localDc: 'datacenter1',
    keyspacePrefix: serviceDefault(
      'TERN_CASSANDRA_KEYSPACE_PREFIX',
      cassandraSpec.TERN_CASSANDRA_KEYSPACE_PREFIX,
    ),
  },
  minio: {
    port: 9000,
    consolePort: 9001,
    bucketPrefix: serviceDefault('TERN_MINIO_BUCKET_PREFIX', objectStoreSpec.TERN_MINIO_BUCKET_PREFIX),
  },
  jaeger: {
    otlpGrpcPort: 4317,
    otlpHttpPort: 4318,
    queryPort: 16686,
    queryGrpcPort: 16685,
    healthPort: 13133,
  },
} as const;

/**
 * Where the local auth services home new users (TERN_AUTH_PLACEMENT): one documentation range
 * (RFC 5737) per DC. Loopback clients match none of them and stay where they ask; a client
 * claiming one of these addresses through a PROXY header (test/e2e/placement.test.ts) is placed.
 */
export const LOCAL_PLACEMENT: ReadonlyArray<{ cidr: string; dc: number }> = [
  { cidr: '192.0.2.0/24', dc: 1 },
  { cidr: '203.0.113.0/24', dc: 2 },
  { cidr: '198.51.100.0/24', dc: 3 },
];
/**
 * Login codes of the local stack live this long (TERN_AUTH_CODE_TTL_SECONDS), so that
 * test/e2e/login.test.ts can watch one expire in well under a minute; every other test enters its
 * code within a second or two of asking for it, far inside this.
 */
export const LOCAL_CODE_TTL_SECONDS = 20;

/**
 * The local channel services answer channelDifferenceTooLong beyond this many pts
 * (TERN_CHANNEL_DIFFERENCE_WINDOW; Telegram's and the default are about 100,000), so that
 * test/e2e/channels-toolong.test.ts reaches that answer with a thousand posts, not a hundred thousand.
 */
export const LOCAL_CHANNEL_DIFFERENCE_WINDOW = 1000;
/** Peers whose PROXY protocol header the local gateways honour (a header is optional). */
export const LOCAL_PROXY_TRUSTED = '127.0.0.0/8';

/**
 * Where the local messaging services POST push notifications (the webhook provider): nothing
 * listens there except while test/e2e/push.test.ts runs, which binds it; undelivered pushes are
 * retried a little, then dropped.
 */
export const LOCAL_PUSH_WEBHOOK = { host: '127.0.0.1', port: 9490, path: '/push' } as const;

export const dcHost = (dc: number) => `127.0.0.${dc}`;
export const natsUrl = () => `nats://${INFRA_HOST}:${INFRA.nats.port}`;
export const minioEndpoint = () => `http://${INFRA_HOST}:${INFRA.minio.port}`;
export const jaegerQueryUrl = () => `http://${INFRA_HOST}:${INFRA.jaeger.queryPort}`;

/** The topology file's document (docs/configuration.md), with "host:port" service addresses. */
export interface TopologyDocument {
  testMode: boolean;
  dcs: Array<{
    id: number;
    gateway: { host: string; tcpPort: number; wsPort: number };
    services: Record<ServiceName, string>;
  }>;
}

/** The topology file every local process reads (test numbers on: this is a development stack). */
export function localTopology(): TopologyDocument {
  return {
    testMode: true,
    dcs: DC_IDS.map((id) => ({
      id,
      gateway: { host: dcHost(id), tcpPort: GATEWAY_TCP_PORT, wsPort: GATEWAY_WS_PORT },
      services: Object.fromEntries(SERVICE_NAMES.map((s) => [s, `${dcHost(id)}:${GRPC_PORTS[s]}`])) as Record<
        ServiceName,
        string
      >,
    })),
  };
}

/**
 * How many messaging replicas each local DC runs: the environment variable `npm run stack` reads.
 * Several replicas share a DC's boxes through shard leases
 * (docs/decisions/0017-one-writer-per-box.md), so the stack runs several by default to exercise
 * the hand-off between them; 1 gives the plain shape of one process on the topology address.
 */
export const MESSAGING_REPLICAS_VARIABLE = 'TERN_STACK_MESSAGING_REPLICAS';
export const DEFAULT_MESSAGING_REPLICAS = 2;
/**
 * At most this many: replica ports step by 10 from the service's own (below), and the ninth
 * replica's metrics port would come within reach of the push webhook's (9490).
 */
export const MAX_MESSAGING_REPLICAS = 8;
/** Replica k listens on the replica bases plus k × this: 30062, 30072, … and 29412, 29422, … */
const REPLICA_PORT_STEP = 10;
/**
 * Replica k listens on REPLICA_GRPC_BASE + 10k (metrics REPLICA_METRICS_BASE + 10k): below Linux's
 * ephemeral range (32768-60999), where an outgoing connection of another process (to NATS, say)
 * can hold the same loopback port in TIME-WAIT and make the replica's bind fail with EADDRINUSE.
 */
const REPLICA_GRPC_BASE = 30_052;
const REPLICA_METRICS_BASE = 29_402;

/**
 * The replica count `env` asks for (MESSAGING_REPLICAS_VARIABLE; default 2). Takes the
 * environment as an argument so that the plan stays a function of its inputs; throws, naming the
 * variable, on anything but a whole number from 1 to MAX_MESSAGING_REPLICAS.
 */
export function messagingReplicaCount(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env[MESSAGING_REPLICAS_VARIABLE]?.trim();
  if (raw === undefined || raw === '') return DEFAULT_MESSAGING_REPLICAS;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_MESSAGING_REPLICAS)
    throw new Error(
      `${MESSAGING_REPLICAS_VARIABLE}=${JSON.stringify(raw)}: expected a whole number from 1 to ${MAX_MESSAGING_REPLICAS}`,
    );
  return n;
}

/** Pid-file and log-file name of a service's process in DC `dc` (one replica: the only one). */
export const serviceProcessName = (dc: number, service: ServiceName) => `dc${dc}-${service}`;

/** One messaging process of a local DC. */
export interface MessagingReplica {
  /** Its pid file (`.stack/run/<name>.pid`) and log file (`.stack/logs/<name>.log`). */
  name: string;
  /**
   * Its own gRPC address (host:port): where it listens, where the DC's balancer sends connections
   * and where the other replicas pass on calls about the boxes it owns.
   */
  address: string;
  /** Its Prometheus /metrics address. */
  metricsAddress: string;
}

/**
 * The messaging replicas of DC `dc` when the stack runs `count` per DC. With one, it is today's
 * single process on the topology address (127.0.0.n:50052, metrics 9402). With more, replica k is
 * `dc<n>-messaging-<k>` on ports 30052 + 10k and 29402 + 10k, and the DC's balancer
 * (messagingBalancer) holds the topology address. Tests should take the running stack's replicas
 * from stack:info (`dcs[].messagingReplicas`), which records the count the stack was started with.
 */
export function messagingReplicas(dc: number, count: number): MessagingReplica[] {
  if (count <= 1)
    return [
      {
        name: serviceProcessName(dc, 'messaging'),
        address: `${dcHost(dc)}:${GRPC_PORTS.messaging}`,
        metricsAddress: `${dcHost(dc)}:${METRICS_PORTS.messaging}`,
      },
    ];
  return Array.from({ length: count }, (_, i) => {
    const k = i + 1;
    return {
      name: `${serviceProcessName(dc, 'messaging')}-${k}`,
      address: `${dcHost(dc)}:${REPLICA_GRPC_BASE + REPLICA_PORT_STEP * k}`,
      metricsAddress: `${dcHost(dc)}:${REPLICA_METRICS_BASE + REPLICA_PORT_STEP * k}`,
    };
  });
}

/**
 * The TCP balancer in front of DC `dc`'s messaging replicas (tools/stack/balancer.ts), or
 * undefined with a single replica. It plays the Kubernetes Service's part: callers keep dialing
 * the DC's one messaging address from the topology, and each connection lands on a live replica.
 */
export interface MessagingBalancer {
  name: string;
  /** The topology's messaging address of the DC. */
  listen: string;
  /** The replicas' own addresses, in round-robin order. */
  backends: string[];
}

/** The balancer of DC `dc` when the stack runs `count` messaging replicas per DC. */
export function messagingBalancer(dc: number, count: number): MessagingBalancer | undefined {
  if (count <= 1) return undefined;
  return {
    name: `${serviceProcessName(dc, 'messaging')}-balancer`,
    listen: `${dcHost(dc)}:${GRPC_PORTS.messaging}`,
    backends: messagingReplicas(dc, count).map((r) => r.address),
  };
}

/**
 * Every Tern-side process of the stack (services, messaging replicas, balancers) by pid-file name,
 * DC by DC, when it runs `count` messaging replicas per DC.
 */
export function ternProcessNames(count: number): string[] {
  return DC_IDS.flatMap((dc) => [
    ...SERVICE_NAMES.flatMap((s) =>
      s === 'messaging' ? messagingReplicas(dc, count).map((r) => r.name) : [serviceProcessName(dc, s)],
    ),
    ...(messagingBalancer(dc, count) ? [messagingBalancer(dc, count)!.name] : []),
  ]);
}

/**
 * The Tern-side process names of every replica count the stack can run: what `stack:down` stops,
 * and what `stack` stops before starting another count's processes on the same ports.
 */
export function everyTernProcessName(): string[] {
  const names = new Set<string>();
  for (let count = 1; count <= MAX_MESSAGING_REPLICAS; count++)
    for (const name of ternProcessNames(count)) names.add(name);
  return [...names];
}

/** Secrets generated once per clone and kept in .stack/secrets.json. */
export interface LocalSecrets {
  minio: { accessKey: string; secretKey: string };
}

/** Where the stack's state lives, as the processes need it. */
export interface StackFiles {
  topology: string;
  rsaKey: string;
  /** The deployment's file-reference key (gateways issue references, media services check them). */
  fileReferenceKey: string;
  /** The certificates for mutual TLS, a directory per identity (tools/stack/certs.ts). */
  tls: string;
}

/** Variables of the OpenTelemetry SDK that `npm run stack` passes on from its own environment. */
const TRACE_SAMPLING = ['OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG'] as const;

/**
 * The environment of one Tern process (a service, or `migrate`) of DC `dc`: only settings its
 * command reads (plan.test.ts checks them against the specs, tools/config/specs.ts); settings left
 * unset take the services' defaults (docs/configuration.md). A messaging process is given its
 * `replica` (messagingReplicas): its own listen addresses when the DC runs several.
 */
export function processEnv(
  dc: number,
  command: ServiceName | 'migrate',
  secrets: LocalSecrets,
  files: StackFiles,
  replica?: MessagingReplica,
): Record<string, string> {
  const env: Record<string, string> = {
    TERN_DC_ID: String(dc),
    TERN_TOPOLOGY_FILE: files.topology,
    TERN_SHUTDOWN_TIMEOUT_MS: '8000',
  };
  // Media keeps nothing on the bus.
  if (command !== 'media') env.TERN_NATS_URL = natsUrl();
  // Every command but migrate traces (services/shared/src/telemetry/register.ts).
  if (command !== 'migrate') {
    env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://${INFRA_HOST}:${INFRA.jaeger.otlpGrpcPort}`;
    // Sampling, when whoever runs the stack asks for it (every request is traced otherwise).
    for (const name of TRACE_SAMPLING) {
      const value = process.env[name];
      if (value) env[name] = value;
    }
  }
  // The gateway keeps nothing in Cassandra.
  if (command !== 'gateway') {
    env.TERN_CASSANDRA_CONTACT_POINTS = `${INFRA_HOST}:${INFRA.cassandra.port}`;
    env.TERN_CASSANDRA_LOCAL_DC = INFRA.cassandra.localDc;
  }
  if (command === 'migrate' || command === 'media') {
    Object.assign(env, {
      TERN_MINIO_ENDPOINT: minioEndpoint(),
      TERN_MINIO_ACCESS_KEY: secrets.minio.accessKey,
      TERN_MINIO_SECRET_KEY: secrets.minio.secretKey,
    });
  }
  if (command === 'gateway' || command === 'media') env.TERN_FILE_REFERENCE_KEY_FILE = files.fileReferenceKey;
  // Every service talks mutual TLS with its own certificate (migrate makes no gRPC calls).
  if (command !== 'migrate')
    env.TERN_TLS_DIR = join(files.tls, identityDirName({ kind: 'service', service: command, dcId: dc }));
  if (command !== 'migrate') {
    env.TERN_GRPC_LISTEN = `${dcHost(dc)}:${GRPC_PORTS[command]}`;
    env.TERN_METRICS_LISTEN = `${dcHost(dc)}:${METRICS_PORTS[command]}`;
  }
  if (command === 'auth') {
    env.TERN_AUTH_DEV_CODES_LISTEN = `${dcHost(dc)}:${AUTH_DEV_CODES_PORT}`;
    env.TERN_AUTH_PLACEMENT = LOCAL_PLACEMENT.map((p) => `${p.cidr}=${p.dc}`).join(',');
    env.TERN_AUTH_CODE_TTL_SECONDS = String(LOCAL_CODE_TTL_SECONDS);
  }
  if (command === 'messaging') {
    // A replica of several listens on its own address and tells the shard-lease table where it
    // is; the single replica keeps the topology address, which is also the setting's default.
    if (replica && replica.address !== env.TERN_GRPC_LISTEN) {
      env.TERN_GRPC_LISTEN = replica.address;
      env.TERN_METRICS_LISTEN = replica.metricsAddress;
      env.TERN_MESSAGING_REPLICA_ADDRESS = replica.address;
    }
    env.TERN_PUSH_PROVIDERS = 'webhook';
    env.TERN_PUSH_WEBHOOK_URL = `http://${LOCAL_PUSH_WEBHOOK.host}:${LOCAL_PUSH_WEBHOOK.port}${LOCAL_PUSH_WEBHOOK.path}`;
    env.TERN_PUSH_TIMEOUT_MS = '2000';
    env.TERN_PUSH_MAX_ATTEMPTS = '3';
  }
  if (command === 'channel') env.TERN_CHANNEL_DIFFERENCE_WINDOW = String(LOCAL_CHANNEL_DIFFERENCE_WINDOW);
  if (command === 'gateway') {
    env.TERN_RSA_PRIVATE_KEY_FILE = files.rsaKey;
    env.TERN_GATEWAY_TCP_LISTEN = `${dcHost(dc)}:${GATEWAY_TCP_PORT}`;
    // Also port 80: GramJS's WebSocket transport dials ws://<host>:80 whatever the config says.
    env.TERN_GATEWAY_WS_LISTEN = `${dcHost(dc)}:${GATEWAY_WS_PORT},${dcHost(dc)}:80`;
    // Tests stand in for a load balancer on loopback; clients without a header are served as before.
    env.TERN_GATEWAY_PROXY_PROTOCOL = 'optional';
    env.TERN_GATEWAY_PROXY_TRUSTED = LOCAL_PROXY_TRUSTED;
  }
  return env;
}

/** The running stack as scripts and outside test clients see it (`npm run stack:info`). */
export interface StackInfo {
  dcs: Array<{
    id: number;
    host: string;
    tcpPort: number;
    wsPort: number;
    /** The topology's addresses: messaging's is its balancer's when the DC runs several replicas. */
    services: Record<ServiceName, string>;
    /** Messaging's is its first replica's (every replica's is in messagingReplicas). */
    metrics: Record<ServiceName, string>;
    /** The DC's messaging processes, one or more, each with its own address. */
    messagingReplicas: MessagingReplica[];
    /** The balancer on the topology's messaging address, with more than one replica. */
    messagingBalancer?: MessagingBalancer;
  }>;
  /**
   * Every Tern-side process (services, messaging replicas, balancers) by its pid-file name
   * (`.stack/run/<name>.pid`): what stack:info checks is running.
   */
  processes: string[];
  testMode: boolean;
  rsaPublicKey: string;
  jaegerQueryUrl: string;
  natsUrl: string;
  cassandra: { contactPoints: string[]; localDc: string; keyspacePrefix: string };
  minio: { endpoint: string; consoleUrl: string; accessKey: string; secretKey: string; bucketPrefix: string };
  topologyFile: string;
  /** Tests mint references with it (e.g. an aged one, to see FILE_REFERENCE_EXPIRED). */
  fileReferenceKeyFile: string;
  /** Certificates for mutual TLS, a directory per identity (`dc1-gateway`, `operator`, …). */
  tlsDir: string;
  repoRoot: string;
  logs: string;
}

/** The stack's description, for `count` messaging replicas per DC. */
export function stackInfo(
  secrets: LocalSecrets,
  rsaPublicKey: string,
  dirs: { topology: string; repoRoot: string; logs: string; fileReferenceKey: string; tls: string },
  count: number,
): StackInfo {
  const topo = localTopology();
  return {
    dcs: topo.dcs.map((dc) => {
      const replicas = messagingReplicas(dc.id, count);
      const balancer = messagingBalancer(dc.id, count);
      return {
        id: dc.id,
        host: dc.gateway.host,
        tcpPort: dc.gateway.tcpPort,
        wsPort: dc.gateway.wsPort,
        services: dc.services,
        metrics: {
          ...(Object.fromEntries(
            SERVICE_NAMES.map((s) => [s, `${dcHost(dc.id)}:${METRICS_PORTS[s]}`]),
          ) as Record<ServiceName, string>),
          messaging: replicas[0]!.metricsAddress,
        },
        messagingReplicas: replicas,
        ...(balancer ? { messagingBalancer: balancer } : {}),
      };
    }),
    processes: ternProcessNames(count),
    testMode: topo.testMode,
    rsaPublicKey,
    jaegerQueryUrl: jaegerQueryUrl(),
    natsUrl: natsUrl(),
    cassandra: {
      contactPoints: [`${INFRA_HOST}:${INFRA.cassandra.port}`],
      localDc: INFRA.cassandra.localDc,
      keyspacePrefix: INFRA.cassandra.keyspacePrefix,
    },
    minio: {
      endpoint: minioEndpoint(),
      consoleUrl: `http://${INFRA_HOST}:${INFRA.minio.consolePort}`,
      ...secrets.minio,
      bucketPrefix: INFRA.minio.bucketPrefix,
    },
    topologyFile: dirs.topology,
    fileReferenceKeyFile: dirs.fileReferenceKey,
    tlsDir: dirs.tls,
    repoRoot: dirs.repoRoot,
    logs: dirs.logs,
  };
}
