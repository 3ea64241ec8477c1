/**
 * OpenTelemetry bootstrap. Must run before any instrumented module (@grpc/grpc-js,
 * cassandra-driver) is first required, which is why services/main.ts imports this
 * module first and requires the service afterwards.
 *
 * Traces go over OTLP/gRPC to the collector named by OTEL_EXPORTER_OTLP_ENDPOINT
 * (Jaeger v2 accepts OTLP natively). Without that variable tracing stays off: a
 * process never fails to start because the collector is missing.
 */
import { NodeSDK } from '@opentelemetry/sdk-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { CassandraDriverInstrumentation } from '@opentelemetry/instrumentation-cassandra-driver';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';

let sdk: NodeSDK | undefined;

/**
 * Starts tracing for this process. `serviceName` becomes the Jaeger service
 * (`tern-auth`, ...); the DC id is a resource attribute so one Jaeger serves all DCs.
 */
export function startTracing(opts: { serviceName: string; dcId?: string; endpoint?: string }): boolean {
  if (sdk) return true;
  const endpoint = opts.endpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return false;
  sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: process.env.OTEL_SERVICE_NAME || opts.serviceName,
      [ATTR_SERVICE_VERSION]: process.env.npm_package_version ?? '0.1.0',
      'tern.dc_id': opts.dcId ?? process.env.TERN_DC_ID ?? 'unknown',
    }),
    spanProcessors: [
      new BatchSpanProcessor(new OTLPTraceExporter({ url: endpoint }), { scheduledDelayMillis: 500 }),
    ],
    instrumentations: [
      new GrpcInstrumentation(),
      // Statement text only (bound values never go into spans): traces tell lightweight
      // transactions and batches apart (tools/bench/traces.ts counts them).
      new CassandraDriverInstrumentation({ enhancedDatabaseReporting: true }),
    ],
  });
  sdk.start();
  return true;
}

/** Flushes and stops the exporter; part of graceful shutdown. */
export async function stopTracing(): Promise<void> {
  const s = sdk;
  sdk = undefined;
  if (s) await s.shutdown();
}
