/**
 * What one message costs the backend, read from the traces the stack sent to Jaeger during the
 * run: for each messages.sendMessage trace (root in the sender's gateway), the Cassandra
 * statements (cassandra-driver execute and batch spans, every service), the internal gRPC calls and
 * the NATS publishes it made.
 */
export interface MessageCost {
  /** Complete traces looked at (those that reached the recipient's DC). */
  traces: number;
  /** Medians per message. */
  cassandraStatements: number;
  cassandraBatches: number;
  grpcCalls: number;
  natsPublishes: number;
}

interface JaegerSpan {
  operationName: string;
  processID: string;
  tags: Array<{ key: string; value: unknown }>;
}
interface JaegerTrace {
  spans: JaegerSpan[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/** Up to `limit` SendMessage traces that started after `sinceMs` (epoch ms). */
export async function messageCost(jaegerUrl: string, sinceMs: number, limit = 40): Promise<MessageCost> {
  const q = new URLSearchParams({
    service: 'tern-messaging',
    operation: 'grpc.tern.messaging.v1.MessagingService/SendMessage',
    start: String(sinceMs * 1000),
    end: String(Date.now() * 1000),
    limit: String(limit),
  });
  const res = await fetch(`${jaegerUrl}/api/traces?${q.toString()}`);
  if (!res.ok) throw new Error(`Jaeger answered HTTP ${res.status}`);
  const traces = ((await res.json()) as { data: JaegerTrace[] }).data.filter((t) =>
    t.spans.some((s) => s.operationName.endsWith('/DeliverToBox')),
  );
  const count = (t: JaegerTrace, test: (s: JaegerSpan) => boolean) => t.spans.filter(test).length;
  return {
    traces: traces.length,
    cassandraStatements: median(
      traces.map((t) => count(t, (s) => s.operationName === 'cassandra-driver.execute')),
    ),
    cassandraBatches: median(
      traces.map((t) => count(t, (s) => s.operationName === 'cassandra-driver.batch')),
    ),
    // The client side of each internal call (the server side has the same name).
    grpcCalls: median(
      traces.map((t) =>
        count(
          t,
          (s) =>
            s.operationName.startsWith('grpc.tern.') &&
            s.tags.some((tag) => tag.key === 'span.kind' && tag.value === 'client'),
        ),
      ),
    ),
    natsPublishes: median(traces.map((t) => count(t, (s) => s.operationName.startsWith('publish ')))),
  };
}
