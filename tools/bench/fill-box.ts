/**
 * Fills one user's box straight in Cassandra, for benchmarks that need a box far bigger than
 * sending through the stack could make (about 10 messages/s on the development machine: 1,000,000
 * would take more than a day).
 *
 * The rows are the ones the messaging service writes for each new private message
 * (services/messaging/src/storage/*.ts, services/messaging/src/api/core.ts `store`), with the
 * service's own partition functions and the generated proto types:
 *  - update_log: one `new_message` row per message, pts and box id advancing together, the payload
 *    the serialized Message (id 0) as the service stores it;
 *  - box_messages and dialog_messages: the message under its id, in the dialog with the peer;
 *  - message_origins for each received copy (the peer as author);
 *  - then the dialog (top message, everything read) and last the update_log_head hint.
 * Left out: random_ids (idempotency claims that expire after a day anyway) and unread counters (the
 * dialog is read to its end).
 *
 * Rows go in unlogged batches of one partition each (one mutation per partition for Cassandra,
 * small enough to stay under its batch-size warning), many batches in flight.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'cassandra-driver';
import { boxBucket, NEW_MESSAGE } from '../../services/messaging/src/storage/boxes';
import { logBucket, UpdateLog } from '../../services/messaging/src/storage/update-log';
import {
  connectWithRetry,
  createCassandraClient,
  keyspacesFor,
  parseHostPort,
  toLong,
} from '../../services/shared/src';
import { Message } from '../../services/shared/src/gen/tern/common/v1/message';
import type { StackInfo } from '../stack/plan';

/** A client of DC `dc`'s keyspace (tern_dc<N>), as the DC's services use it. */
export async function openDcKeyspace(info: StackInfo, dc: number): Promise<Client> {
  const settings = {
    contactPoints: info.cassandra.contactPoints.map((c) => parseHostPort(c)),
    localDc: info.cassandra.localDc,
    keyspacePrefix: info.cassandra.keyspacePrefix,
  };
  const db = createCassandraClient(settings, keyspacesFor(settings.keyspacePrefix, dc).dc);
  await connectWithRetry(db, 5);
  return db;
}

export interface FillOptions {
  owner: bigint;
  /** The other user of the box's one dialog. */
  peer: bigint;
  messages: number;
  /** Batches in flight. */
  concurrency: number;
  /** Called about every 5 s with a line of progress. */
  progress?: (line: string) => void;
}

export interface Filled {
  /** pts (and box id) of the first and last message written. */
  firstPts: number;
  lastPts: number;
  rows: number;
  seconds: number;
}

interface Row {
  /** Partition key, to batch rows of one partition together. */
  partition: string;
  query: string;
  params: unknown[];
}

/**
 * Rows per batch by table: Cassandra warns about batches over 5 KiB (batch_size_warn_threshold),
 * and a row of update_log or box_messages carries a body of ~60 bytes plus its columns.
 */
const PER_BATCH: Record<string, number> = {
  update_log: 30,
  box_messages: 30,
  dialog_messages: 150,
  message_origins: 100,
};
/** Messages generated at a time (one box bucket when the box starts empty). */
const CHUNK = 1000;

const Q = {
  log: `INSERT INTO update_log (user_id, bucket, first_pts, pts, pts_count, type, payload, max_message_id, random_id, created_at)
        VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
  box: `INSERT INTO box_messages (user_id, bucket, id, peer, out, date, pts, random_id, body)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  dialog: 'INSERT INTO dialog_messages (user_id, peer, bucket, id, out) VALUES (?, ?, ?, ?, ?)',
  origin: `INSERT INTO message_origins (user_id, author_user_id, bucket, author_message_id, id)
           VALUES (?, ?, ?, ?, ?)`,
};

/**
 * Writes `messages` messages into the owner's box after whatever it already holds (normally an
 * empty box of a new user). Must run before the messaging service reads the box.
 */
export async function fillBox(db: Client, o: FillOptions): Promise<Filled> {
  const started = performance.now();
  const head = await new UpdateLog(db).head(o.owner);
  const owner = toLong(o.owner);
  const peerId = toLong(o.peer);
  const peerKey = `u${o.peer}`;
  const ownerPeer = { kind: { $case: 'userId' as const, value: o.owner } };
  const otherPeer = { kind: { $case: 'userId' as const, value: o.peer } };
  // Dates one second apart, ending now, so the box looks like a long-lived conversation.
  const firstDate = Math.floor(Date.now() / 1000) - o.messages;
  let received = 0;

  /** The rows of messages k = from .. to-1 (0-based within the fill). */
  function rowsOf(from: number, to: number): Row[] {
    const rows: Row[] = [];
    for (let k = from; k < to; k++) {
      const pts = head.pts + 1 + k;
      const id = head.maxMessageId + 1 + k;
      const date = firstDate + k;
      // Alternately sent by the owner and received from the peer.
      const out = k % 2 === 0;
      const origin = out ? undefined : { authorUserId: o.peer, authorMessageId: ++received };
      const body = Buffer.from(
        Message.encode(
          Message.fromPartial({
            id: 0,
            peer: otherPeer,
            from: out ? ownerPeer : otherPeer,
            out,
            date,
            message: `message ${k + 1} of ${o.messages}, for the history benchmark`,
            ...(origin ? { origin } : {}),
          }),
        ).finish(),
      );
      const randomId = toLong(randomBytes(8).readBigInt64LE(0));
      const lb = logBucket(pts);
      const bb = boxBucket(id);
      rows.push(
        {
          partition: `update_log:${lb}`,
          query: Q.log,
          params: [owner, lb, pts, pts, NEW_MESSAGE, body, id, randomId, new Date(date * 1000)],
        },
        {
          partition: `box_messages:${bb}`,
          query: Q.box,
          params: [owner, bb, id, peerKey, out, date, pts, randomId, body],
        },
        { partition: `dialog_messages:${bb}`, query: Q.dialog, params: [owner, peerKey, bb, id, out] },
      );
      if (origin) {
        const ob = boxBucket(origin.authorMessageId);
        rows.push({
          partition: `message_origins:${ob}`,
          query: Q.origin,
          params: [owner, peerId, ob, origin.authorMessageId, id],
        });
      }
    }
    return rows;
  }

  /** Batches of one partition each, for messages of one chunk. */
  function* batches(): Generator<Row[]> {
    for (let from = 0; from < o.messages; from += CHUNK) {
      const byPartition = new Map<string, Row[]>();
      for (const r of rowsOf(from, Math.min(o.messages, from + CHUNK))) {
        const list = byPartition.get(r.partition);
        if (list) list.push(r);
        else byPartition.set(r.partition, [r]);
      }
      for (const [partition, rows] of byPartition) {
        const size = PER_BATCH[partition.slice(0, partition.indexOf(':'))] ?? 30;
        for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
      }
    }
  }

  const total = o.messages * 3 + Math.floor(o.messages / 2);
  let written = 0;
  let lastReport = performance.now();
  const report = () => {
    const s = (performance.now() - started) / 1000;
    const rate = written / s;
    o.progress?.(
      `${written.toLocaleString('en-US')} / ~${total.toLocaleString('en-US')} rows (${((100 * written) / total).toFixed(0)}%), ` +
        `${Math.round(rate).toLocaleString('en-US')} rows/s, ~${Math.max(0, (total - written) / rate).toFixed(0)} s left`,
    );
  };
  const queue = batches();
  let failed: Error | undefined;
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      for (let next = queue.next(); !next.done && failed === undefined; next = queue.next()) {
        const rows = next.value;
        for (let attempt = 1; ; attempt++) {
          try {
            await db.batch(
              rows.map((r) => ({ query: r.query, params: r.params })),
              { prepare: true, logged: false },
            );
            break;
          } catch (err) {
            // Write timeouts under a full machine: the rows are idempotent, write them again.
            if (attempt >= 5) {
              failed = err instanceof Error ? err : new Error(String(err));
              return;
            }
            await new Promise((r) => setTimeout(r, 500 * attempt));
          }
        }
        written += rows.length;
        if (performance.now() - lastReport > 5000) {
          lastReport = performance.now();
          report();
        }
      }
    }),
  );
  if (failed !== undefined) throw failed;

  const lastPts = head.pts + o.messages;
  const lastId = head.maxMessageId + o.messages;
  const lastDate = firstDate + o.messages - 1;
  await db.execute(
    `INSERT INTO dialogs (user_id, peer, top_message_id, top_date, read_inbox_max_id, read_outbox_max_id)
     VALUES (?, ?, ?, ?, ?, ?)`,
    [owner, peerKey, lastId, lastDate, lastId, lastId],
    { prepare: true },
  );
  // Last, as the service does after each append; USING TIMESTAMP pts, so the highest pts wins.
  await db.execute(
    'UPDATE update_log_head USING TIMESTAMP ? SET pts = ?, max_message_id = ? WHERE user_id = ?',
    [toLong(BigInt(lastPts)), lastPts, lastId, owner],
    { prepare: true },
  );
  written += 2;
  return {
    firstPts: head.pts + 1,
    lastPts,
    rows: written,
    seconds: (performance.now() - started) / 1000,
  };
}
