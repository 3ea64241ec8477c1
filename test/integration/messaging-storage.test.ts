/**
 * The messaging service's storage (update log, boxes, dialogs) against the real Cassandra of the
 * local stack, in DC 1's keyspace, with fresh random user ids. Boxes are written by their owner's
 * BoxWriter (one writer per box); a second writer with a newer fence plays the replica that takes
 * a box over.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'cassandra-driver';
import { toLong } from '../../services/shared/src';
import { LOG_BUCKET, UpdateLog } from '../../services/messaging/src/storage/update-log';
import { BOX_BUCKET, Boxes } from '../../services/messaging/src/storage/boxes';
import { BoxWriter, type WriteFence } from '../../services/messaging/src/storage/box-writer';
import { Dialogs } from '../../services/messaging/src/storage/dialogs';
import { stack, stackCassandra } from '../support/stack';

/** A random user id below 2^40 (the directory's range) that no other run uses. */
const newUserId = (): bigint => BigInt(randomBytes(5).readUIntBE(0, 5)) | 1n;

/** A lease that a test can end. */
function lease(epoch: bigint): WriteFence & { end(): void } {
  let live = true;
  return { epoch, valid: () => live, end: () => (live = false) };
}

/** One replica's view of the box store: a writer under `fence`, and the readers built on it. */
function replica(db: Client, fence: WriteFence = lease(1n)) {
  const log = new UpdateLog(db);
  const writer = new BoxWriter(db, log, () => fence);
  return { log, writer, boxes: new Boxes(db, writer), dialogs: new Dialogs(db, writer) };
}

const message = (peer: string, out: boolean, text: string, randomId?: bigint) => ({
  peer,
  out,
  body: Buffer.from(text),
  date: Math.floor(Date.now() / 1000),
  ...(randomId === undefined ? {} : { randomId }),
});

describe('messaging storage (real Cassandra)', () => {
  const s = stack();
  let db: Client;

  beforeAll(async () => {
    db = await stackCassandra(s, 1, 'dc');
  });
  afterAll(async () => {
    await db.shutdown();
  });

  it('keeps pts gap-free and unique under 400 concurrent appends to one box', async () => {
    const user = newUserId();
    const { writer, log } = replica(db);
    const got = await Promise.all(
      Array.from({ length: 400 }, (_, i) => writer.append(user, 1, 'test', Buffer.from(String(i)))),
    );
    const all = got.map((a) => a.pts).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    // Queued in call order: the order of the calls is the order of pts.
    expect(got.map((a) => a.pts)).toEqual(all);
    expect(await log.state(user)).toBe(400);
    const d = await log.difference(user, 0, 1000);
    expect(d.updates.map((u) => u.pts)).toEqual(all);
    expect(d.more).toBe(false);
  }, 120_000);

  it('mixes pts_count > 1 without overlap, and a new owner continues after the true end', async () => {
    const user = newUserId();
    const first = replica(db, lease(1n));
    const counts = [1, 2, 3, 5];
    const appended = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        first.writer.append(user, counts[i % 4]!, 'test', Buffer.alloc(0)),
      ),
    );
    let end = 0;
    for (const a of appended) {
      expect(a.pts - a.ptsCount).toBe(end);
      end = a.pts;
    }
    expect(end).toBe(15 * (1 + 2 + 3 + 5));
    // A row whose head hint is behind (written by other means): the next owner reads past it.
    await db.execute(
      `INSERT INTO update_log (user_id, bucket, first_pts, pts, pts_count, type, payload, max_message_id)
       VALUES (?, 0, ?, ?, 1, 'late', 0x, 0)`,
      [toLong(user), end + 1, end + 1],
    );
    const next = replica(db, lease(2n));
    expect((await next.writer.append(user, 1, 'after', Buffer.alloc(0))).pts).toBe(end + 2);
    expect(await next.log.state(user)).toBe(end + 2);
  }, 120_000);

  it('pages the difference in order across a bucket boundary', async () => {
    const user = newUserId();
    const { writer, log } = replica(db);
    // Rows are bucketed by their first pts: updates of 10 pts cross the boundary in ~100 rows.
    const total = LOG_BUCKET + 50;
    await Promise.all(
      Array.from({ length: total / 10 }, () => writer.append(user, 10, 't', Buffer.alloc(0))),
    );
    expect(await log.state(user)).toBe(total);
    const seen: number[] = [];
    let from = LOG_BUCKET - 200;
    for (;;) {
      const page = await log.difference(user, from, 7);
      seen.push(...page.updates.map((u) => u.pts));
      if (page.updates.length > 0) expect(page.updates[0]!.pts - page.updates[0]!.ptsCount).toBe(from);
      from = page.pts;
      if (!page.more) break;
      expect(page.updates).toHaveLength(7);
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => LOG_BUCKET - 200 + 10 * (i + 1)));
    const rows = await db.execute('SELECT bucket FROM update_log WHERE user_id = ? AND bucket IN (0, 1)', [
      toLong(user),
    ]);
    expect(new Set(rows.rows.map((r) => r.get('bucket') as number))).toEqual(new Set([0, 1]));
    expect((await log.difference(user, total, 10)).updates).toEqual([]);
    // From inside a row (991..1000) whose successor starts in the next bucket.
    expect((await log.difference(user, LOG_BUCKET - 5, 2)).updates.map((u) => u.pts)).toEqual([
      LOG_BUCKET + 10,
      LOG_BUCKET + 20,
    ]);
  }, 180_000);

  it('stores a message once per random_id, also across a change of owner, with gap-free ids', async () => {
    const user = newUserId();
    const randomId = randomBytes(8).readBigInt64LE();
    const one = replica(db, lease(1n));
    const results = await Promise.all(
      Array.from({ length: 8 }, () => one.writer.storeMessage(user, message('u7', true, 'hello', randomId))),
    );
    expect(new Set(results.map((r) => `${r.id}/${r.pts}`)).size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(results[0]!.id).toBe(1);
    // The next owner has nothing in memory: the stored random_id answers.
    const two = replica(db, lease(2n));
    expect(await two.writer.storeMessage(user, message('u7', true, 'hello', randomId))).toMatchObject({
      id: 1,
      pts: 1,
      duplicate: true,
    });
    const more = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        two.writer.storeMessage(
          user,
          message(i % 2 ? 'u7' : 'u8', false, `m${i}`, randomBytes(8).readBigInt64LE()),
        ),
      ),
    );
    expect(more.map((m) => m.id).sort()).toEqual([2, 3, 4, 5]);
    const stored = await two.boxes.get(user, [1, 2, 3, 4, 5, 6]);
    expect(stored.map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
    expect(stored[0]!.body.toString()).toBe('hello');
    expect(await two.log.state(user)).toBe(5);
  }, 60_000);

  it('a batch that failed and is landed by the next operation moves the box on (no pts or id taken twice)', async () => {
    const user = newUserId();
    // The real store, with the next `failing` batches refused as a Cassandra that went away does.
    let failing = 3; // every attempt of one operation
    const flaky = new Proxy(db, {
      get(target, prop) {
        if (prop === 'batch' && failing > 0)
          return () => {
            failing--;
            return Promise.reject(new Error('Socket was closed'));
          };
        const v: unknown = Reflect.get(target, prop);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const r = replica(flaky);
    const first = randomBytes(8).readBigInt64LE();
    await expect(r.writer.storeMessage(user, message('u5', true, 'first', first))).rejects.toMatchObject({
      telegramName: 'Timeout',
    });
    // The store is back: the next send lands the failed batch first, then takes the next pts and id.
    const second = await r.writer.storeMessage(
      user,
      message('u5', true, 'second', randomBytes(8).readBigInt64LE()),
    );
    expect(second).toMatchObject({ id: 2, pts: 2, duplicate: false });
    // The client's retry of the first is answered from what landed.
    expect(await r.writer.storeMessage(user, message('u5', true, 'first', first))).toMatchObject({
      id: 1,
      pts: 1,
      duplicate: true,
    });
    const stored = await r.boxes.get(user, [1, 2]);
    expect(stored.map((m) => m.body.toString())).toEqual(['first', 'second']);
    expect((await r.log.difference(user, 0, 10)).updates.map((u) => u.pts)).toEqual([1, 2]);
  }, 60_000);

  it('refuses writes once its lease ended, and the next owner continues without a gap', async () => {
    const user = newUserId();
    const oldLease = lease(1n);
    const old = replica(db, oldLease);
    for (let i = 0; i < 10; i++) await old.writer.storeMessage(user, message('u9', true, `a${i}`));
    oldLease.end();
    await expect(old.writer.storeMessage(user, message('u9', true, 'late'))).rejects.toMatchObject({
      telegramName: 'Timeout',
    });
    const next = replica(db, lease(2n));
    const r = await next.writer.storeMessage(user, message('u9', true, 'b0'));
    expect(r).toMatchObject({ id: 11, pts: 11, duplicate: false });
    const d = await next.log.difference(user, 0, 100);
    expect(d.updates.map((u) => u.pts)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    const epochs = await db.execute('SELECT epoch FROM update_log WHERE user_id = ? AND bucket = 0', [
      toLong(user),
    ]);
    expect(epochs.rows.map((row) => Number(row.get('epoch')))).toEqual([...Array(10).fill(1), 2]);
  }, 60_000);

  it('pages the box newest first across buckets', async () => {
    const user = newUserId();
    const { writer, boxes } = replica(db);
    const n = BOX_BUCKET + 30;
    await Promise.all(
      Array.from({ length: n }, (_, i) => writer.storeMessage(user, message('u1', false, String(i)))),
    );
    const newest = await boxes.page(user, 0, 10);
    expect(newest.map((m) => m.id)).toEqual(Array.from({ length: 10 }, (_, i) => n - i));
    const across = await boxes.page(user, BOX_BUCKET + 5, 20);
    expect(across.map((m) => m.id)).toEqual(Array.from({ length: 20 }, (_, i) => BOX_BUCKET + 4 - i));
    expect((await boxes.page(user, 3, 10)).map((m) => m.id)).toEqual([2, 1]);
  }, 180_000);

  it('counts unread per dialog and in total, and readHistory resets them', async () => {
    const user = newUserId();
    const { writer, dialogs } = replica(db);
    const send = async (peer: string, out: boolean) => {
      const r = await writer.storeMessage(user, message(peer, out, 'm'));
      if (!out) await dialogs.countIncoming(user, peer);
      return r.id;
    };
    const a: number[] = [];
    for (let i = 0; i < 5; i++) a.push(await send('u100', false)); // 1..5 incoming
    await send('u100', true); // 6 outgoing
    for (let i = 0; i < 3; i++) await send('u200', false); // 7..9
    expect(await dialogs.unread(user, 'u100')).toBe(5);
    expect(await dialogs.unread(user, 'u200')).toBe(3);
    expect(await dialogs.totalUnread(user)).toBe(8);
    expect((await dialogs.get(user, 'u100'))?.topMessageId).toBe(6);
    // Partial read: 1..3.
    expect(await dialogs.readHistory(user, 'u100', a[2]!)).toMatchObject({ changed: true, unreadCount: 2 });
    expect(await dialogs.totalUnread(user)).toBe(5);
    // Reading backwards changes nothing.
    expect(await dialogs.readHistory(user, 'u100', 1)).toMatchObject({ changed: false, readInboxMaxId: 3 });
    // Full read (past the top) resets the dialog exactly.
    expect(await dialogs.readHistory(user, 'u100', 1_000_000)).toMatchObject({
      changed: true,
      unreadCount: 0,
    });
    expect(await dialogs.totalUnread(user)).toBe(3);
    const list = await dialogs.list(user);
    expect(list.map((d) => [d.peer, d.topMessageId, d.unreadCount])).toEqual([
      ['u200', 9, 3],
      ['u100', 6, 0],
    ]);
    // The outbox marker only moves up.
    expect(await dialogs.readOutbox(user, 'u100', 6)).toBe(true);
    expect(await dialogs.readOutbox(user, 'u100', 4)).toBe(false);
    // Concurrent incoming messages all count.
    await Promise.all(Array.from({ length: 20 }, () => send('u300', false)));
    expect(await dialogs.unread(user, 'u300')).toBe(20);
    expect(await dialogs.totalUnread(user)).toBe(23);
    expect((await dialogs.get(user, 'u300'))?.topMessageId).toBe(29);
  }, 60_000);
});
