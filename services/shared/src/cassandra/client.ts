/**
 * Cassandra access. Keyspaces are per DC (`<prefix>_dc<N>`) plus one global keyspace
 * (`<prefix>_global`) that holds only what must be global, such as the user directory
 * (phone → user id → home DC). A DC's processes never open another DC's keyspace.
 */
import { Client, auth as cassandraAuth, policies, types } from 'cassandra-driver';
import type { HostPort } from '../config/env';

export { types as cassandraTypes } from 'cassandra-driver';

/** A bigint as the driver's bigint column value (cassandra-driver uses Long). */
export const toLong = (v: bigint): types.Long => types.Long.fromString(v.toString());
/** A bigint column value (Long, or null for unset) as a bigint; null reads as 0. */
export const fromLong = (v: unknown): bigint =>
  v == null ? 0n : BigInt((v as { toString(): string }).toString());

export interface CassandraSettings {
  contactPoints: HostPort[];
  localDc: string;
  keyspacePrefix: string;
  username?: string | undefined;
  password?: string | undefined;
}

/** The keyspace names for DC `dc`. */
export function keyspacesFor(prefix: string, dc: number): { global: string; dc: string } {
  return { global: `${prefix}_global`, dc: `${prefix}_dc${dc}` };
}

/**
 * How soon a lost connection to a Cassandra node is tried again: every 250 ms at first, at most
 * every 1 s. The driver's default backs off to 10 minutes, so a node back after an outage of a
 * minute or two was used again only 30-60 s later (`npm run chaos` measured 51.7 s); a reconnect
 * attempt is one TCP connect per node, cheap enough to repeat every second.
 */
export const RECONNECT_BASE_MS = 250;
export const RECONNECT_MAX_MS = 1000;

/** Creates (does not connect) a client; `keyspace` omitted for DDL sessions. */
export function createCassandraClient(s: CassandraSettings, keyspace?: string): Client {
  return new Client({
    contactPoints: s.contactPoints.map((c) => `${c.host}:${c.port}`),
    localDataCenter: s.localDc,
    ...(keyspace ? { keyspace } : {}),
    ...(s.username
      ? { authProvider: new cassandraAuth.PlainTextAuthProvider(s.username, s.password ?? '') }
      : {}),
    socketOptions: { connectTimeout: 5000, readTimeout: 12000 },
    queryOptions: { prepare: true, consistency: types.consistencies.localQuorum },
    pooling: { heartBeatInterval: 15000 },
    policies: {
      reconnection: new policies.reconnection.ExponentialReconnectionPolicy(
        RECONNECT_BASE_MS,
        RECONNECT_MAX_MS,
        false,
      ),
    },
  });
}

/**
 * Connects with a bounded number of attempts, because Cassandra often answers the
 * TCP port a little before it accepts CQL sessions.
 */
export async function connectWithRetry(client: Client, attempts = 30, delayMs = 1000): Promise<void> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      await client.connect();
      return;
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
  throw new Error(`cannot connect to Cassandra after ${attempts} attempts`, { cause: last });
}
