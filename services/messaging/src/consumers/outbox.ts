/**
 * The durable cross-DC outbox. A delivery to a box in another DC (a recipient's copy, an edit,
 * a revoke, a read receipt) is first tried over gRPC; if that DC does not answer, the request is
 * written to this DC's JetStream stream DC<N>_OUTBOX (subject per target DC) and the send
 * succeeds for the client. One durable consumer per target DC replays the queue, in order and
 * one at a time (max_ack_pending 1), backing off while the DC stays away, until it answers.
 *
 * Exactly once in the box comes from the receiving side: every DeliverToBox operation is
 * idempotent (new messages per (actor, op id) within the random_id window of a day, edits
 * rewrite the same content, deletes find nothing twice, read markers only move up), so a replay
 * after a lost acknowledgement changes nothing.
 *
 * Ordering: while a DC is away, everything for it queues behind the first failure, so it arrives
 * in order. Sends made just as it comes back may be delivered directly before the queue drains;
 * the recipient then numbers those messages first (Telegram tolerates it: ids order a box, not a
 * conversation).
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from 'nats';
import {
  isServiceError,
  subjectsFor,
  unary,
  type DcClients,
  type EventBus,
  type Logger,
} from '../../../shared/src';
import {
  DeliverToBoxRequest,
  type DeliverToBoxResponse,
  type MessagingServiceClient,
} from '../../../shared/src/gen/tern/messaging/v1/messaging';

/**
 * gRPC codes after which a delivery is queued rather than failed: the DC did not answer, or it
 * asked to come back later (RESOURCE_EXHAUSTED carries FLOOD_WAIT: the owner is being moved).
 */
const UNREACHABLE: readonly GrpcStatus[] = [
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.RESOURCE_EXHAUSTED,
];
/** Operations worth keeping; typing notices are dropped when their DC is away. */
const DURABLE_OPS = new Set(['newMessage', 'chatMessage', 'editMessage', 'deleteMessages', 'readOutbox']);
/**
 * Backoff between replays of the head of a DC's queue: 0.5 s doubling to 2 s, so queued messages
 * move within seconds of their DC's return (issue 14 asks for 5 s; a 60 s cap measured 25 s in
 * `npm run chaos`). A replay to a DC that is down fails fast (connection refused), so trying
 * every 2 s costs one failed call per source replica and target DC.
 */
const BACKOFF_MS = [500, 1000, 2000];
const CALL_DEADLINE_MS = 15_000;

export const isUnreachable = (err: unknown): boolean => isServiceError(err) && UNREACHABLE.includes(err.code);

export interface OutboxDeps {
  dcId: number;
  /** Every DC of the deployment. */
  dcIds: number[];
  bus: EventBus;
  messagingOf: DcClients<MessagingServiceClient>;
  /** The owner's home DC now (a user may have moved while the delivery waited). */
  homeOf(userId: bigint): Promise<number | undefined>;
  log: Logger;
}

export class Outbox {
  private readonly consumers: ConsumerMessages[] = [];

  constructor(private readonly d: OutboxDeps) {}

  /** One gRPC attempt at DC `toDc`'s DeliverToBox. */
  private send(req: DeliverToBoxRequest, toDc: number): Promise<DeliverToBoxResponse> {
    const target = this.d.messagingOf.forDc(toDc);
    return unary(target.deliverToBox.bind(target), req, { deadlineMs: CALL_DEADLINE_MS });
  }

  /**
   * Delivers to DC `toDc` now, or queues the delivery when that DC does not answer. A queued
   * delivery answers as applied with no result (pts 0): callers must not depend on the other
   * box's ids.
   */
  async deliver(req: DeliverToBoxRequest, toDc: number): Promise<DeliverToBoxResponse> {
    try {
      return await this.send(req, toDc);
    } catch (err) {
      if (!isUnreachable(err) || !req.op || !DURABLE_OPS.has(req.op.$case)) throw err;
      await this.enqueue(req, toDc);
      this.d.log.warn(
        { err, toDc, owner: req.ownerUserId.toString(), op: req.op.$case },
        'DC unreachable: delivery queued in the outbox',
      );
      return { messageId: 0, pts: 0, ptsCount: 0, duplicate: false };
    }
  }

  private async enqueue(req: DeliverToBoxRequest, toDc: number): Promise<void> {
    const data = DeliverToBoxRequest.encode(req).finish();
    await this.d.bus.publish(subjectsFor(this.d.dcId).outbox(toDc), data, {
      msgId: `${req.ownerUserId}:${req.actorUserId}:${req.opId}:${req.op?.$case ?? ''}`,
    });
  }

  /** Starts one ordered consumer per other DC. */
  async start(): Promise<void> {
    const stream = `DC${this.d.dcId}_OUTBOX`;
    for (const toDc of this.d.dcIds.filter((dc) => dc !== this.d.dcId)) {
      const durable = `outbox-dc${toDc}`;
      const config = {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: subjectsFor(this.d.dcId).outbox(toDc),
        // One in flight: the queue of a DC is replayed in order.
        max_ack_pending: 1,
        ack_wait: 2 * CALL_DEADLINE_MS * 1e6,
        max_deliver: -1,
      };
      try {
        await this.d.bus.jsm.consumers.info(stream, durable);
      } catch {
        await this.d.bus.jsm.consumers.add(stream, config);
      }
      const consumer = await this.d.bus.js.consumers.get(stream, durable);
      const messages = await consumer.consume({ max_messages: 1 });
      this.consumers.push(messages);
      void this.drain(messages, toDc);
    }
  }

  private async drain(messages: ConsumerMessages, toDc: number): Promise<void> {
    for await (const m of messages) await this.replay(m, toDc);
  }

  private async replay(m: JsMsg, queuedFor: number): Promise<void> {
    let req: DeliverToBoxRequest;
    try {
      req = DeliverToBoxRequest.decode(m.data);
    } catch (err) {
      this.d.log.error({ err, subject: m.subject }, 'undecodable outbox entry dropped');
      m.term();
      return;
    }
    try {
      // The owner may have moved meanwhile (even here: this DC's own DeliverToBox then takes it).
      const dc = (await this.d.homeOf(req.ownerUserId)) ?? queuedFor;
      await this.send(req, dc);
      m.ack();
      this.d.log.info(
        { toDc: dc, owner: req.ownerUserId.toString(), op: req.op?.$case },
        'outbox delivery made',
      );
    } catch (err) {
      if (isUnreachable(err)) {
        const n = m.info.redeliveryCount;
        m.nak(BACKOFF_MS[Math.min(n, BACKOFF_MS.length) - 1]);
        return;
      }
      // Refused for good (a bad request, a user gone): retrying cannot help.
      this.d.log.error(
        { err, owner: req.ownerUserId.toString(), op: req.op?.$case },
        'outbox delivery refused',
      );
      m.term();
    }
  }

  stop(): void {
    for (const c of this.consumers) c.stop();
  }
}
