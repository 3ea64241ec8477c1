/**
 * What `npm run deploy:check` checks, as data, and the pure helpers it uses on rendered manifests
 * (unit-tested in cases.test.ts; check.ts runs the programs).
 */
import { parseAllDocuments } from 'yaml';
import { SERVICE_NAMES, type Topology } from '../../services/shared/src/config/topology';

/**
 * The Kubernetes version rendered manifests are validated against: the newest schema set
 * kubectl-validate v0.0.4 embeds (newer versions would be fetched from GitHub, and the check
 * must work offline).
 */
export const KUBERNETES_VERSION = '1.30';

export const DC_IDS = [1, 2, 3] as const;

/** One `helm lint` + `helm template` + kubectl-validate run. */
export interface ChartCase {
  /** Shown in the report. */
  name: string;
  chart: string;
  release: string;
  namespace: string;
  valuesFiles: string[];
  /** `--set` pairs. */
  set: string[];
  /** File name of the rendered manifests under .stack/deploy/. */
  output: string;
  /** For releases of the Tern chart: the DC and whether its values turn test mode on. */
  dc?: { id: number; testMode: boolean };
}

/** Every chart and values combination that ships: production example, Tilt's, and the infra chart. */
export function chartCases(): ChartCase[] {
  const production = DC_IDS.map((id): ChartCase => ({
    name: `tern dc${id}`,
    chart: 'deploy/helm/tern',
    release: `tern-dc${id}`,
    namespace: `tern-dc${id}`,
    valuesFiles: [`deploy/helm/tern/values-dc${id}.yaml`],
    set: [],
    output: `rendered-dc${id}.yaml`,
    dc: { id, testMode: false },
  }));
  const local = DC_IDS.map((id): ChartCase => ({
    name: `tern dc${id} (tilt)`,
    chart: 'deploy/helm/tern',
    release: `tern-dc${id}`,
    namespace: `tern-dc${id}`,
    valuesFiles: [`tilt/values-local-dc${id}.yaml`],
    // One case renders the optional trace sampling too, so its variables are checked like the rest.
    set: id === 1 ? ['tracing.sampleRatio=0.25'] : [],
    output: `rendered-local-dc${id}.yaml`,
    dc: { id, testMode: true },
  }));
  const infra: ChartCase = {
    name: 'tern-infra',
    chart: 'deploy/helm/tern-infra',
    release: 'infra',
    namespace: 'tern-infra',
    valuesFiles: [],
    // Render-only credentials: the chart requires them and real ones are never stored.
    set: ['minio.rootUser=render-check', 'minio.rootPassword=render-check-only'],
    output: 'rendered-infra.yaml',
  };
  return [...production, ...local, infra];
}

/** Arguments shared by `helm lint` and `helm template` for a case. */
export function helmValueArgs(c: Pick<ChartCase, 'namespace' | 'valuesFiles' | 'set'>): string[] {
  return [
    '--namespace',
    c.namespace,
    ...c.valuesFiles.flatMap((f) => ['-f', f]),
    ...c.set.flatMap((s) => ['--set', s]),
  ];
}

/**
 * Every `topology.json` block rendered into a ConfigMap (the release's, and the migrate hook's
 * copy), parsed as JSON. The block is a YAML literal scalar indented 4 spaces under `data:`.
 */
export function renderedTopologies(manifests: string): unknown[] {
  const found: unknown[] = [];
  const lines = manifests.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '  topology.json: |') continue;
    const body: string[] = [];
    for (let j = i + 1; j < lines.length && (lines[j]!.startsWith('    ') || lines[j] === ''); j++) {
      body.push(lines[j]!.slice(4));
    }
    found.push(JSON.parse(body.join('\n')));
  }
  return found;
}

/**
 * What is wrong with the topology a DC release renders: its own DC missing, test mode other
 * than the values' intent, duplicate DC ids, or in-cluster service addresses that do not point
 * at the gRPC port of the right service.
 */
export function topologyProblems(
  topo: Topology,
  expected: { id: number; testMode: boolean },
  grpcPorts: Record<string, number> = DEFAULT_GRPC_PORTS,
): string[] {
  const problems: string[] = [];
  if (!topo.dcs.some((d) => d.id === expected.id)) problems.push(`DC ${expected.id} is not in the topology`);
  if (topo.testMode !== expected.testMode)
    problems.push(`testMode is ${topo.testMode}, expected ${expected.testMode}`);
  const ids = topo.dcs.map((d) => d.id);
  const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
  if (dup.length > 0) problems.push(`duplicate DC ids: ${[...new Set(dup)].join(', ')}`);
  for (const dc of topo.dcs) {
    for (const svc of SERVICE_NAMES) {
      const addr = dc.services[svc];
      // Only in-cluster names (<service>.<namespace>.svc.<domain>); explicit addresses are the user's.
      if (!addr.host.includes('.svc.')) continue;
      if (!addr.host.startsWith(`${svc}.`))
        problems.push(`DC ${dc.id} ${svc} address ${addr.host} names another Service`);
      if (addr.port !== grpcPorts[svc])
        problems.push(`DC ${dc.id} ${svc} port ${addr.port}, the chart serves ${grpcPorts[svc]}`);
    }
  }
  return problems;
}

export const DEFAULT_GRPC_PORTS: Record<string, number> = {
  gateway: 50050,
  auth: 50051,
  messaging: 50052,
  channel: 50053,
  media: 50054,
};

/**
 * A copy of rendered manifests with the first Deployment's `replicas` made a string, which
 * the Kubernetes schema rejects: proves the validator still bites.
 */
export function breakManifest(manifests: string): string {
  const broken = manifests.replace(/^( {2}replicas:) \d+$/m, '$1 "two"');
  if (broken === manifests) throw new Error('no "  replicas: N" line to break');
  return broken;
}

/**
 * What is wrong with the NetworkPolicies a DC release renders: every service's pods must be
 * selected by one that opens its gRPC port to exactly the namespaces of the deployment's DCs
 * (`namespaces`), and the gateway's MTProto ports must be open to anyone.
 */
export function networkPolicyProblems(manifests: string, namespaces: string[]): string[] {
  type Peer = { namespaceSelector?: { matchExpressions?: Array<{ key: string; values: string[] }> } };
  type Rule = { from?: Peer[]; ports?: Array<{ port: string | number }> };
  type Policy = {
    kind: string;
    metadata: { name: string };
    spec: { podSelector: { matchLabels: Record<string, string> }; ingress: Rule[] };
  };
  const policies = parseAllDocuments(manifests)
    .map((d) => d.toJS() as Policy | null)
    .filter((d): d is Policy => d?.kind === 'NetworkPolicy');
  const problems: string[] = [];
  const selecting = (name: string) =>
    policies.filter((p) => p.spec.podSelector.matchLabels['app.kubernetes.io/name'] === name);
  const want = [...namespaces].sort().join(',');
  for (const svc of SERVICE_NAMES) {
    const grpc = selecting(svc).flatMap((p) =>
      p.spec.ingress.filter((r) => r.ports?.some((x) => x.port === 'grpc')),
    );
    if (grpc.length === 0) {
      problems.push(`${svc}: no NetworkPolicy rule for its gRPC port`);
      continue;
    }
    for (const rule of grpc) {
      const allowed = (rule.from ?? []).flatMap(
        (f) =>
          f.namespaceSelector?.matchExpressions?.find((e) => e.key === 'kubernetes.io/metadata.name')
            ?.values ?? [],
      );
      if (!rule.from || rule.from.length === 0) problems.push(`${svc}: gRPC open to every source`);
      else if ([...allowed].sort().join(',') !== want)
        problems.push(`${svc}: gRPC open to namespaces [${allowed.join(', ')}], expected [${want}]`);
    }
  }
  const clients = selecting('gateway').flatMap((p) =>
    p.spec.ingress.filter((r) => r.ports?.some((x) => x.port === 'mtproto') && !r.from),
  );
  if (clients.length === 0) problems.push('gateway: MTProto ports not open to clients');
  return problems;
}
