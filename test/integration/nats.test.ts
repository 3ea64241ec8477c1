/**
 * The event bus against the real NATS JetStream of the local stack.
 */
import { randomUUID } from 'node:crypto';
import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { EventBus, createLogger, subjectsFor } from '../../services/shared/src';
import { eventually, stack } from '../support/stack';

const log = createLogger({ level: 'warn', base: { test: 'nats' } });

describe('NATS JetStream (real)', () => {
  const s = stack();
  const servers = s.natsUrl.split(',');
  const probe = subjectsFor(1).probe;

  it('a durable consumer survives a reconnect and resumes exactly after the last ack', async () => {
    const run = randomUUID().slice(0, 8);
    const subject = probe(`durable-${run}`);
    const durable = `test-${run}`;
    const publisher = await EventBus.connect({ servers, name: 'test-publisher', log });
    const got: string[] = [];
    try {
      let consumer = await EventBus.connect({ servers, name: 'test-consumer-1', log });
      let sub = await consumer.consumeDurable({
        stream: 'DC1_PROBE',
        durable,
        filterSubject: subject,
        handler: async (m) => void got.push(m.string()),
      });
      for (const n of [1, 2, 3]) await publisher.publish(subject, new TextEncoder().encode(`m${n}`));
      await eventually(async () => (got.length >= 3 ? true : undefined));
      sub.stop();
      await consumer.close();

      // While nobody consumes, more messages arrive; the stream keeps them.
      for (const n of [4, 5]) await publisher.publish(subject, new TextEncoder().encode(`m${n}`));

      consumer = await EventBus.connect({ servers, name: 'test-consumer-2', log });
      sub = await consumer.consumeDurable({
        stream: 'DC1_PROBE',
        durable,
        filterSubject: subject,
        handler: async (m) => void got.push(m.string()),
      });
      await eventually(async () => (got.length >= 5 ? true : undefined));
      await new Promise((r) => setTimeout(r, 300));
      expect(got).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
      sub.stop();
      await consumer.jsm.consumers.delete('DC1_PROBE', durable);
      await consumer.close();
    } finally {
      await publisher.close();
    }
  });

  it('carries the trace context in message headers', async () => {
    // What the services' OpenTelemetry SDK registers: a propagator and a context manager.
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const contexts = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(contexts);
    const run = randomUUID().slice(0, 8);
    const subject = probe(`trace-${run}`);
    const bus = await EventBus.connect({ servers, name: 'test-trace', log });
    try {
      const traceId = randomUUID().replace(/-/g, '');
      const parent = trace.setSpanContext(context.active(), {
        traceId,
        spanId: 'a1b2c3d4e5f60718',
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
      });
      await context.with(parent, () => bus.publish(subject, new Uint8Array([1])));
      const msg = await bus.jsm.streams.getMessage('DC1_PROBE', { last_by_subj: subject });
      expect(msg.header.get('traceparent')).toContain(traceId);
    } finally {
      propagation.disable();
      context.disable();
      await bus.close();
    }
  });

  it('deduplicates publishes with the same message id', async () => {
    const subject = probe(`dedup-${randomUUID().slice(0, 8)}`);
    const bus = await EventBus.connect({ servers, name: 'test-dedup', log });
    try {
      const a = await bus.publish(subject, new Uint8Array([1]), { msgId: subject });
      const b = await bus.publish(subject, new Uint8Array([1]), { msgId: subject });
      expect(b.seq).toBe(a.seq);
    } finally {
      await bus.close();
    }
  });

  it('every DC has its own streams', async () => {
    const bus = await EventBus.connect({ servers, name: 'test-streams', log });
    try {
      for (const dc of [1, 2, 3]) {
        const info = await bus.jsm.streams.info(`DC${dc}_USER_UPDATES`);
        expect(info.config.subjects).toEqual([subjectsFor(dc).userUpdatesAll]);
      }
    } finally {
      await bus.close();
    }
  });
});
