/**
 * Versioned, idempotent schema migrations.
 *
 * Migrations are CQL files kept with the service that owns the tables:
 *   services/<service>/migrations/global/NNNN_name.cql   (global keyspace)
 *   services/<service>/migrations/dc/NNNN_name.cql       (each DC's keyspace)
 * A file holds one or more statements separated by `;` at line ends. Applied versions
 * are recorded per keyspace in `schema_migrations` with a checksum; a changed file
 * that was already applied is an error (write a new migration instead).
 *
 * Several DCs may run `migrate` at the same time against one cluster (every Helm
 * release has a migrate hook), so each keyspace is migrated under a lightweight-
 * transaction lease.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'cassandra-driver';
import type { Logger } from '../log/logger';

export type KeyspaceKind = 'global' | 'dc';

export interface Migration {
  service: string;
  version: number;
  name: string;
  statements: string[];
  checksum: string;
}

/** Splits a CQL file into statements (comments dropped). */
export function splitStatements(cql: string): string[] {
  return cql
    .split('\n')
    .filter((l) => !/^\s*(--|\/\/)/.test(l))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Reads every migration of `kind` under `servicesDir/<service>/migrations/<kind>/`. */
export function loadMigrations(servicesDir: string, kind: KeyspaceKind): Migration[] {
  const out: Migration[] = [];
  for (const service of readdirSync(servicesDir).sort()) {
    const dir = join(servicesDir, service, 'migrations', kind);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      const m = /^(\d{4})_([a-z0-9_]+)\.cql$/.exec(file);
      if (!m) throw new Error(`bad migration file name ${join(dir, file)} (want NNNN_name.cql)`);
      const text = readFileSync(join(dir, file), 'utf8');
      out.push({
        service,
        version: Number(m[1]),
        name: m[2]!,
        statements: splitStatements(text),
        checksum: createHash('sha256').update(text).digest('hex').slice(0, 16),
      });
    }
  }
  return out;
}

/** Creates `keyspace` if missing with the given replication map. */
export async function ensureKeyspace(
  client: Client,
  keyspace: string,
  replication: Record<string, string | number>,
): Promise<void> {
  if (!/^[a-z][a-z0-9_]{0,47}$/.test(keyspace)) throw new Error(`invalid keyspace name ${keyspace}`);
  const repl = JSON.stringify(replication).replace(/"/g, "'");
  await client.execute(`CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${repl}`);
}

async function withLease<T>(client: Client, keyspace: string, log: Logger, fn: () => Promise<T>): Promise<T> {
  await client.execute(
    `CREATE TABLE IF NOT EXISTS ${keyspace}.migration_lease (id text PRIMARY KEY, owner text)`,
  );
  const owner = randomUUID();
  const deadline = Date.now() + 120_000;
  for (;;) {
    const rs = await client.execute(
      `INSERT INTO ${keyspace}.migration_lease (id, owner) VALUES ('lease', ?) IF NOT EXISTS USING TTL 120`,
      [owner],
    );
    if (rs.first()?.get('[applied]') === true) break;
    if (Date.now() > deadline)
      throw new Error(`migration lease on ${keyspace} held too long by another process`);
    log.info({ keyspace }, 'waiting for another migrate run to finish');
    await new Promise((r) => setTimeout(r, 1000));
  }
  try {
    return await fn();
  } finally {
    await client.execute(`DELETE FROM ${keyspace}.migration_lease WHERE id = 'lease' IF owner = ?`, [owner]);
  }
}

/** Applies every pending migration to `keyspace`; returns how many were applied. */
export async function applyMigrations(
  client: Client,
  keyspace: string,
  migrations: Migration[],
  log: Logger,
): Promise<number> {
  await client.execute(
    `CREATE TABLE IF NOT EXISTS ${keyspace}.schema_migrations (service text, version int, name text, checksum text, applied_at timestamp, PRIMARY KEY (service, version))`,
  );
  return withLease(client, keyspace, log, async () => {
    const rs = await client.execute(`SELECT service, version, checksum FROM ${keyspace}.schema_migrations`);
    const applied = new Map(
      rs.rows.map((r) => [
        `${r.get('service') as string}/${r.get('version') as number}`,
        r.get('checksum') as string,
      ]),
    );
    let count = 0;
    for (const m of migrations) {
      const key = `${m.service}/${m.version}`;
      const done = applied.get(key);
      if (done !== undefined) {
        if (done !== m.checksum)
          throw new Error(
            `migration ${key}_${m.name} changed after it was applied to ${keyspace}; add a new migration instead`,
          );
        continue;
      }
      for (const stmt of m.statements) {
        // Statements name tables unqualified; run them in the target keyspace.
        await client.execute(stmt.replace(/\{\{keyspace\}\}/g, keyspace));
      }
      await client.execute(
        `INSERT INTO ${keyspace}.schema_migrations (service, version, name, checksum, applied_at) VALUES (?, ?, ?, ?, toTimestamp(now()))`,
        [m.service, m.version, m.name, m.checksum],
      );
      log.info({ keyspace, migration: `${key}_${m.name}` }, 'migration applied');
      count++;
    }
    return count;
  });
}

/** Throws unless every migration in `migrations` is recorded in `keyspace` (checked by services at start-up). */
export async function assertMigrated(
  client: Client,
  keyspace: string,
  migrations: Migration[],
): Promise<void> {
  let rows: { service: string; version: number }[] = [];
  try {
    const rs = await client.execute(`SELECT service, version FROM ${keyspace}.schema_migrations`);
    rows = rs.rows.map((r) => ({ service: r.get('service') as string, version: r.get('version') as number }));
  } catch (err) {
    throw new Error(`keyspace ${keyspace} is not migrated (run: node dist/services/main.js migrate)`, {
      cause: err,
    });
  }
  const have = new Set(rows.map((r) => `${r.service}/${r.version}`));
  const missing = migrations
    .filter((m) => !have.has(`${m.service}/${m.version}`))
    .map((m) => `${m.service}/${m.version}_${m.name}`);
  if (missing.length > 0)
    throw new Error(
      `keyspace ${keyspace} lacks migrations ${missing.join(', ')} (run: node dist/services/main.js migrate)`,
    );
}
