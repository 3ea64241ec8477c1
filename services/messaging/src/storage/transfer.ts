/**
 * Moving a user's box between DCs (auth MoveUser's copy and cleanup steps): which tables hold a
 * user's messaging data, how to find the user's partitions in each, and how to read, write and
 * delete them table-independently.
 *
 * Adding a per-user table to the move is one entry in TRANSFER_TABLES: the table name and how to
 * find the user's partitions. Columns, keys and counter columns come from the schema (the driver's
 * table metadata), so a column added by a later migration is carried without touching this file.
 *
 * Why each kind of table is written the way it is:
 * - plain rows are inserted with the source's values: writing them again is a no-op, so a copy
 *   can be repeated after any crash;
 * - counters cannot be set, only incremented, and an increment is not idempotent: the target reads
 *   its value and adds the difference to the source's, so a repeated copy adds 0. Counters are
 *   never deleted either (cleanup adds minus their value): Cassandra does not support counting
 *   again after a counter delete (increments after it may be lost, or the old value comes back —
 *   test/integration/box-transfer.test.ts saw the latter), so a later move back would get wrong
 *   unread counts;
 * - rows written USING TIMESTAMP (update_log_head: the highest pts wins) are copied and deleted
 *   with the timestamp the table prescribes, never the wall clock, which would shadow every later
 *   write of the row;
 * - rows with a TTL (random_ids) keep the time they had left.
 */
import { types, type Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';
import { Message } from '../../../shared/src/gen/tern/common/v1/message';
import { BOX_BUCKET, boxBucket } from './boxes';
import { logBucket, type Head, type UpdateLog } from './update-log';

/** The origin a stored body carries; none for an unreadable body (it has no index rows either). */
function originOf(body: Buffer): Message['origin'] {
  try {
    return Message.decode(body).origin;
  } catch {
    return undefined;
  }
}

/** Values of a table's partition key columns, by column name. */
export type Partition = Record<string, unknown>;

/** Where one user's data lies, read lazily from the box itself (one instance per call). */
export interface BoxView {
  readonly userId: bigint;
  /** The true end of the user's log: pts and the highest box message id. */
  head(): Promise<Head>;
}

export interface TransferTable {
  table: string;
  /**
   * The user's partitions, in groups: group `g` (0, 1, 2, ...) or undefined after the last. A
   * group is what one cheap read can find (one bucket of the log or box), so a page of the export
   * resumes at its group without enumerating the whole box again.
   */
  partitions(box: BoxView, group: number, db: Client): Promise<Partition[] | undefined>;
  /** Write and delete with USING TIMESTAMP = this column's value. */
  timestampColumn?: string;
  /** Rows expire: copy each with the TTL this (non-key) column has left. */
  ttlColumn?: string;
}

/** One partition keyed by the user's id alone. */
export const byUser =
  (column = 'user_id'): TransferTable['partitions'] =>
  (box, group) =>
    Promise.resolve(group === 0 ? [{ [column]: toLong(box.userId) }] : undefined);

/** (user, bucket) partitions for buckets 0 .. last(head). */
const byBucket =
  (last: (head: Head) => number): TransferTable['partitions'] =>
  async (box, group) =>
    group <= last(await box.head()) ? [{ user_id: toLong(box.userId), bucket: group }] : undefined;

/** random_ids rows live this long (the table's default TTL); older log rows have none left. */
const RANDOM_ID_LIFETIME_MS = 86_400_000;

/**
 * The tables of a user's box, in copy order. Cleanup deletes them in reverse: a table is deleted
 * before the tables its partitions are found from (dialog_messages before box_messages, random_ids
 * before update_log, the log before its head hint), so an interrupted cleanup can be finished.
 */
export const TRANSFER_TABLES: readonly TransferTable[] = [
  { table: 'update_log_head', partitions: byUser(), timestampColumn: 'pts' },
  { table: 'update_log', partitions: byBucket((h) => logBucket(h.pts)) },
  { table: 'box_messages', partitions: byBucket((h) => boxBucket(h.maxMessageId)) },
  {
    // One group per box bucket: the dialogs that have messages in it.
    table: 'dialog_messages',
    async partitions(box, group, db) {
      if (group > boxBucket((await box.head()).maxMessageId)) return undefined;
      const rs = await db.execute(
        'SELECT peer FROM box_messages WHERE user_id = ? AND bucket = ?',
        [toLong(box.userId), group],
        { prepare: true, fetchSize: BOX_BUCKET },
      );
      const peers = [...new Set(rs.rows.map((r) => r.get('peer') as string))].sort();
      return peers.map((peer) => ({ user_id: toLong(box.userId), peer, bucket: group }));
    },
  },
  {
    // Partitioned by (user, random_id): found through the log rows that carry a random_id, newest
    // log bucket first, until a bucket older than the rows' lifetime.
    table: 'random_ids',
    ttlColumn: 'message_id',
    async partitions(box, group, db) {
      const bucket = logBucket((await box.head()).pts) - group;
      if (bucket < 0) return undefined;
      const rs = await db.execute(
        'SELECT random_id, created_at FROM update_log WHERE user_id = ? AND bucket = ?',
        [toLong(box.userId), bucket],
        { prepare: true, fetchSize: 5000 },
      );
      const since = Date.now() - RANDOM_ID_LIFETIME_MS;
      const recent = rs.rows.filter((r) => ((r.get('created_at') as Date | null)?.getTime() ?? 0) > since);
      if (recent.length === 0 && rs.rows.length > 0) return undefined; // older buckets hold none
      const ids = new Set(recent.flatMap((r) => (r.get('random_id') ? [fromLong(r.get('random_id'))] : [])));
      return [...ids].map((id) => ({ user_id: toLong(box.userId), random_id: toLong(id) }));
    },
  },
  {
    // Partitioned by (user, author, author's bucket): one group per box bucket, the origins its
    // messages carry (the author's own copies have none).
    table: 'message_origins',
    async partitions(box, group, db) {
      if (group > boxBucket((await box.head()).maxMessageId)) return undefined;
      const rs = await db.execute(
        'SELECT body FROM box_messages WHERE user_id = ? AND bucket = ?',
        [toLong(box.userId), group],
        { prepare: true, fetchSize: BOX_BUCKET },
      );
      const keys = new Map<string, Partition>();
      for (const row of rs.rows) {
        const origin = originOf(row.get('body') as Buffer);
        if (!origin || origin.authorUserId === box.userId) continue;
        const bucket = boxBucket(origin.authorMessageId);
        keys.set(`${origin.authorUserId}:${bucket}`, {
          user_id: toLong(box.userId),
          author_user_id: toLong(origin.authorUserId),
          bucket,
        });
      }
      return [...keys.values()];
    },
  },
  { table: 'dialogs', partitions: byUser() },
  { table: 'dialog_unread', partitions: byUser() },
  { table: 'user_counters', partitions: byUser() },
  { table: 'contacts', partitions: byUser('owner_id') },
  { table: 'contact_of', partitions: byUser() },
  { table: 'user_status', partitions: byUser() },
  { table: 'push_devices', partitions: byUser() },
  { table: 'notify_settings', partitions: byUser() },
  { table: 'drafts', partitions: byUser() },
  { table: 'pinned_messages', partitions: byUser() },
];

/** Where an export continues: group, partition within it, the driver's page state inside that. */
export interface ExportCursor {
  group: number;
  index: number;
  pageState?: string;
}

export interface ExportPage {
  columns: string[];
  /** Values in `columns` order, as the driver returns them (Long, number, string, Buffer, ...). */
  rows: { values: unknown[]; ttl: number }[];
  /** Undefined when the table is done. */
  next: ExportCursor | undefined;
}

interface TableShape {
  spec: TransferTable;
  columns: string[];
  partitionKey: string[];
  key: string[];
  counters: Set<string>;
}

const IDENT = /^[a-z][a-z0-9_]*$/;

export class BoxTransfer {
  private readonly shapes = new Map<string, Promise<TableShape>>();

  constructor(
    private readonly db: Client,
    private readonly log: UpdateLog,
    private readonly tables: readonly TransferTable[] = TRANSFER_TABLES,
  ) {}

  /** The registry's table names, in copy order. */
  tableNames(): string[] {
    return this.tables.map((t) => t.table);
  }

  /** A lazy view of `userId`'s box (the head is read once per view). */
  view(userId: bigint): BoxView {
    let head: Promise<Head> | undefined;
    return { userId, head: () => (head ??= this.log.head(userId)) };
  }

  /** The table's columns and keys, from the schema; unknown tables are refused. */
  private shape(table: string): Promise<TableShape> {
    const spec = this.tables.find((t) => t.table === table);
    if (!spec) return Promise.reject(new RangeError(`table ${table} is not part of a box transfer`));
    let shape = this.shapes.get(table);
    if (!shape) {
      shape = this.db.metadata.getTable(this.db.keyspace, table).then((meta) => {
        if (!meta) throw new Error(`table ${table} does not exist in ${this.db.keyspace}`);
        const names = (cols: { name: string }[]) => cols.map((c) => c.name);
        return {
          spec,
          columns: names(meta.columns),
          partitionKey: names(meta.partitionKeys),
          key: [...names(meta.partitionKeys), ...names(meta.clusteringKeys)],
          counters: new Set(
            meta.columns.filter((c) => c.type.code === types.dataTypes.counter).map((c) => c.name),
          ),
        };
      });
      shape.catch(() => this.shapes.delete(table));
      this.shapes.set(table, shape);
    }
    return shape;
  }

  /** Up to about `limit` of `userId`'s rows of `table` from `cursor` (undefined: the start). */
  async exportPage(
    userId: bigint,
    table: string,
    cursor: ExportCursor | undefined,
    limit: number,
  ): Promise<ExportPage> {
    const shape = await this.shape(table);
    const ttl = shape.spec.ttlColumn;
    const query =
      `SELECT ${[...shape.columns, ...(ttl ? [`TTL(${ttl}) AS transfer_ttl`] : [])].join(', ')} ` +
      `FROM ${table} WHERE ${shape.partitionKey.map((c) => `${c} = ?`).join(' AND ')}`;
    const box = this.view(userId);
    let { group, index, pageState } = cursor ?? { group: 0, index: 0 };
    const rows: ExportPage['rows'] = [];
    const groups = new Map<number, Partition[] | undefined>();
    while (rows.length < limit) {
      if (!groups.has(group)) groups.set(group, await shape.spec.partitions(box, group, this.db));
      const partitions = groups.get(group);
      if (!partitions) return { columns: shape.columns, rows, next: undefined };
      const partition = partitions[index];
      if (!partition) {
        group++;
        index = 0;
        pageState = undefined;
        continue;
      }
      const rs = await this.db.execute(
        query,
        shape.partitionKey.map((c) => partition[c]),
        { prepare: true, fetchSize: limit - rows.length, ...(pageState ? { pageState } : {}) },
      );
      for (const row of rs.rows)
        rows.push({
          values: shape.columns.map((c): unknown => row.get(c)),
          ttl: ttl ? ((row.get('transfer_ttl') as number | null) ?? 0) : 0,
        });
      if (rs.pageState) pageState = rs.pageState;
      else {
        index++;
        pageState = undefined;
      }
    }
    return { columns: shape.columns, rows, next: { group, index, ...(pageState ? { pageState } : {}) } };
  }

  /**
   * Writes exported rows of `table` into `userId`'s box here. Repeatable: rows are written with
   * the same values (and timestamps), counters are brought to the exported values. Rows must be
   * the user's own (the partition key's user column is checked against `userId`).
   */
  async importRows(
    userId: bigint,
    table: string,
    columns: string[],
    rows: { values: unknown[]; ttl: number }[],
  ): Promise<number> {
    const shape = await this.shape(table);
    for (const c of columns)
      if (!IDENT.test(c) || !shape.columns.includes(c))
        throw new RangeError(`column ${c} is not a column of ${table}`);
    for (const k of shape.key)
      if (!columns.includes(k)) throw new RangeError(`key column ${k} of ${table} is missing`);
    const userColumn = shape.partitionKey[0]!;
    for (const r of rows)
      if (fromLong(r.values[columns.indexOf(userColumn)]) !== userId)
        throw new RangeError(`a row of ${table} belongs to another user`);
    if (shape.counters.size > 0) return this.importCounters(shape, columns, rows);

    const { timestampColumn, ttlColumn } = shape.spec;
    const using = [...(ttlColumn ? ['TTL ?'] : []), ...(timestampColumn ? ['TIMESTAMP ?'] : [])];
    const query =
      `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})` +
      (using.length > 0 ? ` USING ${using.join(' AND ')}` : '');
    let written = 0;
    for (const r of rows) {
      // An expired row stays expired; 0 would mean "forever" (or the table's default).
      if (ttlColumn && r.ttl <= 0) continue;
      const params = [...r.values];
      if (ttlColumn) params.push(r.ttl);
      if (timestampColumn) params.push(toLong(BigInt(r.values[columns.indexOf(timestampColumn)] as number)));
      await this.db.execute(query, params, { prepare: true });
      written++;
    }
    return written;
  }

  /** Counters: read the value here and add the difference (0 on a repeated copy). */
  private async importCounters(
    shape: TableShape,
    columns: string[],
    rows: { values: unknown[]; ttl: number }[],
  ): Promise<number> {
    const counters = [...shape.counters];
    let written = 0;
    for (const r of rows) {
      const key = shape.key.map((k) => r.values[columns.indexOf(k)]);
      const current = await this.readCounters(shape, key);
      const diffs = counters.map((c) => {
        const i = columns.indexOf(c);
        return (i < 0 ? 0n : fromLong(r.values[i] ?? 0)) - (current.get(c) ?? 0n);
      });
      if (diffs.every((d) => d === 0n)) continue;
      await this.addCounters(shape, key, diffs);
      written++;
    }
    return written;
  }

  private async readCounters(shape: TableShape, key: unknown[]): Promise<Map<string, bigint>> {
    const row = (
      await this.db.execute(
        `SELECT ${[...shape.counters].join(', ')} FROM ${shape.spec.table} WHERE ${shape.key.map((k) => `${k} = ?`).join(' AND ')}`,
        key,
        { prepare: true },
      )
    ).first();
    return new Map([...shape.counters].map((c) => [c, row ? fromLong(row.get(c) ?? 0) : 0n]));
  }

  private async addCounters(shape: TableShape, key: unknown[], diffs: bigint[]): Promise<void> {
    const counters = [...shape.counters];
    await this.db.execute(
      `UPDATE ${shape.spec.table} SET ${counters.map((c) => `${c} = ${c} + ?`).join(', ')} WHERE ${shape.key.map((k) => `${k} = ?`).join(' AND ')}`,
      [...diffs.map((d) => toLong(d)), ...key],
      { prepare: true },
    );
  }

  /**
   * Deletes `userId`'s box here (MoveUser's cleanup, on a DC the user does not live in), tables in
   * reverse copy order. Counters are brought to 0 rather than deleted (see the top of this file),
   * update_log_head is deleted USING TIMESTAMP its pts. Returns how many partitions held something.
   */
  async deleteBox(userId: bigint): Promise<number> {
    let removed = 0;
    for (const spec of [...this.tables].reverse()) {
      const shape = await this.shape(spec.table);
      const box = this.view(userId);
      // Every partition is found before any is deleted: finding them may read this very table.
      const found: Partition[] = [];
      for (let g = 0; ; g++) {
        const group = await spec.partitions(box, g, this.db);
        if (!group) break;
        found.push(...group);
      }
      // Newest bucket first: an interrupted delete of the log leaves its older buckets and the head
      // hint, from which the next run finds them again.
      for (const p of found.reverse()) removed += await this.deletePartition(shape, p);
    }
    return removed;
  }

  private async deletePartition(shape: TableShape, p: Partition): Promise<number> {
    const table = shape.spec.table;
    const where = shape.partitionKey.map((c) => `${c} = ?`).join(' AND ');
    const keyValues = shape.partitionKey.map((c) => p[c]);
    if (shape.counters.size > 0) {
      const rs = await this.db.execute(
        `SELECT ${shape.key.join(', ')}, ${[...shape.counters].join(', ')} FROM ${table} WHERE ${where}`,
        keyValues,
        { prepare: true, fetchSize: 5000 },
      );
      let zeroed = 0;
      for (const row of rs.rows) {
        const diffs = [...shape.counters].map((c) => -fromLong(row.get(c) ?? 0));
        if (diffs.every((d) => d === 0n)) continue;
        await this.addCounters(
          shape,
          shape.key.map((k): unknown => row.get(k)),
          diffs,
        );
        zeroed++;
      }
      return zeroed;
    }
    const ts = shape.spec.timestampColumn;
    const probe = (
      await this.db.execute(
        `SELECT ${ts ?? shape.partitionKey[0]!} FROM ${table} WHERE ${where} LIMIT 1`,
        keyValues,
        {
          prepare: true,
        },
      )
    ).first();
    if (!probe) return 0;
    if (ts) {
      // The tombstone takes the row's own timestamp (a tie goes to the tombstone): any later
      // write of a higher pts still wins.
      await this.db.execute(
        `DELETE FROM ${table} USING TIMESTAMP ? WHERE ${where}`,
        [toLong(BigInt(probe.get(ts) as number)), ...keyValues],
        { prepare: true },
      );
    } else {
      await this.db.execute(`DELETE FROM ${table} WHERE ${where}`, keyValues, { prepare: true });
    }
    return 1;
  }
}
