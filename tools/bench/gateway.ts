/**
 * `npm run bench:gateway`: figures for the MTProto gateway, each beside a ceiling measured in the
 * same run (docs/benchmarks.md says what each one means).
 *
 *  1. AES-256-IGE MB/s, ours vs native AES-256-CBC            (offline)
 *     and CPU per MiB of a file-part answer vs the crypto alone (offline)
 *  2. TL encode/decode ops/s, ours vs GramJS, layer 198        (offline)
 *  3. auth-key handshakes/s against the stack's DC 1 gateway   (needs `npm run stack`)
 *  4. encrypted RPCs/s on that gateway, GramJS clients         (needs `npm run stack`)
 *  5. RSS per idle connection at 10,000, own gateway process   (needs `npm run stack` and a build)
 *
 * `npm run bench:gateway -- --crypto` runs section 1 only, `-- --offline` sections 1 and 2: neither
 * needs the stack.
 */
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { readStackInfo } from '../stack/info';
import { paths } from '../stack/paths';
import { workerPid } from '../stack/processes';
import { igeEngine } from '../../services/gateway/src/mtproto/crypto/aes-ige';
import { benchAes, formatAes, type AesResult } from './aes';
import { benchAnswerPath, formatAnswerPath } from './answer-path';
import { trustServerKey, type Target } from './gramjs';
import { benchHandshakes, serverCryptoCeiling, type LoadResult } from './handshake';
import { benchIdleMemory, type IdleMemoryResult } from './idle-memory';
import { fmt, ratio, table } from './measure';
import { rpcBench } from './rpc';
import { benchTl, formatTl, TL_LAYER } from './tl';

const USAGE = 'usage: npm run bench:gateway [-- --crypto | --offline]';
const FLAGS = new Set(process.argv.slice(2));
for (const flag of FLAGS)
  if (flag !== '--crypto' && flag !== '--offline') {
    process.stderr.write(`bench:gateway: unknown argument ${flag}\n${USAGE}\n`);
    process.exit(2);
  }
/** Sections 1–2 (or 1 alone) need no stack. */
const LAST_SECTION = FLAGS.has('--crypto') ? 1 : FLAGS.has('--offline') ? 2 : 5;

const SETTINGS = {
  aesSizes: [1024, 64 * 1024],
  aesMs: 400,
  answerMs: 1500,
  tlMs: 400,
  handshake: { concurrency: 4, ms: 12_000 },
  rpc: { clients: 8, inFlight: 32, ms: 8_000 },
  idle: { connections: 10_000, settleMs: 2_000 },
  ports: { tcp: 19443, ws: 19080, grpc: 19050, metrics: 19400, bare: 19444 },
};

function machine(): string {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  const gib = (totalmem() / 2 ** 30).toFixed(1);
  return `${availableParallelism()} CPUs (${cpu}), ${gib} GiB RAM, Node ${process.version}, Linux ${release()}`;
}

function heading(title: string): void {
  process.stdout.write(`\n== ${title}\n`);
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** "bench 80% · gateway 34% · … · machine 190% of 200%" — CPU as a share of one core. */
function cpuShares(r: LoadResult): string {
  const pct = (s: number) => `${Math.round((s / r.seconds) * 100)}%`;
  const { machine: all, ...procs } = r.cpu;
  const parts = Object.entries(procs).map(([name, s]) => `${name} ${pct(s)}`);
  if (all !== undefined) parts.push(`whole machine ${pct(all)} of ${availableParallelism() * 100}%`);
  return parts.join(' · ');
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

function loadLines(label: string, r: LoadResult): string[][] {
  const rate = r.ops / r.seconds;
  const gatewayBound = r.cpu.gateway ? r.ops / r.cpu.gateway : NaN;
  const clientBound = r.ops / r.cpu.bench!;
  return [
    [
      label,
      fmt(rate),
      fmt(gatewayBound),
      ratio(rate, gatewayBound),
      fmt(clientBound),
      ratio(rate, clientBound),
      String(r.errors),
    ],
  ];
}

const LOAD_HEADER = [
  '',
  'measured/s',
  'gateway-core bound/s',
  'measured/bound',
  'client-core bound/s',
  'measured/bound',
  'errors',
];

/**
 * Both IGE directions against native CBC *encryption*: CBC encryption is sequential (each block
 * waits for the previous one), as IGE decryption is, so it is the ceiling that matters for both;
 * native CBC decryption is parallel inside OpenSSL.
 */
function formatIgeVsCbcEncrypt(results: readonly AesResult[]): string {
  const rows = [
    [
      'message',
      'native CBC encrypt MB/s',
      'IGE encrypt MB/s',
      'encrypt/CBC-enc',
      'IGE decrypt MB/s',
      'decrypt/CBC-enc',
    ],
  ];
  for (const r of results) {
    const size = r.size >= 1024 ? `${r.size / 1024} KiB` : `${r.size} B`;
    rows.push([
      size,
      fmt(r.cbcEnc),
      fmt(r.igeEnc),
      ratio(r.igeEnc, r.cbcEnc),
      fmt(r.igeDec),
      ratio(r.igeDec, r.cbcEnc),
    ]);
  }
  return `${table(rows)}
IGE implementation in this process: ${igeEngine()} (docs/decisions/0015-aes-ige.md). Encryption is one native
CBC pass plus XORs; decryption chains through D, which no OpenSSL mode does, so it runs block by block
through a constant-time AES in WebAssembly SIMD (no AES instructions there).`;
}

function formatMemory(results: readonly IdleMemoryResult[]): string {
  const rows = [
    [
      'server',
      'RSS at 0',
      'at 1,000',
      'at N',
      'N',
      'bytes/conn (N−0)/N',
      'marginal (N−1k)',
      'heap/conn',
      'open',
    ],
  ];
  const perConn: number[] = [];
  for (const r of results) {
    const [p0, p1, pN] = r.points as [(typeof r.points)[0], (typeof r.points)[0], (typeof r.points)[0]];
    const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    const per = (pN.rss - p0.rss) / pN.connections;
    perConn.push(per);
    const heap =
      p0.heapUsed !== undefined && pN.heapUsed !== undefined
        ? fmt((pN.heapUsed - p0.heapUsed) / pN.connections)
        : '—';
    rows.push([
      r.name,
      mb(p0.rss),
      mb(p1.rss),
      mb(pN.rss),
      String(pN.connections),
      fmt(per),
      fmt((pN.rss - p1.rss) / (pN.connections - p1.connections)),
      heap,
      `${r.open}${r.failed ? ` (${r.failed} refused)` : ''}`,
    ]);
  }
  const [bare, gateway] = perConn as [number, number];
  return `${table(rows)}
gateway/bare Node per connection: ${ratio(gateway, bare)} (ceiling: a Node net server that only accepts and reads)`;
}

async function main(): Promise<void> {
  const started = performance.now();
  say(`tern gateway benchmark — ${machine()}`);
  say(`load average at start: ${load()} (other work on the machine lowers every figure)`);

  heading('1. AES-256-IGE (services/gateway/src/mtproto/crypto/aes-ige.ts) vs native AES-256-CBC');
  const aes = benchAes(SETTINGS.aesSizes, SETTINGS.aesMs);
  say(formatAes(aes));
  say('\nthe same figures against native CBC encryption, the sequential ceiling:');
  say(formatIgeVsCbcEncrypt(aes));
  say(
    '\nCPU per MiB of a 1 MiB upload.file answer, media reply to framed packet (tools/bench/answer-path.ts):',
  );
  say(formatAnswerPath(benchAnswerPath(SETTINGS.answerMs)));
  if (LAST_SECTION === 1) return done(started);

  heading(`2. TL codec (services/gateway/src/tl) vs GramJS serializer, layer ${TL_LAYER}, ops/s`);
  say(formatTl(benchTl(SETTINGS.tlMs)));
  if (LAST_SECTION === 2) return done(started);

  const info = readStackInfo();
  const dc1 = info.dcs.find((d) => d.id === 1);
  if (!dc1) throw new Error('the stack has no DC 1');
  trustServerKey(info.rsaPublicKey);
  const target: Target = { dcId: 1, host: dc1.host, port: dc1.tcpPort };
  const pids = {
    gateway: workerPid('dc1-gateway'),
    auth: workerPid('dc1-auth'),
    cassandra: workerPid('cassandra'),
  };
  if (pids.gateway === undefined) throw new Error("the stack's dc1-gateway is not running: `npm run stack`");

  const { concurrency, ms } = SETTINGS.handshake;
  heading(
    `3. auth-key handshakes, GramJS Authenticator, ${concurrency} at a time for ${ms / 1000} s → ${target.host}:${target.port}`,
  );
  const crypto = serverCryptoCeiling(1500);
  const hs = await benchHandshakes(target, concurrency, ms, pids);
  say(table([LOAD_HEADER, ...loadLines('handshakes', hs)]));
  say(
    `gateway handshake crypto alone, one core: ${fmt(crypto.gateway)}/s → measured/crypto ceiling ${ratio(hs.ops / hs.seconds, crypto.gateway)}` +
      ` (with OpenSSL doing the two DH exponentiations: ${fmt(crypto.openssl)}/s)`,
  );
  say(`CPU (share of one core): ${cpuShares(hs)}${hs.firstError ? ` · first error: ${hs.firstError}` : ''}`);
  say(
    'note: the client (GramJS, pure-JS big-integer: factorizing pq and two 2048-bit modExps per handshake)\n' +
      `runs in this process on the same ${availableParallelism()}-core machine as the gateway, auth and Cassandra; ` +
      'whichever bound is lower is what limits the figure',
  );

  const { clients, inFlight } = SETTINGS.rpc;
  heading(
    `4. encrypted RPCs on one gateway process: ${clients} GramJS clients × ${inFlight} in flight, ${SETTINGS.rpc.ms / 1000} s each`,
  );
  const rpc = await rpcBench(target, clients, inFlight);
  try {
    const ping = await rpc.run('ping', SETTINGS.rpc.ms, pids);
    const nearest = await rpc.run('help.getNearestDc', SETTINGS.rpc.ms, pids);
    say(table([LOAD_HEADER, ...loadLines('ping', ping), ...loadLines('help.getNearestDc', nearest)]));
    say(`CPU (share of one core), ping: ${cpuShares(ping)}`);
    say(`CPU (share of one core), help.getNearestDc: ${cpuShares(nearest)}`);
    say('bounds: calls per CPU second of the gateway process / of this client process in the same window');
  } finally {
    await rpc.close();
  }

  const { connections, settleMs } = SETTINGS.idle;
  heading(
    `5. memory per idle connection: ${connections.toLocaleString('en-US')} TCP connections, intermediate header sent, then silent`,
  );
  if (!existsSync(paths.mainJs)) throw new Error(`${paths.mainJs} is missing: run \`npm run build\``);
  say(formatMemory(await benchIdleMemory(info, connections, SETTINGS.ports, settleMs)));
  say('RSS from /proc/<pid>/status VmRSS (user space; kernel socket buffers not included)');
  done(started);
}

function done(started: number): void {
  say(`\ndone in ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end: ${load()}`);
}

main().then(
  // GramJS may leave timers behind; the figures are printed, so end here.
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:gateway: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
