/**
 * `tsx tools/bench/history-scale.ts`: does reading a box cost the same with 1,000 messages as
 * with 1,000,000? (docs/benchmarks.md, "Messaging", history at scale.)
 *
 * For each box size:
 *  1. two new GramJS test users on one DC: the owner of the box and the peer of its one dialog;
 *  2. the owner's box is filled straight in Cassandra (fill-box.ts) with the rows the messaging
 *     service writes for that many messages, half sent to the peer and half received from it,
 *     before the owner reads anything (the service may keep a box's end in memory once it has
 *     seen the box, so the box must be complete before its first read);
 *  3. pages are timed many times each, through the owner's GramJS client (gateway + messaging: what
 *     a user waits for) and straight over gRPC to the DC's messaging service (the service alone):
 *     messages.getHistory of 100 (the newest page, one in the middle by offset_id, the oldest)
 *     and updates.getDifference (from pts 0, from the middle, from 100,000 behind, from 100 behind;
 *     the server answers at most 1,000 updates, and differenceTooLong more than 100,000 behind).
 *
 * Prints median and p90 per page and size and the ratio largest ÷ smallest size; writes
 * docs/plots/history-scale.png (client), history-scale-service.png (gRPC) and history-scale.json.
 *
 * Options: --messages 1000,1000000 (box sizes) --repeat 30 (timings per page) --dc 1
 * --via client,grpc --concurrency 64 (batches in flight while filling).
 */
import type { ServiceError } from '@grpc/grpc-js';
import { credentialsAs } from '../stack/certs';
import bigInt from 'big-integer';
import { Api, type TelegramClient } from 'telegram';
import type { RequestContext } from '../../services/shared/src/gen/tern/common/v1/context';
import {
  MessagingServiceClient,
  type GetDifferenceRequest,
  type GetDifferenceResponse,
  type GetHistoryRequest,
  type GetHistoryResponse,
} from '../../services/shared/src/gen/tern/messaging/v1/messaging';
import { readStackInfo } from '../stack/info';
import { fillBox, openDcKeyspace } from './fill-box';
import { trustServerKey, type Target } from './gramjs';
import { fmt, loadAverage, machineDescription, table } from './measure';
import { loggedIn, quantile } from './messaging-e2e';
import { barChart, writeFigures } from './plot';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const SETTINGS = {
  sizes: option('messages', '1000,1000000')
    .split(',')
    .map((n) => Number(n.replace(/_/g, '')))
    .filter((n) => Number.isInteger(n) && n > 0),
  repeat: Math.max(1, Number(option('repeat', '30'))),
  dc: Number(option('dc', '1')),
  via: option('via', 'client,grpc').split(',') as Via[],
  concurrency: Math.max(1, Number(option('concurrency', '64'))),
};

type Via = 'client' | 'grpc';

/** Updates the server answers at once, and how far behind it still answers (services/messaging/src/api/sync.ts). */
const DIFFERENCE_LIMIT = 1000;
const TOO_LONG = 100_000;
const HISTORY_LIMIT = 100;

const say = (text: string) => process.stdout.write(`${text}\n`);

/** One kind of page, placed relative to a box of `n` messages (ids and pts 1..n). */
interface PageKind {
  name: string;
  call: 'history' | 'difference';
  /** getHistory: offset_id (exclusive, 0 = newest); getDifference: the client's pts. */
  at(n: number): number;
}

const PAGES: PageKind[] = [
  { name: 'history: newest', call: 'history', at: () => 0 },
  { name: 'history: middle', call: 'history', at: (n) => Math.max(1, Math.floor(n / 2)) },
  { name: 'history: oldest', call: 'history', at: (n) => Math.min(n + 1, HISTORY_LIMIT + 1) },
  { name: 'difference: from 0', call: 'difference', at: () => 0 },
  { name: 'difference: from middle', call: 'difference', at: (n) => Math.floor(n / 2) },
  { name: 'difference: 100,000 behind', call: 'difference', at: (n) => Math.max(0, n - TOO_LONG) },
  { name: 'difference: 100 behind', call: 'difference', at: (n) => Math.max(0, n - 100) },
];

/** What one page call returned (to show that pages of both sizes are alike, or why not). */
interface Answer {
  kind: string;
  items: number;
}

/** A page reader for the owner of the box, by one path. */
interface Reader {
  history(offsetId: number): Promise<Answer>;
  difference(pts: number): Promise<Answer>;
  close(): Promise<void>;
}

function clientReader(client: TelegramClient, peer: Api.InputPeerUser): Reader {
  return {
    async history(offsetId) {
      const r = await client.invoke(
        new Api.messages.GetHistory({
          peer,
          offsetId,
          limit: HISTORY_LIMIT,
          addOffset: 0,
          maxId: 0,
          minId: 0,
          offsetDate: 0,
          hash: bigInt(0),
        }),
      );
      return { kind: r.className, items: 'messages' in r ? r.messages.length : 0 };
    },
    async difference(pts) {
      const r = await client.invoke(new Api.updates.GetDifference({ pts, date: 1, qts: 0 }));
      return { kind: r.className, items: 'newMessages' in r ? r.newMessages.length : 0 };
    },
    close: () => client.destroy(),
  };
}

/** A unary call of the generated client as a promise, with a deadline. */
function unary<Req, Res>(client: MessagingServiceClient, method: 'getHistory' | 'getDifference', req: Req) {
  return new Promise<Res>((resolve, reject) => {
    const fn = (client[method] as (...args: unknown[]) => void).bind(client);
    fn(req, { deadline: new Date(Date.now() + 60_000) }, (err: ServiceError | null, res: Res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/** The owner's calls as the DC's gateway would make them (services/gateway/src/api/context.ts). */
function grpcReader(
  address: string,
  tlsDir: string,
  dcId: number,
  owner: bigint,
  peer: { userId: bigint; accessHash: bigint },
): Reader {
  const client = new MessagingServiceClient(
    address,
    credentialsAs(tlsDir, { kind: 'service', service: 'gateway', dcId }),
    {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    },
  );
  const context: RequestContext = {
    // A random key id: no live session of the owner is this one.
    authKeyId: BigInt.asIntN(64, BigInt(Date.now()) * 7919n),
    sessionId: 1n,
    userId: owner,
    dcId,
    layer: 198,
    clientIp: '127.0.0.1',
    client: {
      apiId: 12345,
      deviceModel: 'tern-bench',
      systemVersion: '',
      appVersion: '1.0',
      systemLangCode: 'en',
      langPack: '',
      langCode: 'en',
    },
    msgId: 0n,
  };
  return {
    async history(offsetId) {
      const r = await unary<GetHistoryRequest, GetHistoryResponse>(client, 'getHistory', {
        context,
        peer: { kind: { $case: 'user', value: peer } },
        window: { offsetId, offsetDate: 0, addOffset: 0, limit: HISTORY_LIMIT, maxId: 0, minId: 0 },
        hash: 0n,
      });
      return { kind: 'page', items: r.page?.messages.length ?? 0 };
    },
    async difference(pts) {
      const r = await unary<GetDifferenceRequest, GetDifferenceResponse>(client, 'getDifference', {
        context,
        pts,
        date: 1,
        qts: 0,
        ptsTotalLimit: 0,
      });
      const res = r.result;
      const items = res && 'value' in res && 'newMessages' in res.value ? res.value.newMessages.length : 0;
      return { kind: res?.$case ?? 'none', items };
    },
    close() {
      client.close();
      return Promise.resolve();
    },
  };
}

/** Timings of one page kind at one box size by one path. */
interface PageResult {
  size: number;
  via: Via;
  page: string;
  at: number;
  answer: Answer;
  medianMs: number;
  p90Ms: number;
  samplesMs: number[];
}

async function timePages(reader: Reader, size: number, via: Via): Promise<PageResult[]> {
  const out: PageResult[] = [];
  for (const p of PAGES) {
    const at = p.at(size);
    const call = () => (p.call === 'history' ? reader.history(at) : reader.difference(at));
    const answer = await call(); // warm-up: connections, prepared statements, JIT
    const samples: number[] = [];
    for (let i = 0; i < SETTINGS.repeat; i++) {
      const t = performance.now();
      await call();
      samples.push(performance.now() - t);
    }
    samples.sort((a, b) => a - b);
    const r = {
      size,
      via,
      page: p.name,
      at,
      answer,
      medianMs: quantile(samples, 0.5),
      p90Ms: quantile(samples, 0.9),
      samplesMs: samples.map((s) => Number(s.toFixed(2))),
    };
    say(
      `  ${via.padEnd(6)} ${p.name.padEnd(28)} at ${String(at).padStart(8)}: ${answer.kind} of ${answer.items}, ` +
        `median ${fmt(r.medianMs)} ms, p90 ${fmt(r.p90Ms)} ms`,
    );
    out.push(r);
  }
  return out;
}

async function main(): Promise<void> {
  const started = performance.now();
  const machine = machineDescription();
  const loadAtStart = loadAverage();
  say(`tern history at scale — ${machine}`);
  say(`load average at start: ${loadAtStart} (other work on the machine lowers every figure)`);
  say(
    `box sizes ${SETTINGS.sizes.join(', ')}; ${SETTINGS.repeat} timings per page; DC ${SETTINGS.dc}; via ${SETTINGS.via.join(', ')}`,
  );

  const info = readStackInfo();
  const d = info.dcs.find((x) => x.id === SETTINGS.dc);
  if (!d) throw new Error(`the stack has no DC ${SETTINGS.dc}`);
  const target: Target = { dcId: d.id, host: d.host, port: d.tcpPort };
  trustServerKey(info.rsaPublicKey);
  const db = await openDcKeyspace(info, SETTINGS.dc);

  const results: PageResult[] = [];
  const fills: Array<{ size: number; seconds: number; rows: number }> = [];
  try {
    for (const size of SETTINGS.sizes) {
      say(`\n== box of ${size.toLocaleString('en-US')} messages`);
      const [owner, peer] = await Promise.all([loggedIn(target, 'Reader'), loggedIn(target, 'Peer')]);
      const username = `hist_${Date.now().toString(36)}${size.toString(36)}x`;
      await peer.invoke(new Api.account.UpdateUsername({ username }));
      await peer.destroy();
      // Resolving is the auth service's (users and access hashes), not the owner's box.
      const resolved = await owner.invoke(new Api.contacts.ResolveUsername({ username }));
      const peerUser = resolved.users[0] as Api.User;
      const me = (
        await owner.invoke(new Api.users.GetUsers({ id: [new Api.InputUserSelf()] }))
      )[0] as Api.User;
      const ownerId = BigInt(me.id.toString());
      const peerId = BigInt(peerUser.id.toString());
      const accessHash = BigInt(peerUser.accessHash!.toString());
      say(
        `owner ${ownerId}, peer ${peerId}; filling the owner's box in Cassandra (${SETTINGS.concurrency} batches in flight)`,
      );

      const fill = await fillBox(db, {
        owner: ownerId,
        peer: peerId,
        messages: size,
        concurrency: SETTINGS.concurrency,
        progress: (line) => say(`  ${line}`),
      });
      fills.push({ size, seconds: fill.seconds, rows: fill.rows });
      say(
        `filled: ${fill.rows.toLocaleString('en-US')} rows in ${fill.seconds.toFixed(1)} s ` +
          `(${fmt(fill.rows / fill.seconds)} rows/s), pts and ids ${fill.firstPts}..${fill.lastPts}`,
      );

      // The first read of the box: it must see the whole fill.
      const state = await owner.invoke(new Api.updates.GetState());
      if (state.pts !== fill.lastPts)
        say(
          `WARNING: updates.getState says pts ${state.pts}, the fill ended at ${fill.lastPts}: the service did not see the fill (box end cached before it?)`,
        );

      const inputPeer = new Api.InputPeerUser({
        userId: bigInt(peerId.toString()),
        accessHash: bigInt(accessHash.toString()),
      });
      const readers: Array<[Via, Reader]> = [];
      if (SETTINGS.via.includes('client')) readers.push(['client', clientReader(owner, inputPeer)]);
      else await owner.destroy();
      if (SETTINGS.via.includes('grpc'))
        readers.push([
          'grpc',
          grpcReader(d.services.messaging, info.tlsDir, SETTINGS.dc, ownerId, { userId: peerId, accessHash }),
        ]);
      for (const [via, reader] of readers) {
        try {
          results.push(...(await timePages(reader, size, via)));
        } finally {
          await reader.close();
        }
      }
    }
  } finally {
    await db.shutdown();
  }

  const sizes = [...SETTINGS.sizes].sort((a, b) => a - b);
  const small = sizes[0]!;
  const big = sizes.at(-1)!;
  for (const via of SETTINGS.via) {
    const mine = results.filter((r) => r.via === via);
    if (mine.length === 0) continue;
    say(
      `\n== ${via === 'client' ? 'through the gateway (GramJS client)' : 'the messaging service alone (gRPC)'}: ms per page`,
    );
    const header = [
      'page',
      ...sizes.flatMap((s) => [`${s.toLocaleString('en-US')}: median`, 'p90', 'answer']),
    ];
    if (sizes.length > 1)
      header.push(`median ${big.toLocaleString('en-US')} ÷ ${small.toLocaleString('en-US')}`);
    const rows = PAGES.map((p) => {
      const at = (s: number) => mine.find((r) => r.page === p.name && r.size === s);
      const cells = [p.name];
      for (const s of sizes) {
        const r = at(s);
        cells.push(
          r ? fmt(r.medianMs) : '—',
          r ? fmt(r.p90Ms) : '—',
          r ? `${r.answer.kind} ${r.answer.items}` : '',
        );
      }
      if (sizes.length > 1) {
        const a = at(small);
        const b = at(big);
        cells.push(a && b ? `${(b.medianMs / a.medianMs).toFixed(2)}×` : '—');
      }
      return cells;
    });
    say(table([header, ...rows]));
  }
  say(
    '\nA page that answers differently at two sizes (differenceTooLong beyond 100,000 behind, fewer than\n' +
      `${DIFFERENCE_LIMIT} updates in a small box) is not the same work: compare the pages whose answers match.`,
  );

  const subtitle = `${machine.split(',')[0]}; load ${loadAtStart} → ${loadAverage()}; ${SETTINGS.repeat} timings per page; ${new Date().toISOString().slice(0, 10)}`;
  const chart = async (via: Via, file: string, what: string) => {
    const mine = results.filter((r) => r.via === via);
    if (mine.length === 0) return;
    const path = await barChart(
      file,
      mine.map((r) => ({
        category: r.page,
        group: `${r.size.toLocaleString('en-US')} messages`,
        value: r.medianMs,
      })),
      {
        title: `Median time per page, ${what}, by box size`,
        subtitle,
        xTitle: 'page (getHistory: 100 messages; getDifference: up to 1,000 updates)',
        yTitle: 'median ms (log)',
        yLog: true,
        width: 820,
      },
    );
    say(`plot: ${path}`);
  };
  await chart('client', 'history-scale.png', 'GramJS through the gateway');
  await chart('grpc', 'history-scale-service.png', 'messaging service over gRPC');
  const json = writeFigures('history-scale.json', {
    bench: 'history-scale',
    date: new Date().toISOString(),
    machine,
    loadAverage: { start: loadAtStart, end: loadAverage() },
    settings: SETTINGS,
    fills,
    results,
  });
  say(`figures: ${json}`);
  say(
    `\ndone in ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end: ${loadAverage()}`,
  );
}

main().then(
  // GramJS may leave timers behind; the figures are printed, so end here.
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`history-scale: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
