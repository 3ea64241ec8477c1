/**
 * Cassandra storage paths against the real database of the local stack.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from 'cassandra-driver';
import {
  applyMigrations,
  assertMigrated,
  connectWithRetry,
  createCassandraClient,
  createLogger,
  ensureKeyspace,
  keyspacesFor,
  type Migration,
} from '../../services/shared/src';
import { AuthKeyStore } from '../../services/auth/src/storage/auth-keys';
import { cassandraSettings, stack } from '../support/stack';

const log = createLogger({ level: 'warn', base: { test: 'cassandra' } });

describe('Cassandra (real)', () => {
  const s = stack();
  const settings = cassandraSettings(s);
  let dc1: Client;
  let ddl: Client;

  beforeAll(async () => {
    dc1 = createCassandraClient(settings, keyspacesFor(settings.keyspacePrefix, 1).dc);
    ddl = createCassandraClient(settings);
    await connectWithRetry(dc1, 5);
    await connectWithRetry(ddl, 5);
  });
  afterAll(async () => {
    await Promise.all([dc1?.shutdown(), ddl?.shutdown()]);
  });

  it('writes an auth key and reads it back, refusing a different key under the same id', async () => {
    const store = new AuthKeyStore(dc1);
    const id = randomBytes(8).readBigInt64LE();
    const key = {
      authKeyId: id,
      authKey: randomBytes(256),
      temporary: false,
      expiresAt: 0,
      permAuthKeyId: 0n,
    };
    expect(await store.insert(key, Math.floor(Date.now() / 1000))).toBe('created');
    expect(await store.insert(key, Math.floor(Date.now() / 1000))).toBe('same');
    expect(await store.insert({ ...key, authKey: randomBytes(256) }, Math.floor(Date.now() / 1000))).toBe(
      'conflict',
    );
    const back = await store.get(id);
    expect(back?.authKeyId).toBe(id);
    expect(back?.authKey.equals(key.authKey)).toBe(true);
  });

  it('applies versioned migrations once, and detects an edited one', async () => {
    const keyspace = `tern_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    await ensureKeyspace(ddl, keyspace, { class: 'SimpleStrategy', replication_factor: 1 });
    const client = createCassandraClient(settings, keyspace);
    await connectWithRetry(client, 5);
    try {
      const migrations: Migration[] = [
        {
          service: 'demo',
          version: 1,
          name: 'things',
          statements: ['CREATE TABLE IF NOT EXISTS things (id int PRIMARY KEY, v text)'],
          checksum: 'a',
        },
        {
          service: 'demo',
          version: 2,
          name: 'more',
          statements: ['ALTER TABLE things ADD w text'],
          checksum: 'b',
        },
      ];
      expect(await applyMigrations(client, keyspace, migrations, log)).toBe(2);
      expect(await applyMigrations(client, keyspace, migrations, log)).toBe(0);
      await assertMigrated(client, keyspace, migrations);
      await client.execute('INSERT INTO things (id, v, w) VALUES (1, ?, ?)', ['x', 'y']);
      expect((await client.execute('SELECT w FROM things WHERE id = 1')).first().get('w')).toBe('y');
      await expect(
        applyMigrations(client, keyspace, [{ ...migrations[0]!, checksum: 'changed' }], log),
      ).rejects.toThrow(/changed after it was applied/);
      await expect(
        assertMigrated(client, keyspace, [...migrations, { ...migrations[0]!, version: 3 }]),
      ).rejects.toThrow(/lacks migrations/);
    } finally {
      await client.shutdown();
      await ddl.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    }
  });

  it('has one keyspace per DC plus the global one, all migrated', async () => {
    const rs = await ddl.execute('SELECT keyspace_name FROM system_schema.keyspaces');
    const names = rs.rows.map((r) => r.get('keyspace_name') as string);
    for (const k of ['tern_global', 'tern_dc1', 'tern_dc2', 'tern_dc3']) expect(names).toContain(k);
  });
});
