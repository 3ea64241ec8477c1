import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTopology } from '../../services/shared/src/config/topology';
import {
  breakManifest,
  chartCases,
  helmValueArgs,
  renderedTopologies,
  topologyProblems,
  networkPolicyProblems,
} from './cases';

const ROOT = join(__dirname, '..', '..');

const TOPOLOGY = {
  testMode: false,
  dcs: [1, 2].map((id) => ({
    id,
    gateway: { host: `dc${id}.example`, tcpPort: 443, wsPort: 8443 },
    services: {
      gateway: `gateway.tern-dc${id}.svc.cluster.local:50050`,
      auth: `auth.tern-dc${id}.svc.cluster.local:50051`,
      messaging: `messaging.tern-dc${id}.svc.cluster.local:50052`,
      channel: `channel.tern-dc${id}.svc.cluster.local:50053`,
      media: `media.tern-dc${id}.svc.cluster.local:50054`,
    },
  })),
};

/** A ConfigMap as `helm template` renders the chart's. */
function configMap(name: string, doc: unknown): string {
  const body = JSON.stringify(doc, null, 2)
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  return `---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  topology.json: |\n${body}\n`;
}

describe('chartCases', () => {
  const cases = chartCases();

  it('covers every DC with production and Tilt values, and the infra chart', () => {
    expect(cases.map((c) => c.name)).toEqual([
      'tern dc1',
      'tern dc2',
      'tern dc3',
      'tern dc1 (tilt)',
      'tern dc2 (tilt)',
      'tern dc3 (tilt)',
      'tern-infra',
    ]);
    expect(new Set(cases.map((c) => c.output)).size).toBe(cases.length);
  });

  it('expects test mode off in production values and on only in Tilt values', () => {
    for (const c of cases.filter((x) => x.dc)) {
      expect(c.dc!.testMode).toBe(c.valuesFiles.every((f) => f.startsWith('tilt/')));
    }
  });

  it('names values files that exist, each installing into its own DC namespace', () => {
    for (const c of cases) {
      for (const f of c.valuesFiles) expect(existsSync(join(ROOT, f))).toBe(true);
      if (c.dc) expect(c.namespace).toBe(`tern-dc${c.dc.id}`);
    }
  });

  it('keeps test mode off in the chart defaults', () => {
    expect(readFileSync(join(ROOT, 'deploy/helm/tern/values.yaml'), 'utf8')).toMatch(
      /^ {2}testMode: false$/m,
    );
  });

  it('passes namespace, values files and --set pairs to helm', () => {
    expect(helmValueArgs({ namespace: 'ns', valuesFiles: ['a.yaml', 'b.yaml'], set: ['x=1'] })).toEqual([
      '--namespace',
      'ns',
      '-f',
      'a.yaml',
      '-f',
      'b.yaml',
      '--set',
      'x=1',
    ]);
  });
});

describe('renderedTopologies', () => {
  it('finds and parses every topology.json block', () => {
    const manifests = `${configMap('t', TOPOLOGY)}---\nkind: Service\n${configMap('m', TOPOLOGY)}`;
    expect(renderedTopologies(manifests)).toEqual([TOPOLOGY, TOPOLOGY]);
  });

  it('finds none in manifests without one', () => {
    expect(renderedTopologies('---\nkind: Service\nmetadata:\n  name: x\n')).toEqual([]);
  });
});

describe('topologyProblems', () => {
  const topo = parseTopology(TOPOLOGY);

  it('accepts a topology that matches the values', () => {
    expect(topologyProblems(topo, { id: 2, testMode: false })).toEqual([]);
  });

  it('reports a missing DC and unexpected test mode', () => {
    expect(topologyProblems(topo, { id: 3, testMode: true })).toEqual([
      'DC 3 is not in the topology',
      'testMode is false, expected true',
    ]);
  });

  it('reports in-cluster addresses on the wrong port or Service', () => {
    const bad = structuredClone(TOPOLOGY);
    bad.dcs[0]!.services.auth = 'auth.tern-dc1.svc.cluster.local:50052';
    bad.dcs[1]!.services.media = 'messaging.tern-dc2.svc.cluster.local:50054';
    expect(topologyProblems(parseTopology(bad), { id: 1, testMode: false })).toEqual([
      'DC 1 auth port 50052, the chart serves 50051',
      'DC 2 media address messaging.tern-dc2.svc.cluster.local names another Service',
    ]);
  });

  it('leaves explicit out-of-cluster addresses alone', () => {
    const remote = structuredClone(TOPOLOGY);
    remote.dcs[1]!.services.auth = '10.2.0.7:7000';
    expect(topologyProblems(parseTopology(remote), { id: 1, testMode: false })).toEqual([]);
  });
});

describe('breakManifest', () => {
  it('turns the first replicas count into a string', () => {
    const m = 'kind: Deployment\nspec:\n  replicas: 2\n---\nspec:\n  replicas: 3\n';
    expect(breakManifest(m)).toBe('kind: Deployment\nspec:\n  replicas: "two"\n---\nspec:\n  replicas: 3\n');
  });

  it('refuses manifests it cannot break', () => {
    expect(() => breakManifest('kind: Service\n')).toThrow('no "  replicas: N" line');
  });
});

describe('networkPolicyProblems', () => {
  const policy = (name: string, rules: string) => `---
kind: NetworkPolicy
metadata: { name: p-${name} }
spec:
  podSelector: { matchLabels: { app.kubernetes.io/name: ${name} } }
  ingress:
${rules}`;
  const grpcFrom = (namespaces: string[]) => `    - from:
        - namespaceSelector:
            matchExpressions:
              - { key: kubernetes.io/metadata.name, operator: In, values: [${namespaces.join(', ')}] }
      ports: [{ port: grpc }]`;
  const all = (namespaces: string[]) =>
    [
      policy('gateway', `    - ports: [{ port: mtproto }, { port: mtproto-ws }]`),
      ...['gateway', 'auth', 'messaging', 'channel', 'media'].map((s) => policy(s, grpcFrom(namespaces))),
    ].join('\n');

  it('accepts gRPC open to exactly the DC namespaces and MTProto open to clients', () => {
    expect(networkPolicyProblems(all(['tern-dc1', 'tern-dc2']), ['tern-dc2', 'tern-dc1'])).toEqual([]);
  });

  it('names a service whose gRPC is open to other namespaces, or has no rule', () => {
    const wrong = all(['tern-dc1', 'other']);
    expect(networkPolicyProblems(wrong, ['tern-dc1'])).toContain(
      'auth: gRPC open to namespaces [tern-dc1, other], expected [tern-dc1]',
    );
    const noMedia = all(['tern-dc1']).replace(/app.kubernetes.io\/name: media/g, 'app.kubernetes.io/name: x');
    expect(networkPolicyProblems(noMedia, ['tern-dc1'])).toEqual([
      'media: no NetworkPolicy rule for its gRPC port',
    ]);
    expect(networkPolicyProblems('', ['tern-dc1'])).toContain('gateway: MTProto ports not open to clients');
  });
});
