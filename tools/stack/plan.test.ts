import { SERVICE_NAMES, parseTopology } from '../../services/shared/src/config/topology';
import { factsOf } from '../config/facts';
import { commandsByName, type Command } from '../config/specs';
import { envProblems } from '../deploy/settings';
import { DC_IDS, GRPC_PORTS, INFRA, localTopology, processEnv, stackInfo } from './plan';

const secrets = { minio: { accessKey: 'ak', secretKey: 'sk' } };
const files = {
  topology: '/s/topology.json',
  rsaKey: '/s/keys/rsa.pem',
  fileReferenceKey: '/s/keys/file-reference.key',
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

  it('describes every DC and service in stack:info', () => {
    const info = stackInfo(secrets, 'PEM', {
      topology: files.topology,
      fileReferenceKey: files.fileReferenceKey,
      repoRoot: '/r',
      logs: '/r/.stack/logs',
    });
    expect(info.dcs).toHaveLength(DC_IDS.length);
    expect(info.dcs[2]!.services).toMatchObject({ media: '127.0.0.3:50054', gateway: '127.0.0.3:50050' });
    expect(info).toMatchObject({
      testMode: true,
      jaegerQueryUrl: 'http://127.0.0.1:16686',
      rsaPublicKey: 'PEM',
    });
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
      const containers = started.map((command) => ({
        workload: `local DC ${dc}`,
        container: command,
        command,
        overridesEntryPoint: false,
        env: Object.entries(processEnv(dc, command, secrets, files)).map(([name, value]) => ({
          name,
          value,
        })),
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
