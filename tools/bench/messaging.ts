/**
 * `npm run bench:messaging`: end-to-end private messages on the local stack, beside what its stores
 * can do on their own in the same run (docs/benchmarks.md, "Messaging").
 *
 *  1. ceilings: single-row Cassandra writes/s (plain and lightweight transactions) and NATS
 *     JetStream publishes/s, many in flight (raw-stores.ts);
 *  2. messages/s and send → receive latency (p50, p99) for N GramJS senders on DC 2, each with
 *     one send in flight, to N online GramJS receivers on DC 1 (messaging-e2e.ts);
 *  3. each level's rate as a ratio to each ceiling, and Cassandra's CPU per message counted in
 *     raw writes' worth of its CPU;
 *  4. what one message costs the backend (Cassandra statements, internal gRPC calls, NATS
 *     publishes), counted in the run's own traces in Jaeger (traces.ts), and the rate the stores
 *     would allow at that cost.
 *
 * Options: --clients 1,4,16 (levels) --seconds 15 (per level).
 */
import { readStackInfo } from '../stack/info';
import { runningPid } from '../stack/processes';
import { trustServerKey, type Target } from './gramjs';
import type { LoadResult } from './handshake';
import { cpuSharesOf, fmt, loadAverage, machineDescription, ratio, table } from './measure';
import { makePairs, quantile, runPairs, type E2eResult } from './messaging-e2e';
import { rawStores } from './raw-stores';
import { messageCost } from './traces';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const SETTINGS = {
  levels: option('clients', '1,4,16')
    .split(',')
    .map((n) => Number(n))
    .filter((n) => n > 0),
  seconds: Number(option('seconds', '15')),
  drainMs: 15_000,
  ceilings: { ms: 6_000, writes: 32, lwts: 16, publishes: 64 },
};

const say = (text: string) => process.stdout.write(`${text}\n`);
const heading = (title: string) => say(`\n== ${title}`);

const perSecond = (r: LoadResult) => r.ops / r.seconds;

async function main(): Promise<void> {
  const started = performance.now();
  say(`tern messaging benchmark — ${machineDescription()}`);
  say(`load average at start: ${loadAverage()} (other work on the machine lowers every figure)`);

  const info = readStackInfo();
  const dc = (id: number): Target => {
    const d = info.dcs.find((x) => x.id === id);
    if (!d) throw new Error(`the stack has no DC ${id}`);
    return { dcId: id, host: d.host, port: d.tcpPort };
  };
  const pids = {
    cassandra: runningPid('cassandra'),
    nats: runningPid('nats'),
    'dc2-gateway': runningPid('dc2-gateway'),
    'dc2-messaging': runningPid('dc2-messaging'),
    'dc1-messaging': runningPid('dc1-messaging'),
    'dc1-gateway': runningPid('dc1-gateway'),
    'dc1-auth': runningPid('dc1-auth'),
    'dc2-auth': runningPid('dc2-auth'),
  };
  if (pids['dc1-messaging'] === undefined || pids['dc2-gateway'] === undefined)
    throw new Error('the stack is not running: `npm run stack`');
  trustServerKey(info.rsaPublicKey);

  const most = Math.max(...SETTINGS.levels);
  heading(
    `setup: ${most} GramJS senders on DC 2 and ${most} receivers on DC 1, signed up as new test numbers`,
  );
  const setupStart = performance.now();
  const pairs = await makePairs(dc(2), dc(1), most);
  say(`${2 * most} clients logged in in ${((performance.now() - setupStart) / 1000).toFixed(0)} s`);

  const { ms, writes, lwts, publishes } = SETTINGS.ceilings;
  heading(`1. ceilings: the stores alone, ${ms / 1000} s each`);
  const stores = await rawStores(info);
  let write: LoadResult, lwt: LoadResult, publish: LoadResult;
  try {
    write = await stores.cassandraWrites(writes, ms, pids);
    lwt = await stores.cassandraLwts(lwts, ms, pids);
    publish = await stores.natsPublishes(publishes, ms, pids);
  } finally {
    await stores.close();
  }
  say(
    table([
      ['', 'in flight', 'ops/s', 'errors', 'CPU (share of one core)'],
      [
        'Cassandra single-row INSERT',
        String(writes),
        fmt(perSecond(write)),
        String(write.errors),
        cpuSharesOf(write.cpu, write.seconds),
      ],
      [
        'Cassandra INSERT IF NOT EXISTS',
        String(lwts),
        fmt(perSecond(lwt)),
        String(lwt.errors),
        cpuSharesOf(lwt.cpu, lwt.seconds),
      ],
      [
        'NATS JetStream publish (acked)',
        String(publishes),
        fmt(perSecond(publish)),
        String(publish.errors),
        cpuSharesOf(publish.cpu, publish.seconds),
      ],
    ]),
  );

  heading(
    `2. end to end: N senders (DC 2) → N online receivers (DC 1), one send in flight per sender, ${SETTINGS.seconds} s per level`,
  );
  const results: E2eResult[] = [];
  const e2eStart = Date.now();
  try {
    for (const n of SETTINGS.levels) {
      const r = await runPairs(pairs, n, SETTINGS.seconds * 1000, SETTINGS.drainMs, pids);
      results.push(r);
      say(
        `N=${n}: ${r.sent} sent, ${r.receivedInWindow} received live in ${r.seconds.toFixed(1)} s; ` +
          `${r.lost} not received within ${SETTINGS.drainMs / 1000} s after; ${r.errors} errors${r.firstError ? ` (first: ${r.firstError})` : ''}`,
      );
      say(`     CPU: ${cpuSharesOf(r.cpu, r.seconds)}`);
    }
  } finally {
    await Promise.all(pairs.flatMap((p) => [p.sender.destroy(), p.receiver.destroy()]));
  }

  heading('3. messages/s against the ceilings of this run');
  const cassandraCpuPerWrite = (write.cpu.cassandra ?? NaN) / write.ops;
  const cassandraCpuPerLwt = (lwt.cpu.cassandra ?? NaN) / lwt.ops;
  say(
    table([
      [
        'N',
        'messages/s',
        'p50 ms',
        'p99 ms',
        '÷ Cassandra writes/s',
        '÷ LWTs/s',
        '÷ NATS publishes/s',
        'Cassandra CPU/message, in writes',
        'in LWTs',
      ],
      ...results.map((r) => {
        const rate = r.receivedInWindow / r.seconds;
        const cpuPerMessage = (r.cpu.cassandra ?? NaN) / Math.max(1, r.receivedInWindow);
        return [
          String(r.clients),
          fmt(rate),
          fmt(quantile(r.latencies, 0.5)),
          fmt(quantile(r.latencies, 0.99)),
          ratio(rate, perSecond(write)),
          ratio(rate, perSecond(lwt)),
          ratio(rate, perSecond(publish)),
          fmt(cpuPerMessage / cassandraCpuPerWrite),
          fmt(cpuPerMessage / cassandraCpuPerLwt),
        ];
      }),
    ]),
  );
  say(
    'messages/s: messages sent and received live inside the window; latency: every message of the window that arrived.\n' +
      "Cassandra CPU/message: Cassandra's CPU seconds per message delivered, divided by its CPU seconds per raw write\n" +
      '(or per raw lightweight transaction) in section 1: how many raw writes one message costs Cassandra.',
  );
  heading('4. what one message costs (median over sendMessage traces of this run, from Jaeger)');
  await new Promise((r) => setTimeout(r, 3000)); // spans reach Jaeger in batches
  const cost = await messageCost(info.jaegerQueryUrl, e2eStart).catch((err: unknown) => {
    say(`no traces: ${(err as Error).message}`);
    return undefined;
  });
  if (cost && cost.traces > 0) {
    const statements = cost.cassandraStatements + cost.cassandraBatches;
    const best = Math.max(...results.map((r) => r.receivedInWindow / r.seconds));
    const bound = perSecond(write) / statements;
    say(
      `${cost.traces} traces: ${statements} Cassandra statements (${cost.cassandraStatements} + ${cost.cassandraBatches} batches), ` +
        `${cost.grpcCalls} internal gRPC calls, ${cost.natsPublishes} NATS publishes per message`,
    );
    say(
      table([
        ['', 'messages/s'],
        ['Cassandra bound: raw writes/s ÷ statements per message', fmt(bound)],
        ['NATS bound: raw publishes/s ÷ publishes per message', fmt(perSecond(publish) / cost.natsPublishes)],
        [
          `best measured (N=${results.find((r) => r.receivedInWindow / r.seconds === best)?.clients})`,
          fmt(best),
        ],
        ['best measured ÷ Cassandra bound', ratio(best, bound)],
      ]),
    );
  } else if (cost) say('no complete sendMessage traces found in Jaeger for this run');
  say(
    `\ndone in ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end: ${loadAverage()}`,
  );
}

main().then(
  // GramJS may leave timers behind; the figures are printed, so end here.
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:messaging: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
