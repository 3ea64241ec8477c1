import { commandsByName, type Command } from '../config/specs';
import {
  INTENTIONAL_OVERRIDES,
  SETTINGS_PROBE,
  defaultProblems,
  envProblems,
  probeProblems,
  renderedContainers,
} from './settings';

/** A workload as `helm template` renders the chart's, with `env` lines given as YAML. */
function workload(kind: 'Deployment' | 'Job', name: string, command: string, env: string[]): string {
  return [
    '---',
    `apiVersion: ${kind === 'Job' ? 'batch/v1' : 'apps/v1'}`,
    `kind: ${kind}`,
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  template:',
    '    spec:',
    '      containers:',
    `        - name: ${name}`,
    '          image: ghcr.io/tern/tern:0.1.0',
    `          args: ["${command}"]`,
    '          env:',
    ...env.map((l) => `            ${l}`),
    '',
  ].join('\n');
}

const secretRef = (name: string, key: string, optional = false) =>
  `- name: ${name}\n              valueFrom: { secretKeyRef: { name: tern-credentials, key: ${key}${optional ? ', optional: true' : ''} } }`;
const value = (name: string, v: string) => `- name: ${name}\n              value: ${JSON.stringify(v)}`;

/** What the chart gives a channel service: every required setting, from values or a Secret. */
const CHANNEL_ENV = [
  value('TERN_DC_ID', '1'),
  value('TERN_TOPOLOGY_FILE', '/etc/tern/topology.json'),
  value('TERN_SHUTDOWN_TIMEOUT_MS', '10000'),
  value('TERN_PRODUCTION', 'true'),
  value('TERN_CASSANDRA_CONTACT_POINTS', 'cassandra.tern-infra.svc.cluster.local:9042'),
  secretRef('TERN_CASSANDRA_PASSWORD', 'cassandra-password', true),
  value('TERN_NATS_URL', 'nats://nats.tern-infra.svc.cluster.local:4222'),
  value('TERN_GRPC_LISTEN', '0.0.0.0:50053'),
];

describe('the chart environment against the settings specs', () => {
  let commands: Map<string, Command>;
  beforeAll(async () => {
    commands = await commandsByName();
  });

  it('reads the command and the environment of every container of every workload', () => {
    const manifests = [
      '---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\ndata: { a: b }\n',
      workload('Deployment', 'channel', 'channel', CHANNEL_ENV),
      workload('Job', 'tern-dc1-migrate', 'migrate', [value('TERN_DC_ID', '1')]),
    ].join('');
    const found = renderedContainers(manifests);
    expect(found.map((c) => [c.workload, c.command, c.env.length])).toEqual([
      ['Deployment channel', 'channel', CHANNEL_ENV.length],
      ['Job tern-dc1-migrate', 'migrate', 1],
    ]);
    expect(found[0]!.env.find((e) => e.name === 'TERN_CASSANDRA_PASSWORD')).toEqual({
      name: 'TERN_CASSANDRA_PASSWORD',
      from: { kind: 'secretKeyRef', optional: true },
    });
  });

  it('accepts a complete environment', () => {
    const ok = renderedContainers(workload('Deployment', 'channel', 'channel', CHANNEL_ENV));
    expect(envProblems(ok, commands)).toEqual([]);
  });

  it('refuses settings the command does not read, bad values, duplicates and missing required settings', () => {
    const env = [
      ...CHANNEL_ENV.filter((l) => !l.includes('TERN_NATS_URL')),
      value('TERN_MINIO_ENDPOINT', 'http://minio:9000'),
      value('TERN_LOG_LEVEL', 'verbose'),
      value('TERN_DC_ID', '1'),
    ];
    const problems = envProblems(
      renderedContainers(workload('Deployment', 'channel', 'channel', env)),
      commands,
    );
    expect(problems).toEqual([
      expect.stringMatching(/sets TERN_MINIO_ENDPOINT, which channel does not read/),
      expect.stringMatching(/TERN_LOG_LEVEL="verbose" must be one of/),
      expect.stringMatching(/TERN_DC_ID is set twice/),
      expect.stringMatching(/does not set TERN_NATS_URL, which channel requires/),
    ]);
  });

  it("takes a downward-API field that only feeds a setting's $(NAME), and parses the setting expanded", () => {
    const podIp = '- name: POD_IP\n              valueFrom: { fieldRef: { fieldPath: status.podIP } }';
    const messaging = (extra: string[]) =>
      envProblems(
        renderedContainers(workload('Deployment', 'messaging', 'messaging', [...CHANNEL_ENV, ...extra])),
        commands,
      );
    const found = renderedContainers(workload('Deployment', 'messaging', 'messaging', [podIp]));
    expect(found[0]!.env[0]).toEqual({
      name: 'POD_IP',
      from: { kind: 'fieldRef', optional: false, field: 'status.podIP' },
    });
    expect(messaging([podIp, value('TERN_MESSAGING_REPLICA_ADDRESS', '$(POD_IP):50052')])).toEqual([]);
    expect(messaging([podIp, value('TERN_MESSAGING_REPLICA_ADDRESS', '$(POD_IP)')])).toEqual([
      expect.stringMatching(/TERN_MESSAGING_REPLICA_ADDRESS="\$\(POD_IP\)" "10.1.2.3" is not host:port/),
    ]);
    // Fed to nothing, it is just a variable messaging does not read.
    expect(messaging([podIp])).toEqual([expect.stringMatching(/sets POD_IP, which messaging does not read/)]);
  });

  it('refuses a required setting from an optional Secret key or empty, and unknown commands', () => {
    const env = [
      ...CHANNEL_ENV.filter((l) => !l.includes('CONTACT_POINTS') && !l.includes('TERN_NATS_URL')),
      secretRef('TERN_CASSANDRA_CONTACT_POINTS', 'contact-points', true),
      value('TERN_NATS_URL', ''),
    ];
    expect(
      envProblems(renderedContainers(workload('Deployment', 'channel', 'channel', env)), commands),
    ).toEqual([
      expect.stringMatching(
        /TERN_CASSANDRA_CONTACT_POINTS is required by channel but comes from an optional key/,
      ),
      expect.stringMatching(/TERN_NATS_URL is required by channel but is empty/),
    ]);
    expect(
      envProblems(renderedContainers(workload('Deployment', 'x', 'serve', CHANNEL_ENV)), commands),
    ).toEqual([expect.stringMatching(/not a command of services\/main.ts/)]);
  });

  it("takes values equal to the services' defaults, and differences only when intended", () => {
    const base = renderedContainers(workload('Deployment', 'channel', 'channel', CHANNEL_ENV));
    expect(defaultProblems(base, commands)).toEqual([]);
    const drifted = renderedContainers(
      workload('Deployment', 'channel', 'channel', [
        ...CHANNEL_ENV.filter((l) => !l.includes('TERN_SHUTDOWN_TIMEOUT_MS')),
        value('TERN_SHUTDOWN_TIMEOUT_MS', '15000'),
        value('TERN_CASSANDRA_KEYSPACE_PREFIX', 'tern'),
      ]),
    );
    expect(defaultProblems(drifted, commands)).toEqual([
      expect.stringMatching(
        /values.yaml sets TERN_SHUTDOWN_TIMEOUT_MS="15000", the services' default is "10000"/,
      ),
    ]);
    expect(
      defaultProblems(base, commands, { ...INTENTIONAL_OVERRIDES, TERN_SHUTDOWN_TIMEOUT_MS: 'x' }),
    ).toEqual([expect.stringMatching(/TERN_SHUTDOWN_TIMEOUT_MS is listed in INTENTIONAL_OVERRIDES/)]);
  });

  it('names in the probe only settings of their commands, and finds probes that reach nothing', () => {
    for (const p of SETTINGS_PROBE) expect(commands.get(p.command)?.settings.has(p.variable)).toBe(true);
    const channel = renderedContainers(workload('Deployment', 'channel', 'channel', CHANNEL_ENV));
    expect(
      probeProblems(channel, [
        { set: 'logLevel=debug', variable: 'TERN_LOG_LEVEL', command: 'channel' },
        { set: 'x=1', variable: 'TERN_NATS_URL', command: 'gateway' },
      ]),
    ).toEqual([
      expect.stringMatching(/did not set TERN_LOG_LEVEL/),
      expect.stringMatching(/no container runs gateway/),
    ]);
  });
});
