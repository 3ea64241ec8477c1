/**
 * The push fan-out of one DC's channels: consumes DC<N>_CHANNEL_PUSH (ChannelPushEvent, one per
 * post from producers/push.ts) and publishes one PushRequestEvent per member to be notified, on
 * the member's home DC's push queue (tern.dc<M>.push.requests), where messaging's push worker
 * decides about devices, presence and muting and sends (docs/decisions/0021-channel-push.md).
 *
 * Who: every current member but the poster (the newest-first member index, a page per work item:
 * member-pages.ts). In a supergroup above TERN_CHANNEL_PUSH_LARGE_GROUP members only the author of
 * the replied-to message and the users the message mentions (messageEntityMentionName), as
 * Telegram notifies large groups; the page walk is skipped.
 *
 * Work items stay small: an item handles one page, publishes the next page's item (the cursor
 * moved) and only then acknowledges, so a big channel's post is a chain of items, other posts
 * interleave with it, and a redelivery (crash, NATS hiccup) repeats at most one page. Repeating a
 * page is harmless: each push request carries the Nats-Msg-Id `push:<user>:h<channel>:<message>`,
 * which the push stream's duplicate window (2 min) drops, and a page is published well within it.
 * A per-destination-DC token bucket (TERN_CHANNEL_PUSH_RATE, token-bucket.ts) paces the publishes.
 */
import type { JsMsg } from 'nats';
import { subjectsFor, type EventBus, type Lifecycle, type Logger } from '../../../shared/src';
import type { Peer } from '../../../shared/src/gen/tern/common/v1/peer';
import { consumeWorkQueue, streamExists, type WorkQueueConsumer } from '../../../shared/src/nats/work-queue';
import { ChannelPushEvent, PushRequestEvent } from '../../../shared/src/gen/tern/events/v1/events';
import { fanoutMsgId } from '../producers/push';
import type { MemberKey, MemberPages } from './member-pages';

/** Deliveries of one work item before it is dropped; the delays between them (ms). */
export const MAX_DELIVER = 5;
const REDELIVERY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000];
/** A post older than this is not worth notifying any more (as messaging's push worker). */
const MAX_AGE_MS = 60 * 60 * 1000;
/** Members per work item. */
export const PAGE_SIZE = 500;
/** Push requests published at once (and tokens taken at once). */
const PUBLISH_CHUNK = 50;

/** What the fan-out needs to know of the channel. */
export interface FanoutChannel {
  megagroup: boolean;
  title: string;
  participantsCount: number;
  deleted: boolean;
}

/** Telegram's loc_key and its arguments for a post (the text, when any, is the last argument). */
export function pushKeyOf(
  e: Pick<ChannelPushEvent, 'senderName' | 'text' | 'media'>,
  ch: Pick<FanoutChannel, 'megagroup' | 'title'>,
): { locKey: string; locArgs: string[] } {
  const prefix = ch.megagroup ? 'CHAT_MESSAGE' : 'CHANNEL_MESSAGE';
  // CHAT_MESSAGE_*: [sender, group title, ...]; CHANNEL_MESSAGE_*: [channel title, ...].
  const head = ch.megagroup ? [e.senderName, ch.title] : [ch.title];
  if (e.text !== '') return { locKey: `${prefix}_TEXT`, locArgs: [...head, e.text] };
  const kind = e.media === 'photo' ? 'PHOTO' : e.media === 'document' ? 'DOC' : 'NOTEXT';
  return { locKey: `${prefix}_${kind}`, locArgs: head };
}

/** Members of a page to notify: everyone but the poster. */
export const audienceOf = (page: MemberKey[], senderId: bigint): bigint[] =>
  page.filter((m) => m.userId !== senderId).map((m) => m.userId);

/** The cursor of the page after `page` (undefined: this was the last one). */
export const nextCursor = (page: MemberKey[], pageSize: number): bigint | undefined =>
  page.length >= pageSize ? page[page.length - 1]!.recentKey : undefined;

/** Is `ch` a supergroup that notifies only replies and mentions? */
export const isLargeGroup = (ch: Pick<FanoutChannel, 'megagroup' | 'participantsCount'>, threshold: number) =>
  ch.megagroup && ch.participantsCount > threshold;

/**
 * Candidates of a large group's post: the replied-to message's author and the mentioned users,
 * never the poster (still to be checked for membership).
 */
export function largeGroupCandidates(
  e: Pick<ChannelPushEvent, 'senderId' | 'mentionedUserIds'>,
  repliedAuthor: bigint,
): bigint[] {
  const out = new Set<bigint>(e.mentionedUserIds);
  if (repliedAuthor > 0n) out.add(repliedAuthor);
  out.delete(e.senderId);
  out.delete(0n);
  return [...out];
}

/** The Nats-Msg-Id of a member's push request: one per (user, channel, message). */
export const pushMsgId = (userId: bigint, channelId: bigint, messageId: number): string =>
  `push:${userId}:h${channelId}:${messageId}`;

export interface FanoutDeps {
  dcId: number;
  bus: Pick<EventBus, 'publish' | 'js' | 'jsm'>;
  channel(id: bigint): Promise<FanoutChannel | undefined>;
  members: MemberPages;
  /** The users among `ids` who are current members. */
  membersAmong(channelId: bigint, ids: bigint[]): Promise<bigint[]>;
  /** The stored author of a message of the channel (0n: unknown or none). */
  authorOf(channelId: bigint, messageId: number): Promise<bigint>;
  /** Home DC of each known user. */
  homes(ids: bigint[]): Promise<Map<bigint, number>>;
  limits: { take(dc: number, n: number): Promise<void> };
  log: Logger;
  pageSize: number;
  /** Supergroups above this many members notify only replies and mentions. */
  largeGroup: number;
  /** Work items handled at once. */
  concurrency: number;
}

/** What one work item did, for logs and tests. */
export interface FanoutResult {
  skipped?: 'gone' | 'stale';
  large?: boolean;
  notified: number;
  /** The cursor of the item published for the next page. */
  next?: bigint;
}

export class PushFanout {
  private consumer?: WorkQueueConsumer;

  constructor(private readonly d: FanoutDeps) {}

  /**
   * Handles one work item: one page of members (or a large group's few), their push requests,
   * then the next page's item. Throws when it should be retried; `progress` is called between
   * chunks (the consumer extends the item's ack deadline with it).
   */
  async handle(e: ChannelPushEvent, progress: () => void = () => undefined): Promise<FanoutResult> {
    const emitted = Number(e.meta?.emittedAtMs ?? 0n);
    if (emitted > 0 && Date.now() - emitted > MAX_AGE_MS) return { skipped: 'stale', notified: 0 };
    const ch = await this.d.channel(e.channelId);
    if (!ch || ch.deleted) return { skipped: 'gone', notified: 0 };
    let targets: bigint[];
    let next: bigint | undefined;
    const large = isLargeGroup(ch, this.d.largeGroup);
    if (large) {
      const replied = e.replyToMsgId > 0 ? await this.d.authorOf(e.channelId, e.replyToMsgId) : 0n;
      const candidates = largeGroupCandidates(e, replied);
      targets = candidates.length > 0 ? await this.d.membersAmong(e.channelId, candidates) : [];
    } else {
      const page = await this.d.members.page(e.channelId, e.beforeRecentKey, this.d.pageSize);
      targets = audienceOf(page, e.senderId);
      next = nextCursor(page, this.d.pageSize);
    }
    const notified = await this.publishRequests(e, ch, targets, progress);
    if (next !== undefined) {
      const item: ChannelPushEvent = { ...e, beforeRecentKey: next };
      await this.d.bus.publish(subjectsFor(this.d.dcId).channelPush, ChannelPushEvent.encode(item).finish(), {
        msgId: fanoutMsgId(item),
      });
    }
    return { large, notified, ...(next !== undefined ? { next } : {}) };
  }

  /** One PushRequestEvent per target, to their home DC's push queue, paced per DC. */
  private async publishRequests(
    e: ChannelPushEvent,
    ch: FanoutChannel,
    targets: bigint[],
    progress: () => void,
  ): Promise<number> {
    if (targets.length === 0) return 0;
    const homes = await this.d.homes(targets);
    const byDc = new Map<number, bigint[]>();
    for (const u of targets) {
      const dc = homes.get(u);
      if (dc === undefined) continue;
      const list = byDc.get(dc);
      if (list) list.push(u);
      else byDc.set(dc, [u]);
    }
    const { locKey, locArgs } = pushKeyOf(e, ch);
    const peer: Peer = { kind: { $case: 'channelId', value: e.channelId } };
    let n = 0;
    await Promise.all(
      [...byDc].map(async ([dc, users]) => {
        for (let i = 0; i < users.length; i += PUBLISH_CHUNK) {
          const chunk = users.slice(i, i + PUBLISH_CHUNK);
          await this.d.limits.take(dc, chunk.length);
          await Promise.all(
            chunk.map((userId) =>
              this.d.bus.publish(
                subjectsFor(dc).pushRequests,
                PushRequestEvent.encode({
                  meta: { originDcId: this.d.dcId, emittedAtMs: e.meta?.emittedAtMs ?? BigInt(Date.now()) },
                  userId,
                  locKey,
                  locArgs,
                  peer,
                  messageId: e.messageId,
                  silent: e.silent,
                  badge: 0,
                }).finish(),
                { msgId: pushMsgId(userId, e.channelId, e.messageId) },
              ),
            ),
          );
          n += chunk.length;
          progress();
        }
      }),
    );
    return n;
  }

  /** Starts consuming the DC's channel push queue through the durable consumer `channel-push`. */
  async start(): Promise<void> {
    const stream = `DC${this.d.dcId}_CHANNEL_PUSH`;
    if (!(await streamExists(this.d.bus, stream))) {
      this.d.log.error({ stream }, 'stream missing (run migrate): channel posts notify nobody');
      return;
    }
    this.consumer = await consumeWorkQueue(
      this.d.bus,
      {
        stream,
        durable: 'channel-push',
        filterSubject: subjectsFor(this.d.dcId).channelPush,
        // Extended by `working()` while a page waits for tokens.
        ackWaitMs: 60_000,
        maxDeliver: MAX_DELIVER,
        maxAckPending: this.d.concurrency * 2,
        concurrency: this.d.concurrency,
      },
      (m) => this.process(m),
    );
    this.d.log.info({ stream }, 'channel push fan-out consuming');
  }

  private async process(m: JsMsg): Promise<void> {
    let e: ChannelPushEvent;
    try {
      e = ChannelPushEvent.decode(m.data);
    } catch (err) {
      this.d.log.warn({ err, seq: m.seq }, 'undecodable channel push item dropped');
      m.term();
      return;
    }
    const what = { channelId: e.channelId.toString(), messageId: e.messageId };
    try {
      const r = await this.handle(e, () => m.working());
      this.d.log.debug({ ...what, ...r, next: r.next?.toString() }, 'channel push item handled');
      m.ack();
    } catch (err) {
      const n = m.info.deliveryCount;
      if (n >= MAX_DELIVER) {
        this.d.log.error({ err, ...what, deliveries: n }, 'channel push item dropped');
        m.term();
      } else {
        this.d.log.warn({ err, ...what, deliveries: n }, 'channel push item will be retried');
        m.nak(REDELIVERY_DELAYS_MS[Math.min(n, REDELIVERY_DELAYS_MS.length) - 1]);
      }
    }
  }

  /** Stops taking items and waits for the ones in flight (unacknowledged ones are redelivered). */
  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}

/** Starts the fan-out and stops it on shutdown. */
export async function startPushFanout(deps: FanoutDeps & { lifecycle: Lifecycle }): Promise<PushFanout> {
  const fanout = new PushFanout(deps);
  await fanout.start();
  deps.lifecycle.onShutdown('channel-push-fanout', () => fanout.stop());
  return fanout;
}
