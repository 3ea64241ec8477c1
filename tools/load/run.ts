/**
 * One load run: sign sessions in on each DC, offer messages.sendMessage at a fixed total rate
 * from the sending sessions to random peers on every DC (open loop), check on the receiving side
 * that each message arrives exactly once and that every session's pts has no holes, and measure
 * the client's own CPU so a reader can tell whether the client limited the figures.
 *
 * `runLoad` is the library entry (tools/bench may call it in-process); cli.ts prints its result.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { TlObject } from '../../services/gateway/src/mtproto/tl-types';
import { loadTlRegistry } from '../../services/gateway/src/tl/registry';
import { readStackInfo } from '../stack/info';
import { clientCeiling } from './ceiling';
import { CallFailed, CLOSED_BY_CLIENT, RpcError, type ClientTl } from './client';
import { trustServerKey } from './handshake';
import { openSession, type LoadSession } from './login';
import { DEFAULT_OPTIONS, senderCount, type LoadOptions } from './options';
import { stackCpuWindow } from './stack-cpu';
import { DeliveryChecker, NamedCounts, percentiles, PtsSequence, type Percentiles } from './stats';

/** What a run measured. Rates are per second of the sending window. */
export interface LoadResult {
  options: Omit<LoadOptions, 'log'>;
  sessions: { ready: number; failed: number; senders: number; byDc: Record<string, number> };
  loginErrors: Record<string, number>;
  /** Key exchanges that failed and were tried again (by error), not counted as login failures. */
  handshakeRetries: Record<string, number>;
  loginSeconds: number;
  windowSeconds: number;
  /** Sends due by the schedule. */
  offered: number;
  /** Sends not made because their sender already had maxInFlight unanswered. */
  shed: number;
  /** Sends answered without an error. */
  sent: number;
  sentPerSecond: number;
  /** Sends still unanswered when the drain ended (neither sent nor an error). */
  unanswered: number;
  /** Accepted messages received, once each (including during the drain). */
  received: number;
  /**
   * This run's messages first received inside the sending window, per second of it — every
   * delivery, including messages whose send was answered with an error (`unannounced`).
   */
  receivedPerSecond: number;
  /** Accepted messages not received by the end of the drain. */
  lost: number;
  duplicates: number;
  misdelivered: number;
  /** Receptions of this run's messages whose send was not answered successfully. */
  unannounced: number;
  /** Send → receive, ms. */
  latencyMs: Percentiles;
  /** Send → answer (updateShortSentMessage), ms. */
  answerMs: Percentiles;
  /** Failed sends by rpc_error name (digits as X: FLOOD_WAIT_X) or failure (TIMEOUT, …). */
  errors: Record<string, number>;
  /**
   * pts checks over all sessions. `gaps` are holes in sessions all of whose sends succeeded: an
   * update never delivered. `gapsAfterFailedSends` are holes in sessions with a send that failed
   * or was still unanswered at the end, which may be that send's own pts (stored although the
   * answer was an error or late), so not counted as errors.
   */
  pts: { gaps: number; gapsAfterFailedSends: number; reordered: number; repeats: number; overlaps: number };
  /** The sender's own messages pushed back to it as live updates (not errors; informative). */
  echoes: number;
  /** Connections that closed during the run, by reason. */
  disconnects: Record<string, number>;
  /** This process's CPU (user + system) over the sending window, % of one core. */
  clientCpuPercent: number;
  /**
   * The same CPU per message sent and received (both ends are in this process), ms; fixed costs
   * (timers, acks, pings) included, so 1000 / this is a low estimate of the rate one core of
   * client could carry.
   */
  clientCpuMsPerMessage: number;
  /**
   * Messages/s one core could push through the client's per-message codec and crypto work
   * (ceiling.ts), measured in this run before the window: the client's upper bound.
   */
  clientCeilingPerSecond: number;
  /**
   * The stack's CPU over the window, % of one core per role summed over DCs and replicas
   * (gateway, auth, messaging, cassandra, nats, …); `machine` is % of all cores busy.
   */
  stackCpuPercent: Record<string, number>;
}

/** A session as the run tracks it. */
interface Participant {
  session: LoadSession;
  pts: PtsSequence;
  inFlight: number;
  /** Sends of this session that failed: their pts (if stored anyway) never reached it. */
  failedSends: number;
}

/** The message text carries the run and a sequence number; receivers match on it. */
const tagPrefix = (runId: string) => `load ${runId}:`;

const errorName = (err: unknown): string =>
  err instanceof RpcError
    ? err.message.replace(/_\d+$/, '_X')
    : err instanceof CallFailed
      ? err.message
      : ((err as Error).message ?? String(err));

/**
 * The schedule's timer. Sends due are computed from the elapsed time, so the tick only sets how
 * bursty the offered load is at the millisecond scale (rate × 5 ms per tick), not the rate.
 */
const TICK_MS = 5;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `task` over `items` with at most `limit` at once. */
async function bounded<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

/** pts-carrying parts of an update or an answer: [pts, pts_count, text?, outgoing?]. */
interface PtsPart {
  pts: number;
  count: number;
  text?: string;
  out: boolean;
}

function ptsParts(u: TlObject): PtsPart[] {
  switch (u._) {
    case 'updateShortMessage':
    case 'updateShortChatMessage':
      return [
        {
          pts: u.pts as number,
          count: u.pts_count as number,
          text: u.message as string,
          out: u.out === true,
        },
      ];
    case 'updateShortSentMessage':
      return [{ pts: u.pts as number, count: u.pts_count as number, out: true }];
    case 'updateShort':
      return ptsParts(u.update as TlObject);
    case 'updates':
    case 'updatesCombined':
      return (u.updates as TlObject[]).flatMap(ptsParts);
    case 'updateNewMessage': {
      const m = u.message as TlObject;
      return [
        {
          pts: u.pts as number,
          count: u.pts_count as number,
          text: m.message as string,
          out: m.out === true,
        },
      ];
    }
    default:
      // Other log updates (deletes, reads, edits) move pts as well; they carry no message text.
      return typeof u.pts === 'number' && typeof u.pts_count === 'number'
        ? [{ pts: u.pts, count: u.pts_count, out: false }]
        : [];
  }
}

/** Distinct test numbers 99966XYYYY of DC `dc`: a random run of `n` consecutive YYYY. */
function testNumbers(dc: number, n: number): string[] {
  if (n > 10_000) throw new Error('at most 10,000 test numbers per DC');
  const start = randomInt(0, 10_000 - n + 1);
  return Array.from({ length: n }, (_, i) => `99966${dc}${String(start + i).padStart(4, '0')}`);
}

/** Runs a load against the local stack (`npm run stack:info`) and returns what it measured. */
export async function runLoad(options: Partial<LoadOptions> = {}): Promise<LoadResult> {
  const o: LoadOptions = { ...DEFAULT_OPTIONS, ...options };
  const log = o.log ?? (() => undefined);
  const info = readStackInfo();
  trustServerKey(info.rsaPublicKey);
  const registry = loadTlRegistry();
  const tl: ClientTl = { layer: o.layer, api: registry.forLayer(o.layer), mtproto: registry.mtproto };
  const runId = randomBytes(4).toString('hex');
  const prefix = tagPrefix(runId);
  const checker = new DeliveryChecker();
  const participants: Participant[] = [];
  const byIndex = new Map<number, Participant>();
  let windowStart = Infinity;
  let windowEnd = Infinity;
  let receivedInWindow = 0;
  let echoes = 0;
  const disconnects = new NamedCounts();
  let stopping = false;
  const onClose = (_index: number, reason: string): void => {
    if (!stopping && reason !== CLOSED_BY_CLIENT) disconnects.add(reason);
  };

  const onUpdate = (index: number, update: TlObject): void => {
    const p = byIndex.get(index);
    if (!p) return; // before its starting pts is known; nobody sends until every session is ready
    const now = performance.now();
    for (const part of ptsParts(update)) {
      p.pts.add(part.pts, part.count);
      if (part.text?.startsWith(prefix) !== true) continue;
      if (part.out) {
        echoes++; // the sender's own message pushed back to it: its answer already moved pts
        continue;
      }
      const first = checker.receive(part.text.slice(prefix.length), index, now);
      if (first && now >= windowStart && now <= windowEnd) receivedInWindow++;
    }
  };

  // Log in: every DC's sessions interleaved, so a short run still spreads over all DCs.
  const base = randomInt(1, 255);
  const targets = o.dcs.flatMap((dc) => {
    const d = info.dcs.find((x) => x.id === dc);
    if (!d) throw new Error(`the stack has no DC ${dc}`);
    return testNumbers(dc, o.sessions).map((phone) => ({ dc, host: d.host, port: d.tcpPort, phone }));
  });
  const order = Array.from({ length: o.sessions }, (_, i) => o.dcs.map((_, k) => k * o.sessions + i)).flat();
  const loginErrors = new NamedCounts();
  const handshakeRetries = new NamedCounts();
  const loginStart = performance.now();
  log(`logging in ${targets.length} sessions on DC ${o.dcs.join(', ')} (${o.loginConcurrency} at a time)`);
  await bounded(order, o.loginConcurrency, async (index) => {
    const t = targets[index]!;
    try {
      const session = await openSession({
        ...t,
        index,
        tl,
        onUpdate,
        onClose,
        onHandshakeRetry: (err) => handshakeRetries.add(errorName(err)),
        // One loopback address per session: 127.base.(index / 250).(index % 250 + 1).
        localAddress: o.spreadAddresses
          ? `127.${base}.${Math.floor(index / 250)}.${(index % 250) + 1}`
          : undefined,
      });
      const p: Participant = {
        session,
        pts: new PtsSequence(session.startPts),
        inFlight: 0,
        failedSends: 0,
      };
      participants.push(p);
      byIndex.set(index, p);
    } catch (err) {
      loginErrors.add(errorName(err));
    }
  });
  const loginSeconds = (performance.now() - loginStart) / 1000;
  log(`${participants.length} sessions ready in ${loginSeconds.toFixed(1)} s; ${loginErrors.total} failed`);
  if (participants.length < 2) {
    for (const p of participants) p.session.client.close();
    throw new Error(
      `fewer than two sessions logged in (failures: ${JSON.stringify(loginErrors.toObject())})`,
    );
  }
  // The senders: the first n of a shuffled list, so every DC sends about its share.
  const shuffled = [...participants].sort(() => Math.random() - 0.5);
  const senders = shuffled.slice(0, senderCount(o.senders, participants.length));
  const sendErrors = new NamedCounts();
  const answerLatencies: number[] = [];
  let offered = 0;
  let shed = 0;
  let sent = 0;
  let seq = 0;
  let inFlight = 0;

  const sendOne = (from: Participant): void => {
    let to = participants[randomInt(0, participants.length - 1)]!;
    if (to === from) to = participants[participants.length - 1]!; // the one the draw above skips
    const tag = `${seq++}`;
    const startedAt = performance.now();
    from.inFlight++;
    inFlight++;
    from.session.client
      .call({
        _: 'messages.sendMessage',
        peer: { _: 'inputPeerUser', user_id: to.session.userId, access_hash: to.session.accessHash },
        message: prefix + tag,
        random_id: randomBytes(8).readBigInt64LE(),
        no_webpage: true,
      })
      .then(
        (answer) => {
          const now = performance.now();
          sent++;
          answerLatencies.push(now - startedAt);
          checker.accept(tag, to.session.index, startedAt);
          for (const part of ptsParts(answer)) from.pts.add(part.pts, part.count);
        },
        (err: unknown) => {
          from.failedSends++;
          sendErrors.add(errorName(err));
        },
      )
      .finally(() => {
        from.inFlight--;
        inFlight--;
      });
  };

  const clientCeilingPerSecond = clientCeiling(tl);

  // Open loop: every tick sends what the schedule says is due by now, round-robin over senders.
  const cpuStart = process.cpuUsage();
  const stopStackCpu = stackCpuWindow();
  windowStart = performance.now();
  const windowMs = o.seconds * 1000;
  windowEnd = windowStart + windowMs;
  let turn = 0;
  let lastProgress = windowStart;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const now = performance.now();
      const due = Math.floor((Math.min(now, windowEnd) - windowStart) * (o.rate / 1000));
      while (offered < due) {
        offered++;
        const from = senders[turn++ % senders.length]!;
        if (from.inFlight >= o.maxInFlight || from.session.client.isClosed) shed++;
        else sendOne(from);
      }
      if (now - lastProgress >= 1000) {
        lastProgress = now;
        log(
          `${((now - windowStart) / 1000).toFixed(0)} s: offered ${offered}, sent ${sent}, ` +
            `received ${checker.receivedSoFar}, in flight ${inFlight}, errors ${sendErrors.total}`,
        );
      }
      if (now >= windowEnd) {
        clearInterval(tick);
        resolve();
      }
    }, TICK_MS);
  });
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const windowSeconds = (performance.now() - windowStart) / 1000;
  const stackCpuPercent = stopStackCpu(windowSeconds);

  // Drain: answers and deliveries still on their way get drainSeconds to arrive.
  const drainEnd = performance.now() + o.drainSeconds * 1000;
  while (performance.now() < drainEnd && (inFlight > 0 || checker.outstanding > 0)) await sleep(50);
  stopping = true;
  const unanswered = inFlight;
  for (const p of participants) p.session.client.close();

  const delivery = checker.report();
  const pts = { gaps: 0, gapsAfterFailedSends: 0, reordered: 0, repeats: 0, overlaps: 0 };
  for (const p of participants) {
    // A send still unanswered is as uncertain as a failed one: it may hold the hole's pts.
    if (p.failedSends === 0 && p.inFlight === 0) pts.gaps += p.pts.gaps;
    else pts.gapsAfterFailedSends += p.pts.gaps;
    pts.reordered += p.pts.reordered;
    pts.repeats += p.pts.repeats;
    pts.overlaps += p.pts.overlaps;
  }
  const byDc: Record<string, number> = {};
  for (const p of participants) byDc[p.session.dc] = (byDc[p.session.dc] ?? 0) + 1;
  const plainOptions: Omit<LoadOptions, 'log'> & { log?: unknown } = { ...o };
  delete plainOptions.log;
  return {
    options: plainOptions,
    sessions: { ready: participants.length, failed: loginErrors.total, senders: senders.length, byDc },
    loginErrors: loginErrors.toObject(),
    handshakeRetries: handshakeRetries.toObject(),
    loginSeconds,
    windowSeconds,
    offered,
    shed,
    sent,
    sentPerSecond: sent / windowSeconds,
    unanswered,
    received: delivery.received,
    receivedPerSecond: receivedInWindow / windowSeconds,
    lost: delivery.lost,
    duplicates: delivery.duplicates,
    misdelivered: delivery.misdelivered,
    unannounced: delivery.unannounced,
    latencyMs: delivery.latency,
    answerMs: percentiles(answerLatencies),
    errors: sendErrors.toObject(),
    pts,
    echoes,
    disconnects: disconnects.toObject(),
    clientCpuPercent: (cpuMs / (windowSeconds * 1000)) * 100,
    clientCpuMsPerMessage: cpuMs / Math.max(1, sent),
    clientCeilingPerSecond,
    stackCpuPercent,
  };
}
