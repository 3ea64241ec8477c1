/**
 * Tern's own processes in the local stack: build when the sources changed, apply migrations for
 * every DC, then one process per service per DC (docs/decisions/0004-process-model.md), each
 * waited on until its gRPC health check reports SERVING.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, makeClientConstructor, type ServiceError } from '@grpc/grpc-js';
import { SERVICE_NAMES, type ServiceName } from '../../services/shared/src/config/topology';
import { healthServiceDefinition } from '../../services/shared/src/health/health';
import { run } from './exec';
import { DC_IDS, GRPC_PORTS, dcHost, processEnv, type LocalSecrets, type StackFiles } from './plan';
import { REPO_ROOT, paths } from './paths';
import { runningPid, startDetached, stop } from './processes';
import { waitUntil } from './wait';

export const serviceProcessName = (dc: number, service: ServiceName) => `dc${dc}-${service}`;

/** Every Tern process name of the stack (DC by DC; stopServices stops them all at once). */
export const TERN_PROCESSES: readonly string[] = DC_IDS.flatMap((dc) =>
  SERVICE_NAMES.map((s) => serviceProcessName(dc, s)),
);

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

/**
 * What a running service was started from: the build and its environment. A service whose
 * fingerprint changed (new build, new settings) is restarted; the others are reused.
 */
function fingerprint(env: Record<string, string>): string {
  const built = existsSync(paths.mainJs) ? statSync(paths.mainJs).mtimeMs : 0;
  return createHash('sha256').update(JSON.stringify({ built, env })).digest('hex');
}

const fingerprintFile = (name: string) => join(paths.run, `${name}.fingerprint`);

/** Starts (or reuses) every service of every DC and waits for all of them to be SERVING. */
export async function startServices(secrets: LocalSecrets, files: StackFiles): Promise<void> {
  const starts: Array<Promise<void>> = [];
  for (const dc of DC_IDS) {
    for (const service of SERVICE_NAMES) {
      const name = serviceProcessName(dc, service);
      const env = processEnv(dc, service, secrets, files);
      const print = fingerprint(env);
      const current = existsSync(fingerprintFile(name)) ? readFileSync(fingerprintFile(name), 'utf8') : '';
      starts.push(
        (async () => {
          if (runningPid(name) !== undefined && current === print) return;
          await stop(name, 15_000);
          startDetached({
            name,
            command: process.execPath,
            args: [paths.mainJs, service],
            env: { PATH: process.env.PATH, ...env },
            cwd: REPO_ROOT,
          });
          writeFileSync(fingerprintFile(name), print);
        })(),
      );
    }
  }
  await Promise.all(starts);
  await Promise.all(DC_IDS.flatMap((dc) => SERVICE_NAMES.map((s) => waitServing(dc, s))));
}

const HealthClient = makeClientConstructor(healthServiceDefinition, 'grpc.health.v1.Health');
// grpc-health-check loads its proto with enums as strings.
const SERVING = 'SERVING';

function waitServing(dc: number, service: ServiceName): Promise<void> {
  const address = `${dcHost(dc)}:${GRPC_PORTS[service]}`;
  const client = new HealthClient(address, credentials.createInsecure());
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
  return waitUntil(`dc${dc} ${service} health (${address})`, check, {
    timeoutMs: 120_000,
    owner: serviceProcessName(dc, service),
  }).finally(() => client.close());
}

/** Stops every Tern process (SIGTERM, each drains within its shutdown bound). */
export async function stopServices(): Promise<void> {
  await Promise.all(TERN_PROCESSES.map((name) => stop(name, 15_000)));
}
