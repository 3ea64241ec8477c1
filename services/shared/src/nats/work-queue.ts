/**
 * Work queues consumed through durable JetStream consumers, with a bounded number of items in
 * hand: the push workers (messaging's, the channel fan-out) and the membership notices share this
 * shape, so it lives here once. The handler settles each item itself (ack, nak with a delay, term,
 * working), because what a failure means differs per queue.
 */
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from 'nats';
import type { EventBus } from './bus';

/** Does the stream exist (`migrate` made it)? */
export async function streamExists(bus: Pick<EventBus, 'jsm'>, stream: string): Promise<boolean> {
  try {
    await bus.jsm.streams.info(stream);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '404') return false;
    throw err;
  }
}

/** A durable consumer of a work queue, as `consumeWorkQueue` makes or updates it. */
export interface WorkQueueSpec {
  stream: string;
  durable: string;
  filterSubject: string;
  /** How long an item may stay unacknowledged before it is delivered again. */
  ackWaitMs: number;
  /** Deliveries of one item at most; -1 = until it is acknowledged or terminated. */
  maxDeliver: number;
  /** Items handed out and not yet settled, server side (1 keeps the queue's order). */
  maxAckPending: number;
  /** Items handled at once in this process. */
  concurrency: number;
}

/** A running consumer: `stop` ends delivery and waits for the items in hand. */
export interface WorkQueueConsumer {
  stop(): Promise<void>;
}

/**
 * Consumes `spec.stream` through its durable consumer, creating it, or bringing an existing one's
 * ack wait, deliveries and pending bound to `spec` (so a new release's limits apply). At most
 * `spec.concurrency` items are handled at once; `handle` must settle each item and not throw (a
 * throw is left to the ack wait).
 */
export async function consumeWorkQueue(
  bus: Pick<EventBus, 'js' | 'jsm'>,
  spec: WorkQueueSpec,
  handle: (m: JsMsg) => Promise<void>,
): Promise<WorkQueueConsumer> {
  const limits = {
    ack_wait: spec.ackWaitMs * 1e6,
    max_deliver: spec.maxDeliver,
    max_ack_pending: spec.maxAckPending,
  };
  try {
    await bus.jsm.consumers.info(spec.stream, spec.durable);
    await bus.jsm.consumers.update(spec.stream, spec.durable, limits);
  } catch (err) {
    if ((err as { code?: string }).code !== '404') throw err;
    await bus.jsm.consumers.add(spec.stream, {
      durable_name: spec.durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: spec.filterSubject,
      ...limits,
    });
  }
  const consumer = await bus.js.consumers.get(spec.stream, spec.durable);
  const messages: ConsumerMessages = await consumer.consume({ max_messages: spec.concurrency });
  const inFlight = new Set<Promise<void>>();
  const loop = (async () => {
    for await (const m of messages) {
      while (inFlight.size >= spec.concurrency) await Promise.race(inFlight);
      const task = handle(m)
        .catch(() => undefined)
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
    }
  })();
  return {
    async stop() {
      await messages.close();
      await loop.catch(() => undefined);
      await Promise.allSettled([...inFlight]);
    },
  };
}
