/**
 * One chaos run against the local stack: sessions on every DC, lanes sending across DCs
 * (traffic.ts), the faults of faults.ts one after another with the traffic running, then the
 * audit of every session's log (audit.ts). What each fault did is measured from the lanes'
 * records: how long until the killed part answered its health check again, how long after that
 * until every lane had a message acknowledged again, the longest time a lane went without an
 * acknowledgement, and which errors the clients saw meanwhile.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { TlObject } from '../../services/gateway/src/mtproto/tl-types';
import { loadTlRegistry } from '../../services/gateway/src/tl/registry';
import { trustServerKey } from '../load/handshake';
import type { ClientTl } from '../load/client';
import { openSession, type LoadSession } from '../load/login';
import { DEFAULT_OPTIONS } from '../load/options';
import { readStackInfo } from '../stack/info';
import { ensureSecrets } from '../stack/keys';
import { paths } from '../stack/paths';
import { audit, readLog, type BoxRecord, type Verdict } from './audit';
import { RedialingConnection, sleep } from './connection';
import { faultPlan, type Fault, type FaultContext } from './faults';
import { Traffic, type ChaosSession } from './traffic';

export interface ChaosOptions {
  /** How long NATS and Cassandra stay down before they are started again. */
  infraDownMs: number;
  /** How long every process of DC 3 stays down. */
  dcDownMs: number;
  /** Traffic before the first fault and between faults. */
  settleMs: number;
  /** Only the faults whose kind or target contains one of these (all when empty). */
  only: string[];
  log: (line: string) => void;
}

/** What one fault did, as the table shows it. Times in ms; undefined: it never happened. */
export interface FaultOutcome {
  kind: string;
  target: string;
  /** Kill → every process answering its health check again. */
  downMs: number;
  /** Healthy again → every lane (of the DCs that were up, for a whole DC) acknowledged a message. */
  backAfterMs?: number;
  /** The longest any lane went without an acknowledgement from the kill to recovery. */
  longestStallMs: number;
  /** The same for lanes between DCs that stayed up, during a whole DC's outage. */
  othersLongestStallMs?: number;
  acknowledged: number;
  errors: Record<string, number>;
}

export interface ChaosResult {
  runId: string;
  seconds: number;
  faults: FaultOutcome[];
  verdict: Verdict;
  /** Messages acknowledged by the sender: sent in the table. */
  sent: number;
  /** Of those, received live by their receiver (the rest came through getDifference). */
  receivedLive: number;
  /** Connections each session made again after the first, summed. */
  reconnects: number;
  /** Sessions that could not make a call at the end. */
  notConnected: number;
  /**
   * From the end of the traffic until every acknowledged message was in its receiver's log (queued
   * deliveries to a DC that was down included); undefined if that never happened within the limit.
   */
  convergedAfterMs?: number;
}

/** How long a lane may take to come back after a fault before the fault counts as not recovered. */
const RECOVERY_LIMIT_MS = 60_000;
const LANE_INTERVAL_MS = 300;
/** Longer than the longest outage plus recovery: a message is given up only if the stack never came back. */
const GIVE_UP_MS = 240_000;
/** How long after the traffic ends the logs may take to hold every acknowledged message. */
const CONVERGE_LIMIT_MS = 90_000;

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const started = performance.now();
  const info = readStackInfo();
  trustServerKey(info.rsaPublicKey);
  const registry = loadTlRegistry();
  const layer = DEFAULT_OPTIONS.layer;
  const tl: ClientTl = { layer, api: registry.forLayer(layer), mtproto: registry.mtproto };
  const runId = randomBytes(3).toString('hex');
  const prefix = `chaos ${runId} `;
  const ctx: FaultContext = {
    info,
    secrets: ensureSecrets(paths.secrets),
    files: {
      topology: paths.topology,
      rsaKey: paths.rsaKey,
      fileReferenceKey: paths.fileReferenceKey,
      tls: paths.tls,
    },
    replicas: info.dcs[0]!.messagingReplicas.length,
  };
  const plan = faultPlan(info, o).filter(
    (f) => o.only.length === 0 || o.only.some((w) => `${f.kind} ${f.target}`.toLowerCase().includes(w)),
  );
  if (plan.length === 0) throw new Error(`no fault matches --only ${o.only.join(',')}`);

  // Sessions: a sender and a receiver on every DC.
  const live = new Set<string>();
  const sessions: ChaosSession[] = [];
  let index = 0;
  for (const dc of info.dcs)
    for (const role of ['sender', 'receiver'] as const) {
      const session = await login(index++, dc, tl);
      const connection = new RedialingConnection({
        host: dc.host,
        port: dc.tcpPort,
        authKey: session.authKey,
        tl,
        callTimeoutMs: 10_000,
        ...(role === 'receiver'
          ? { onUpdate: (u: TlObject) => liveTexts(u).forEach((t) => t.startsWith(prefix) && live.add(t)) }
          : {}),
      });
      sessions.push({ session, role, connection });
    }
  o.log(
    `run ${runId}: ${sessions.length} sessions signed in: ${sessions
      .map((s) => `${s.session.index} dc${s.session.dc} ${s.role} user ${s.session.userId}`)
      .join('; ')}`,
  );

  const receiversOnline = keepReceiversOnline(sessions.filter((s) => s.role === 'receiver'));
  const traffic = new Traffic(sessions, { laneIntervalMs: LANE_INTERVAL_MS, giveUpMs: GIVE_UP_MS, runId });
  traffic.start();
  await sleep(o.settleMs);

  const outcomes: FaultOutcome[] = [];
  for (const fault of plan) {
    o.log(`fault: ${fault.kind} (${fault.target})`);
    outcomes.push(await inject(fault, ctx, traffic, o));
    await sleep(o.settleMs);
  }

  o.log('faults done; letting the lanes finish their last message');
  await traffic.stop();
  receiversOnline.stop();

  // Delivery to another DC may still be on its way (the outbox): the logs are read again until
  // every acknowledged message is in them, or the limit says something was lost.
  const auditStart = performance.now();
  let verdict: Verdict;
  let notConnected: number;
  for (;;) {
    const read = await readLogs(sessions, o.log);
    notConnected = read.notConnected;
    verdict = audit(traffic.lanes, read.boxes);
    if (verdict.lost === 0 || performance.now() - auditStart > CONVERGE_LIMIT_MS) break;
    await sleep(1000);
  }
  const convergedAfterMs = verdict.lost === 0 ? performance.now() - auditStart : undefined;
  for (const s of sessions) s.connection.stop();
  const acked = traffic.lanes.flatMap((l) => l.messages).filter((m) => m.ackedAt !== undefined);
  return {
    runId,
    seconds: (performance.now() - started) / 1000,
    faults: outcomes,
    verdict,
    sent: acked.length,
    receivedLive: acked.filter((m) => live.has(m.text)).length,
    reconnects: sessions.reduce((n, s) => n + s.connection.reconnects, 0),
    notConnected,
    convergedAfterMs,
  };
}

/** Every session's log since the run began (getDifference), and how many could not be read. */
async function readLogs(
  sessions: readonly ChaosSession[],
  log: (line: string) => void,
): Promise<{ boxes: Map<number, BoxRecord>; notConnected: number }> {
  const boxes = new Map<number, BoxRecord>();
  let notConnected = 0;
  for (const s of sessions) {
    try {
      const client = await withTimeout(s.connection.get(), 20_000);
      boxes.set(s.session.index, await readLog(client, s.session.index, s.session.startState));
    } catch (err) {
      notConnected++;
      log(`session ${s.session.index} (dc${s.session.dc}) could not read its log: ${String(err)}`);
    }
  }
  return { boxes, notConnected };
}

/** Signs a fresh test number in on `dc`; a number that turns out to need a password is skipped. */
async function login(index: number, dc: StackDc, tl: ClientTl): Promise<LoadSession> {
  for (let attempt = 1; ; attempt++) {
    const phone = `99966${dc.id}${String(randomInt(0, 10_000)).padStart(4, '0')}`;
    try {
      const session = await openSession({
        index,
        dc: dc.id,
        host: dc.host,
        port: dc.tcpPort,
        phone,
        tl,
        onUpdate: () => undefined,
        onClose: () => undefined,
      });
      session.client.close(); // the run dials its own, redialing connection with the key
      return session;
    } catch (err) {
      if (attempt >= 5) throw err;
    }
  }
}

type StackDc = ReturnType<typeof readStackInfo>['dcs'][number];

/** Texts of the messages an update carries (receivers count what arrived live). */
function liveTexts(u: TlObject): string[] {
  switch (u._) {
    case 'updateShortMessage':
      return [u.message as string];
    case 'updates':
    case 'updatesCombined':
      return (u.updates as TlObject[]).flatMap(liveTexts);
    case 'updateNewMessage':
      return [((u.message as TlObject).message as string | undefined) ?? ''];
    default:
      return [];
  }
}

/**
 * Receivers stay connected as an app does: dial again when the connection drops, and announce
 * the session with updates.getState on each new connection so live updates flow to it again.
 */
function keepReceiversOnline(receivers: ChaosSession[]): { stop(): void } {
  let stopped = false;
  const seen = new Map<ChaosSession, number>();
  void (async () => {
    while (!stopped) {
      await Promise.all(
        receivers.map(async (r) => {
          try {
            const client = await withTimeout(r.connection.get(), 5000);
            if (seen.get(r) === r.connection.connectedAt) return;
            await client.call({ _: 'updates.getState' });
            seen.set(r, r.connection.connectedAt);
          } catch {
            // Down for now: the next round dials again.
          }
        }),
      );
      await sleep(500);
    }
  })();
  return { stop: () => (stopped = true) };
}

/** Injects one fault and measures it (see FaultOutcome). */
async function inject(
  fault: Fault,
  ctx: FaultContext,
  traffic: Traffic,
  o: ChaosOptions,
): Promise<FaultOutcome> {
  const killedAt = performance.now();
  fault.inject(ctx);
  if (fault.holdMs > 0) await sleep(fault.holdMs);
  await fault.restore(ctx);
  const healthyAt = performance.now();
  const lanes = traffic.lanes.filter(
    (l) =>
      fault.dcDown === undefined || (l.from.session.dc !== fault.dcDown && l.to.session.dc !== fault.dcDown),
  );
  // Back: every lane has an acknowledgement that came after the stack was healthy again.
  let backAt: number | undefined;
  while (performance.now() - healthyAt < RECOVERY_LIMIT_MS) {
    const backs = traffic.lanes.map((l) => l.messages.find((m) => (m.ackedAt ?? 0) >= healthyAt)?.ackedAt);
    if (backs.every((t) => t !== undefined)) {
      backAt = Math.max(...backs);
      break;
    }
    await sleep(50);
  }
  const end = backAt ?? performance.now();
  const errors: Record<string, number> = {};
  for (const f of traffic.failures)
    if (f.at >= killedAt && f.at <= end) errors[f.error] = (errors[f.error] ?? 0) + 1;
  const acknowledged = traffic.lanes
    .flatMap((l) => l.messages)
    .filter((m) => m.ackedAt !== undefined && m.ackedAt >= killedAt && m.ackedAt <= end).length;
  const outcome: FaultOutcome = {
    kind: fault.kind,
    target: fault.target,
    downMs: healthyAt - killedAt,
    ...(backAt !== undefined ? { backAfterMs: backAt - healthyAt } : {}),
    longestStallMs: longestStall(traffic.lanes, killedAt, end),
    ...(fault.dcDown !== undefined ? { othersLongestStallMs: longestStall(lanes, killedAt, end) } : {}),
    acknowledged,
    errors,
  };
  o.log(
    `  down ${(outcome.downMs / 1000).toFixed(1)} s, back after ${
      outcome.backAfterMs === undefined ? 'never' : `${(outcome.backAfterMs / 1000).toFixed(1)} s`
    }, longest stall ${(outcome.longestStallMs / 1000).toFixed(1)} s, errors ${JSON.stringify(errors)}`,
  );
  return outcome;
}

/** The longest time in [from, to] any of `lanes` went without an acknowledgement. */
function longestStall(lanes: Traffic['lanes'], from: number, to: number): number {
  let longest = 0;
  for (const lane of lanes) {
    let last = from;
    for (const m of lane.messages) {
      if (m.ackedAt === undefined || m.ackedAt < from || m.ackedAt > to) continue;
      longest = Math.max(longest, m.ackedAt - last);
      last = m.ackedAt;
    }
    longest = Math.max(longest, to - last);
  }
  return longest;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
