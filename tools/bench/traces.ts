/**
 * What one message costs the backend, read from the traces the stack sent to Jaeger during the
 * run: for each messages.sendMessage trace (root in the sender's gateway), the Cassandra
 * statements (cassandra-driver execute and batch spans, every service), the internal gRPC calls and
 * the NATS publishes it made, in total and per service.
 *
 * Lightweight transactions can be told apart only when spans carry the statement text
 * (`db.query.text`, or `db.statement` of older conventions): the services' Cassandra
 * instrumentation leaves it out unless its enhancedDatabaseReporting is on
 * (services/shared/src/telemetry/tracing.ts). Without it `lwts` is undefined.
 */
export interface CostCounts {
  cassandraStatements: number;
  cassandraBatches: number;
  /** Statements with a condition (IF NOT EXISTS, IF EXISTS, IF col = ...); undefined: not in the spans. */
  lwts: number | undefined;
  grpcCalls: number;
  natsPublishes: number;
}

export interface MessageCost extends CostCounts {
  /** Complete traces looked at (those that reached the recipient's DC). */
  traces: number;
  /** Medians per message of each service's own spans (service name as in Jaeger: tern-messaging…). */
  byService: Record<string, CostCounts>;
}

interface JaegerSpan {
  operationName: string;
  processID: string;
  tags: Array<{ key: string; value: unknown }>;
}
interface JaegerTrace {
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const tag = (s: JaegerSpan, key: string) => s.tags.find((t) => t.key === key)?.value;
const statementOf = (s: JaegerSpan) => {
  const text = tag(s, 'db.query.text') ?? tag(s, 'db.statement');
  return typeof text === 'string' ? text : undefined;
};
/** A CQL statement with a condition: Paxos (a lightweight transaction), not a plain write. */
export const isConditional = (cql: string): boolean =>
  /\bIF\s+(NOT\s+EXISTS|EXISTS|\w+\s*(=|<|>|!=|IN\b))/i.test(cql);

const isStatement = (s: JaegerSpan) => s.operationName === 'cassandra-driver.execute';
const isBatch = (s: JaegerSpan) => s.operationName === 'cassandra-driver.batch';
// The client side of each internal call (the server side has the same name).
const isGrpcCall = (s: JaegerSpan) =>
  s.operationName.startsWith('grpc.tern.') && tag(s, 'span.kind') === 'client';
const isPublish = (s: JaegerSpan) => s.operationName.startsWith('publish ');

/** Medians over traces of the counts of the spans `pick` keeps of each trace. */
function countsOf(traces: JaegerTrace[], pick: (t: JaegerTrace, s: JaegerSpan) => boolean): CostCounts {
  const per = (test: (s: JaegerSpan) => boolean) =>
    median(traces.map((t) => t.spans.filter((s) => pick(t, s) && test(s)).length));
  const withText = traces.some((t) => t.spans.some((s) => isStatement(s) && statementOf(s) !== undefined));
  return {
    cassandraStatements: per(isStatement),
    cassandraBatches: per(isBatch),
    lwts: withText ? per((s) => isStatement(s) && isConditional(statementOf(s) ?? '')) : undefined,
    grpcCalls: per(isGrpcCall),
    natsPublishes: per(isPublish),
  };
}

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
  const service = (t: JaegerTrace, s: JaegerSpan) => t.processes[s.processID]?.serviceName ?? 'unknown';
  const services = [...new Set(traces.flatMap((t) => t.spans.map((s) => service(t, s))))].sort();
  return {
    traces: traces.length,
    ...countsOf(traces, () => true),
    byService: Object.fromEntries(
      services.map((name) => [name, countsOf(traces, (t, s) => service(t, s) === name)]),
    ),
  };
}
