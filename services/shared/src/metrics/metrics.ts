/**
 * Prometheus metrics: one registry per process, default Node metrics plus whatever
 * the service registers, served at GET /metrics on TERN_METRICS_LISTEN.
 */
import { createServer, type Server } from 'node:http';
import { Registry, collectDefaultMetrics, Counter, Histogram, Gauge } from 'prom-client';
import type { HostPort } from '../config/env';

export { Counter, Histogram, Gauge } from 'prom-client';

/** The process-wide registry. */
export const registry = new Registry();
let defaultsCollected = false;

/** Adds labels common to every series (service, dc) and Node's default metrics. */
export function initMetrics(labels: Record<string, string>): void {
  registry.setDefaultLabels(labels);
  if (!defaultsCollected) {
    collectDefaultMetrics({ register: registry, prefix: 'tern_' });
    defaultsCollected = true;
  }
}

/** gRPC server-side call metrics, recorded by the shared server wrapper. */
export const grpcServerCalls = new Counter({
  name: 'tern_grpc_server_calls_total',
  help: 'gRPC calls handled, by method and status code',
  labelNames: ['method', 'code'] as const,
  registers: [registry],
});
export const grpcServerDuration = new Histogram({
  name: 'tern_grpc_server_duration_seconds',
  help: 'gRPC handler latency',
  labelNames: ['method'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});
export const natsPublished = new Counter({
  name: 'tern_nats_published_total',
  help: 'Messages published to NATS, by stream',
  labelNames: ['stream'] as const,
  registers: [registry],
});
export const natsConsumed = new Counter({
  name: 'tern_nats_consumed_total',
  help: 'NATS messages processed, by consumer and outcome',
  labelNames: ['consumer', 'outcome'] as const,
  registers: [registry],
});

/**
 * Starts the HTTP server of /metrics, /healthz (the process answers) and /readyz (200 while
 * `ready()`, else 503); resolves once it listens. The probes are here because the gRPC port
 * requires a client certificate when the deployment runs mutual TLS, which a kubelet's gRPC
 * probe cannot present.
 */
export async function serveMetrics(listen: HostPort, ready: () => boolean = () => true): Promise<Server> {
  const server = createServer((req, res) => {
    if ((req.url === '/healthz' || req.url === '/readyz') && req.method === 'GET') {
      const ok = req.url === '/healthz' || ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok\n' : 'not serving\n');
      return;
    }
    if (req.url === '/metrics' && req.method === 'GET') {
      registry
        .metrics()
        .then((body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        })
        .catch((err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        });
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

export { Gauge as MetricsGauge };
