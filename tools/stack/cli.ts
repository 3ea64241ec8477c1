/**
 * `npm run stack` / `stack:down` / `stack:info`: the local three-DC stack on one machine.
 *
 *   up    install what is missing (pinned, cached), start NATS, Cassandra, MinIO and Jaeger on
 *         127.0.0.1, build Tern if its sources changed, migrate every DC, start 3 × 5 services
 *         on 127.0.0.{1,2,3} (messaging as TERN_STACK_MESSAGING_REPLICAS replicas, default 2,
 *         behind a TCP balancer per DC), wait for every health check, print the endpoints.
 *         Idempotent: what already runs is reused, stored data is kept.
 *   down  stop everything gracefully (Tern first, then the infrastructure); data stays.
 *   info  print the running stack as JSON (exit 1 when it is not running).
 *   move-user <user_id> <dc>
 *         the operator's user move (services/auth/src/commands/move-user.ts) against this stack.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { INFRA_COMPONENTS } from './infra';
import { readStackInfo, StackNotRunningError } from './info';
import { ensureCertificates } from './certs';
import { ensureRsaKey, ensureSecretKey, ensureSecrets } from './keys';
import {
  DC_IDS,
  localTopology,
  messagingReplicaCount,
  stackInfo,
  ternProcessNames,
  type StackInfo,
} from './plan';
import { REPO_ROOT, paths } from './paths';
import { withLock } from './lock';
import { runningPid, stop } from './processes';
import { buildIfStale, migrateAll, startServices, stopServices } from './tern';

const say = (line: string) => process.stderr.write(`stack: ${line}\n`);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

async function up(): Promise<void> {
  const started = Date.now();
  // Read first: a wrong value stops the command before anything starts.
  const replicas = messagingReplicaCount(process.env);
  for (const dir of [paths.data, paths.logs, paths.run, paths.config]) mkdirSync(dir, { recursive: true });
  const secrets = ensureSecrets(paths.secrets);
  const rsaPublicKey = ensureRsaKey(paths.rsaKey);
  writeFileSync(paths.topology, `${JSON.stringify(localTopology(), null, 2)}\n`);
  ensureSecretKey(paths.fileReferenceKey);
  ensureCertificates(paths.tls, DC_IDS);
  const files = {
    topology: paths.topology,
    rsaKey: paths.rsaKey,
    fileReferenceKey: paths.fileReferenceKey,
    tls: paths.tls,
  };

  // Installs one at a time (each Go build already uses both cores), then start everything and
  // build Tern while Cassandra boots.
  for (const component of INFRA_COMPONENTS) await component.start(secrets);
  say(`infrastructure started (${seconds(started)}); building Tern if needed`);
  await buildIfStale();
  await Promise.all(INFRA_COMPONENTS.map((c) => c.ready()));
  say(`infrastructure ready (${seconds(started)}); applying migrations`);
  await migrateAll(secrets, files);
  say(`migrations applied (${seconds(started)}); starting services`);
  await startServices(secrets, files, replicas);

  const info = stackInfo(
    secrets,
    rsaPublicKey,
    {
      topology: paths.topology,
      fileReferenceKey: paths.fileReferenceKey,
      tls: paths.tls,
      repoRoot: REPO_ROOT,
      logs: paths.logs,
    },
    replicas,
  );
  writeFileSync(paths.info, `${JSON.stringify(info, null, 2)}\n`);
  process.stdout.write(table(info));
  say(
    `up in ${seconds(started)}: 3 DCs, ${replicas} messaging replica${replicas === 1 ? '' : 's'} each, every health check SERVING. \`npm run stack:info\` prints this as JSON; \`npm run stack:down\` stops it.`,
  );
}

async function down(): Promise<void> {
  const started = Date.now();
  rmSync(paths.info, { force: true });
  await stopServices();
  // Reverse start order: nothing Tern-side is left to write to them.
  for (const component of [...INFRA_COMPONENTS].reverse()) await stop(component.name, component.stopGraceMs);
  say(`stopped in ${seconds(started)}; data kept in ${paths.data}`);
}

function info(): void {
  const current = readStackInfo();
  // The processes the stack was started with (its replica count), not what this shell would ask
  // for; a description written before replicas existed lists none: the one-replica shape then.
  const tern = current.processes ?? ternProcessNames(1);
  const stale = [...tern, ...INFRA_COMPONENTS.map((c) => c.name)].filter(
    (name) => runningPid(name) === undefined,
  );
  if (stale.length > 0)
    throw new StackNotRunningError(
      `the local stack is not fully running (stopped: ${stale.join(', ')}); start it with \`npm run stack\``,
    );
  process.stdout.write(`${JSON.stringify(current, null, 2)}\n`);
}

function table(s: StackInfo): string {
  const rows: string[][] = [
    ['DC', 'MTProto TCP', 'WebSocket', 'auth', 'messaging', 'channel', 'media', 'gateway gRPC'],
  ];
  for (const dc of s.dcs)
    rows.push([
      `dc${dc.id}`,
      `${dc.host}:${dc.tcpPort}`,
      `${dc.host}:${dc.wsPort}`,
      dc.services.auth,
      dc.services.messaging,
      dc.services.channel,
      dc.services.media,
      dc.services.gateway,
    ]);
  const replicas = s.dcs
    .filter((dc) => dc.messagingBalancer)
    .map((dc) => `dc${dc.id} ${dc.messagingReplicas.map((r) => r.address).join(', ')}`);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [
    '',
    ...rows.map(line),
    '',
    ...(replicas.length > 0
      ? [`Messaging      replicas behind each DC's messaging address: ${replicas.join('; ')}`]
      : []),
    `Jaeger UI      ${s.jaegerQueryUrl}`,
    `NATS           ${s.natsUrl}`,
    `Cassandra      ${s.cassandra.contactPoints.join(',')}  (keyspaces ${s.cassandra.keyspacePrefix}_global, ${s.cassandra.keyspacePrefix}_dc1..3)`,
    `MinIO          ${s.minio.endpoint}  console ${s.minio.consoleUrl}  (credentials in .stack/secrets.json)`,
    `Logs           ${s.logs}`,
    '',
  ].join('\n');
}

/** `npm run user:move -- <user_id> <dc>`: the operator command, pointed at the local topology. */
function moveUser(): void {
  readStackInfo(); // a clear message when the stack is not running
  const res = spawnSync(
    process.execPath,
    [join(REPO_ROOT, 'dist/services/main.js'), 'move-user', ...process.argv.slice(3)],
    {
      stdio: 'inherit',
      // The operator's certificate: MoveUser answers only it (proto/: its Callers: line).
      env: { ...process.env, TERN_TOPOLOGY_FILE: paths.topology, TERN_TLS_DIR: join(paths.tls, 'operator') },
    },
  );
  process.exitCode = res.status ?? 1;
}

/** up and down change what runs: one at a time per checkout (lock.ts says why). */
const exclusive = (fn: () => Promise<void>) => () =>
  withLock(join(paths.run, 'stack.lock'), fn, {
    onWait: (holder) => say(`another stack command (pid ${holder}) is running; waiting for it`),
  });

const COMMANDS: Record<string, () => Promise<void> | void> = {
  up: exclusive(up),
  down: exclusive(down),
  info,
  'move-user': moveUser,
};

async function main(): Promise<void> {
  const command = COMMANDS[process.argv[2] ?? ''];
  if (!command) {
    process.stderr.write('usage: stack <up|down|info|move-user>\n');
    process.exit(64);
  }
  try {
    await command();
  } catch (err) {
    process.stderr.write(`stack: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}

void main();
