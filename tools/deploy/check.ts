/**
 * `npm run deploy:check`: the deployment files checked offline, as CI runs them.
 *
 * For every DC's values (the example deployment's values-dc1..3 and Tilt's local values) and for
 * the infrastructure chart: `helm lint --strict`, `helm template` into .stack/deploy/, then
 * kubectl-validate of the rendered manifests against the Kubernetes API schemas it embeds (no
 * cluster, no network). The topology each DC release renders is parsed with the services' own
 * parser and checked against the values' intent (its DC present, test mode off in production).
 * The environment of every Tern container is checked against the settings specs its command
 * reads (settings.ts): with each values file, with values.yaml alone (whose values must equal the
 * services' defaults they mirror), and with every optional knob set.
 * Last, things that must fail do: the values schema rejects a bad value, the chart refuses to
 * render without credentials, and kubectl-validate rejects a broken manifest; otherwise every
 * "ok" above would mean nothing. Prints one line per check; exits 1 when any fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseTopology } from '../../services/shared/src/config/topology';
import type { Command } from '../config/specs';
import { ensureTool } from '../stack/install';
import { REPO_ROOT, STATE_DIR } from '../stack/paths';
import {
  KUBERNETES_VERSION,
  type ChartCase,
  breakManifest,
  chartCases,
  helmValueArgs,
  networkPolicyProblems,
  renderedTopologies,
  topologyProblems,
} from './cases';
import { SETTINGS_PROBE, defaultProblems, envProblems, probeProblems, renderedContainers } from './settings';

const OUT = join(STATE_DIR, 'deploy');

function run(cmd: string, args: string[]): { ok: boolean; out: string; stdout: string } {
  const r = spawnSync(cmd, args, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const stdout = r.stdout ?? '';
  return { ok: r.status === 0, out: `${stdout}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`, stdout };
}

let failures = 0;
function report(ok: boolean, what: string, detail = ''): void {
  if (!ok) failures++;
  const tail = ok || !detail.trim() ? '' : `\n${detail.trim().split('\n').slice(-15).join('\n')}`;
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}${tail}\n`);
}

async function main(): Promise<void> {
  const helm = await ensureTool('helm');
  const validate = await ensureTool('kubectl-validate');
  mkdirSync(OUT, { recursive: true });
  const k8s = `Kubernetes ${KUBERNETES_VERSION}`;
  const cases = chartCases();
  /** Rendered manifests by case name, for the probes below. */
  const rendered = new Map<string, string>();

  for (const c of cases) {
    const values = helmValueArgs(c);
    const lint = run(helm, ['lint', '--strict', c.chart, ...values]);
    report(lint.ok, `helm lint ${c.name}`, lint.out);
    const tpl = run(helm, ['template', c.release, c.chart, ...values]);
    report(tpl.ok, `helm template ${c.name} -> .stack/deploy/${c.output}`, tpl.out);
    const file = join(OUT, c.output);
    // Never leave a stale render behind a failed one.
    rmSync(file, { force: true });
    if (!tpl.ok) continue;
    writeFileSync(file, tpl.stdout);
    rendered.set(c.name, tpl.stdout);
    const v = run(validate, [file, '--version', KUBERNETES_VERSION]);
    report(v.ok, `kubectl-validate ${c.name} (${k8s})`, v.out);
    if (!c.dc) continue;
    try {
      const blocks = renderedTopologies(tpl.stdout);
      if (blocks.length === 0) throw new Error('no topology.json ConfigMap rendered');
      const same = blocks.every((b) => JSON.stringify(b) === JSON.stringify(blocks[0]));
      if (!same) throw new Error('the migrate hook and the services would read different topologies');
      const topo = parseTopology(blocks[0]);
      const problems = topologyProblems(topo, c.dc);
      report(
        problems.length === 0,
        `topology ${c.name}: ${topo.dcs.length} DCs, testMode ${topo.testMode}`,
        problems.join('\n'),
      );
      // In-cluster DCs' namespaces, from their service addresses (<service>.<namespace>.svc...).
      const inCluster = topo.dcs.flatMap((d) =>
        Object.values(d.services)
          .filter((a) => a.host.includes('.svc.'))
          .map((a) => a.host.split('.')[1]!),
      );
      const namespaces = [...new Set([c.namespace, ...inCluster])];
      const policy = networkPolicyProblems(tpl.stdout, namespaces);
      report(
        policy.length === 0,
        `network policies ${c.name}: gRPC only from ${namespaces.join(', ')}`,
        policy.join('\n'),
      );
    } catch (err) {
      report(false, `topology ${c.name}`, err instanceof Error ? err.message : String(err));
    }
  }

  await checkSettings(helm, cases, rendered);

  // Things that must fail.
  const dc1 = cases.find((c) => c.dc?.id === 1 && !c.dc.testMode)!;
  const dc1Args = ['template', dc1.release, dc1.chart, ...helmValueArgs(dc1)];
  refuses(
    helm,
    dc1Args,
    ['topology.testMode=yes'],
    'testMode',
    'values.schema.json rejects topology.testMode=yes',
  );
  refuses(
    helm,
    dc1Args,
    ['secrets.existingSecret='],
    'secrets.existingSecret',
    'the chart refuses to render without credentials',
  );
  refuses(
    helm,
    dc1Args,
    ['services.auth.codeDelivery.mode=dev', 'production=true'],
    'codeDelivery.mode dev',
    'the chart refuses development code delivery with production: true',
  );
  const webhook = rendered.get(dc1.name) ?? '';
  report(
    webhook.includes('TERN_AUTH_CODE_WEBHOOK_URL') && webhook.includes('key: code-webhook-url'),
    'the example DC values deliver login codes through the webhook, its URL from the Secret',
    'TERN_AUTH_CODE_WEBHOOK_URL from secretKeyRef code-webhook-url not found in the dc1 render',
  );
  const messagingBudget = parseAllDocuments(webhook)
    .map(
      (d) =>
        d.toJS() as {
          kind?: string;
          metadata?: { name?: string };
          spec?: { maxUnavailable?: unknown };
        } | null,
    )
    .find((d) => d?.kind === 'PodDisruptionBudget' && d.metadata?.name === 'messaging');
  const messagingPods = renderedContainers(webhook).filter((c) => c.command === 'messaging');
  report(
    messagingBudget?.spec?.maxUnavailable === 1 &&
      messagingPods.length > 0 &&
      messagingPods.every((c) =>
        c.env.some((e) => e.name === 'TERN_MESSAGING_REPLICA_ADDRESS' && e.value?.startsWith('$(POD_IP):')),
      ),
    'the example DC values tell each messaging replica its pod address and let one replica at a time be disrupted',
    'TERN_MESSAGING_REPLICA_ADDRESS=$(POD_IP):<port>, or the messaging PodDisruptionBudget with maxUnavailable: 1, not found in the dc1 render',
  );
  checkTls(helm, dc1Args, webhook);
  const probe = `kubectl-validate rejects a Deployment with replicas: "two" (${k8s})`;
  try {
    const good = rendered.get(dc1.name);
    if (good === undefined) throw new Error(`${dc1.name} did not render`);
    const brokenFile = join(OUT, 'must-fail.yaml');
    writeFileSync(brokenFile, breakManifest(good));
    const broken = run(validate, [brokenFile, '--version', KUBERNETES_VERSION]);
    report(!broken.ok, probe, broken.ok ? 'the broken manifest was accepted' : '');
  } catch (err) {
    report(false, probe, err instanceof Error ? err.message : String(err));
  }

  process.stdout.write(failures === 0 ? 'deploy:check: all passed\n' : `deploy:check: ${failures} failed\n`);
  process.exitCode = failures === 0 ? 0 : 1;
}

/** The specs of every command; loading them needs the generated code (`npm run build`). */
/** `helm template` with `sets` must fail, saying `because` (a check that must fail does). */
function refuses(helm: string, args: string[], sets: string[], because: string, what: string): void {
  const r = run(helm, [...args, ...sets.flatMap((x) => ['--set', x])]);
  report(!r.ok && r.out.includes(because), what, r.ok ? `helm template accepted ${sets.join(' ')}` : r.out);
}

/**
 * Mutual TLS in the chart: every service reads its certificate (TERN_TLS_DIR) from the Secret
 * tern-tls-<service>, plaintext is refused with production: true, and with a cert-manager issuer
 * each service gets a Certificate naming spiffe://tern/dc/<dcId>/<service>.
 */
function checkTls(helm: string, dc1Args: string[], dc1Render: string): void {
  const services = ['gateway', 'auth', 'messaging', 'channel', 'media'];
  const containers = renderedContainers(dc1Render);
  const missing = services.filter(
    (svc) =>
      !containers.some(
        (c) =>
          c.command === svc &&
          c.env.some((e) => e.name === 'TERN_TLS_DIR' && e.value === '/var/run/secrets/tern-tls'),
      ) || !dc1Render.includes(`secretName: tern-tls-${svc}`),
  );
  report(
    missing.length === 0,
    'every service of the example DC values reads its certificate from its tern-tls-<service> Secret',
    `no TERN_TLS_DIR or tern-tls Secret for: ${missing.join(', ')}`,
  );
  refuses(
    helm,
    dc1Args,
    ['tls.enabled=false', 'production=true'],
    'tls.enabled: false',
    'the chart refuses plaintext gRPC between services with production: true',
  );
  const issued = run(helm, [
    ...dc1Args,
    '--set',
    'tls.certManager.issuerRef.name=tern-ca',
    '--set',
    'tls.certManager.issuerRef.kind=ClusterIssuer',
  ]);
  const certificates = issued.ok
    ? parseAllDocuments(issued.stdout)
        .map((d) => d.toJS() as { kind?: string; spec?: { secretName?: string; uris?: string[] } } | null)
        .filter((d) => d?.kind === 'Certificate')
    : [];
  const wrong = services.filter(
    (svc) =>
      !certificates.some(
        (c) => c?.spec?.secretName === `tern-tls-${svc}` && c.spec.uris?.[0] === `spiffe://tern/dc/1/${svc}`,
      ),
  );
  report(
    issued.ok && wrong.length === 0,
    'with tls.certManager.issuerRef, a cert-manager Certificate per service names spiffe://tern/dc/<dcId>/<service>',
    issued.ok ? `no right Certificate for: ${wrong.join(', ')}` : issued.out,
  );
}

async function loadSpecs(): Promise<Map<string, Command> | undefined> {
  try {
    const { commandsByName } = await import('../config/specs.js');
    return await commandsByName();
  } catch (err) {
    report(
      false,
      "settings: load the services' specs (tools/config/specs.ts; needs npm run build)",
      err instanceof Error ? (err.stack ?? err.message) : String(err),
    );
    return undefined;
  }
}

/** The environment of every Tern container the chart renders, against the specs (settings.ts). */
async function checkSettings(helm: string, cases: ChartCase[], rendered: Map<string, string>): Promise<void> {
  const commands = await loadSpecs();
  if (!commands) return;
  const check = (
    what: string,
    manifests: string,
    extra: (c: ReturnType<typeof renderedContainers>) => string[],
  ) => {
    try {
      const containers = renderedContainers(manifests);
      const problems = [...envProblems(containers, commands), ...extra(containers)];
      report(problems.length === 0, `settings ${what}: ${containers.length} containers`, problems.join('\n'));
    } catch (err) {
      report(false, `settings ${what}`, err instanceof Error ? err.message : String(err));
    }
  };
  for (const c of cases) {
    const manifests = rendered.get(c.name);
    if (c.dc && manifests !== undefined) check(`${c.name} against the specs`, manifests, () => []);
  }
  const base = ['template', 'tern-dc1', 'deploy/helm/tern', '--namespace', 'tern-dc1'];
  const withSecret = ['--set', 'secrets.existingSecret=tern-credentials'];
  const defaults = run(helm, [...base, ...withSecret]);
  if (defaults.ok)
    check("values.yaml alone: values equal the services' defaults", defaults.stdout, (cs) =>
      defaultProblems(cs, commands),
    );
  else report(false, 'helm template with values.yaml alone', defaults.out);
  const probe = run(helm, [...base, ...withSecret, ...SETTINGS_PROBE.flatMap((p) => ['--set', p.set])]);
  if (probe.ok)
    check(
      `every optional value set (${SETTINGS_PROBE.length}): each reaches its setting`,
      probe.stdout,
      (cs) => probeProblems(cs),
    );
  else report(false, 'helm template with every optional value set', probe.out);
}

main().catch((err: unknown) => {
  process.stderr.write(`deploy:check: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
