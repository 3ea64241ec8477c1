/**
 * The event bus: a NATS connection with JetStream, trace context carried in headers.
 */
import {
  connect,
  Events,
  type NatsConnection,
  type JetStreamClient,
  type JetStreamManager,
  type ConsumerMessages,
  AckPolicy,
  DeliverPolicy,
  type JsMsg,
} from 'nats';
import { withConsumeSpan, withPublishSpan } from '../telemetry/nats-context';
import { natsConsumed, natsPublished } from '../metrics/metrics';
import type { StreamSpec } from './subjects';
import type { Logger } from '../log/logger';

export interface BusOptions {
  servers: string[];
  name: string;
  log: Logger;
  /** Where the streams and buckets this process creates live (default: one replica, anywhere). */
  storage?: StoragePlacement;
}

/**
 * JetStream replicas and the cluster of a super-cluster that holds a DC's streams and KV buckets
 * (TERN_NATS_REPLICAS, TERN_NATS_PLACEMENT_CLUSTER).
 */
export interface StoragePlacement {
  replicas: number;
  cluster?: string | undefined;
}

/**
 * How long an answer waits for a live event's publish (`publishLive`). A healthy JetStream acks in
 * milliseconds; this only bounds what a NATS outage adds to a call.
 */
export const LIVE_PUBLISH_WAIT_MS = 500;

/** A connected event bus. */
export class EventBus {
  private constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    private readonly log: Logger,
    private readonly storage: StoragePlacement,
  ) {}

  /** Options for a KV bucket this process creates: the DC's replicas and placement. */
  kvPlacement(): { replicas: number; placementCluster?: string } {
    return {
      replicas: this.storage.replicas,
      ...(this.storage.cluster ? { placementCluster: this.storage.cluster } : {}),
    };
  }

  /** Connects, retrying forever in the background after the first success (NATS client default). */
  static async connect(opts: BusOptions): Promise<EventBus> {
    const nc = await connect({
      servers: opts.servers,
      name: opts.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      timeout: 5000,
    });
    const jsm = await nc.jetstreamManager({ timeout: 5000 });
    const bus = new EventBus(
      nc,
      nc.jetstream({ timeout: 5000 }),
      jsm,
      opts.log,
      opts.storage ?? { replicas: 1 },
    );
    void bus.watchStatus();
    return bus;
  }

  /** False from a disconnect until the reconnect: while cut off, nothing sent to NATS arrives. */
  get connected(): boolean {
    return this.isConnected && !this.nc.isClosed();
  }

  private isConnected = true;

  private async watchStatus(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === Events.Disconnect) this.isConnected = false;
      if (s.type === Events.Reconnect) this.isConnected = true;
      if (s.type === Events.Disconnect || s.type === Events.Reconnect || s.type === Events.Error)
        this.log.warn({ nats: s.type, data: JSON.stringify(s.data) }, 'nats connection status');
    }
  }

  /** Creates or updates the given streams (idempotent). */
  async ensureStreams(specs: StreamSpec[]): Promise<void> {
    for (const spec of specs) {
      const config = {
        ...spec.config,
        num_replicas: this.storage.replicas,
        ...(this.storage.cluster ? { placement: { cluster: this.storage.cluster, tags: [] } } : {}),
        name: spec.name,
        subjects: spec.subjects,
        description: spec.description,
      };
      try {
        await this.jsm.streams.info(spec.name);
        await this.jsm.streams.update(spec.name, config);
      } catch (err) {
        if ((err as { code?: string }).code !== '404') throw err;
        await this.jsm.streams.add(config);
      }
    }
  }

  /**
   * Publishes `data` to `subject` on JetStream and waits for the stream's ack. `msgId`
   * makes the publish idempotent inside the stream's duplicate window.
   */
  async publish(
    subject: string,
    data: Uint8Array,
    opts: { msgId?: string } = {},
  ): Promise<{ seq: number; stream: string }> {
    return withPublishSpan(subject, async (headers) => {
      const ack = await this.js.publish(subject, data, {
        headers,
        ...(opts.msgId ? { msgID: opts.msgId } : {}),
      });
      natsPublished.inc({ stream: ack.stream });
      return { seq: ack.seq, stream: ack.stream };
    });
  }

  /**
   * Publishes an event whose durable record is elsewhere (a live update: the log in Cassandra is
   * the record; a push request): waits for the stream's ack at most `waitMs`, then answers and
   * lets the publish finish or fail in the background. While NATS is away a caller is delayed by
   * `waitMs`, not by the JetStream timeout per publish (three of them made a send wait 15 s in
   * `npm run chaos`). Never throws: a failure is logged with `what`.
   */
  async publishLive(
    subject: string,
    data: Uint8Array,
    opts: { msgId?: string; waitMs?: number; what: string; context?: Record<string, unknown> },
  ): Promise<void> {
    const published = this.publish(subject, data, opts.msgId ? { msgId: opts.msgId } : {}).then(
      () => true,
      (err: unknown) => {
        this.log.warn({ err, subject, ...opts.context }, `${opts.what} not published`);
        return false;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, opts.waitMs ?? LIVE_PUBLISH_WAIT_MS);
      timer.unref();
    });
    await Promise.race([published, late]);
    clearTimeout(timer);
  }

  /**
   * Consumes a stream through a durable consumer: the server remembers what was
   * acknowledged, so a restarted or reconnected process resumes where it left off.
   * A message whose handler throws is negatively acknowledged and redelivered.
   */
  async consumeDurable(opts: {
    stream: string;
    durable: string;
    filterSubject?: string;
    handler: (msg: JsMsg) => Promise<void>;
  }): Promise<ConsumerMessages> {
    try {
      await this.jsm.consumers.info(opts.stream, opts.durable);
    } catch {
      await this.jsm.consumers.add(opts.stream, {
        durable_name: opts.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: 30 * 1e9,
        max_deliver: 20,
        ...(opts.filterSubject ? { filter_subject: opts.filterSubject } : {}),
      });
    }
    const consumer = await this.js.consumers.get(opts.stream, opts.durable);
    const messages = await consumer.consume({ max_messages: 256 });
    void (async () => {
      for await (const m of messages) {
        try {
          await withConsumeSpan(m.subject, m.headers, () => opts.handler(m));
          m.ack();
          natsConsumed.inc({ consumer: opts.durable, outcome: 'ack' });
        } catch (err) {
          this.log.warn(
            { err, subject: m.subject, consumer: opts.durable },
            'handler failed; message will be redelivered',
          );
          m.nak(1000);
          natsConsumed.inc({ consumer: opts.durable, outcome: 'nak' });
        }
      }
    })();
    return messages;
  }

  /**
   * Core NATS, no stream: for notices that only matter to processes online right now (their
   * receivers fall back to re-reading storage when they were away, see the subject's doc).
   */
  notify(subject: string, data: Uint8Array): void {
    this.nc.publish(subject, data);
    natsPublished.inc({ stream: 'core' });
  }

  /** Receives core NATS notices on `subject` until the bus closes. A throwing handler is logged. */
  listen(subject: string, handler: (data: Uint8Array) => void): void {
    const sub = this.nc.subscribe(subject);
    void (async () => {
      for await (const m of sub) {
        try {
          handler(m.data);
        } catch (err) {
          this.log.warn({ err, subject }, 'notice handler failed');
        }
      }
    })();
  }

  /** Flushes pending publishes and closes (graceful shutdown). */
  async close(): Promise<void> {
    if (this.nc.isClosed()) return;
    await this.nc.drain();
  }
}
