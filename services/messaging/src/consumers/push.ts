/**
 * The push worker of one DC: consumes the DC<N>_PUSH work queue (PushRequestEvent, published by
 * producers/push.ts when a message lands in a box) and notifies the owner's registered devices
 * through the configured providers (push-providers.ts) — unless the owner has a live connection
 * to one of the DC's gateways (the presence bucket, see PresenceReader), or muted the dialog.
 *
 * Delivery is at least once and bounded: a request is acknowledged after every device was tried
 * (each up to TERN_PUSH_MAX_ATTEMPTS times with exponential backoff, inside one delivery, so a
 * redelivery does not repeat devices that already succeeded); a request whose handling fails
 * before sending (Cassandra down...) is redelivered with growing delays, at most MAX_DELIVER
 * times, then dropped with a log line. It runs in the messaging process because the devices and
 * settings it reads are messaging's tables (docs/decisions/0008-push-and-presence.md).
 */
import {
  presenceBucketFor,
  subjectsFor,
  type EventBus,
  type Lifecycle,
  type Logger,
} from '../../../shared/src';
import type { JsMsg, KV } from 'nats';
import { consumeWorkQueue, type WorkQueueConsumer } from '../../../shared/src/nats/work-queue';
import { PushRequestEvent } from '../../../shared/src/gen/tern/events/v1/events';
import type { Peer } from '../../../shared/src/gen/tern/common/v1/peer';
import type { Devices, NotifySettings } from '../storage/devices';
import { peerKey } from '../api/core';
import type { PushNotification, PushProvider, SendOutcome } from './push-providers';

/** Deliveries of one request before it is dropped; the delays between them (ms). */
export const MAX_DELIVER = 5;
const REDELIVERY_DELAYS_MS = [2_000, 10_000, 60_000, 300_000];
/** A request older than this is not worth a notification any more (the user has likely looked). */
const MAX_AGE_MS = 60 * 60 * 1000;

/** Backoff before attempt `n` (1-based, n ≥ 2): 250 ms, 1 s, 4 s, ... capped at 8 s, with jitter. */
export function retryDelayMs(n: number): number {
  const base = Math.min(250 * 4 ** (n - 2), 8_000);
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

/** Who has a live MTProto connection to a gateway of this DC (the presence bucket). */
export interface Presence {
  isOnline(userId: bigint): Promise<boolean>;
}

/**
 * Reads the DC's presence bucket: a user is online when any gateway holds a key `<user>.<gateway>`
 * (expired keys are gone with the bucket's TTL). One ordered-consumer listing per question:
 * nothing is cached, so memory does not grow with the number of online users.
 */
export class PresenceReader implements Presence {
  private constructor(private readonly kv: KV) {}

  static async open(bus: EventBus, dcId: number): Promise<PresenceReader> {
    const b = presenceBucketFor(dcId);
    return new PresenceReader(
      await bus.js.views.kv(b.name, { ttl: b.ttlMs, history: 1, ...bus.kvPlacement() }),
    );
  }

  async isOnline(userId: bigint): Promise<boolean> {
    const keys = await this.kv.keys(`${userId}.*`);
    let found = false;
    for await (const k of keys) {
      if (k) found = true;
    }
    return found;
  }
}

export interface PushWorkerDeps {
  dcId: number;
  bus: EventBus;
  devices: Devices;
  settings: NotifySettings;
  presence: Presence;
  providers: PushProvider[];
  /** Unread messages in total, for the badge. */
  totalUnread(userId: bigint): Promise<number>;
  /** A basic group's title as `viewer` sees it ('' when unknown). */
  chatTitle(viewer: bigint, chatId: bigint): Promise<string>;
  log: Logger;
  maxAttempts: number;
  timeoutMs: number;
  concurrency: number;
}

/** What handling one request did, for logs and tests. */
export interface PushResult {
  skipped?: 'no-devices' | 'online' | 'muted' | 'stale';
  outcomes: SendOutcome[];
}

const peerOf = (p: Peer | undefined): PushNotification['peer'] => {
  switch (p?.kind?.$case) {
    case 'userId':
      return { type: 'user', id: p.kind.value };
    case 'chatId':
      return { type: 'chat', id: p.kind.value };
    case 'channelId':
      return { type: 'channel', id: p.kind.value };
    default:
      return undefined;
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class PushWorker {
  private readonly byType = new Map<number, PushProvider>();
  private consumer?: WorkQueueConsumer;

  constructor(private readonly d: PushWorkerDeps) {
    for (const p of d.providers) for (const t of p.tokenTypes) this.byType.set(t, p);
  }

  /** Token types some provider serves (what account.registerDevice accepts). */
  get tokenTypes(): ReadonlySet<number> {
    return new Set(this.byType.keys());
  }

  /** Handles one request: decides who to notify and sends. Throws when it should be retried. */
  async handle(event: PushRequestEvent): Promise<PushResult> {
    const emitted = Number(event.meta?.emittedAtMs ?? 0n);
    if (emitted > 0 && Date.now() - emitted > MAX_AGE_MS) return { skipped: 'stale', outcomes: [] };
    const userId = event.userId;
    const devices = (await this.d.devices.list(userId)).filter((x) => this.byType.has(x.tokenType));
    if (devices.length === 0) return { skipped: 'no-devices', outcomes: [] };
    const dialog = peerKey(event.peer);
    const s = await this.d.settings.effective(userId, dialog || 'users');
    if (s.muteUntil > Math.floor(Date.now() / 1000)) return { skipped: 'muted', outcomes: [] };
    let online = false;
    try {
      online = await this.d.presence.isOnline(userId);
    } catch (err) {
      // Unknown presence: a notification too many beats a missed one.
      this.d.log.warn({ err, userId: userId.toString() }, 'presence unknown; notifying');
    }
    if (online) return { skipped: 'online', outcomes: [] };

    const peer = peerOf(event.peer);
    const { head, text } = await this.argsOf(event, userId, peer);
    // Telegram's loc_keys: *_NOTEXT when previews are hidden (no message text leaves the server).
    const locKey = s.showPreviews ? event.locKey : event.locKey.replace(/_TEXT$/, '_NOTEXT');
    const locArgs = [...head, ...(s.showPreviews && text !== undefined ? [text] : [])];
    const badge = await this.d.totalUnread(userId).catch(() => 0);
    const outcomes = await Promise.all(
      devices.map(async (dev) => {
        const provider = this.byType.get(dev.tokenType)!;
        const n: PushNotification = {
          dcId: this.d.dcId,
          userId,
          tokenType: dev.tokenType,
          token: dev.token,
          appSandbox: dev.appSandbox,
          locKey,
          locArgs,
          peer,
          messageId: event.messageId,
          silent: event.silent || s.silent,
          badge,
          date: Math.floor((emitted || Date.now()) / 1000),
        };
        const outcome = await this.sendWithRetries(provider, n);
        if (outcome === 'gone') await this.d.devices.unregister(userId, dev.tokenType, dev.token);
        if (outcome !== 'sent')
          this.d.log.warn(
            { userId: userId.toString(), provider: provider.name, outcome, messageId: event.messageId },
            'push not delivered',
          );
        return outcome;
      }),
    );
    return { outcomes };
  }

  /**
   * The loc_args before the text, and the text (undefined: the key has none). Box messages carry
   * [sender, text] and a basic group's title is the box's; channel posts come from the channel
   * service's fan-out with every argument (channel or group title included), the text last for a
   * *_TEXT key (services/channel/src/consumers/push-fanout.ts pushKeyOf).
   */
  private async argsOf(
    event: PushRequestEvent,
    userId: bigint,
    peer: PushNotification['peer'],
  ): Promise<{ head: string[]; text: string | undefined }> {
    if (peer?.type === 'channel') {
      const hasText = event.locKey.endsWith('_TEXT');
      return {
        head: hasText ? event.locArgs.slice(0, -1) : event.locArgs,
        text: hasText ? (event.locArgs.at(-1) ?? '') : undefined,
      };
    }
    const [sender = '', text = ''] = event.locArgs;
    if (peer?.type !== 'chat') return { head: [sender], text };
    const title = await this.d.chatTitle(userId, peer.id).catch(() => '');
    return { head: [sender, title], text };
  }

  private async sendWithRetries(p: PushProvider, n: PushNotification): Promise<SendOutcome> {
    let outcome: SendOutcome = 'retry';
    for (let attempt = 1; attempt <= this.d.maxAttempts; attempt++) {
      if (attempt > 1) await sleep(retryDelayMs(attempt));
      outcome = await p.send(n);
      if (outcome !== 'retry') return outcome;
    }
    return outcome;
  }

  /** The longest one request may take: every attempt timing out, plus the backoffs, plus reads. */
  private ackWaitMs(): number {
    let ms = 10_000;
    for (let a = 1; a <= this.d.maxAttempts; a++) ms += this.d.timeoutMs + (a > 1 ? 10_000 : 0);
    return ms;
  }

  /** Starts consuming the DC's push queue through the durable consumer `push`. */
  async start(): Promise<void> {
    const stream = `DC${this.d.dcId}_PUSH`;
    this.consumer = await consumeWorkQueue(
      this.d.bus,
      {
        stream,
        durable: 'push',
        filterSubject: subjectsFor(this.d.dcId).pushRequests,
        ackWaitMs: this.ackWaitMs(),
        maxDeliver: MAX_DELIVER,
        // Bounded: at most `concurrency` requests in memory and in flight here.
        maxAckPending: this.d.concurrency * 4,
        concurrency: this.d.concurrency,
      },
      (m) => this.process(m),
    );
    this.d.log.info({ stream, providers: this.d.providers.map((p) => p.name) }, 'push worker consuming');
  }

  private async process(m: JsMsg): Promise<void> {
    let event: PushRequestEvent;
    try {
      event = PushRequestEvent.decode(m.data);
    } catch (err) {
      this.d.log.warn({ err, seq: m.seq }, 'undecodable push request dropped');
      m.term();
      return;
    }
    try {
      const r = await this.handle(event);
      this.d.log.debug(
        { userId: event.userId.toString(), messageId: event.messageId, ...r },
        'push request handled',
      );
      m.ack();
    } catch (err) {
      const n = m.info.deliveryCount;
      if (n >= MAX_DELIVER) {
        this.d.log.error({ err, userId: event.userId.toString(), deliveries: n }, 'push request dropped');
        m.term();
      } else {
        this.d.log.warn(
          { err, userId: event.userId.toString(), deliveries: n },
          'push request will be retried',
        );
        m.nak(REDELIVERY_DELAYS_MS[Math.min(n, REDELIVERY_DELAYS_MS.length) - 1]);
      }
    }
  }

  /** Stops taking requests and waits for the ones in flight (unacknowledged ones are redelivered). */
  async stop(): Promise<void> {
    await this.consumer?.stop();
  }
}

/**
 * Starts the worker when the deployment has providers (and stops it on shutdown). Without any,
 * nothing consumes the queue — and producers/push.ts is not wired either, so nothing piles up.
 */
export async function startPushWorker(
  deps: Omit<PushWorkerDeps, 'presence'> & { lifecycle: Lifecycle },
): Promise<ReadonlySet<number>> {
  if (deps.providers.length === 0) return new Set();
  const worker = new PushWorker({ ...deps, presence: await PresenceReader.open(deps.bus, deps.dcId) });
  await worker.start();
  deps.lifecycle.onShutdown('push-worker', () => worker.stop());
  return worker.tokenTypes;
}
