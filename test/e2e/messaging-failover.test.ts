/**
 * One writer per box survives the loss of a replica (issue 12, docs/decisions/0017).
 *
 * DC 1 runs two messaging replicas behind its balancer (the stack's default). Four senders homed
 * on DC 1 write to one recipient homed on DC 1 — five boxes, spread over both replicas — through
 * the DC's messaging address, each message retried with its own random_id until it is
 * acknowledged, as a client does. While they send, the replica that owns the recipient's box is
 * killed with SIGKILL (no release of its leases: the other replica takes its shards when the
 * leases run out), or stopped with SIGTERM (it hands its boxes over before its server drains).
 * Then `npm run stack` starts it again, and it takes its share back by handover.
 *
 * What must hold, read straight from DC 1's keyspace: every acknowledged message is in the
 * sender's box and in the recipient's box exactly once, nothing else is, and both logs run pts
 * 1, 2, 3... without a gap (the head hint at the end).
 *
 * It kills and restarts a stack process, so it runs in the `stack` project (tools/test.sh).
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client as Cassandra } from 'cassandra-driver';
import { connect, type NatsConnection } from 'nats';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { decodeLease } from '../../services/shared/src/ownership/lease';
import { shardOf } from '../../services/shared/src/ownership/shards';
import { UpdateLog } from '../../services/messaging/src/storage/update-log';
import { Message } from '../../services/shared/src/gen/tern/common/v1/message';
import { boxOwnershipBucketsFor } from '../../services/shared/src/nats/subjects';
import { stack, stackCassandra } from '../support/stack';
import { directSender, randomLong, unusedTestNumber, type DirectSender } from './support/direct';
import { trustKey } from './support/gramjs';
import { loggedInWith, resolveUser, setUsername, userIdOf } from './support/users';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

const DC = 1;
const SENDERS = 4;
/** Sending before the kill, and after it (the takeover takes lease + margin, about 8 s). */
const BEFORE_MS = 5_000;
const AFTER_MS = 20_000;
/** How long one message may take to be acknowledged, retries included. */
const ACK_WITHIN_MS = 60_000;

const say = (line: string) => process.stdout.write(`messaging-failover: ${line}\n`);

interface Acked {
  randomId: bigint;
  text: string;
  id: number;
  pts: number;
}

/** gRPC codes a client retries: DEADLINE_EXCEEDED, UNAVAILABLE. Anything else fails the test. */
const RETRYABLE = new Set([4, 14]);

async function sendUntilAcked(
  sender: DirectSender,
  to: { userId: bigint; accessHash: bigint },
  text: string,
  randomId: bigint,
  retries: { count: number },
): Promise<Acked> {
  const deadline = Date.now() + ACK_WITHIN_MS;
  for (;;) {
    try {
      const res = await sender.send(to, text, randomId);
      const update = res.updates!.updates.find((u) => u.kind?.$case === 'newMessage')!;
      return { randomId, text, id: res.message!.id, pts: update.pts };
    } catch (err) {
      const code = (err as { code?: number }).code ?? -1;
      if (!RETRYABLE.has(code) || Date.now() > deadline) throw err;
      retries.count++;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** The replica (by pid-file name) that holds the lease of `userId`'s box shard. */
async function ownerOf(nc: NatsConnection, userId: bigint): Promise<string> {
  const kv = await nc.jetstream().views.kv(boxOwnershipBucketsFor(DC).leases);
  const entry = await kv.get(`shard.${shardOf(userId)}`);
  const lease = entry ? decodeLease(entry.value) : null;
  const replica = s.dcs[DC - 1]!.messagingReplicas.find((r) => r.address === lease?.address);
  if (!replica) throw new Error(`no replica holds the shard of ${userId} (lease ${JSON.stringify(lease)})`);
  return replica.name;
}

/** Every update of `userId`'s log, checked gap-free from pts 1 to the head. */
async function wholeLog(log: UpdateLog, userId: bigint) {
  const head = await log.head(userId);
  const page = await log.difference(userId, 0, 1_000_000);
  expect(page.more).toBe(false);
  let pts = 0;
  for (const u of page.updates) {
    expect(u.pts - u.ptsCount).toBe(pts);
    pts = u.pts;
  }
  expect(pts).toBe(head.pts);
  return page.updates;
}

describe('messaging replicas: a kill -9 under load loses and duplicates nothing', () => {
  let db: Cassandra;
  let nc: NatsConnection;

  beforeAll(async () => {
    db = await stackCassandra(s, DC, 'dc');
    nc = await connect({ servers: s.natsUrl });
  });
  afterAll(async () => {
    await db?.shutdown();
    await nc?.close();
  });

  /**
   * Four senders write to one recipient while the replica owning the recipient's box is stopped
   * with `signal`, then started again; every acknowledged message must be in both boxes once.
   */
  async function stopUnderLoad(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    const replicas = s.dcs[DC - 1]!.messagingReplicas;
    expect(replicas.length).toBeGreaterThanOrEqual(2);

    // Fresh numbers: the stack keeps its data between suites, and a number another suite used
    // brings that suite's messages into the boxes this test reads whole.
    const recipientClient = await loggedInWith('telegram', s.dcs, DC, await unusedTestNumber(s, DC), 'Rita');
    const recipient = await userIdOf(recipientClient);
    const username = await setUsername(recipientClient, 'rita');
    await recipientClient.client.destroy();
    const senders: { id: bigint; to: { userId: bigint; accessHash: bigint }; direct: DirectSender }[] = [];
    for (let k = 0; k < SENDERS; k++) {
      const g = await loggedInWith('telegram', s.dcs, DC, await unusedTestNumber(s, DC), `Sam${k}`);
      const id = await userIdOf(g);
      const to = await resolveUser(g, username);
      await g.client.destroy();
      senders.push({ id, to, direct: directSender(s, DC, id) });
    }

    const victim = await ownerOf(nc, recipient);
    const pid = Number(readFileSync(join(s.repoRoot, '.stack', 'run', `${victim}.pid`), 'utf8').trim());
    say(`recipient ${recipient} is on ${victim} (pid ${pid})`);

    const tag = randomBytes(3).toString('hex');
    const acked: Acked[][] = senders.map(() => []);
    const retries = { count: 0 };
    const started = Date.now();
    let killedAt = 0;
    const stopAt = started + BEFORE_MS + AFTER_MS;
    const loops = senders.map(async (sender, k) => {
      for (let i = 0; Date.now() < stopAt; i++)
        acked[k]!.push(
          await sendUntilAcked(sender.direct, sender.to, `${tag} s${k} #${i}`, randomLong(), retries),
        );
    });
    await new Promise((r) => setTimeout(r, BEFORE_MS));
    process.kill(pid, signal);
    killedAt = Date.now();
    const sentBefore = acked.flat().length;
    say(`${signal} after ${sentBefore} acknowledged messages`);
    await Promise.all(loops);
    const total = acked.flat().length;
    say(`${total} acknowledged (${total - sentBefore} after the kill), ${retries.count} retries`);
    expect(total - sentBefore).toBeGreaterThan(0);

    // The killed replica comes back and takes its share of the shards again; sends go on.
    execFileSync('npm', ['run', 'stack'], { cwd: s.repoRoot, stdio: 'ignore', timeout: 240_000 });
    say(`restarted ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
    for (const [k, sender] of senders.entries())
      for (let i = 0; i < 5; i++)
        acked[k]!.push(
          await sendUntilAcked(sender.direct, sender.to, `${tag} s${k} after #${i}`, randomLong(), retries),
        );
    for (const sender of senders) sender.direct.close();

    const log = new UpdateLog(db);
    // Each sender's box: exactly its acknowledged messages, once each, at the pts it was told.
    for (const [k, sender] of senders.entries()) {
      const updates = await wholeLog(log, sender.id);
      expect(updates.map((u) => u.randomId)).toEqual(acked[k]!.map((a) => a.randomId));
      expect(updates.map((u) => u.pts)).toEqual(acked[k]!.map((a) => a.pts));
    }
    // The recipient's box: every acknowledged text exactly once, nothing else.
    const received = (await wholeLog(log, recipient)).map((u) => Message.decode(u.payload).message);
    expect([...received].sort()).toEqual(
      acked
        .flat()
        .map((a) => a.text)
        .sort(),
    );
  }

  it(
    'keeps every acknowledged message exactly once, with contiguous pts on both sides, across a kill -9',
    () => stopUnderLoad('SIGKILL'),
    300_000,
  );

  // A graceful stop (a rolling update) hands the boxes over before the server drains.
  it('and across a graceful stop', () => stopUnderLoad('SIGTERM'), 300_000);
});
