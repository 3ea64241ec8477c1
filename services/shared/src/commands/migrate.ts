/**
 * `migrate`: prepares one DC's storage, idempotently, then exits.
 *
 *   - Cassandra: creates the global keyspace and the DC's keyspace, applies every
 *     pending migration of every service (services/<name>/migrations/{global,dc}),
 *   - NATS: creates or updates the DC's JetStream streams (nats/subjects.ts),
 *   - MinIO: creates the DC's bucket(s).
 *
 * The local stack runs it once per DC before starting services; Helm runs it as a
 * pre-install/pre-upgrade hook Job. Services refuse to serve on an unmigrated schema.
 */
import { createLogger } from '../log/logger';
import { createCassandraClient, connectWithRetry, keyspacesFor } from '../cassandra/client';
import { applyMigrations, ensureKeyspace, loadMigrations } from '../cassandra/migrate';
import { EventBus } from '../nats/bus';
import { streamsFor } from '../nats/subjects';
import { createObjectStore, ensureBucket, filesBucketFor } from '../storage/objects';
import { loadSettings, servicesDir } from '../service/runtime';

/** Runs the migration for TERN_DC_ID; resolves when everything is in place. */
export async function runMigrate(): Promise<void> {
  // migrate prepares every store a DC's services use, so it reads the settings of all three.
  const { settings, topology } = loadSettings({
    name: 'migrate',
    needs: { cassandra: true, nats: true, objects: true },
  });
  const dcId = settings.TERN_DC_ID;
  const log = createLogger({ level: settings.TERN_LOG_LEVEL, base: { service: 'migrate', dc: dcId } });
  log.info({ dcs: topology.dcs.map((d) => d.id) }, 'migrating');

  const ks = keyspacesFor(settings.TERN_CASSANDRA_KEYSPACE_PREFIX, dcId);
  const base = {
    contactPoints: settings.TERN_CASSANDRA_CONTACT_POINTS,
    localDc: settings.TERN_CASSANDRA_LOCAL_DC,
    keyspacePrefix: settings.TERN_CASSANDRA_KEYSPACE_PREFIX,
    username: settings.TERN_CASSANDRA_USERNAME,
    password: settings.TERN_CASSANDRA_PASSWORD,
  };
  const ddl = createCassandraClient(base);
  await connectWithRetry(ddl);
  try {
    await ensureKeyspace(
      ddl,
      ks.global,
      settings.TERN_CASSANDRA_GLOBAL_REPLICATION ?? settings.TERN_CASSANDRA_REPLICATION,
    );
    await ensureKeyspace(ddl, ks.dc, settings.TERN_CASSANDRA_REPLICATION);
  } finally {
    await ddl.shutdown();
  }
  for (const [keyspace, kind] of [
    [ks.global, 'global'],
    [ks.dc, 'dc'],
  ] as const) {
    const client = createCassandraClient(base, keyspace);
    await connectWithRetry(client);
    try {
      const n = await applyMigrations(client, keyspace, loadMigrations(servicesDir(), kind), log);
      log.info({ keyspace, applied: n }, 'keyspace current');
    } finally {
      await client.shutdown();
    }
  }

  const bus = await EventBus.connect({
    servers: settings.TERN_NATS_URL.split(','),
    name: `tern-migrate-dc${dcId}`,
    log,
    storage: { replicas: settings.TERN_NATS_REPLICAS, cluster: settings.TERN_NATS_PLACEMENT_CLUSTER },
  });
  try {
    const streams = streamsFor(dcId);
    await bus.ensureStreams(streams);
    log.info({ streams: streams.map((s) => s.name) }, 'streams current');
  } finally {
    await bus.close();
  }

  const objects = createObjectStore({
    endpoint: settings.TERN_MINIO_ENDPOINT,
    accessKey: settings.TERN_MINIO_ACCESS_KEY,
    secretKey: settings.TERN_MINIO_SECRET_KEY,
    bucketPrefix: settings.TERN_MINIO_BUCKET_PREFIX,
  });
  const bucket = filesBucketFor(settings.TERN_MINIO_BUCKET_PREFIX, dcId);
  await ensureBucket(objects, bucket);
  log.info({ bucket }, 'bucket current');
}
