/**
 * What integration and end-to-end tests know about the running local stack.
 * The stack tooling (tools/stack) owns the facts; this adapter gives tests the few
 * they need in one typed shape.
 */
import type { ChannelCredentials, Client, ServiceError } from '@grpc/grpc-js';
import type { Client as CassandraClient } from 'cassandra-driver';
import {
  connectWithRetry,
  createCassandraClient,
  keyspacesFor,
  parseHostPort,
  type CassandraSettings,
  type ServiceName,
} from '../../services/shared/src';
import { credentialsAs } from '../../tools/stack/certs';
import { readStackInfo } from '../../tools/stack/info';
import type { StackInfo } from '../../tools/stack/plan';

/** The running stack, as `npm run stack:info` prints it. */
export type TestStack = StackInfo;

export function stack(): TestStack {
  return readStackInfo();
}

/** Promisifies a unary call of a generated grpc-js client. */
export function unary<Req, Res>(
  client: Client,
  method: string,
  req: Req,
  md?: import('@grpc/grpc-js').Metadata,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (...args: unknown[]) => void>)[method]!.bind(client);
    const cb = (err: ServiceError | null, res: Res) => (err ? reject(err) : resolve(res));
    if (md) fn(req, md, { deadline: new Date(Date.now() + 10_000) }, cb);
    else fn(req, { deadline: new Date(Date.now() + 10_000) }, cb);
  });
}

/**
 * Credentials to call the stack's services as `service` of DC `dcId` (mutual TLS; the stack made a
 * certificate for every service of every DC, tools/stack/certs.ts). A test calls an RPC as the
 * service its `Callers:` line names (proto/): the gateway for a user's calls, messaging for
 * LookupPhone, and so on; anything else is refused with PERMISSION_DENIED.
 */
export function asService(s: TestStack, service: ServiceName, dcId: number): ChannelCredentials {
  return credentialsAs(s.tlsDir, { kind: 'service', service, dcId });
}

/** Credentials of the deployment's operator (operator commands, health checks). */
export function asOperator(s: TestStack): ChannelCredentials {
  return credentialsAs(s.tlsDir, { kind: 'operator' });
}

/** Polls `fn` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function eventually<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`, { cause: last });
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The stack's Cassandra as the services are configured for it. */
export function cassandraSettings(s: TestStack): CassandraSettings {
  return {
    contactPoints: s.cassandra.contactPoints.map((c) => parseHostPort(c)),
    localDc: s.cassandra.localDc,
    keyspacePrefix: s.cassandra.keyspacePrefix,
  };
}

/**
 * A connected client of the stack's Cassandra in DC `dc`'s own keyspace (`dc`) or its share of the
 * global one (`global`); the caller shuts it down.
 */
export async function stackCassandra(
  s: TestStack,
  dc: number,
  keyspace: 'dc' | 'global',
): Promise<CassandraClient> {
  const settings = cassandraSettings(s);
  const db = createCassandraClient(settings, keyspacesFor(settings.keyspacePrefix, dc)[keyspace]);
  await connectWithRetry(db, 5);
  return db;
}
