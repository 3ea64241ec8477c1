/**
 * `npm run bench:channels`: fan-out of channel posts on the local stack, beside raw NATS fan-out in
 * the same run (docs/decisions/0018-channels.md: a post is stored once and published once; the
 * gateways holding subscribers' sessions deliver it).
 *
 *  setup: a broadcast channel created on DC 1 by a light-client session (tools/load/client.ts);
 *         `--subscribers` members (default 10,000) homed on DC 1, 2 and 3 in equal shares, of which
 *         `--online` (default 2,000) are live light-client sessions connected to their own DC's
 *         gateway and joined through it (messages.importChatInvite); the others are signed up (or
 *         found) and joined straight through the auth and channel services over gRPC, as their
 *         gateway would call them, since only their number matters to a post.
 *  wiring: one warm-up post; how many online subscribers received it (the gateways' subscriptions).
 *  1. latency: `--latency-posts` posts (default 20), one at a time: per post, the time from the
 *     send to the 50th, 99th and 100th percentile online subscriber receiving it;
 *  2. throughput: `--posts` posts (default 200) with `--in-flight` (default 8) not yet received by
 *     every online subscriber at any moment: posts/s fully delivered, and the same percentiles;
 *  3. the ceiling: the same two phases with raw NATS — one publisher, `--online` core subscriptions
 *     on one subject over `--nats-connections` connections (default 3, one per DC's gateway) on the
 *     stack's NATS — and the ratios Tern ÷ NATS.
 * Then PNG plots and the raw figures as JSON in docs/plots/ (channels-*.png, channels.json).
 *
 * The client is one Node process: it decrypts every delivery of every online session, so its own
 * CPU (printed) may be what limits the figures at high rates; the NATS phase has the same shape of
 * client work (one callback per delivery) without the decryption.
 *
 * Options: --subscribers 10000 --online 2000 --posts 200 --latency-posts 20 --in-flight 8
 * --nats-connections 3 --login-concurrency 16 --join-concurrency 64 --post-timeout 30 --no-plots;
 * --nats-only runs section 3 alone.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { connect as natsConnect, type NatsConnection } from 'nats';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { credentialsAs } from '../stack/certs';
import type { TlObject } from '../../services/gateway/src/mtproto/tl-types';
import { loadTlRegistry } from '../../services/gateway/src/tl/registry';
import {
  AuthServiceClient,
  LookupPhoneRequest,
  SendCodeRequest,
  SignInRequest,
  SignUpRequest,
  type LookupPhoneResponse,
  type SendCodeResponse,
  type SignInResponse,
  type SignUpResponse,
} from '../../services/shared/src/gen/tern/auth/v1/auth';
import {
  ChannelServiceClient,
  ImportChannelInviteRequest,
} from '../../services/shared/src/gen/tern/channel/v1/channel';
import type { RequestContext } from '../../services/shared/src/gen/tern/common/v1/context';
import { CLOSED_BY_CLIENT, type ClientTl } from '../load/client';
import { trustServerKey } from '../load/handshake';
import { openSession, type LoadSession } from '../load/login';
import { stackCpuWindow } from '../load/stack-cpu';
import { readStackInfo } from '../stack/info';
import { fmt, loadAverage, machineDescription, ownCpuSeconds, ratio, table } from './measure';
import { barChart, cdfChart, writeFigures, type Bar } from './plot';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const SETTINGS = {
  subscribers: Number(option('subscribers', '10000')),
  online: Number(option('online', '2000')),
  posts: Number(option('posts', '200')),
  latencyPosts: Number(option('latency-posts', '20')),
  inFlight: Number(option('in-flight', '8')),
  natsConnections: Number(option('nats-connections', '3')),
  loginConcurrency: Number(option('login-concurrency', '16')),
  joinConcurrency: Number(option('join-concurrency', '64')),
  postTimeoutMs: Number(option('post-timeout', '30')) * 1000,
  plots: !flag('no-plots'),
  layer: 198,
};

const say = (text: string) => process.stdout.write(`${text}\n`);
const heading = (title: string) => say(`\n== ${title}`);
const seconds = (fromMs: number) => ((performance.now() - fromMs) / 1000).toFixed(1);

const API = { apiId: 12345, apiHash: '0123456789abcdef0123456789abcdef' };
const DCS = [1, 2, 3] as const;

/** `n` spread over the three DCs (the first ones get the remainder). */
function perDc(n: number): number[] {
  return DCS.map((_, i) => Math.floor(n / 3) + (i < n % 3 ? 1 : 0));
}

/** Runs `task` over `items`, `limit` at a time; failures are counted by name, not thrown. */
async function bounded<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
  failures: Map<string, number>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        try {
          await task(items[i]!, i);
        } catch (err) {
          const name = errorName(err);
          failures.set(name, (failures.get(name) ?? 0) + 1);
        }
      }
    }),
  );
}

function errorName(err: unknown): string {
  const e = err as { message?: string; details?: string; code?: number };
  return (e.details ?? e.message ?? String(err)).replace(/\d+/g, 'X').slice(0, 80);
}

const countsText = (m: Map<string, number>) =>
  m.size === 0 ? 'none' : [...m].map(([k, v]) => `${k} ×${v}`).join(', ');

function unary<Res>(client: Client, method: string, req: unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (...a: unknown[]) => void>)[method]!.bind(client);
    fn(req, { deadline: new Date(Date.now() + 30_000) }, (err: ServiceError | null, res: Res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

/** The context of `userId` calling from its home DC through a gateway (a random auth key). */
function contextOf(userId: bigint, dcId: number): RequestContext {
  return {
    authKeyId: randomBytes(8).readBigInt64LE(),
    sessionId: randomBytes(8).readBigInt64LE(),
    userId,
    dcId,
    layer: SETTINGS.layer,
    clientIp: '127.0.0.1',
    client: {
      apiId: API.apiId,
      deviceModel: 'tern-bench-channels',
      systemVersion: process.version,
      appVersion: '1.0',
      systemLangCode: 'en',
      langPack: '',
      langCode: 'en',
    },
    msgId: 0n,
  };
}

/** One online subscriber: its session and what it received of this run's posts. */
interface Online {
  session: LoadSession;
  /** The channel pts it last applied (live updates only). */
  pts: number | undefined;
  gaps: number;
}

/** Per post: when it was sent, answered, and each subscriber's first reception. */
interface PostTrack {
  sentAt: number;
  answeredAt?: number;
  error?: string;
  received: number[];
  seen: Set<number>;
  done: () => void;
}

/** What one phase measured. */
interface Phase {
  label: string;
  system: 'tern' | 'nats';
  inFlight: number;
  posts: number;
  /** Posts received by every subscriber within the post timeout. */
  complete: number;
  /** Deliveries that did not arrive within the post timeout, over all posts. */
  missing: number;
  errors: number;
  seconds: number;
  /** Fully delivered posts per second of the phase. */
  postsPerSecond: number;
  /** Deliveries per second of the phase. */
  deliveriesPerSecond: number;
  /** Per post, ms from send to the q-th subscriber's reception (complete posts only). */
  p50: number[];
  p99: number[];
  p100: number[];
  /** Send → answer (Tern only), ms. */
  answers: number[];
  clientCpuShare: number;
  stackCpu?: Record<string, number>;
}

/** The nearest-rank q-quantile of ascending `sorted`. */
const quantileOf = (sorted: number[], q: number) =>
  sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
const median = (xs: number[]) =>
  quantileOf(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
const worst = (xs: number[]) => (xs.length === 0 ? NaN : Math.max(...xs));

/**
 * Sends `count` posts with `send`, at most `inFlight` not yet received by all `audience`
 * subscribers; `tracks` is filled by the receiving side.
 */
async function runPhase(
  label: string,
  system: Phase['system'],
  count: number,
  inFlight: number,
  audience: number,
  tracks: Map<string, PostTrack>,
  tagOf: (n: number) => string,
  send: (tag: string, track: PostTrack) => Promise<void>,
): Promise<Phase> {
  const cpu0 = ownCpuSeconds();
  const stack = stackCpuWindow();
  const start = performance.now();
  let next = 0;
  const mine: PostTrack[] = [];
  await Promise.all(
    Array.from({ length: Math.min(inFlight, count) }, async () => {
      while (next < count) {
        const tag = tagOf(next++);
        let done!: () => void;
        const finished = new Promise<void>((resolve) => (done = resolve));
        const track: PostTrack = { sentAt: performance.now(), received: [], seen: new Set(), done };
        tracks.set(tag, track);
        mine.push(track);
        send(tag, track).then(
          () => (track.answeredAt = performance.now()),
          (err: unknown) => {
            track.error = errorName(err);
            done();
          },
        );
        const timer = setTimeout(done, SETTINGS.postTimeoutMs);
        await finished;
        clearTimeout(timer);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const cpu = ownCpuSeconds() - cpu0;
  const complete = mine.filter((t) => t.received.length >= audience);
  const lat = (t: PostTrack, q: number) =>
    quantileOf(
      [...t.received].sort((a, b) => a - b),
      q,
    ) - t.sentAt;
  return {
    label,
    system,
    inFlight,
    posts: count,
    complete: complete.length,
    missing: mine.reduce((a, t) => a + Math.max(0, audience - t.received.length), 0),
    errors: mine.filter((t) => t.error !== undefined).length,
    seconds: elapsed,
    postsPerSecond: complete.length / elapsed,
    deliveriesPerSecond: mine.reduce((a, t) => a + t.received.length, 0) / elapsed,
    p50: complete.map((t) => lat(t, 0.5)),
    p99: complete.map((t) => lat(t, 0.99)),
    p100: complete.map((t) => lat(t, 1)),
    answers: mine.filter((t) => t.answeredAt !== undefined).map((t) => t.answeredAt! - t.sentAt),
    clientCpuShare: cpu / elapsed,
    ...(system === 'tern' ? { stackCpu: stack(elapsed) } : {}),
  };
}

function describePhase(p: Phase): void {
  say(
    `${p.label}: ${p.complete}/${p.posts} posts reached every subscriber in ${p.seconds.toFixed(1)} s ` +
      `(${fmt(p.postsPerSecond)} posts/s, ${fmt(p.deliveriesPerSecond)} deliveries/s); ` +
      `${p.missing} deliveries missing after ${SETTINGS.postTimeoutMs / 1000} s; ${p.errors} failed sends; ` +
      `client CPU ${(p.clientCpuShare * 100).toFixed(0)} % of a core`,
  );
  say(
    `   send → subscriber, per post (median / worst over posts), ms: ` +
      `p50 ${fmt(median(p.p50))} / ${fmt(worst(p.p50))}, p99 ${fmt(median(p.p99))} / ${fmt(worst(p.p99))}, ` +
      `p100 ${fmt(median(p.p100))} / ${fmt(worst(p.p100))}` +
      (p.answers.length > 0 ? `; send → answer median ${fmt(median(p.answers))}` : ''),
  );
  if (p.stackCpu)
    say(
      `   stack CPU (% of one core): ${Object.entries(p.stackCpu)
        .map(([k, v]) => `${k} ${v.toFixed(0)}`)
        .join(', ')}`,
    );
}

/** Signs up (or finds) test numbers straight through the auth services; returns user ids. */
async function directUsers(
  info: ReturnType<typeof readStackInfo>,
  phones: string[],
  failures: Map<string, number>,
): Promise<Array<{ userId: bigint; dc: number }>> {
  const auths = info.dcs.map(
    (d) =>
      new AuthServiceClient(
        d.services.auth,
        credentialsAs(info.tlsDir, { kind: 'service', service: 'gateway', dcId: d.id }),
      ),
  );
  // LookupPhone is messaging's (contacts.importContacts): asked as messaging of DC 1.
  const directory = new AuthServiceClient(
    info.dcs[0]!.services.auth,
    credentialsAs(info.tlsDir, { kind: 'service', service: 'messaging', dcId: 1 }),
  );
  try {
    const out: Array<{ userId: bigint; dc: number }> = [];
    const known = new Set<string>();
    for (let i = 0; i < phones.length; i += 500) {
      const res = await unary<LookupPhoneResponse>(
        directory,
        'lookupPhone',
        LookupPhoneRequest.fromPartial({ phoneNumbers: phones.slice(i, i + 500) }),
      );
      for (const e of res.entries) {
        known.add(e.phoneNumber);
        out.push({ userId: e.userId, dc: e.homeDcId });
      }
    }
    const missing = phones.filter((p) => !known.has(p));
    await bounded(
      missing,
      16,
      async (phone) => {
        const dc = Number(phone.charAt(5));
        const auth = auths[dc - 1]!;
        const context = contextOf(0n, dc);
        const sent = await unary<SendCodeResponse>(
          auth,
          'sendCode',
          SendCodeRequest.fromPartial({ context, phoneNumber: phone, ...API }),
        );
        const phoneCodeHash = sent.sentCode!.phoneCodeHash;
        const signedIn = await unary<SignInResponse>(
          auth,
          'signIn',
          SignInRequest.fromPartial({
            context,
            phoneNumber: phone,
            phoneCodeHash,
            phoneCode: String(dc).repeat(5),
          }),
        );
        let id = signedIn.result?.$case === 'authorization' ? signedIn.result.value.user?.id : undefined;
        if (id === undefined) {
          const up = await unary<SignUpResponse>(
            auth,
            'signUp',
            SignUpRequest.fromPartial({
              context,
              phoneNumber: phone,
              phoneCodeHash,
              firstName: 'Bench',
              lastName: '',
            }),
          );
          id = up.authorization?.user?.id;
        }
        if (id === undefined) throw new Error('NO_USER');
        out.push({ userId: id, dc });
      },
      failures,
    );
    return out;
  } finally {
    for (const a of [...auths, directory]) a.close();
  }
}

/** The channel's updateNewChannelMessage texts in a live update (any envelope). */
function channelPosts(u: TlObject, channelId: bigint): Array<{ text: string; pts: number; count: number }> {
  switch (u._) {
    case 'updates':
    case 'updatesCombined':
      return (u.updates as TlObject[]).flatMap((x) => channelPosts(x, channelId));
    case 'updateShort':
      return channelPosts(u.update as TlObject, channelId);
    case 'updateNewChannelMessage': {
      const m = u.message as TlObject;
      const peer = m.peer_id as TlObject | undefined;
      if (peer?._ !== 'peerChannel' || peer.channel_id !== channelId) return [];
      return [
        { text: (m.message as string | undefined) ?? '', pts: u.pts as number, count: u.pts_count as number },
      ];
    }
    default:
      return [];
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const machine = machineDescription();
  const loadAtStart = loadAverage();
  say(`tern channels benchmark — ${machine}`);
  say(`load average at start: ${loadAtStart} (other work on the machine lowers every figure)`);
  const S = SETTINGS;
  if (S.online > S.subscribers) throw new Error('--online cannot exceed --subscribers');
  if (S.subscribers > 29_997) throw new Error('at most 9,999 subscribers per DC (test numbers)');

  const info = readStackInfo();
  trustServerKey(info.rsaPublicKey);
  const registry = loadTlRegistry();
  const tl: ClientTl = { layer: S.layer, api: registry.forLayer(S.layer), mtproto: registry.mtproto };
  const run = randomBytes(4).toString('hex');
  const tracks = new Map<string, PostTrack>();
  let channelId = 0n;
  const online: Online[] = [];
  const byIndex = new Map<number, Online>();
  const disconnects = new Map<string, number>();
  let stopping = false;
  /** How many subscribers a post must reach to be complete (the online ones). */
  let audience = S.online;

  const onUpdate = (index: number, u: TlObject): void => {
    const o = byIndex.get(index);
    if (!o || channelId === 0n) return;
    const now = performance.now();
    for (const p of channelPosts(u, channelId)) {
      if (o.pts !== undefined && p.pts !== o.pts + p.count && p.pts > o.pts) o.gaps++;
      if (o.pts === undefined || p.pts > o.pts) o.pts = p.pts;
      const t = tracks.get(p.text);
      if (!t || t.seen.has(index)) continue;
      t.seen.add(index);
      t.received.push(now);
      if (t.received.length >= audience) t.done();
    }
  };
  const onClose = (_index: number, reason: string): void => {
    if (!stopping && reason !== CLOSED_BY_CLIENT) disconnects.set(reason, (disconnects.get(reason) ?? 0) + 1);
  };

  // Numbers: per DC one random block; the creator first, then the online, then the offline ones.
  const subs = perDc(S.subscribers);
  const onl = perDc(S.online);
  const blocks = DCS.map((dc, i) => {
    const start = randomInt(0, 10_000);
    const n = subs[i]! + (dc === 1 ? 1 : 0);
    return Array.from({ length: n }, (_, k) => `99966${dc}${String((start + k) % 10_000).padStart(4, '0')}`);
  });
  const creatorPhone = blocks[0]!.shift()!;
  const dcOf = (dc: number) => info.dcs.find((d) => d.id === dc)!;
  const base = randomInt(1, 255);
  const target = (dc: number, phone: string, index: number) => ({
    index,
    dc,
    host: dcOf(dc).host,
    port: dcOf(dc).tcpPort,
    phone,
    tl,
    onUpdate,
    onClose,
    // One loopback address per session: the gateways limit logins per client address.
    localAddress: `127.${base}.${Math.floor(index / 250)}.${(index % 250) + 1}`,
  });

  if (flag('nats-only')) {
    // The ceiling alone (section 3), e.g. to see what the machine allows before a long setup.
    const tagOfNats = (phase: string) => (n: number) => `cb ${run}:${phase}:${n}`;
    heading(`3. raw NATS only: ${S.online} core subscriptions on ${S.natsConnections} connections`);
    const nats = await natsFanOut(info.natsUrl, S.online, run, tracks, tagOfNats);
    describePhase(nats.latency);
    describePhase(nats.throughput);
    return;
  }

  heading(`setup: channel on DC 1, ${S.subscribers} subscribers (${S.online} online, light clients)`);
  const creator = await openSession(target(1, creatorPhone, 0)); // index 0: not a subscriber
  const created = await creator.client.call({
    _: 'channels.createChannel',
    broadcast: true,
    title: `bench ${run}`,
    about: 'bench:channels',
  });
  const channel = (created.chats as TlObject[]).find((c) => c._ === 'channel');
  if (!channel) throw new Error(`createChannel answered ${created._} without a channel`);
  channelId = channel.id as bigint;
  const peer = { _: 'inputPeerChannel', channel_id: channelId, access_hash: channel.access_hash as bigint };
  const exported = await creator.client.call({ _: 'messages.exportChatInvite', peer });
  const hash = /(?:\/\+|\/joinchat\/)([^/?#]+)$/.exec(exported.link as string)?.[1];
  if (!hash) throw new Error(`no invite hash in ${String(exported.link)}`);
  say(`channel ${channelId} (home DC ${Number(channelId % 1024n)}), invite ${exported.link as string}`);

  let t = performance.now();
  const loginFailures = new Map<string, number>();
  const onlineTargets = DCS.flatMap((dc, i) => blocks[i]!.slice(0, onl[i]).map((phone) => ({ dc, phone })));
  await bounded(
    onlineTargets,
    S.loginConcurrency,
    async ({ dc, phone }, i) => {
      const index = i + 1; // 0 is the creator
      const session = await openSession(target(dc, phone, index));
      const o: Online = { session, pts: undefined, gaps: 0 };
      await session.client.call({ _: 'messages.importChatInvite', hash });
      online.push(o);
      byIndex.set(index, o);
      if (online.length % 100 === 0) process.stderr.write(`  ${online.length} online subscribers joined\n`);
    },
    loginFailures,
  );
  say(
    `${online.length} online subscribers signed in and joined through their gateways in ${seconds(t)} s; ` +
      `failures: ${countsText(loginFailures)}`,
  );

  t = performance.now();
  const userFailures = new Map<string, number>();
  const offlinePhones = DCS.flatMap((_, i) => blocks[i]!.slice(onl[i]));
  const offline = await directUsers(info, offlinePhones, userFailures);
  const channels = info.dcs.map(
    (d) =>
      new ChannelServiceClient(
        d.services.channel,
        credentialsAs(info.tlsDir, { kind: 'service', service: 'gateway', dcId: d.id }),
      ),
  );
  const joinFailures = new Map<string, number>();
  await bounded(
    offline,
    S.joinConcurrency,
    async (u) => {
      await unary(
        channels[u.dc - 1]!,
        'importChannelInvite',
        ImportChannelInviteRequest.fromPartial({ context: contextOf(u.userId, u.dc), hash }),
      );
    },
    joinFailures,
  );
  for (const c of channels) c.close();
  say(
    `${offline.length - [...joinFailures.values()].reduce((a, b) => a + b, 0)} offline subscribers joined over gRPC in ${seconds(t)} s; ` +
      `sign-up failures: ${countsText(userFailures)}; join failures: ${countsText(joinFailures)}`,
  );

  const tagOf = (phase: string) => (n: number) => `cb ${run}:${phase}:${n}`;
  const sendPost = (tag: string) =>
    creator.client
      .call({ _: 'messages.sendMessage', peer, message: tag, random_id: randomBytes(8).readBigInt64LE() })
      .then(() => undefined);

  heading('wiring: one warm-up post');
  audience = Math.max(1, online.length);
  const warm = await runPhase('warm-up', 'tern', 1, 1, audience, tracks, tagOf('warm'), sendPost);
  const wired = tracks.get(tagOf('warm')(0))!.received.length;
  say(
    `${wired} of ${online.length} online subscribers received the warm-up post (first ${fmt(worst(warm.p100))} ms)`,
  );
  if (wired < online.length)
    say('(not every online subscriber is wired: the phases below will wait for them and count them missing)');

  heading(`1. latency: ${S.latencyPosts} posts, one at a time, to ${online.length} online subscribers`);
  const ternLatency = await runPhase(
    'Tern, one at a time',
    'tern',
    S.latencyPosts,
    1,
    audience,
    tracks,
    tagOf('lat'),
    sendPost,
  );
  describePhase(ternLatency);
  heading(`2. throughput: ${S.posts} posts, ${S.inFlight} in flight`);
  const ternThroughput = await runPhase(
    `Tern, ${S.inFlight} in flight`,
    'tern',
    S.posts,
    S.inFlight,
    audience,
    tracks,
    tagOf('thr'),
    sendPost,
  );
  describePhase(ternThroughput);
  const gaps = online.reduce((a, o) => a + o.gaps, 0);
  say(`channel pts: ${gaps} gaps over ${online.length} sessions; disconnects: ${countsText(disconnects)}`);
  stopping = true;
  for (const o of online) o.session.client.close();
  await creator.client
    .call({
      _: 'channels.deleteChannel',
      channel: { _: 'inputChannel', channel_id: channelId, access_hash: channel.access_hash },
    })
    .catch((err: unknown) => say(`(deleteChannel: ${errorName(err)})`));
  creator.client.close();

  heading(
    `3. the ceiling: raw NATS, ${S.online} core subscriptions on ${S.natsConnections} connections, one publisher`,
  );
  const nats = await natsFanOut(info.natsUrl, S.online, run, tracks, tagOf);
  describePhase(nats.latency);
  describePhase(nats.throughput);

  heading('Tern ÷ NATS');
  const rows = [
    ['', 'Tern', 'NATS', 'Tern ÷ NATS'],
    ...(
      [
        ['posts/s, one at a time', ternLatency.postsPerSecond, nats.latency.postsPerSecond],
        [`posts/s, ${S.inFlight} in flight`, ternThroughput.postsPerSecond, nats.throughput.postsPerSecond],
        ['deliveries/s, in flight', ternThroughput.deliveriesPerSecond, nats.throughput.deliveriesPerSecond],
        ['p50 subscriber ms (one at a time, median post)', median(ternLatency.p50), median(nats.latency.p50)],
        ['p99 subscriber ms (one at a time, median post)', median(ternLatency.p99), median(nats.latency.p99)],
        [
          'p100 subscriber ms (one at a time, median post)',
          median(ternLatency.p100),
          median(nats.latency.p100),
        ],
        [
          'p100 subscriber ms (in flight, worst post)',
          worst(ternThroughput.p100),
          worst(nats.throughput.p100),
        ],
      ] as Array<[string, number, number]>
    ).map(([name, a, b]) => [name, fmt(a), fmt(b), ratio(a, b)]),
  ];
  say(table(rows));
  say(
    'posts/s: posts received by every online subscriber per second of the phase; pN: per post, the time from the\n' +
      'send to the N-th percentile subscriber receiving it. Ratios of latencies above 1× mean Tern is slower.',
  );

  const loadAtEnd = loadAverage();
  if (S.plots) {
    heading('plots');
    const phases = [ternLatency, ternThroughput, nats.latency, nats.throughput];
    const subtitle = `${machine.split(',')[0]}; ${S.subscribers} subscribers, ${online.length} online; load ${loadAtStart} → ${loadAtEnd}; ${new Date().toISOString().slice(0, 10)}`;
    const written = [
      await cdfChart(
        'channels-latency-cdf.png',
        phases.flatMap((p) => [
          { name: `${p.label}: p50 subscriber`, values: p.p50 },
          { name: `${p.label}: p100 subscriber`, values: p.p100 },
        ]),
        {
          title: 'Channel post → subscriber: per post, the 50th and the last subscriber',
          subtitle,
          xTitle: 'ms (log)',
          xLog: true,
          yTitle: 'share of posts',
        },
      ),
      await barChart(
        'channels-throughput.png',
        phases.map<Bar>((p) => ({
          category: p.inFlight === 1 ? 'one at a time' : `${p.inFlight} in flight`,
          group: p.system === 'tern' ? 'Tern' : 'raw NATS',
          value: p.postsPerSecond,
        })),
        {
          title: `Channel posts fully delivered to ${online.length} online subscribers`,
          subtitle,
          xTitle: '',
          yTitle: 'posts/s',
        },
      ),
      writeFigures('channels.json', {
        bench: 'channels',
        date: new Date().toISOString(),
        machine,
        loadAverage: { start: loadAtStart, end: loadAtEnd },
        settings: S,
        online: online.length,
        wired,
        gaps,
        phases: phases.map((p) => ({
          ...p,
          summary: {
            p50: { median: median(p.p50), worst: worst(p.p50) },
            p99: { median: median(p.p99), worst: worst(p.p99) },
            p100: { median: median(p.p100), worst: worst(p.p100) },
            answer: { median: median(p.answers) },
          },
        })),
      }),
    ];
    for (const path of written) say(path);
  }
  say(`\ndone in ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end: ${loadAtEnd}`);
}

/** The same two phases over raw NATS core: one publisher, `subscriptions` subscribers. */
async function natsFanOut(
  url: string,
  subscriptions: number,
  run: string,
  tracks: Map<string, PostTrack>,
  tagOf: (phase: string) => (n: number) => string,
): Promise<{ latency: Phase; throughput: Phase }> {
  const S = SETTINGS;
  const subject = `bench.channels.${run}`;
  const conns: NatsConnection[] = [];
  for (let i = 0; i < S.natsConnections; i++)
    conns.push(await natsConnect({ servers: url, name: `bench-sub-${i}` }));
  const publisher = await natsConnect({ servers: url, name: 'bench-pub' });
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  try {
    for (let i = 0; i < subscriptions; i++) {
      const index = i;
      conns[i % conns.length]!.subscribe(subject, {
        callback: (_err, msg) => {
          const now = performance.now();
          const tag = decoder.decode(msg.data).slice(0, 64).split('|')[0]!;
          const t = tracks.get(tag);
          if (!t || t.seen.has(index)) return;
          t.seen.add(index);
          t.received.push(now);
          if (t.received.length >= subscriptions) t.done();
        },
      });
    }
    await Promise.all(conns.map((c) => c.flush()));
    // A payload of about a post's size on the gateways' subject (a serialized message event).
    const filler = 'x'.repeat(300);
    const publish = (tag: string) => {
      publisher.publish(subject, encoder.encode(`${tag}|${filler}`));
      return Promise.resolve();
    };
    const latency = await runPhase(
      'NATS, one at a time',
      'nats',
      S.latencyPosts,
      1,
      subscriptions,
      tracks,
      tagOf('nlat'),
      publish,
    );
    const throughput = await runPhase(
      `NATS, ${S.inFlight} in flight`,
      'nats',
      S.posts,
      S.inFlight,
      subscriptions,
      tracks,
      tagOf('nthr'),
      publish,
    );
    return { latency, throughput };
  } finally {
    await publisher.close();
    for (const c of conns) await c.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:channels: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
