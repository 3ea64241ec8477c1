/**
 * Shared code of every Tern service: the only module services import besides the
 * generated contracts. Each area lives in its own folder; this file re-exports the
 * public surface so a service's imports read as one list.
 */
export * from './config/env';
export * from './config/topology';
export * from './log/logger';
export * from './errors/errors';
export * from './health/health';
export * from './lifecycle/lifecycle';
export * from './metrics/metrics';
export * from './grpc/server';
export * from './grpc/client';
export * from './grpc/retry';
export * from './grpc/access';
export * from './grpc/tls';
export * from './nats/subjects';
export * from './nats/bus';
export * from './cassandra/client';
export * from './cassandra/migrate';
export * from './storage/objects';
export * from './service/runtime';
export * from './service/settings';
export * from './telemetry/nats-context';
export * from './files/file-reference';
export * from './files/file-ids';
export * from './concurrency/limit';
export * from './cache/bounded-map';
export * from './auth/require-user';
export * from './ownership';
export * from './peers/peer-key';
export * from './peers/group-ids';
