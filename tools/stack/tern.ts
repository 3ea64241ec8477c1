/**
 * Tern's own processes in the local stack: build when the sources changed, apply migrations for
 * every DC, then one process per service per DC (docs/decisions/0004-process-model.md) — or, for
 * messaging, one per replica and a TCP balancer on the DC's messaging address (balancer.ts) —
 * each waited on until its gRPC health check reports SERVING.
 *
 * Each runs under a supervisor (supervise.ts) that restarts it when it dies, with a crash-loop
 * backoff, as the kubelet restarts a pod's container: the pid file `<name>.pid` is the
 * supervisor's, `<name>.child.pid` the service's (processes.ts `childPid`), and both write to
 * `.stack/logs/<name>.log`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { SERVICE_NAMES, type ServiceName } from '../../services/shared/src/config/topology';
import { healthServiceDefinition } from '../../services/shared/src/health/health';
import { clientCredentialsFromDir } from '../../services/shared/src/grpc/tls';
import { run } from './exec';
import {
  DC_IDS,
  everyTernProcessName,
  messagingBalancer,
  messagingReplicas,
  processEnv,
  serviceProcessName,
  type LocalSecrets,
  type StackFiles,
} from './plan';
import { REPO_ROOT, paths } from './paths';
import { runningPid, startDetached, stop, type ProcessSpec } from './processes';
import { waitUntil } from './wait';

function newestMtime(dir: string, accept: (file: string) => boolean): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'gen' || entry.name.startsWith('.')) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, accept));
    else if (accept(p)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds (proto → TS → dist) when dist is missing or older than any source it comes from. */
export async function buildIfStale(): Promise<void> {
  const built = existsSync(paths.mainJs) ? statSync(paths.mainJs).mtimeMs : 0;
  const sources = Math.max(
    newestMtime(join(REPO_ROOT, 'services'), (f) => f.endsWith('.ts') && !f.endsWith('.test.ts')),
    newestMtime(join(REPO_ROOT, 'proto'), (f) => f.endsWith('.proto')),
  );
  if (built > sources) return;
  process.stderr.write('stack: building (npm run build)\n');
  await run('npm', ['run', 'build'], { cwd: REPO_ROOT, logFile: join(paths.logs, 'build.log') });
}

/** Applies every service's schema migrations, streams and buckets for each DC (idempotent). */
export async function migrateAll(secrets: LocalSecrets, files: StackFiles): Promise<void> {
  for (const dc of DC_IDS) {
    await run(process.execPath, [paths.mainJs, 'migrate'], {
      env: { PATH: process.env.PATH, ...processEnv(dc, 'migrate', secrets, files) },
      logFile: join(paths.logs, `migrate-dc${dc}.log`),
      timeoutMs: 180_000,
    });
  }
}

const sha256 = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

/**
 * What a running service was started from: the build and its environment. A service whose
 * fingerprint changed (new build, new settings) is restarted; the others are reused.
 */
function fingerprint(env: Record<string, string>): string {
  const built = existsSync(paths.mainJs) ? statSync(paths.mainJs).mtimeMs : 0;
  return sha256({ built, env });
}

const fingerprintFile = (name: string) => join(paths.run, `${name}.fingerprint`);

/**
 * The balancer runs from its TypeScript source through tsx (a dev dependency the stack already
 * needs) rather than from dist/: `buildIfStale` rebuilds only for changes under services/ and
 * proto/, so a compiled balancer could lag behind its source, and it is tooling, not product.
 */
const BALANCER_SOURCE = join(REPO_ROOT, 'tools', 'stack', 'balancer.ts');

/** The supervisor every Tern process runs under; from its source through tsx, as the balancer. */
const SUPERVISOR_SOURCE = join(REPO_ROOT, 'tools', 'stack', 'supervise.ts');

/** One Tern-side process to run: how to start it, what it was started from, where it answers. */
interface Planned {
  spec: ProcessSpec;
  print: string;
  /** Its gRPC address: waited on until its health check reports SERVING. */
  address: string;
  what: string;
  /** A balancer: checked once its replicas serve (its check lands on one of them). */
  fronts: boolean;
}

/** Every Tern-side process of the stack when it runs `count` messaging replicas per DC. */
function planned(secrets: LocalSecrets, files: StackFiles, count: number): Planned[] {
  const out: Planned[] = [];
  const service = (dc: number, svc: ServiceName, name: string, env: Record<string, string>) => {
    out.push({
      spec: {
        name,
        command: process.execPath,
        args: [paths.mainJs, svc],
        env: { PATH: process.env.PATH, ...env },
        cwd: REPO_ROOT,
      },
      print: fingerprint(env),
      address: env.TERN_GRPC_LISTEN!,
      what: `dc${dc} ${svc} (${name})`,
      fronts: false,
    });
  };
  for (const dc of DC_IDS) {
    for (const svc of SERVICE_NAMES) {
      if (svc !== 'messaging') {
        service(dc, svc, serviceProcessName(dc, svc), processEnv(dc, svc, secrets, files));
        continue;
      }
      for (const replica of messagingReplicas(dc, count))
        service(dc, svc, replica.name, processEnv(dc, svc, secrets, files, replica));
      const balancer = messagingBalancer(dc, count);
      if (!balancer) continue;
      const args = ['--import', 'tsx', BALANCER_SOURCE, balancer.listen, ...balancer.backends];
      out.push({
        spec: {
          name: balancer.name,
          command: process.execPath,
          args,
          env: { PATH: process.env.PATH },
          cwd: REPO_ROOT,
        },
        print: sha256({ source: readFileSync(BALANCER_SOURCE, 'utf8'), args }),
        address: balancer.listen,
        what: `dc${dc} messaging balancer (${balancer.name})`,
        fronts: true,
      });
    }
  }
  const supervisor = readFileSync(SUPERVISOR_SOURCE, 'utf8');
  return out.map((p) => supervised(p, supervisor));
}

/**
 * `p` run under the supervisor (`source` is the supervisor's code): the process keeps its name,
 * so its pid file (now the supervisor's), log and health wait; its fingerprint also covers the
 * supervisor, so a changed supervisor restarts the processes it runs.
 */
function supervised(p: Planned, source: string): Planned {
  const { name, command, args } = p.spec;
  return {
    ...p,
    spec: {
      ...p.spec,
      command: process.execPath,
      args: ['--import', 'tsx', SUPERVISOR_SOURCE, name, '--', command, ...args],
    },
    print: sha256({ process: p.print, supervisor: source }),
  };
}

/**
 * Starts (or reuses) every service of every DC, with `count` messaging replicas per DC, and waits
 * for all of them to be SERVING: each replica on its own address, and each balancer (whose check
 * lands on one of its replicas).
 */
export async function startServices(secrets: LocalSecrets, files: StackFiles, count: number): Promise<void> {
  const plan = planned(secrets, files, count);
  // Another replica count's processes hold ports this one needs (one messaging process on the
  // topology address, or a balancer there): they go first.
  const wanted = new Set(plan.map((p) => p.spec.name));
  await Promise.all(
    everyTernProcessName()
      .filter((n) => !wanted.has(n))
      .map((n) => stop(n, 15_000)),
  );
  await Promise.all(
    plan.map(async (p) => {
      const file = fingerprintFile(p.spec.name);
      const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
      if (runningPid(p.spec.name) !== undefined && current === p.print) return;
      await stop(p.spec.name, 15_000);
      startDetached(p.spec);
      writeFileSync(file, p.print);
    }),
  );
  const wait = (p: Planned) => waitServing(p.what, p.address, p.spec.name);
  await Promise.all(plan.filter((p) => !p.fronts).map(wait));
  // Checked only now: a health client that met a balancer with no replica up yet would back off
  // (gRPC reconnects after 1 s, 1.6 s, 2.6 s, …) and find it serving late.
  await Promise.all(plan.filter((p) => p.fronts).map(wait));
}

const HealthClient = makeClientConstructor(healthServiceDefinition, 'grpc.health.v1.Health');
// grpc-health-check loads its proto with enums as strings.
const SERVING = 'SERVING';

/**
 * Waits until the gRPC health check at `address` reports SERVING, or process `owner` is gone.
 * `owner` is a supervisor, alive while it restarts its service: a service that keeps dying at
 * start is reported when the wait times out, with the log tail and its `supervise:` lines.
 */
function waitServing(what: string, address: string, owner: string): Promise<void> {
  // Any certificate of the deployment may ask for health: the operator's.
  const client = new HealthClient(address, clientCredentialsFromDir(join(paths.tls, 'operator')));
  const check = () =>
    new Promise<boolean>((resolve, reject) => {
      const call = (
        client as unknown as {
          check: (
            req: object,
            opts: object,
            cb: (err: ServiceError | null, res?: { status: string }) => void,
          ) => void;
        }
      ).check;
      call.call(client, { service: '' }, { deadline: Date.now() + 2000 }, (err, res) =>
        err ? reject(err) : resolve(res?.status === SERVING),
      );
    });
  return waitUntil(`${what} health (${address})`, check, { timeoutMs: 120_000, owner }).finally(() =>
    client.close(),
  );
}

/**
 * Stops every Tern-side process, whatever replica count it was started with (SIGTERM, each
 * drains within its shutdown bound).
 */
export async function stopServices(): Promise<void> {
  await Promise.all(everyTernProcessName().map((name) => stop(name, 15_000)));
}
