/**
 * The messaging service's storage (update log, boxes, dialogs) against the real Cassandra of the
 * local stack, in DC 1's keyspace, with fresh random user ids.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'cassandra-driver';
import { toLong } from '../../services/shared/src';
import { LOG_BUCKET, UpdateLog } from '../../services/messaging/src/storage/update-log';
import { BOX_BUCKET, Boxes } from '../../services/messaging/src/storage/boxes';
import { Dialogs } from '../../services/messaging/src/storage/dialogs';
import { stack, stackCassandra } from '../support/stack';

/** A random user id below 2^40 (the directory's range) that no other run uses. */
const newUserId = (): bigint => BigInt(randomBytes(5).readUIntBE(0, 5)) | 1n;

describe('messaging storage (real Cassandra)', () => {
  const s = stack();
  /** Several clients: like several replicas of the messaging service. */
  let replicas: Client[] = [];

  beforeAll(async () => {
    replicas = await Promise.all([1, 2, 3, 4].map(() => stackCassandra(s, 1, 'dc')));
  });
  afterAll(async () => {
    await Promise.all(replicas.map((c) => c.shutdown()));
  });

  it('keeps pts gap-free and unique under 4 concurrent appenders × 100 appends', async () => {
    const user = newUserId();
    const results = await Promise.all(
      replicas.map(async (db, r) => {
        const log = new UpdateLog(db);
        const got: number[] = [];
        for (let i = 0; i < 100; i++)
          got.push((await log.appendUpdate(user, 1, 'test', Buffer.from(`${r}:${i}`))).pts);
        return got;
      }),
    );
    const all = results.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    for (const got of results)
      for (let i = 1; i < got.length; i++) expect(got[i]!).toBeGreaterThan(got[i - 1]!);
    const log = new UpdateLog(replicas[0]!);
    expect(await log.state(user)).toBe(400);
    const d = await log.difference(user, 0, 1000);
    expect(d.updates.map((u) => u.pts)).toEqual(all);
    expect(d.more).toBe(false);
  }, 120_000);

  it('mixes pts_count > 1 without overlap, and a crash before the head hint leaves no gap', async () => {
    const user = newUserId();
    const logs = replicas.map((db) => new UpdateLog(db));
    const counts = [1, 2, 3, 5];
    const appended = (
      await Promise.all(
        logs.map(async (log, r) => {
          const out: { pts: number; ptsCount: number }[] = [];
          for (let i = 0; i < 15; i++)
            out.push(await log.appendUpdate(user, counts[r]!, 'test', Buffer.alloc(0)));
          return out;
        }),
      )
    )
      .flat()
      .sort((a, b) => a.pts - b.pts);
    let end = 0;
    for (const a of appended) {
      expect(a.pts - a.ptsCount).toBe(end);
      end = a.pts;
    }
    expect(end).toBe(15 * (1 + 2 + 3 + 5));
    // A writer that claimed a row and died before moving the hint: the next writer reads past it.
    await replicas[0]!.execute(
      `INSERT INTO update_log (user_id, bucket, first_pts, pts, pts_count, type, payload, max_message_id)
       VALUES (?, 0, ?, ?, 1, 'crashed', 0x, 0)`,
      [toLong(user), end + 1, end + 1],
    );
    expect(await logs[1]!.state(user)).toBe(end + 1);
    expect((await logs[2]!.appendUpdate(user, 1, 'after', Buffer.alloc(0))).pts).toBe(end + 2);
  }, 120_000);

  it('pages the difference in order across a bucket boundary', async () => {
    const user = newUserId();
    const log = new UpdateLog(replicas[0]!);
    // Rows are bucketed by their first pts: updates of 10 pts cross the boundary in ~100 rows.
    const total = LOG_BUCKET + 50;
    for (let pts = 0; pts < total; pts += 10) await log.appendUpdate(user, 10, 't', Buffer.alloc(0));
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
    const rows = await replicas[0]!.execute(
      'SELECT bucket FROM update_log WHERE user_id = ? AND bucket IN (0, 1)',
      [toLong(user)],
    );
    expect(new Set(rows.rows.map((r) => r.get('bucket') as number))).toEqual(new Set([0, 1]));
    expect((await log.difference(user, total, 10)).updates).toEqual([]);
    // From inside a row (991..1000) whose successor starts in the next bucket.
    expect((await log.difference(user, LOG_BUCKET - 5, 2)).updates.map((u) => u.pts)).toEqual([
      LOG_BUCKET + 10,
      LOG_BUCKET + 20,
    ]);
  }, 180_000);

  it('stores a message once per random_id, also under concurrent retries, with gap-free ids', async () => {
    const user = newUserId();
    const randomId = randomBytes(8).readBigInt64LE();
    const body = Buffer.from('hello');
    const results = await Promise.all(
      replicas.flatMap((db) =>
        [0, 1].map(() =>
          new Boxes(db, new UpdateLog(db)).storeNew(user, { peer: 'u7', out: true, body, randomId }),
        ),
      ),
    );
    expect(new Set(results.map((r) => `${r.id}/${r.pts}`)).size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const boxes = new Boxes(replicas[0]!, new UpdateLog(replicas[0]!));
    expect(results[0]!.id).toBe(1);
    expect(await new UpdateLog(replicas[0]!).state(user)).toBe(1);
    // A later retry gets the same answer; other random_ids get the next ids.
    expect(await boxes.storeNew(user, { peer: 'u7', out: true, body, randomId })).toMatchObject({
      id: 1,
      pts: 1,
      duplicate: true,
    });
    const more = await Promise.all(
      replicas.map((db, i) =>
        new Boxes(db, new UpdateLog(db)).storeNew(user, {
          peer: i % 2 ? 'u7' : 'u8',
          out: false,
          body: Buffer.from(`m${i}`),
          randomId: randomBytes(8).readBigInt64LE(),
        }),
      ),
    );
    expect(more.map((m) => m.id).sort()).toEqual([2, 3, 4, 5]);
    const stored = await boxes.get(user, [1, 2, 3, 4, 5, 6]);
    expect(stored.map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
    expect(stored[0]!.body.toString()).toBe('hello');
  }, 60_000);

  it('takes over a send whose owner died, without storing it twice', async () => {
    const user = newUserId();
    const db = replicas[0]!;
    const log = new UpdateLog(db);
    const randomId = randomBytes(8).readBigInt64LE();
    // The dead owner: claimed the random_id with an expired lease and appended, then died.
    await db.execute(
      `INSERT INTO random_ids (user_id, random_id, owner, lease_until, head_pts) VALUES (?, ?, 'dead', ?, 0)`,
      [toLong(user), toLong(randomId), new Date(Date.now() - 1000)],
    );
    const first = await log.appendUpdate(user, 1, 'new_message', Buffer.from('x'), { messages: 1, randomId });
    const r = await new Boxes(db, log).storeNew(user, {
      peer: 'u9',
      out: true,
      body: Buffer.from('x'),
      randomId,
    });
    expect(r).toMatchObject({ id: first.firstMessageId, pts: first.pts });
    expect(await log.state(user)).toBe(1);
    expect((await new Boxes(db, log).get(user, [1]))[0]?.body.toString()).toBe('x');
  });

  it('pages the box newest first across buckets', async () => {
    const user = newUserId();
    const db = replicas[0]!;
    const boxes = new Boxes(db, new UpdateLog(db));
    const n = BOX_BUCKET + 30;
    // Sequential: each send is one log claim and one box write (no contention to retry through).
    for (let i = 0; i < n; i++)
      await boxes.storeNew(user, { peer: 'u1', out: false, body: Buffer.from(String(i)) });
    const newest = await boxes.page(user, 0, 10);
    expect(newest.map((m) => m.id)).toEqual(Array.from({ length: 10 }, (_, i) => n - i));
    const across = await boxes.page(user, BOX_BUCKET + 5, 20);
    expect(across.map((m) => m.id)).toEqual(Array.from({ length: 20 }, (_, i) => BOX_BUCKET + 4 - i));
    expect((await boxes.page(user, 3, 10)).map((m) => m.id)).toEqual([2, 1]);
  }, 180_000);

  it('counts unread per dialog and in total, and readHistory resets them', async () => {
    const user = newUserId();
    const db = replicas[0]!;
    const boxes = new Boxes(db, new UpdateLog(db));
    const dialogs = new Dialogs(db);
    const send = async (peer: string, out: boolean) => {
      const r = await boxes.storeNew(user, { peer, out, body: Buffer.from('m') });
      await dialogs.onNewMessage(user, peer, r.id, r.date, !out);
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
    // Top message never moves back; outbox marker only up.
    await dialogs.onNewMessage(user, 'u200', 8, 0, false);
    expect((await dialogs.get(user, 'u200'))?.topMessageId).toBe(9);
    expect(await dialogs.readOutbox(user, 'u100', 6)).toBe(true);
    expect(await dialogs.readOutbox(user, 'u100', 4)).toBe(false);
    // Concurrent incoming messages all count.
    await Promise.all(Array.from({ length: 20 }, () => send('u300', false)));
    expect(await dialogs.unread(user, 'u300')).toBe(20);
    expect(await dialogs.totalUnread(user)).toBe(23);
    expect((await dialogs.get(user, 'u300'))?.topMessageId).toBe(29);
  }, 60_000);
});
