/**
 * A GramJS client 10,000 updates behind catches up through updates.getDifference: ten
 * differenceSlice pages of 1,000 and a final difference, no gap, no duplicate, ending at the
 * server's state.
 *
 * The 10,000 incoming messages are written into the recipient's box with the messaging service's
 * own storage code (a BoxWriter: the same batches the service writes), straight
 * against DC 1's keyspace. Through the service the stack stores ~5-15 messages/s on the 2-core CI
 * machine (docs/benchmarks.md), which would make this one test half an hour; what is under test
 * here is the catch-up, and everything it reads is what the service wrote the same way.
 * sync-scale.test.ts covers 2,000 behind through the real send path.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import type { Client } from 'cassandra-driver';
import type { Api as GramApi } from 'telegram';
import { BoxWriter } from '../../services/messaging/src/storage/box-writer';
import { UpdateLog } from '../../services/messaging/src/storage/update-log';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { Message } from '../../services/shared/src/gen/tern/common/v1/message';

import { stack, stackCassandra } from '../support/stack';
import { gramClient, loggedInClient, testNumber, trustKey } from './support/gramjs';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

const BEHIND = 10_000;
const WRITERS = 4;

describe('a client 10,000 behind (GramJS)', () => {
  let db: Client;
  let bob: ReturnType<typeof gramClient> | undefined;
  beforeAll(async () => {
    db = await stackCassandra(s, 1, 'dc');
  });
  afterAll(async () => {
    await bob?.client.destroy();
    await db?.shutdown();
  });

  it('pages through differenceSlice to a consistent end', async () => {
    const alice = await loggedInClient(s.dcs, 2, testNumber(2), 'Alice');
    const aliceId = BigInt((await alice.client.getMe()).id.toString());
    await alice.client.destroy();
    const phone = testNumber(1);
    bob = await loggedInClient(s.dcs, 1, phone, 'Bob');
    const bobId = BigInt((await bob.client.getMe()).id.toString());
    const before = await bob.client.invoke(new bob.Api.updates.GetState());
    const session = bob.session.save();
    await bob.client.destroy();

    // Alice's messages arrive in Bob's box while he is away (a few writers, like replicas).
    // Written straight into the store by a writer of the test's own: Bob's box has not been
    // touched by the DC's messaging service yet (it reads the box's end when it first writes).
    const log = new UpdateLog(db);
    const writer = new BoxWriter(db, log, () => ({ epoch: 1n, valid: () => true }));
    const tag = randomBytes(3).toString('hex');
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        for (let i = next++; i < BEHIND; i = next++) {
          const body = Message.encode({
            id: 0,
            peer: { kind: { $case: 'userId', value: aliceId } },
            from: { kind: { $case: 'userId', value: aliceId } },
            out: false,
            date: Math.floor(Date.now() / 1000),
            message: `${tag} ${i}`,
            entities: [],
            replyToMsgId: 0,
            editDate: 0,
            mentioned: false,
            mediaUnread: false,
            silent: false,
            post: false,
            views: 0,
            postAuthor: '',
            pinned: false,
          }).finish();
          await writer.storeMessage(bobId, {
            peer: `u${aliceId}`,
            out: false,
            body: Buffer.from(body),
            date: Math.floor(Date.now() / 1000),
          });
        }
      }),
    );
    console.log(`stored ${BEHIND} messages in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    bob = gramClient({ lib: 'telegram', dc: s.dcs[0]!, session });
    await bob.client.connect();
    let pts = before.pts;
    let date = before.date;
    const seen = new Set<string>();
    const ids: number[] = [];
    let slices = 0;
    for (;;) {
      const d = await bob.client.invoke(new bob.Api.updates.GetDifference({ pts, date, qts: 0 }));
      if (d instanceof bob.Api.updates.DifferenceEmpty) break;
      if (d instanceof bob.Api.updates.DifferenceTooLong)
        throw new Error('differenceTooLong at 10,000 behind');
      const page = d;
      const state = page instanceof bob.Api.updates.DifferenceSlice ? page.intermediateState : page.state;
      // Each page carries exactly the pts it moves by: no gap, no overlap.
      expect(state.pts - pts).toBe(page.newMessages.length + page.otherUpdates.length);
      for (const m of page.newMessages as GramApi.Message[]) {
        if (!m.message.startsWith(tag)) continue;
        expect(seen.has(m.message)).toBe(false);
        seen.add(m.message);
        ids.push(m.id);
      }
      pts = state.pts;
      date = state.date;
      if (page instanceof bob.Api.updates.DifferenceSlice) slices++;
      else break;
    }
    expect(slices).toBeGreaterThanOrEqual(9);
    expect(seen.size).toBe(BEHIND);
    // Box ids are gap-free and in order across the pages.
    expect(ids.every((id, k) => k === 0 || id === ids[k - 1]! + 1)).toBe(true);
    const state = await bob.client.invoke(new bob.Api.updates.GetState());
    expect(state.pts).toBe(pts);
    expect(state.pts).toBe(before.pts + BEHIND);
  }, 900_000);
});
