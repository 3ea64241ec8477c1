/**
 * `npm run deploy:check`: the deployment skeleton checked offline, as CI runs it.
 *
 * For every DC's values (the example deployment's values-dc1..3 and Tilt's local values) and for
 * the infrastructure chart: `helm lint`, `helm template`, then kubectl-validate of the rendered
 * manifests against the Kubernetes API schemas it carries (no cluster needed). The topology each
 * release renders is also parsed with the services' own parser, so a chart that would make every
 * pod exit on start fails here. Finally a deliberately broken render must be rejected, proving the
 * validator still bites. Prints one line per check; exits 1 when any fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTopology } from '../../services/shared/src/config/topology';
import { ensureTool } from '../stack/install';
import { REPO_ROOT, STATE_DIR } from '../stack/paths';

/** The Kubernetes version manifests are validated against (a schema set kubectl-validate embeds). */
const KUBERNETES_VERSION = '1.30';
const OUT = join(STATE_DIR, 'deploy');

interface Case {
  name: string;
  chart: string;
  namespace: string;
  args: string[];
  /** For DC releases: the DC id the values set. */
  dcId?: number;
}

const DC_IDS = [1, 2, 3];
const CASES: Case[] = [
  ...DC_IDS.map((dc) => ({
    name: `tern dc${dc}`,
    chart: 'deploy/helm/tern',
    namespace: `tern-dc${dc}`,
    args: ['-f', `deploy/helm/tern/values-dc${dc}.yaml`],
    dcId: dc,
  })),
  ...DC_IDS.map((dc) => ({
    name: `tern dc${dc} (tilt)`,
    chart: 'deploy/helm/tern',
    namespace: `tern-dc${dc}`,
    args: ['-f', `tilt/values-local-dc${dc}.yaml`],
    dcId: dc,
  })),
  // Render-only credentials: the chart requires them and they are never stored.
  {
    name: 'tern-infra',
    chart: 'deploy/helm/tern-infra',
    namespace: 'tern-infra',
    args: ['--set', 'minio.rootUser=render-check', '--set', 'minio.rootPassword=render-check-only'],
  },
];

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** The topology.json block of the rendered ConfigMap (a YAML block scalar indented 4 spaces). */
export function renderedTopology(manifests: string): unknown {
  const start = manifests.indexOf('  topology.json: |\n');
  if (start < 0) throw new Error('no topology ConfigMap rendered');
  const lines: string[] = [];
  for (const line of manifests.slice(start).split('\n').slice(1)) {
    if (!line.startsWith('    ')) break;
    lines.push(line.slice(4));
  }
  return JSON.parse(lines.join('\n'));
}

async function main(): Promise<void> {
  const helm = await ensureTool('helm');
  const validate = await ensureTool('kubectl-validate');
  mkdirSync(OUT, { recursive: true });
  let failures = 0;
  const report = (ok: boolean, what: string, detail = '') => {
    if (!ok) failures++;
    process.stdout.write(
      `${ok ? 'ok  ' : 'FAIL'} ${what}${ok || !detail ? '' : `\n${detail.trim().split('\n').slice(-15).join('\n')}`}\n`,
    );
  };

  for (const c of CASES) {
    const release = c.namespace === 'tern-infra' ? 'infra' : c.namespace;
    const lint = run(helm, ['lint', c.chart, '--namespace', c.namespace, ...c.args]);
    report(lint.ok, `helm lint ${c.name}`, lint.out);
    const tpl = run(helm, ['template', release, c.chart, '--namespace', c.namespace, ...c.args]);
    report(tpl.ok, `helm template ${c.name}`, tpl.out);
    if (!tpl.ok) continue;
    const file = join(OUT, `${c.name.replace(/[^\w]+/g, '-')}.yaml`);
    writeFileSync(file, tpl.out);
    const v = run(validate, [file, '--version', KUBERNETES_VERSION]);
    report(v.ok, `kubectl-validate ${c.name} (Kubernetes ${KUBERNETES_VERSION})`, v.out);
    if (c.dcId !== undefined) {
      try {
        const topo = parseTopology(renderedTopology(tpl.out));
        const known = topo.dcs.some((d) => d.id === c.dcId);
        report(
          known,
          `topology ${c.name}: ${topo.dcs.length} DCs, testMode ${topo.testMode}`,
          known ? '' : `dcId ${c.dcId} is not in the topology`,
        );
      } catch (err) {
        report(false, `topology ${c.name}`, (err as Error).message);
      }
    }
  }

  // The validator must reject a broken manifest, or every "ok" above means nothing.
  const broken = run(helm, [
    'template',
    'tern-dc1',
    'deploy/helm/tern',
    '--namespace',
    'tern-dc1',
    '-f',
    'deploy/helm/tern/values-dc1.yaml',
    '--set',
    'services.auth.replicas=two',
  ]);
  const brokenFile = join(OUT, 'must-fail.yaml');
  writeFileSync(brokenFile, broken.out);
  const rejected = !run(validate, [brokenFile, '--version', KUBERNETES_VERSION]).ok;
  report(rejected, 'kubectl-validate rejects a Deployment with replicas: "two"');

  process.stdout.write(failures === 0 ? 'deploy:check: all passed\n' : `deploy:check: ${failures} failed\n`);
  process.exit(failures === 0 ? 0 : 1);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`deploy:check: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
