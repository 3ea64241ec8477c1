/**
 * The environment the Helm chart gives Tern processes, checked against the settings specs each
 * command reads (tools/config/specs.ts): pure helpers over `helm template` output, run by
 * check.ts and unit-tested in settings.test.ts.
 *
 * - Every variable a container gets is a setting its command reads, with a value that parses.
 * - Every required setting is set: a non-empty value, or a Secret / ConfigMap key that is not
 *   optional.
 * - With the chart's own values.yaml, a value that mirrors a setting with a default equals that
 *   default, unless the chart overrides it on purpose (INTENTIONAL_OVERRIDES): an unset variable
 *   takes the service's default anyway, so values.yaml need not repeat it, and must not drift.
 */
import { parseAllDocuments } from 'yaml';
import { factsOf, isDefaultValue, parseProblem, readsAFile } from '../config/facts';
import type { Command } from '../config/specs';

/** One variable of a container's `env`. */
export interface EnvVar {
  name: string;
  /** A literal value (`value:`). */
  value?: string;
  /**
   * `valueFrom`: which kind, whether the referenced key may be missing, and for the downward API
   * (`fieldRef`) which field.
   */
  from?: { kind: string; optional: boolean; field?: string };
}

/** One container of a rendered workload, with the Tern command it runs. */
export interface RenderedContainer {
  /** "Deployment gateway", "Job tern-dc1-migrate", ... */
  workload: string;
  container: string;
  /** The first argument (`node dist/services/main.js <command>` is the image's entry point). */
  command: string | undefined;
  /** The container replaces the image's entry point (`command:`): its Tern command is unknown. */
  overridesEntryPoint: boolean;
  env: EnvVar[];
  /** `envFrom` is set: variables the check cannot see. */
  envFrom: boolean;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const objAt = (o: unknown, ...path: string[]): Obj | undefined => {
  let cur: unknown = o;
  for (const p of path) cur = isObj(cur) ? cur[p] : undefined;
  return isObj(cur) ? cur : undefined;
};
const listAt = (o: Obj | undefined, key: string): unknown[] => {
  const v = o?.[key];
  return Array.isArray(v) ? v : [];
};

/** Where each workload kind keeps its pod spec. */
function podSpecOf(kind: string, doc: Obj): Obj | undefined {
  switch (kind) {
    case 'Pod':
      return objAt(doc, 'spec');
    case 'CronJob':
      return objAt(doc, 'spec', 'jobTemplate', 'spec', 'template', 'spec');
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return objAt(doc, 'spec', 'template', 'spec');
    default:
      return undefined;
  }
}

function envVar(raw: unknown): EnvVar {
  const e = isObj(raw) ? raw : {};
  const out: EnvVar = { name: String(e.name) };
  // Kubernetes env values are strings; helm renders quoted ones, a bare number is still text.
  if (typeof e.value === 'string' || typeof e.value === 'number' || typeof e.value === 'boolean')
    out.value = String(e.value);
  const from = objAt(e, 'valueFrom');
  if (from) {
    const [kind = 'unknown', ref] = Object.entries(from)[0] ?? [];
    out.from = { kind, optional: isObj(ref) && ref.optional === true };
    if (kind === 'fieldRef' && isObj(ref) && typeof ref.fieldPath === 'string')
      out.from.field = ref.fieldPath;
  }
  return out;
}

/** Every container (and init container) of every workload in `helm template` output. */
export function renderedContainers(manifests: string): RenderedContainer[] {
  const out: RenderedContainer[] = [];
  for (const d of parseAllDocuments(manifests)) {
    if (d.errors.length > 0) throw new Error(`rendered manifests are not YAML: ${d.errors[0]!.message}`);
    const doc: unknown = d.toJS();
    if (!isObj(doc) || typeof doc.kind !== 'string') continue;
    const pod = podSpecOf(doc.kind, doc);
    if (!pod) continue;
    const workload = `${doc.kind} ${String(objAt(doc, 'metadata')?.name)}`;
    for (const raw of [...listAt(pod, 'initContainers'), ...listAt(pod, 'containers')]) {
      const c = isObj(raw) ? raw : {};
      const args = listAt(c, 'args');
      out.push({
        workload,
        container: String(c.name),
        command: typeof args[0] === 'string' ? args[0] : undefined,
        overridesEntryPoint: c.command !== undefined,
        env: listAt(c, 'env').map(envVar),
        envFrom: listAt(c, 'envFrom').length > 0,
      });
    }
  }
  return out;
}

const where = (c: RenderedContainer) => `${c.workload} (${c.container}, command ${c.command ?? '?'})`;

/** Whether an env entry gives the variable a value (a required setting is then satisfied). */
function provides(e: EnvVar): boolean {
  if (e.from) return !e.from.optional;
  return e.value !== undefined && e.value.trim() !== '';
}

/**
 * What the check puts in place of a downward-API field a setting's value refers to as `$(VAR)`:
 * a value of the field's shape, so that the expanded value is parsed as the process will see it.
 */
const FIELD_SAMPLES: Readonly<Record<string, string>> = {
  'status.podIP': '10.1.2.3',
  'status.hostIP': '10.0.0.1',
  'metadata.name': 'pod-0',
  'metadata.namespace': 'tern-dc1',
};

const REFERENCE = /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g;

/**
 * A variable that is no setting but only feeds a later variable's `$(NAME)`: a downward-API field
 * (the pod's IP, say) that Kubernetes can only hand a container as a variable of its own.
 */
function feedsExpansion(e: EnvVar, env: readonly EnvVar[]): boolean {
  if (e.from?.kind !== 'fieldRef') return false;
  const at = env.indexOf(e);
  return env.slice(at + 1).some((later) => later.value?.includes(`$(${e.name})`) === true);
}

/**
 * `value` with each `$(NAME)` of a variable defined earlier in the container replaced the way
 * Kubernetes does (a literal value; a downward-API field by a sample of its shape). A reference
 * to anything else stays as written, as it does in the pod.
 */
function expand(value: string, earlier: readonly EnvVar[]): string {
  return value.replace(REFERENCE, (whole, name: string) => {
    const ref = earlier.find((x) => x.name === name);
    if (ref?.value !== undefined) return ref.value;
    const sample = ref?.from?.field === undefined ? undefined : FIELD_SAMPLES[ref.from.field];
    return sample ?? whole;
  });
}

/**
 * What is wrong with the environment of each container, against the settings its command reads:
 * variables the command does not read (but for downward-API fields that only feed a later
 * `$(NAME)`), values that do not parse (after Kubernetes' `$(NAME)` expansion), required settings
 * not set.
 */
export function envProblems(
  containers: readonly RenderedContainer[],
  commands: ReadonlyMap<string, Command>,
): string[] {
  const problems: string[] = [];
  for (const c of containers) {
    const at = where(c);
    if (c.overridesEntryPoint) {
      problems.push(`${at}: replaces the image's entry point, so its Tern command cannot be checked`);
      continue;
    }
    const cmd = c.command === undefined ? undefined : commands.get(c.command);
    if (!cmd) {
      problems.push(`${at}: not a command of services/main.ts (${[...commands.keys()].join(', ')})`);
      continue;
    }
    if (c.envFrom) problems.push(`${at}: envFrom hides which settings it sets; use env`);
    const seen = new Set<string>();
    c.env.forEach((e, i) => {
      if (seen.has(e.name)) problems.push(`${at}: ${e.name} is set twice`);
      seen.add(e.name);
      const setting = cmd.settings.get(e.name);
      if (!setting) {
        if (!feedsExpansion(e, c.env))
          problems.push(`${at}: sets ${e.name}, which ${cmd.name} does not read`);
        return;
      }
      if (e.value !== undefined && e.value.trim() !== '' && !readsAFile(e.name)) {
        const value = expand(e.value, c.env.slice(0, i));
        const bad = parseProblem(setting, value);
        if (bad) problems.push(`${at}: ${e.name}=${JSON.stringify(e.value)} ${bad}`);
      }
    });
    for (const [name, setting] of cmd.settings) {
      if (!factsOf(name, setting).required) continue;
      const e = c.env.find((x) => x.name === name);
      if (!e) problems.push(`${at}: does not set ${name}, which ${cmd.name} requires`);
      else if (!provides(e))
        problems.push(
          `${at}: ${name} is required by ${cmd.name} but ${e.from ? 'comes from an optional key' : 'is empty'}`,
        );
    }
  }
  return problems;
}

/**
 * Settings the chart's values.yaml sets to something other than the service's default, on
 * purpose. Any other value that differs from its default is drift.
 */
export const INTENTIONAL_OVERRIDES: Readonly<Record<string, string>> = {
  TERN_PRODUCTION: 'the chart deploys production: no development conveniences (Tilt turns it off)',
  TERN_CASSANDRA_REPLICATION: 'a real cluster replicates keyspaces with NetworkTopologyStrategy',
};

/**
 * What differs between the values a render with the chart's own values.yaml gives and the
 * services' defaults (see INTENTIONAL_OVERRIDES).
 */
export function defaultProblems(
  containers: readonly RenderedContainer[],
  commands: ReadonlyMap<string, Command>,
  overrides: Readonly<Record<string, string>> = INTENTIONAL_OVERRIDES,
): string[] {
  const problems = new Set<string>();
  for (const c of containers) {
    const cmd = c.command === undefined ? undefined : commands.get(c.command);
    if (!cmd) continue;
    for (const e of c.env) {
      const setting = cmd.settings.get(e.name);
      if (!setting || e.value === undefined) continue;
      const facts = factsOf(e.name, setting);
      if (facts.defaultText === undefined) continue;
      const same = isDefaultValue(setting, e.value);
      if (!same && !(e.name in overrides))
        problems.add(
          `values.yaml sets ${e.name}=${JSON.stringify(e.value)}, the services' default is ${JSON.stringify(
            facts.defaultText,
          )}: drop the value (unset, the default applies) or make it equal; an intended difference belongs in INTENTIONAL_OVERRIDES (tools/deploy/settings.ts)`,
        );
      if (same && e.name in overrides)
        problems.add(
          `${e.name} is listed in INTENTIONAL_OVERRIDES but values.yaml sets the services' default`,
        );
    }
  }
  return [...problems];
}

/**
 * Every optional knob of values.yaml set at once (`--set` pairs), and the variable each must
 * reach in the containers of `command`: the chart's rarely rendered branches are checked too.
 */
export const SETTINGS_PROBE: ReadonlyArray<{ set: string; variable: string; command: string }> = [
  { set: 'logLevel=debug', variable: 'TERN_LOG_LEVEL', command: 'auth' },
  { set: 'cassandra.localDc=dc-a', variable: 'TERN_CASSANDRA_LOCAL_DC', command: 'migrate' },
  { set: 'cassandra.keyspacePrefix=chat', variable: 'TERN_CASSANDRA_KEYSPACE_PREFIX', command: 'channel' },
  { set: 'minio.bucketPrefix=chat', variable: 'TERN_MINIO_BUCKET_PREFIX', command: 'media' },
  { set: 'fileReferenceTtlSeconds=604800', variable: 'TERN_FILE_REFERENCE_TTL_SECONDS', command: 'gateway' },
  {
    set: 'services.gateway.proxyProtocol.mode=optional',
    variable: 'TERN_GATEWAY_PROXY_PROTOCOL',
    command: 'gateway',
  },
  {
    set: 'services.gateway.proxyProtocol.trusted=10.0.0.0/8',
    variable: 'TERN_GATEWAY_PROXY_TRUSTED',
    command: 'gateway',
  },
  {
    set: 'services.gateway.maxConnectionsPerIp=5000',
    variable: 'TERN_GATEWAY_MAX_CONNECTIONS_PER_IP',
    command: 'gateway',
  },
  {
    set: 'services.messaging.push.providers=webhook\\,fcm\\,apns',
    variable: 'TERN_PUSH_PROVIDERS',
    command: 'messaging',
  },
  {
    set: 'services.messaging.push.webhookUrl=https://push.example/notify',
    variable: 'TERN_PUSH_WEBHOOK_URL',
    command: 'messaging',
  },
  {
    set: 'services.messaging.push.apns.keyId=ABCDE12345',
    variable: 'TERN_PUSH_APNS_KEY_ID',
    command: 'messaging',
  },
  {
    set: 'services.messaging.push.apns.teamId=FGHIJ67890',
    variable: 'TERN_PUSH_APNS_TEAM_ID',
    command: 'messaging',
  },
  {
    set: 'services.messaging.push.apns.topic=com.example.app',
    variable: 'TERN_PUSH_APNS_TOPIC',
    command: 'messaging',
  },
  { set: 'services.messaging.push.timeoutMs=2000', variable: 'TERN_PUSH_TIMEOUT_MS', command: 'messaging' },
  { set: 'services.messaging.push.maxAttempts=3', variable: 'TERN_PUSH_MAX_ATTEMPTS', command: 'messaging' },
  { set: 'services.messaging.push.concurrency=64', variable: 'TERN_PUSH_CONCURRENCY', command: 'messaging' },
];

/** Variables of SETTINGS_PROBE that did not reach their command's containers. */
export function probeProblems(
  containers: readonly RenderedContainer[],
  probe: typeof SETTINGS_PROBE = SETTINGS_PROBE,
): string[] {
  const problems: string[] = [];
  for (const p of probe) {
    const targets = containers.filter((c) => c.command === p.command);
    if (targets.length === 0) problems.push(`no container runs ${p.command} (for --set ${p.set})`);
    for (const c of targets)
      if (!c.env.some((e) => e.name === p.variable && (e.value !== undefined || e.from)))
        problems.push(`${where(c)}: --set ${p.set} did not set ${p.variable}`);
  }
  return problems;
}
