/**
 * Trace context across NATS. NATS has no ready-made OpenTelemetry instrumentation, so
 * producers inject the W3C `traceparent`/`tracestate` into message headers and
 * consumers extract it and start a CONSUMER span linked as a child of the producer.
 */
import { context, propagation, trace, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { headers as natsHeaders, type MsgHdrs } from 'nats';

const tracer = trace.getTracer('tern-nats');

/** Copies the active trace context into (new or given) NATS headers. */
export function injectTraceHeaders(h: MsgHdrs = natsHeaders()): MsgHdrs {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  for (const [k, v] of Object.entries(carrier)) h.set(k, v);
  return h;
}

/** Runs `fn` inside a PRODUCER span for `subject`, passing headers that carry the span's context. */
export async function withPublishSpan<T>(subject: string, fn: (h: MsgHdrs) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(
    `publish ${subject}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject },
    },
    async (span) => {
      try {
        return await fn(injectTraceHeaders());
      } catch (err) {
        recordError(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** Runs `fn` inside a CONSUMER span whose parent is the context carried in `h`. */
export async function withConsumeSpan<T>(
  subject: string,
  h: MsgHdrs | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const carrier: Record<string, string> = {};
  if (h) for (const key of h.keys()) carrier[key.toLowerCase()] = h.get(key);
  const parent = propagation.extract(context.active(), carrier);
  return tracer.startActiveSpan(
    `process ${subject}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject },
    },
    parent,
    async (span) => {
      try {
        return await fn();
      } catch (err) {
        recordError(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

function recordError(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}
