/**
 * `npm run bench:messaging`: end-to-end private messages on the local stack, beside what its stores
 * can do on their own in the same run (docs/benchmarks.md, "Messaging").
 *
 *  1. ceilings: single-row Cassandra writes/s (plain and lightweight transactions) and NATS
 *     JetStream publishes/s, many in flight (raw-stores.ts);
 *  2. throughput against offered load: with the GramJS driver (the default), N senders on DC 2,
 *     each with one send in flight, to N online GramJS receivers on DC 1 (messaging-e2e.ts), for
 *     each N; with `--driver load`, the open-loop load generator (tools/load/run.ts) at each
 *     offered rate;
 *  3. the send → receive latency at about half of the peak rate of section 2 (paced senders),
 *     as a CDF;
 *  4. each level's rate as a ratio to each ceiling, and Cassandra's CPU per message counted in
 *     raw writes' worth of its CPU;
 *  5. what one message costs the backend (Cassandra statements, lightweight transactions when the
 *     spans tell, internal gRPC calls, NATS publishes; in total and per service), counted in the
 *     run's own traces in Jaeger (traces.ts), and the rate the stores would allow at that cost.
 * Then PNG plots and the raw figures as JSON in docs/plots/ (messaging-*.png, messaging.json).
 *
 * Options: --clients 1,2,4,8,16,32 (GramJS levels) --seconds 15 (per level) --driver gramjs|load
 * --rates 5,10,20,40,80 (load levels, messages/s offered) --sessions 10 (load: sessions per DC)
 * --no-half (skip section 3) --no-plots.
 */
import { readStackInfo } from '../stack/info';
import { workerPid } from '../stack/processes';
import { trustServerKey, type Target } from './gramjs';
import type { LoadResult } from './handshake';
import { cpuSharesOf, fmt, loadAverage, machineDescription, ratio, table } from './measure';
import { makePairs, quantile, runPairs, type Pair } from './messaging-e2e';
import { barChart, cdfChart, lineChart, writeFigures, type Bar, type Series } from './plot';
import { rawStores } from './raw-stores';
import { messageCost, type CostCounts, type MessageCost } from './traces';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const numbers = (text: string) =>
  text
    .split(',')
    .map((n) => Number(n))
    .filter((n) => n > 0);

const SETTINGS = {
  driver: option('driver', 'gramjs') as 'gramjs' | 'load',
  levels: numbers(option('clients', '1,2,4,8,16,32')),
  rates: numbers(option('rates', '5,10,20,40,80')),
  sessions: Number(option('sessions', '10')),
  seconds: Number(option('seconds', '15')),
  half: !flag('no-half'),
  plots: !flag('no-plots'),
  drainMs: 15_000,
  ceilings: { ms: 6_000, writes: 32, lwts: 16, publishes: 64 },
};

const say = (text: string) => process.stdout.write(`${text}\n`);
const heading = (title: string) => say(`\n== ${title}`);

const perSecond = (r: LoadResult) => r.ops / r.seconds;

/** One measured level, whichever driver ran it. */
interface Level {
  /** "N=4" (GramJS senders) or "20/s" (offered rate), "half peak" for section 3. */
  label: string;
  /** GramJS: senders; load: the offered rate. The x of the throughput plot. */
  x: number;
  /** Messages/s offered: paced or open-loop levels only (closed-loop senders offer what they get). */
  offeredPerSecond?: number;
  sentPerSecond: number;
  /** Messages sent and received inside the window, per second of it. */
  deliveredPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  /** Send → receive samples (ms), when the driver gives them; else the CDF uses the percentiles. */
  latencies?: number[];
  lost: number;
  errors: number;
  firstError?: string;
  /** Paced levels: sends that went out after their turn. */
  late?: number;
  seconds: number;
  /** CPU seconds of the stack's processes over the window (GramJS driver). */
  cpu?: Record<string, number>;
}

/** Runs levels of offered load; GramJS and the load generator behind one face. */
interface Driver {
  describe: string;
  /** Setup before section 1 (logins), so the ceilings run on a quiet stack. */
  prepare(): Promise<void>;
  /** The sweep's levels, one after another. */
  sweep(report: (l: Level) => void): Promise<Level[]>;
  /** One level offering `rate` messages/s (section 3). */
  paced(rate: number, peak: Level): Promise<Level>;
  close(): Promise<void>;
}

type Pids = Record<string, number | undefined>;

function gramjsDriver(dc: (id: number) => Target, pids: Pids): Driver {
  let pairs: Pair[] = [];
  const most = Math.max(...SETTINGS.levels);
  const level = (r: Awaited<ReturnType<typeof runPairs>>, label: string, x: number): Level => ({
    label,
    x,
    ...(r.offeredPerSecond ? { offeredPerSecond: r.offeredPerSecond } : {}),
    sentPerSecond: r.sent / r.seconds,
    deliveredPerSecond: r.receivedInWindow / r.seconds,
    p50: quantile(r.latencies, 0.5),
    p90: quantile(r.latencies, 0.9),
    p99: quantile(r.latencies, 0.99),
    latencies: r.latencies,
    lost: r.lost,
    errors: r.errors,
    ...(r.firstError ? { firstError: r.firstError } : {}),
    ...(r.late !== undefined ? { late: r.late } : {}),
    seconds: r.seconds,
    cpu: r.cpu,
  });
  return {
    describe: `N GramJS senders (DC 2) → N online GramJS receivers (DC 1), one send in flight per sender, N = ${SETTINGS.levels.join(', ')}`,
    async prepare() {
      heading(
        `setup: ${most} GramJS senders on DC 2 and ${most} receivers on DC 1, signed up as new test numbers`,
      );
      const t = performance.now();
      pairs = await makePairs(dc(2), dc(1), most);
      say(`${2 * most} clients logged in in ${((performance.now() - t) / 1000).toFixed(0)} s`);
    },
    async sweep(report) {
      const out: Level[] = [];
      for (const n of SETTINGS.levels) {
        const r = await runPairs(pairs, n, SETTINGS.seconds * 1000, SETTINGS.drainMs, pids);
        const l = level(r, `N=${n}`, n);
        out.push(l);
        report(l);
      }
      return out;
    },
    async paced(rate, peak) {
      // As many senders as at the peak: at half its rate each has time to spare between turns.
      const r = await runPairs(pairs, peak.x, SETTINGS.seconds * 1000, SETTINGS.drainMs, pids, {
        ratePerSecond: rate,
      });
      return level(r, 'half peak', peak.x);
    },
    async close() {
      await Promise.all(pairs.flatMap((p) => [p.sender.destroy(), p.receiver.destroy()]));
    },
  };
}

/**
 * The open-loop load generator (tools/load/run.ts, `runLoad`): each level signs its sessions in,
 * offers `rate` messages/s on schedule for the window, and reports what arrived. Loaded only when
 * asked for, so the GramJS bench does not depend on it.
 */
function loadDriver(): Driver {
  type RunLoad = typeof import('../load/run').runLoad;
  let runLoad: RunLoad | undefined;
  const run = async (rate: number, label: string): Promise<Level> => {
    const r = await runLoad!({
      seconds: SETTINGS.seconds,
      rate,
      sessions: SETTINGS.sessions,
      log: (line) => say(`   load: ${line}`),
    });
    // Raw samples if the generator ever returns them; otherwise its percentiles.
    const samples = (r as { latencySamplesMs?: number[] }).latencySamplesMs;
    const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
    return {
      label,
      x: rate,
      offeredPerSecond: r.offered / r.windowSeconds,
      sentPerSecond: r.sentPerSecond,
      deliveredPerSecond: r.receivedPerSecond,
      p50: r.latencyMs.p50,
      p90: r.latencyMs.p90,
      p99: r.latencyMs.p99,
      ...(samples ? { latencies: [...samples].sort((a, b) => a - b) } : {}),
      lost: r.lost,
      errors,
      ...(errors > 0 ? { firstError: JSON.stringify(r.errors) } : {}),
      ...(r.shed > 0 ? { late: r.shed } : {}),
      seconds: r.windowSeconds,
    };
  };
  return {
    describe: `open-loop load generator (tools/load), ${SETTINGS.sessions} sessions per DC, offered ${SETTINGS.rates.join(', ')} messages/s`,
    async prepare() {
      runLoad = (await import('../load/run.js')).runLoad;
    },
    async sweep(report) {
      const out: Level[] = [];
      for (const rate of SETTINGS.rates) {
        const l = await run(rate, `${rate}/s`);
        out.push(l);
        report(l);
      }
      return out;
    },
    paced: (rate) => run(rate, 'half peak'),
    close: () => Promise.resolve(),
  };
}

async function main(): Promise<void> {
  const started = performance.now();
  const machine = machineDescription();
  const loadAtStart = loadAverage();
  say(`tern messaging benchmark — ${machine}`);
  say(`load average at start: ${loadAtStart} (other work on the machine lowers every figure)`);

  const info = readStackInfo();
  const dc = (id: number): Target => {
    const d = info.dcs.find((x) => x.id === id);
    if (!d) throw new Error(`the stack has no DC ${id}`);
    return { dcId: id, host: d.host, port: d.tcpPort };
  };
  // Every messaging replica of both DCs (one or more per DC: stack:info says which).
  const replicas = Object.fromEntries(
    info.dcs
      .filter((d) => d.id === 1 || d.id === 2)
      .flatMap((d) => d.messagingReplicas.map((r) => [r.name, workerPid(r.name)] as const)),
  );
  const pids = {
    cassandra: workerPid('cassandra'),
    nats: workerPid('nats'),
    'dc2-gateway': workerPid('dc2-gateway'),
    'dc1-gateway': workerPid('dc1-gateway'),
    'dc1-auth': workerPid('dc1-auth'),
    'dc2-auth': workerPid('dc2-auth'),
    ...replicas,
  };
  if (Object.values(replicas).includes(undefined) || pids['dc2-gateway'] === undefined)
    throw new Error('the stack is not running: `npm run stack`');
  trustServerKey(info.rsaPublicKey);

  const driver = SETTINGS.driver === 'load' ? loadDriver() : gramjsDriver(dc, pids);
  await driver.prepare();

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
  const ceilings = [
    ['Cassandra single-row INSERT', writes, write],
    ['Cassandra INSERT IF NOT EXISTS', lwts, lwt],
    ['NATS JetStream publish (acked)', publishes, publish],
  ] as const;
  say(
    table([
      ['', 'in flight', 'ops/s', 'errors', 'CPU (share of one core)'],
      ...ceilings.map(([name, n, r]) => [
        name,
        String(n),
        fmt(perSecond(r)),
        String(r.errors),
        cpuSharesOf(r.cpu, r.seconds),
      ]),
    ]),
  );

  heading(`2. throughput against offered load: ${driver.describe}, ${SETTINGS.seconds} s per level`);
  const describe = (l: Level) => {
    say(
      `${l.label}: ${l.offeredPerSecond !== undefined ? `offered ${fmt(l.offeredPerSecond)}/s, ` : ''}` +
        `${fmt(l.sentPerSecond)}/s sent, ${fmt(l.deliveredPerSecond)}/s received live in ${l.seconds.toFixed(1)} s; ` +
        `p50 ${fmt(l.p50)} ms, p99 ${fmt(l.p99)} ms; ${l.lost} not received within the drain after; ${l.errors} errors` +
        `${l.firstError ? ` (first: ${l.firstError})` : ''}${l.late ? `; ${l.late} sends behind schedule` : ''}`,
    );
    if (l.cpu) say(`     CPU: ${cpuSharesOf(l.cpu, l.seconds)}`);
  };
  const e2eStart = Date.now();
  const levels: Level[] = [];
  let half: Level | undefined;
  try {
    levels.push(...(await driver.sweep(describe)));
    const peak = levels.reduce((a, b) => (b.deliveredPerSecond > a.deliveredPerSecond ? b : a));
    if (SETTINGS.half && peak.deliveredPerSecond > 0) {
      const rate = peak.deliveredPerSecond / 2;
      heading(
        `3. latency at half the peak: ${fmt(rate)} messages/s offered (peak ${fmt(peak.deliveredPerSecond)}/s at ${peak.label})`,
      );
      half = await driver.paced(rate, peak);
      describe(half);
      say(
        'latency percentiles (ms): ' +
          [0.1, 0.25, 0.5, 0.75, 0.9, 0.99]
            .map((q) => {
              // The load generator gives percentiles only: show those it has.
              const fromLevel = { 0.5: half!.p50, 0.9: half!.p90, 0.99: half!.p99 }[q];
              const v = half!.latencies ? quantile(half!.latencies, q) : fromLevel;
              return `p${q * 100} ${v === undefined ? '—' : fmt(v)}`;
            })
            .join(', ') +
          ` (latency runs from when each send was due)`,
      );
    }
  } finally {
    await driver.close();
  }

  heading('4. messages/s against the ceilings of this run');
  const cassandraCpuPerWrite = (write.cpu.cassandra ?? NaN) / write.ops;
  const cassandraCpuPerLwt = (lwt.cpu.cassandra ?? NaN) / lwt.ops;
  say(
    table([
      [
        'level',
        'messages/s',
        'p50 ms',
        'p99 ms',
        '÷ Cassandra writes/s',
        '÷ LWTs/s',
        '÷ NATS publishes/s',
        'Cassandra CPU/message, in writes',
        'in LWTs',
      ],
      ...[...levels, ...(half ? [half] : [])].map((l) => {
        const received = l.deliveredPerSecond * l.seconds;
        const cpuPerMessage = (l.cpu?.cassandra ?? NaN) / Math.max(1, received);
        return [
          l.label,
          fmt(l.deliveredPerSecond),
          fmt(l.p50),
          fmt(l.p99),
          ratio(l.deliveredPerSecond, perSecond(write)),
          ratio(l.deliveredPerSecond, perSecond(lwt)),
          ratio(l.deliveredPerSecond, perSecond(publish)),
          // No CPU window with the load driver (its levels include their logins).
          l.cpu ? fmt(cpuPerMessage / cassandraCpuPerWrite) : '—',
          l.cpu ? fmt(cpuPerMessage / cassandraCpuPerLwt) : '—',
        ];
      }),
    ]),
  );
  say(
    'messages/s: messages sent and received live inside the window; latency: every message of the window that arrived.\n' +
      "Cassandra CPU/message: Cassandra's CPU seconds per message delivered, divided by its CPU seconds per raw write\n" +
      '(or per raw lightweight transaction) in section 1: how many raw writes one message costs Cassandra.',
  );

  heading('5. what one message costs (median over sendMessage traces of this run, from Jaeger)');
  await new Promise((r) => setTimeout(r, 3000)); // spans reach Jaeger in batches
  const cost = await messageCost(info.jaegerQueryUrl, e2eStart).catch((err: unknown) => {
    say(`no traces: ${(err as Error).message}`);
    return undefined;
  });
  const best = Math.max(...levels.map((l) => l.deliveredPerSecond));
  if (cost && cost.traces > 0) {
    const statements = cost.cassandraStatements + cost.cassandraBatches;
    const bound = perSecond(write) / statements;
    say(
      `${cost.traces} traces: ${statements} Cassandra statements (${cost.cassandraStatements} + ${cost.cassandraBatches} batches), ` +
        `${cost.lwts === undefined ? 'lightweight transactions not told apart (the spans carry no statement text)' : `${cost.lwts} of them lightweight transactions`}, ` +
        `${cost.grpcCalls} internal gRPC calls, ${cost.natsPublishes} NATS publishes per message`,
    );
    const cells = (c: CostCounts) => [
      String(c.cassandraStatements),
      String(c.cassandraBatches),
      c.lwts === undefined ? '—' : String(c.lwts),
      String(c.grpcCalls),
      String(c.natsPublishes),
    ];
    say(
      table([
        ['service', 'statements', 'batches', 'LWTs', 'gRPC calls (client side)', 'NATS publishes'],
        ...Object.entries(cost.byService).map(([name, c]) => [name, ...cells(c)]),
        ['all (median of totals)', ...cells(cost)],
      ]),
    );
    say(
      "(per-service figures are medians of each service's own counts, so they need not add up to the total)",
    );
    say(
      table([
        ['', 'messages/s'],
        ['Cassandra bound: raw writes/s ÷ statements per message', fmt(bound)],
        ...(cost.lwts ? [['LWT bound: raw LWTs/s ÷ LWTs per message', fmt(perSecond(lwt) / cost.lwts)]] : []),
        ['NATS bound: raw publishes/s ÷ publishes per message', fmt(perSecond(publish) / cost.natsPublishes)],
        [`best measured (${levels.find((l) => l.deliveredPerSecond === best)?.label})`, fmt(best)],
        ['best measured ÷ Cassandra bound', ratio(best, bound)],
      ]),
    );
  } else if (cost) say('no complete sendMessage traces found in Jaeger for this run');

  const loadAtEnd = loadAverage();
  if (SETTINGS.plots)
    await plots({ machine, loadAtStart, loadAtEnd, levels, half, cost, ceilings: { write, lwt, publish } });
  say(`\ndone in ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end: ${loadAtEnd}`);
}

/** docs/plots/messaging-{throughput,latency-cdf,cost}.png and messaging.json. */
async function plots(run: {
  machine: string;
  loadAtStart: string;
  loadAtEnd: string;
  levels: Level[];
  half: Level | undefined;
  cost: MessageCost | undefined;
  ceilings: { write: LoadResult; lwt: LoadResult; publish: LoadResult };
}): Promise<void> {
  heading('plots');
  const { levels, half, cost } = run;
  const subtitle = `${run.machine.split(',')[0]}; load ${run.loadAtStart} → ${run.loadAtEnd}; ${SETTINGS.seconds} s per level; ${new Date().toISOString().slice(0, 10)}`;
  const byDriver = SETTINGS.driver === 'load';
  const series: Series[] = [
    { name: 'delivered (received live)', points: levels.map((l) => ({ x: l.x, y: l.deliveredPerSecond })) },
    { name: 'answered (sendMessage ok)', points: levels.map((l) => ({ x: l.x, y: l.sentPerSecond })) },
  ];
  if (byDriver)
    series.push({ name: 'offered', points: levels.map((l) => ({ x: l.x, y: l.offeredPerSecond ?? l.x })) });
  const written = [
    await lineChart('messaging-throughput.png', series, {
      title: byDriver
        ? 'Private messages delivered against the rate offered (open loop)'
        : 'Private messages delivered against senders (one send in flight each)',
      subtitle,
      xTitle: byDriver ? 'messages/s offered' : 'senders N (DC 2 → DC 1)',
      yTitle: 'messages/s',
      xLog: true,
    }),
  ];
  const peak = levels.reduce<Level | undefined>(
    (a, b) => (!a || b.deliveredPerSecond > a.deliveredPerSecond ? b : a),
    undefined,
  );
  // A CDF from the samples, or from the percentiles when the driver gives only those.
  const sampleOf = (l: Level) =>
    l.latencies ?? [l.p50, l.p90, l.p99].flatMap((v, i) => Array<number>([50, 40, 9][i]!).fill(v));
  const cdfs = [
    ...(half
      ? [
          {
            name: `half peak, ${fmt(half.offeredPerSecond ?? half.deliveredPerSecond)}/s offered`,
            values: sampleOf(half),
          },
        ]
      : []),
    ...(peak
      ? [{ name: `peak, ${peak.label}, ${fmt(peak.deliveredPerSecond)}/s`, values: sampleOf(peak) }]
      : []),
  ];
  if (cdfs.length > 0)
    written.push(
      await cdfChart('messaging-latency-cdf.png', cdfs, {
        title: 'Send → receive latency of private messages (DC 2 → DC 1)',
        subtitle,
        xTitle: 'ms (log)',
        xLog: true,
      }),
    );
  if (cost && cost.traces > 0) {
    const bars: Bar[] = [];
    for (const [service, c] of Object.entries(cost.byService)) {
      const add = (category: string, value: number | undefined) => {
        if (value) bars.push({ category, group: service, value });
      };
      add('Cassandra statements', c.cassandraStatements + c.cassandraBatches - (c.lwts ?? 0));
      add('of which LWTs', c.lwts);
      add('internal gRPC calls', c.grpcCalls);
      add('NATS publishes', c.natsPublishes);
    }
    written.push(
      await barChart('messaging-cost.png', bars, {
        title: `What one private message costs, by service (median of ${cost.traces} traces)`,
        subtitle:
          cost.lwts === undefined
            ? `${subtitle}; LWTs not told apart (no statement text in the spans)`
            : subtitle,
        xTitle: '',
        yTitle: 'per message',
        stacked: true,
      }),
    );
  }
  const { write, lwt, publish } = run.ceilings;
  written.push(
    writeFigures('messaging.json', {
      bench: 'messaging',
      date: new Date().toISOString(),
      machine: run.machine,
      loadAverage: { start: run.loadAtStart, end: run.loadAtEnd },
      settings: SETTINGS,
      ceilings: {
        cassandraWritesPerSecond: perSecond(write),
        cassandraLwtsPerSecond: perSecond(lwt),
        natsPublishesPerSecond: perSecond(publish),
      },
      // Samples kept for the half-peak level (the CDF); the sweep keeps percentiles only.
      levels: levels.map(({ latencies: _samples, ...l }) => l),
      halfPeak: half ?? null,
      cost: cost ?? null,
    }),
  );
  for (const path of written) say(path);
}

main().then(
  // GramJS may leave timers behind; the figures are printed, so end here.
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:messaging: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
