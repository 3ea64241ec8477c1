/**
 * Traces reach Jaeger: a gRPC call into a service (which queries Cassandra) produces
 * spans that the real Jaeger of the local stack returns from its query API.
 */
import { randomBytes } from 'node:crypto';
import { Metadata } from '@grpc/grpc-js';
import { AuthServiceClient } from '../../services/shared/src/gen/tern/auth/v1/auth';
import { asService, eventually, stack, unary } from '../support/stack';

interface JaegerSpan {
  operationName: string;
  processID: string;
}
interface JaegerTrace {
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

describe('Jaeger (real)', () => {
  const s = stack();

  it('receives the spans of a gRPC call and its Cassandra query', async () => {
    const traceId = randomBytes(16).toString('hex');
    const md = new Metadata();
    md.set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`);
    const client = new AuthServiceClient(s.dcs[0]!.services.auth, asService(s, 'gateway', 1));
    try {
      await unary(client, 'getAuthKey', { authKeyId: randomBytes(8).readBigInt64LE() }, md).catch(
        () => undefined,
      );
    } finally {
      client.close();
    }
    const trace = await eventually(
      async () => {
        const res = await fetch(`${s.jaegerQueryUrl}/api/traces/${traceId}`);
        if (res.status !== 200) return undefined;
        const body = (await res.json()) as { data?: JaegerTrace[] };
        const t = body.data?.[0];
        return t && t.spans.length >= 2 ? t : undefined;
      },
      30_000,
      500,
    );
    const services = trace.spans.map((sp) => trace.processes[sp.processID]?.serviceName);
    expect(services).toContain('tern-auth');
    const ops = trace.spans.map((sp) => sp.operationName);
    expect(ops.some((o) => o.includes('AuthService/GetAuthKey'))).toBe(true);
    expect(ops.some((o) => /cassandra|execute|SELECT/i.test(o))).toBe(true);
  });
});
