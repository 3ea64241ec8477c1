/**
 * Cassandra access. Keyspaces are per DC (`<prefix>_dc<N>`) plus one global keyspace
 * (`<prefix>_global`) that holds only what must be global, such as the user directory
 * (phone → user id → home DC). A DC's processes never open another DC's keyspace.
 */
import { Client, auth as cassandraAuth, types } from 'cassandra-driver';
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
