/**
 * Ceilings for the messaging benchmark, measured on the same stack in the same run: what the
 * stores behind a message can do on their own, without Tern in between.
 *
 *  - Cassandra: single-row INSERTs into a table of a bench keyspace (`tern_bench`, created with
 *    the stack's replication, rows expire after an hour), many in flight, prepared, LOCAL_QUORUM as
 *    the services use; and the same as lightweight transactions (INSERT ... IF NOT EXISTS on fresh
 *    keys, no contention), the kind of write that claims a pts or a random_id.
 *  - NATS JetStream: publishes of a 300-byte payload with a Nats-Msg-Id, each awaiting the
 *    stream's ack, as the messaging service publishes an update; to DC 1's probe stream
 *    (`tern.dc1.probe.>`, 10,000 messages kept, meant for such probes).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from 'cassandra-driver';
import {
  connectWithRetry,
  createCassandraClient,
  createLogger,
  ensureKeyspace,
  EventBus,
  parseHostPort,
  subjectsFor,
} from '../../services/shared/src';
import type { StackInfo } from '../stack/plan';
import { closedLoop, type LoadResult } from './handshake';

const KEYSPACE = 'tern_bench';

export interface RawStores {
  cassandraWrites(
    concurrency: number,
    ms: number,
    pids: Record<string, number | undefined>,
  ): Promise<LoadResult>;
  cassandraLwts(
    concurrency: number,
    ms: number,
    pids: Record<string, number | undefined>,
  ): Promise<LoadResult>;
  natsPublishes(
    concurrency: number,
    ms: number,
    pids: Record<string, number | undefined>,
  ): Promise<LoadResult>;
  close(): Promise<void>;
}

export async function rawStores(info: StackInfo): Promise<RawStores> {
  const settings = {
    contactPoints: info.cassandra.contactPoints.map((c) => parseHostPort(c)),
    localDc: info.cassandra.localDc,
    keyspacePrefix: info.cassandra.keyspacePrefix,
  };
  const ddl = createCassandraClient(settings);
  await connectWithRetry(ddl, 5);
  await ensureKeyspace(ddl, KEYSPACE, { class: 'SimpleStrategy', replication_factor: 1 });
  await ddl.execute(
    `CREATE TABLE IF NOT EXISTS ${KEYSPACE}.rows (k uuid PRIMARY KEY, v blob) WITH default_time_to_live = 3600`,
  );
  await ddl.shutdown();
  const db: Client = createCassandraClient(settings, KEYSPACE);
  await connectWithRetry(db, 5);

  const bus = await EventBus.connect({
    servers: [info.natsUrl],
    name: 'tern-bench',
    log: createLogger({ level: 'warn', base: { bench: 'messaging' } }),
  });
  const subject = subjectsFor(1).probe('bench');
  const payload = randomBytes(300);
  const value = randomBytes(200);
  let published = 0;
  const run = randomUUID().slice(0, 8);

  return {
    cassandraWrites: (concurrency, ms, pids) =>
      closedLoop(
        () => db.execute('INSERT INTO rows (k, v) VALUES (?, ?)', [randomUUID(), value], { prepare: true }),
        concurrency,
        ms,
        pids,
      ),
    cassandraLwts: (concurrency, ms, pids) =>
      closedLoop(
        async () => {
          const rs = await db.execute(
            'INSERT INTO rows (k, v) VALUES (?, ?) IF NOT EXISTS',
            [randomUUID(), value],
            {
              prepare: true,
            },
          );
          if (rs.first().get('[applied]') !== true) throw new Error('fresh key not applied');
        },
        concurrency,
        ms,
        pids,
      ),
    natsPublishes: (concurrency, ms, pids) =>
      closedLoop(
        () => bus.js.publish(subject, payload, { msgID: `bench:${run}:${++published}` }),
        concurrency,
        ms,
        pids,
      ),
    async close() {
      await db.shutdown();
      await bus.close();
    },
  };
}
