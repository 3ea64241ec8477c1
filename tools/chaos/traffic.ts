/**
 * The chaos run's traffic: one sending and one receiving session per DC, and a lane per
 * (sender, receiver) pair, so every DC sends to every DC. A lane keeps one message in flight and
 * retries it, with the same random_id, until it is acknowledged: what an app does with a message
 * it shows as "sending". A lane to a DC that is down stalls alone; the others keep flowing.
 *
 * Every attempt is recorded (when, how it ended), so the fault table can say per fault how long
 * sends stalled and which errors clients saw, and the audit (audit.ts) can check every
 * acknowledged message against the receivers' and senders' own update logs.
 */
import { randomBytes } from 'node:crypto';
import type { TlObject } from '../../services/gateway/src/mtproto/tl-types';
import { CallFailed, RpcError } from '../load/client';
import type { LoadSession } from '../load/login';
import type { RedialingConnection } from './connection';
import { sleep } from './connection';

/** A session of the run and its connection that comes back. */
export interface ChaosSession {
  session: LoadSession;
  role: 'sender' | 'receiver';
  connection: RedialingConnection;
}

/** One message of a lane, from its first attempt to its acknowledgement (or giving up). */
export interface SentMessage {
  lane: Lane;
  seq: number;
  text: string;
  randomId: bigint;
  firstAttemptAt: number;
  /** performance.now() of the successful answer; undefined while unanswered or given up. */
  ackedAt?: number;
  /** The message id in the sender's box (updateShortSentMessage.id). */
  id?: number;
  attempts: number;
  /** A 400-class answer: the server refused the send for good (not retried). */
  refused?: string;
}

export interface Lane {
  from: ChaosSession;
  to: ChaosSession;
  /** "dc2→dc3" */
  name: string;
  messages: SentMessage[];
}

/** An answer that was not a success, with when it came: the fault table groups them by window. */
export interface AttemptFailure {
  at: number;
  lane: string;
  /** rpc_error name (digits as X) or the client's failure (TIMEOUT, CONNECTION_CLOSED). */
  error: string;
}

export interface TrafficOptions {
  /** Pause between a lane's acknowledged message and its next. */
  laneIntervalMs: number;
  /** A message unacknowledged this long is given up (counted; the run fails). */
  giveUpMs: number;
  /** The run's tag: message texts are `chaos <runId> <lane> <seq>`. */
  runId: string;
}

/** Errors an app retries: the server's 500-class answers, -503 Timeout, FLOOD_WAIT_X, no answer. */
export function isRetried(err: unknown): boolean {
  if (err instanceof CallFailed) return true;
  if (err instanceof RpcError) return err.code >= 500 || err.code < 0 || err.code === 420;
  return false;
}

/** The wait an error asks for before the next attempt: FLOOD_WAIT_X's X seconds, else a backoff. */
export function retryDelayMs(err: unknown, attempt: number): number {
  if (err instanceof RpcError && err.code === 420) {
    const seconds = Number(/_(\d+)$/.exec(err.message)?.[1] ?? 1);
    return Math.min(seconds, 10) * 1000;
  }
  return Math.min(200 * 2 ** Math.min(attempt, 3), 1000);
}

export const errorName = (err: unknown): string =>
  err instanceof RpcError
    ? err.message.replace(/_\d+$/, '_X')
    : err instanceof CallFailed
      ? err.message
      : err instanceof Error
        ? err.message
        : String(err);

/** The running traffic; `stop` ends the lanes after their current message. */
export class Traffic {
  readonly lanes: Lane[];
  readonly failures: AttemptFailure[] = [];
  private stopping = false;
  private readonly running: Promise<void>[] = [];

  constructor(
    sessions: readonly ChaosSession[],
    private readonly o: TrafficOptions,
  ) {
    const senders = sessions.filter((s) => s.role === 'sender');
    const receivers = sessions.filter((s) => s.role === 'receiver');
    this.lanes = senders.flatMap((from) =>
      receivers.map((to) => ({
        from,
        to,
        name: `dc${from.session.dc}→dc${to.session.dc}`,
        messages: [],
      })),
    );
  }

  start(): void {
    for (const lane of this.lanes) this.running.push(this.runLane(lane));
  }

  /** Lets each lane finish the message it holds (acknowledged or given up), then resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.running);
  }

  /** Acknowledged messages whose first attempt was at or after `since`, per lane name. */
  ackedSince(since: number): Map<string, number> {
    const out = new Map<string, number>();
    for (const lane of this.lanes)
      out.set(
        lane.name,
        lane.messages.filter((m) => m.ackedAt !== undefined && m.firstAttemptAt >= since).length,
      );
    return out;
  }

  private async runLane(lane: Lane): Promise<void> {
    const peer = {
      _: 'inputPeerUser',
      user_id: lane.to.session.userId,
      access_hash: lane.to.session.accessHash,
    };
    for (let seq = 0; !this.stopping; seq++) {
      const m: SentMessage = {
        lane,
        seq,
        text: `chaos ${this.o.runId} ${lane.from.session.index}>${lane.to.session.index} ${seq}`,
        randomId: randomBytes(8).readBigInt64LE(),
        firstAttemptAt: performance.now(),
        attempts: 0,
      };
      lane.messages.push(m);
      await this.deliver(lane, m, peer);
      await sleep(this.o.laneIntervalMs);
    }
  }

  /** Attempts `m` until it is acknowledged, refused (400-class) or given up. */
  private async deliver(lane: Lane, m: SentMessage, peer: TlObject): Promise<void> {
    const deadline = m.firstAttemptAt + this.o.giveUpMs;
    while (performance.now() < deadline) {
      m.attempts++;
      let err: unknown;
      try {
        const client = await lane.from.connection.get();
        const answer = await client.call({
          _: 'messages.sendMessage',
          peer,
          message: m.text,
          random_id: m.randomId,
          no_webpage: true,
        });
        m.ackedAt = performance.now();
        m.id = sentMessageId(answer);
        return;
      } catch (e) {
        err = e;
      }
      this.failures.push({ at: performance.now(), lane: lane.name, error: errorName(err) });
      if (!isRetried(err)) {
        m.refused = errorName(err);
        return;
      }
      // A call without an answer is sent again on the same connection, as apps do: a dead
      // connection shows itself as closed (the client's pings), and then the next get() dials.
      await sleep(retryDelayMs(err, m.attempts));
    }
  }
}

/** The sent message's id from a sendMessage answer (updateShortSentMessage, or Updates with it). */
function sentMessageId(answer: TlObject): number | undefined {
  if (answer._ === 'updateShortSentMessage') return answer.id as number;
  const updates = (answer.updates as TlObject[] | undefined) ?? [];
  for (const u of updates) {
    if (u._ === 'updateMessageID') return u.id as number;
    if (u._ === 'updateNewMessage') return (u.message as TlObject).id as number;
  }
  return undefined;
}
