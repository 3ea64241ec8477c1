/**
 * Moving a box between two DC keyspaces of the real Cassandra (storage/transfer.ts and the wire
 * encoding of api/box-transfer.ts): an exact copy page by page, a repeated copy that does not
 * double counters, a cleanup that leaves nothing (counters at 0, still countable), and a move back.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'cassandra-driver';
import { toLong } from '../../services/shared/src';
import { BoxTransferRow } from '../../services/shared/src/gen/tern/messaging/v1/messaging';
import { decodeValue, encodeValue } from '../../services/messaging/src/api/box-transfer';
import { Boxes } from '../../services/messaging/src/storage/boxes';
import { Dialogs } from '../../services/messaging/src/storage/dialogs';
import { BoxTransfer, TRANSFER_TABLES } from '../../services/messaging/src/storage/transfer';
import { UpdateLog } from '../../services/messaging/src/storage/update-log';
import { BoxWriter } from '../../services/messaging/src/storage/box-writer';
import { stack, stackCassandra } from '../support/stack';

const newUserId = (): bigint => BigInt(randomBytes(5).readUIntBE(0, 5)) | 1n;

/** One DC's messaging storage, its writer holding every box. */
function dcStore(db: Client) {
  const log = new UpdateLog(db);
  const writer = new BoxWriter(db, log, () => ({ epoch: 1n, valid: () => true }));
  return {
    db,
    log,
    writer,
    boxes: new Boxes(db, writer),
    dialogs: new Dialogs(db, writer),
    transfer: new BoxTransfer(db, log),
  };
}

/** A new message in `s`'s box, counted as unread when incoming (what the service's store does). */
async function store(s: Store, user: bigint, peer: string, out: boolean, text: string, randomId?: bigint) {
  const stored = await s.writer.storeMessage(user, {
    peer,
    out,
    body: Buffer.from(text),
    date: Math.floor(Date.now() / 1000),
    ...(randomId === undefined ? {} : { randomId }),
  });
  if (!out && !stored.duplicate) await s.dialogs.countIncoming(user, peer);
  return stored;
}
type Store = ReturnType<typeof dcStore>;

/** What ImportBox does, without gRPC: every table, page by page, through the wire encoding. */
async function copy(from: Store, to: Store, user: bigint, limit: number): Promise<number> {
  let written = 0;
  for (const table of from.transfer.tableNames()) {
    let cursor;
    do {
      const page = await from.transfer.exportPage(user, table, cursor, limit);
      const rows = page.rows.map((r) =>
        BoxTransferRow.decode(
          BoxTransferRow.encode({ values: r.values.map(encodeValue), ttl: r.ttl }).finish(),
        ),
      );
      written += await to.transfer.importRows(
        user,
        table,
        page.columns,
        rows.map((r) => ({ values: r.values.map(decodeValue), ttl: r.ttl })),
      );
      cursor = page.next;
    } while (cursor);
  }
  return written;
}

/** Everything a client can see of a box, and the raw rows of the tables without a reader. */
async function snapshot(s: Store, user: bigint, peers: string[]) {
  const hint = (
    await s.db.execute(
      'SELECT pts, max_message_id, writetime(pts) AS ts FROM update_log_head WHERE user_id = ?',
      [toLong(user)],
      { prepare: true },
    )
  ).rows.map((r) => `${r.get('pts')}/${r.get('max_message_id')} at ${String(r.get('ts'))}`);
  return {
    head: await s.log.head(user),
    log: (await s.log.difference(user, 0, 10_000)).updates,
    box: await s.boxes.page(user, 0, 10_000),
    dialogs: await s.dialogs.list(user),
    byDialog: await Promise.all(peers.map((p) => s.boxes.dialogIds(user, p, 0, 10_000))),
    total: await s.dialogs.totalUnread(user),
    hint,
  };
}

describe('box transfer between DC keyspaces (real Cassandra)', () => {
  const s = stack();
  let a: Store;
  let b: Store;

  beforeAll(async () => {
    const [da, dbb] = await Promise.all([2, 3].map((dc) => stackCassandra(s, dc, 'dc')));
    a = dcStore(da!);
    b = dcStore(dbb!);
  });
  afterAll(async () => {
    await a?.db.shutdown();
    await b?.db.shutdown();
  });

  it('lists every table of the box migration once', () => {
    const names = TRANSFER_TABLES.map((t) => t.table);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'update_log',
        'update_log_head',
        'box_messages',
        'dialog_messages',
        'random_ids',
        'dialogs',
        'dialog_unread',
        'user_counters',
      ]),
    );
  });

  it('copies a box exactly, repeats without doubling counters, cleans up, and moves back', async () => {
    const user = newUserId();
    const peers = ['u11', 'u22', 'c33'];
    // Messages over four dialogs on both sides of a bucket boundary of the log (pts 1000) and
    // of the box (id 1000): 980 outgoing ones to a fourth peer in between, then a 2-pts update.
    const send = (i: number) =>
      store(
        a,
        user,
        peers[i % 3]!,
        i % 2 !== 0,
        `message ${i}`,
        i % 5 === 0 ? BigInt(1_000_000 + i) : undefined,
      );
    for (let i = 0; i < 12; i++) await send(i);
    await Promise.all(Array.from({ length: 980 }, (_, i) => store(a, user, 'u44', true, `filler ${i}`)));
    for (let i = 12; i < 30; i++) await send(i);
    await a.dialogs.readHistory(user, 'u11', 4);
    await a.writer.append(user, 2, 'read', Buffer.from('read'));
    const before = await snapshot(a, user, peers);
    expect(before.head).toEqual({ pts: 12 + 980 + 18 + 2, maxMessageId: 1010 });
    expect(before.total).toBeGreaterThan(0);

    // A small page size crosses partitions and page states inside them.
    expect(await copy(a, b, user, 7)).toBeGreaterThan(30 * 3);
    const copied = await snapshot(b, user, peers);
    expect(copied).toEqual(before);
    // The head hint keeps its pts timestamp, so later appends in the new home still win.
    expect(copied.hint).toEqual(['1012/1010 at 1012']);

    // Again (an interrupted copy repeated): nothing moves, counters are not added twice.
    await copy(a, b, user, 500);
    expect(await snapshot(b, user, peers)).toEqual(before);

    // random_ids came with their remaining TTL: a retried send is still recognised.
    const retried = await store(b, user, 'u11', true, 'message 25', 1_000_025n);
    expect(retried).toMatchObject({ duplicate: true, id: 980 + 26 });

    // Cleanup of the source: nothing is left, counters read 0; a second cleanup finds nothing.
    expect(await a.transfer.deleteBox(user)).toBeGreaterThan(0);
    await a.writer.forget(user); // what DeleteBox does: the box was changed behind the writer
    const gone = await snapshot(a, user, peers);
    expect(gone).toMatchObject({
      head: { pts: 0, maxMessageId: 0 },
      log: [],
      box: [],
      dialogs: [],
      total: 0,
      hint: [],
    });
    expect(gone.byDialog.flat()).toEqual([]);
    expect(await a.transfer.deleteBox(user)).toBe(0);

    // The new home goes on; the user moves back and the old DC counts again (counters were
    // zeroed, not deleted: a deleted counter would ignore these increments).
    await store(b, user, 'u22', false, 'after');
    const moved = await snapshot(b, user, peers);
    await copy(b, a, user, 1000);
    await a.writer.forget(user); // what ImportBox does: the box was written behind the writer
    expect(await snapshot(a, user, peers)).toEqual(moved);
    const again = await store(a, user, 'u22', false, 'back');
    expect(again.pts).toBe(moved.head.pts + 1);
    expect(await a.dialogs.totalUnread(user)).toBe(moved.total + 1);
  }, 120_000);

  it('refuses rows of another user and columns the table does not have', async () => {
    const user = newUserId();
    await expect(
      b.transfer.importRows(
        user,
        'dialogs',
        ['user_id', 'peer'],
        [{ values: [toLong(user + 1n), 'u1'], ttl: 0 }],
      ),
    ).rejects.toThrow(/another user/);
    await expect(
      b.transfer.importRows(
        user,
        'dialogs',
        ['user_id', 'peer', 'x; DROP'],
        [{ values: [toLong(user), 'u1', 1], ttl: 0 }],
      ),
    ).rejects.toThrow(/not a column/);
    await expect(b.transfer.exportPage(user, 'users', undefined, 10)).rejects.toThrow(/not part of/);
  });
});
