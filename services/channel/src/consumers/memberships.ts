/**
 * Durable membership notices. After a participant row changes at a channel's home DC (the truth),
 * the member's home DC must record it (RecordMembership: its dialog list and its gateways'
 * subscriptions follow `channel_memberships`). The notice is tried at once, with a short deadline,
 * so the member's sessions usually see the change before the call answers; when the member's DC
 * does not answer (or the local write fails), the notice is written to this DC's work queue
 * DC<N>_CHANNEL_MEMBERSHIPS (subject per target DC) and the call succeeds all the same. One
 * durable consumer per DC (this one included) replays its queue, one notice at a time, backing off
 * while the DC stays away, until it is applied.
 *
 * Exactly-once in effect comes from the receiving side: RecordMembership ignores a version it has
 * (or a newer one), so a replay after a lost acknowledgement, or a queued notice overtaken by a
 * newer direct one, changes nothing (storage/store.ts recordMembership). This is messaging's
 * outbox pattern (services/messaging/src/consumers/outbox.ts) for the channel service.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  isServiceError,
  subjectsFor,
  TelegramErrorCode,
  TernError,
  type EventBus,
  type Logger,
} from '../../../shared/src';
import { RecordMembershipRequest } from '../../../shared/src/gen/tern/channel/v1/channel';
import { consumeWorkQueue, streamExists, type WorkQueueConsumer } from '../../../shared/src/nats/work-queue';

/** gRPC codes that say the request itself is wrong: replaying it cannot help. */
const REFUSED: readonly GrpcStatus[] = [
  GrpcStatus.INVALID_ARGUMENT,
  GrpcStatus.FAILED_PRECONDITION,
  GrpcStatus.OUT_OF_RANGE,
  GrpcStatus.NOT_FOUND,
];

/** Telegram error classes of a refusal (FLOOD, INTERNAL and TIMEOUT are worth retrying). */
const REFUSED_TELEGRAM: readonly TelegramErrorCode[] = [
  TelegramErrorCode.BAD_REQUEST,
  TelegramErrorCode.UNAUTHORIZED,
  TelegramErrorCode.FORBIDDEN,
  TelegramErrorCode.NOT_FOUND,
  TelegramErrorCode.NOT_ACCEPTABLE,
];

/**
 * Is `err` a refusal (a bad request, kept from being retried) rather than the member's DC or
 * storage being away? Unknown errors count as away: a notice kept too long costs a retry, a
 * notice dropped costs a member's dialog.
 */
export function isRefusal(err: unknown): boolean {
  if (err instanceof TernError) return REFUSED_TELEGRAM.includes(err.telegramCode);
  return isServiceError(err) && REFUSED.includes(err.code);
}

/** Backoff between replays of the head of a DC's queue (ms), by redelivery count (1-based). */
export const BACKOFF_MS = [500, 1000, 2000, 5000];
export const backoffMs = (redeliveries: number): number =>
  BACKOFF_MS[Math.min(Math.max(redeliveries, 1), BACKOFF_MS.length) - 1]!;

/** The part of a JetStream message a replay uses (fakes in unit tests). */
export interface QueuedNotice {
  data: Uint8Array;
  subject: string;
  info: { redeliveryCount: number };
  ack(): void;
  nak(delayMs?: number): void;
  term(): void;
}

export interface MembershipDeliveryDeps {
  dcId: number;
  /** Every DC of the deployment. */
  dcIds: readonly number[];
  bus: Pick<EventBus, 'publish' | 'js' | 'jsm'>;
  /** Records the notice at DC `dc` (this DC: the local member side; else its RecordMembership). */
  apply(req: RecordMembershipRequest, dc: number): Promise<void>;
  /** The member's home DC now (a user may have moved while the notice waited). */
  homeOf(userId: bigint): Promise<number | undefined>;
  log: Logger;
}

/** How a notice went: applied at once, or queued for the consumer of its DC. */
export type DeliveryOutcome = 'applied' | 'queued';

export class MembershipDelivery {
  private readonly consumers: WorkQueueConsumer[] = [];

  constructor(private readonly d: MembershipDeliveryDeps) {}

  /**
   * Records the notice at DC `home` now, or queues it when that fails for a reason other than a
   * refusal. Throws only when it could be neither applied nor queued (NATS away too): the caller's
   * call fails, and its retry (idempotent) sends the notice again.
   */
  async deliver(req: RecordMembershipRequest, home: number): Promise<DeliveryOutcome> {
    try {
      await this.d.apply(req, home);
      return 'applied';
    } catch (err) {
      if (isRefusal(err)) throw err;
      try {
        await this.enqueue(req, home);
      } catch (queueErr) {
        this.d.log.error({ err: queueErr, cause: err }, 'membership notice neither applied nor queued');
        throw err;
      }
      this.d.log.warn(
        { err, home, userId: req.userId.toString(), channelId: req.channelId.toString() },
        "member's DC unreachable: membership notice queued",
      );
      return 'queued';
    }
  }

  /** Queues a notice for DC `toDc`; one entry per (user, channel, version) in the dedupe window. */
  async enqueue(req: RecordMembershipRequest, toDc: number): Promise<void> {
    await this.d.bus.publish(
      subjectsFor(this.d.dcId).channelMemberships(toDc),
      RecordMembershipRequest.encode(req).finish(),
      { msgId: `membership:${req.userId}:${req.channelId}:${req.version}` },
    );
  }

  /**
   * Replays one queued notice: acknowledged once applied (or refused for good, or undecodable),
   * otherwise negatively acknowledged with a growing delay, so it comes back until it is applied.
   */
  async replay(m: QueuedNotice, queuedFor: number): Promise<'applied' | 'refused' | 'retry'> {
    let req: RecordMembershipRequest;
    try {
      req = RecordMembershipRequest.decode(m.data);
    } catch (err) {
      this.d.log.error({ err, subject: m.subject }, 'undecodable membership notice dropped');
      m.term();
      return 'refused';
    }
    try {
      const dc = (await this.d.homeOf(req.userId).catch(() => undefined)) ?? queuedFor;
      await this.d.apply(req, dc);
      m.ack();
      this.d.log.info(
        { toDc: dc, userId: req.userId.toString(), channelId: req.channelId.toString() },
        'queued membership notice applied',
      );
      return 'applied';
    } catch (err) {
      if (isRefusal(err)) {
        this.d.log.error(
          { err, userId: req.userId.toString(), channelId: req.channelId.toString() },
          'queued membership notice refused',
        );
        m.term();
        return 'refused';
      }
      m.nak(backoffMs(m.info.redeliveryCount + 1));
      return 'retry';
    }
  }

  /** Starts one consumer per DC (this one too: a local write can fail as well), one at a time. */
  async start(): Promise<void> {
    const stream = `DC${this.d.dcId}_CHANNEL_MEMBERSHIPS`;
    if (!(await streamExists(this.d.bus, stream))) {
      // `migrate` creates the DC's streams; without it notices can only be applied directly.
      this.d.log.error(
        { stream },
        'stream missing (run migrate): queued membership notices are not replayed',
      );
      return;
    }
    for (const toDc of this.d.dcIds)
      this.consumers.push(
        await consumeWorkQueue(
          this.d.bus,
          {
            stream,
            durable: `channel-memberships-dc${toDc}`,
            filterSubject: subjectsFor(this.d.dcId).channelMemberships(toDc),
            ackWaitMs: 60_000,
            maxDeliver: -1,
            // One in flight: a DC's notices are replayed in the order they were queued.
            maxAckPending: 1,
            concurrency: 1,
          },
          async (m) => {
            await this.replay(m, toDc);
          },
        ),
      );
    this.d.log.info({ stream }, 'membership notice consumers started');
  }

  async stop(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
  }
}
