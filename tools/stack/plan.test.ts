import { SERVICE_NAMES, parseTopology } from '../../services/shared/src/config/topology';
import { factsOf } from '../config/facts';
import { commandsByName, type Command } from '../config/specs';
import { envProblems } from '../deploy/settings';
import {
  AUTH_DEV_CODES_PORT,
  DC_IDS,
  DEFAULT_MESSAGING_REPLICAS,
  GATEWAY_TCP_PORT,
  GATEWAY_WS_PORT,
  GRPC_PORTS,
  INFRA,
  LOCAL_PUSH_WEBHOOK,
  MAX_MESSAGING_REPLICAS,
  METRICS_PORTS,
  everyTernProcessName,
  localTopology,
  messagingBalancer,
  messagingReplicaCount,
  messagingReplicas,
  processEnv,
  stackInfo,
  ternProcessNames,
} from './plan';

const secrets = { minio: { accessKey: 'ak', secretKey: 'sk' } };
const files = {
  topology: '/s/topology.json',
  rsaKey: '/s/keys/rsa.pem',
  fileReferenceKey: '/s/keys/file-reference.key',
  tls: '/s/tls',
};

const dirs = {
  topology: files.topology,
  fileReferenceKey: files.fileReferenceKey,
  repoRoot: '/r',
  logs: '/r/.stack/logs',
  tls: files.tls,
};

describe('local stack plan', () => {
  it('writes a topology the services accept: three DCs, each on its own loopback address, gateway on 443', () => {
    const topo = parseTopology(localTopology());
    expect(topo.testMode).toBe(true);
    expect(topo.dcs.map((d) => [d.id, d.gateway.host, d.gateway.tcpPort])).toEqual([
      [1, '127.0.0.1', 443],
      [2, '127.0.0.2', 443],
      [3, '127.0.0.3', 443],
    ]);
    expect(topo.dcs[1]!.services.auth).toEqual({ host: '127.0.0.2', port: GRPC_PORTS.auth });
  });

  it('gives each process only the settings it reads, secrets only where needed', () => {
    const auth = processEnv(2, 'auth', secrets, files);
    expect(auth.TERN_DC_ID).toBe('2');
    expect(auth.TERN_GRPC_LISTEN).toBe('127.0.0.2:50051');
    expect(auth).not.toHaveProperty('TERN_MINIO_SECRET_KEY');
    expect(auth).not.toHaveProperty('TERN_RSA_PRIVATE_KEY_FILE');
    expect(processEnv(3, 'media', secrets, files).TERN_MINIO_SECRET_KEY).toBe('sk');
    expect(processEnv(1, 'gateway', secrets, files)).toMatchObject({
      TERN_RSA_PRIVATE_KEY_FILE: files.rsaKey,
      TERN_GATEWAY_TCP_LISTEN: '127.0.0.1:443',
    });
    expect(processEnv(1, 'migrate', secrets, files)).not.toHaveProperty('TERN_GRPC_LISTEN');
    // Gateways issue file references and media services check them; nobody else holds the key.
    expect(processEnv(2, 'media', secrets, files).TERN_FILE_REFERENCE_KEY_FILE).toBe(files.fileReferenceKey);
    expect(processEnv(2, 'gateway', secrets, files).TERN_FILE_REFERENCE_KEY_FILE).toBe(
      files.fileReferenceKey,
    );
    expect(auth).not.toHaveProperty('TERN_FILE_REFERENCE_KEY_FILE');
  });

  it("passes the caller's trace sampling on to every traced process, and nothing when unset", () => {
    expect(processEnv(1, 'gateway', secrets, files)).not.toHaveProperty('OTEL_TRACES_SAMPLER');
    process.env.OTEL_TRACES_SAMPLER = 'parentbased_traceidratio';
    process.env.OTEL_TRACES_SAMPLER_ARG = '0.1';
    try {
      expect(processEnv(1, 'gateway', secrets, files)).toMatchObject({
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
      });
      expect(processEnv(1, 'migrate', secrets, files)).not.toHaveProperty('OTEL_TRACES_SAMPLER');
    } finally {
      delete process.env.OTEL_TRACES_SAMPLER;
      delete process.env.OTEL_TRACES_SAMPLER_ARG;
    }
  });

  it('describes every DC and service in stack:info', () => {
    const info = stackInfo(secrets, 'PEM', dirs, 1);
    expect(info.dcs).toHaveLength(DC_IDS.length);
    expect(info.dcs[2]!.services).toMatchObject({ media: '127.0.0.3:50054', gateway: '127.0.0.3:50050' });
    expect(info).toMatchObject({
      testMode: true,
      jaegerQueryUrl: 'http://127.0.0.1:16686',
      rsaPublicKey: 'PEM',
    });
  });
});

describe('messaging replicas of the local stack', () => {
  it('runs two per DC unless TERN_STACK_MESSAGING_REPLICAS says otherwise, and refuses nonsense', () => {
    expect(messagingReplicaCount({})).toBe(DEFAULT_MESSAGING_REPLICAS);
    expect(DEFAULT_MESSAGING_REPLICAS).toBe(2);
    expect(messagingReplicaCount({ TERN_STACK_MESSAGING_REPLICAS: '' })).toBe(2);
    expect(messagingReplicaCount({ TERN_STACK_MESSAGING_REPLICAS: ' 1 ' })).toBe(1);
    expect(messagingReplicaCount({ TERN_STACK_MESSAGING_REPLICAS: '3' })).toBe(3);
    for (const bad of ['0', '-1', '2.5', 'two', String(MAX_MESSAGING_REPLICAS + 1)])
      expect(() => messagingReplicaCount({ TERN_STACK_MESSAGING_REPLICAS: bad })).toThrow(
        /TERN_STACK_MESSAGING_REPLICAS/,
      );
  });

  it("keeps today's shape with one: one process on the topology address, no balancer, same environment", () => {
    expect(messagingReplicas(2, 1)).toEqual([
      { name: 'dc2-messaging', address: '127.0.0.2:50052', metricsAddress: '127.0.0.2:9402' },
    ]);
    expect(messagingBalancer(2, 1)).toBeUndefined();
    expect(processEnv(2, 'messaging', secrets, files, messagingReplicas(2, 1)[0])).toEqual(
      processEnv(2, 'messaging', secrets, files),
    );
    expect(processEnv(2, 'messaging', secrets, files)).not.toHaveProperty('TERN_MESSAGING_REPLICA_ADDRESS');
    expect(ternProcessNames(1)).toEqual(
      DC_IDS.flatMap((dc) => ['gateway', 'auth', 'messaging', 'channel', 'media'].map((s) => `dc${dc}-${s}`)),
    );
  });

  it('puts each of several on its own ports, told its own address, behind a balancer on the topology address', () => {
    const replicas = messagingReplicas(3, 2);
    expect(replicas).toEqual([
      { name: 'dc3-messaging-1', address: '127.0.0.3:30062', metricsAddress: '127.0.0.3:29412' },
      { name: 'dc3-messaging-2', address: '127.0.0.3:30072', metricsAddress: '127.0.0.3:29422' },
    ]);
    expect(processEnv(3, 'messaging', secrets, files, replicas[1])).toMatchObject({
      TERN_GRPC_LISTEN: '127.0.0.3:30072',
      TERN_METRICS_LISTEN: '127.0.0.3:29422',
      TERN_MESSAGING_REPLICA_ADDRESS: '127.0.0.3:30072',
    });
    expect(messagingBalancer(3, 2)).toEqual({
      name: 'dc3-messaging-balancer',
      listen: localTopology().dcs[2]!.services.messaging,
      backends: ['127.0.0.3:30062', '127.0.0.3:30072'],
    });
    expect(ternProcessNames(2)).toHaveLength(DC_IDS.length * (4 + 2 + 1));
    expect(ternProcessNames(2)).toEqual(
      expect.arrayContaining(['dc1-messaging-2', 'dc1-messaging-balancer']),
    );
    expect(ternProcessNames(2)).not.toContain('dc1-messaging');
  });

  it('never reuses a port of the DC, whatever the count', () => {
    const fixed = [
      ...Object.values(GRPC_PORTS),
      ...Object.values(METRICS_PORTS),
      GATEWAY_TCP_PORT,
      GATEWAY_WS_PORT,
      80,
      AUTH_DEV_CODES_PORT,
      LOCAL_PUSH_WEBHOOK.port,
    ].map(String);
    for (let count = 2; count <= MAX_MESSAGING_REPLICAS; count++) {
      const ports = messagingReplicas(1, count).flatMap((r) =>
        [r.address, r.metricsAddress].map((a) => a.split(':')[1]!),
      );
      expect(new Set([...fixed, ...ports]).size).toBe(fixed.length + ports.length);
    }
  });

  it("stops every count's processes on stack:down", () => {
    const all = everyTernProcessName();
    for (let count = 1; count <= MAX_MESSAGING_REPLICAS; count++)
      expect(all).toEqual(expect.arrayContaining(ternProcessNames(count)));
    expect(new Set(all).size).toBe(all.length);
  });

  it('lists the replicas, the balancer and every process in stack:info', () => {
    const info = stackInfo(secrets, 'PEM', dirs, 2);
    const dc1 = info.dcs[0]!;
    expect(dc1.services.messaging).toBe('127.0.0.1:50052');
    expect(dc1.messagingReplicas.map((r) => r.name)).toEqual(['dc1-messaging-1', 'dc1-messaging-2']);
    expect(dc1.messagingBalancer?.listen).toBe('127.0.0.1:50052');
    expect(dc1.metrics.messaging).toBe('127.0.0.1:29412');
    expect(info.processes).toEqual(ternProcessNames(2));
    const single = stackInfo(secrets, 'PEM', dirs, 1);
    expect(single.dcs[0]!.metrics.messaging).toBe('127.0.0.1:9402');
    expect(single.dcs[0]).not.toHaveProperty('messagingBalancer');
  });
});

describe('the environment of every local process, against the settings specs its command reads', () => {
  let commands: Map<string, Command>;
  beforeAll(async () => {
    commands = await commandsByName();
  });
  const started = [...SERVICE_NAMES, 'migrate'] as const;

  it('sets only settings the command reads, each with a value that parses, and every required one', () => {
    for (const dc of DC_IDS) {
      const envs = [
        ...started.map((command) => ({ command, env: processEnv(dc, command, secrets, files) })),
        // Several messaging replicas: each is told its own address (TERN_MESSAGING_REPLICA_ADDRESS).
        ...messagingReplicas(dc, 2).map((replica) => ({
          command: 'messaging' as const,
          env: processEnv(dc, 'messaging', secrets, files, replica),
        })),
      ];
      const containers = envs.map(({ command, env }) => ({
        workload: `local DC ${dc}`,
        container: command,
        command,
        overridesEntryPoint: false,
        env: Object.entries(env).map(([name, value]) => ({ name, value })),
        envFrom: false,
      }));
      expect(envProblems(containers, commands)).toEqual([]);
    }
  });

  it('starts every command of services/main.ts but the operator one', () => {
    const others = [...commands.keys()].filter((c) => !(started as readonly string[]).includes(c));
    expect(others).toEqual(['move-user']);
  });

  it("leaves the prefixes unset and describes the services' defaults in stack:info", () => {
    const env = processEnv(1, 'migrate', secrets, files);
    expect(env).not.toHaveProperty('TERN_CASSANDRA_KEYSPACE_PREFIX');
    expect(env).not.toHaveProperty('TERN_MINIO_BUCKET_PREFIX');
    const migrate = commands.get('migrate')!.settings;
    expect(INFRA.cassandra.keyspacePrefix).toBe(
      factsOf('TERN_CASSANDRA_KEYSPACE_PREFIX', migrate.get('TERN_CASSANDRA_KEYSPACE_PREFIX')!).defaultText,
    );
    expect(INFRA.minio.bucketPrefix).toBe(
      factsOf('TERN_MINIO_BUCKET_PREFIX', migrate.get('TERN_MINIO_BUCKET_PREFIX')!).defaultText,
    );
  });
});
