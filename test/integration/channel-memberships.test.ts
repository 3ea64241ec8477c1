/**
 * Durable membership notices (services/channel/src/consumers/memberships.ts) against the real
 * NATS JetStream and Cassandra of the local stack.
 *
 * 1. After a failure: a test-only DC (900..998) gets its DC<N>_CHANNEL_MEMBERSHIPS stream and a
 *    throwaway keyspace with the channel migrations; the member's DC "does not answer" the first
 *    attempts (the apply function throws UNAVAILABLE, as grpc-js does for a DC that is down), so
 *    the notice is queued, and the consumer's replays fail too until the DC "is back": the row is
 *    then written once, with the notice's version.
 * 2. The happy path through the running stack's own queue: a notice queued by hand on DC 1's
 *    stream for DC 2 (as DC 1's channel service queues one when DC 2 is away) is replayed by DC 1's
 *    channel service into DC 2's RecordMembership, and appears in DC 2's keyspace.
 * 3. The store's version rule without lightweight transactions: crossing notices keep the highest
 *    version, a repeated or older one is not applied, a re-join keeps the read marker.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { Client } from 'cassandra-driver';
import {
  applyMigrations,
  connectWithRetry,
  createCassandraClient,
  createLogger,
  ensureKeyspace,
  EventBus,
  loadMigrations,
  servicesDir,
  streamsFor,
  subjectsFor,
} from '../../services/shared/src';
import { RecordMembershipRequest } from '../../services/shared/src/gen/tern/channel/v1/channel';
import { Channel } from '../../services/shared/src/gen/tern/common/v1/chat';
import { MembershipDelivery } from '../../services/channel/src/consumers/memberships';
import { ChannelStore } from '../../services/channel/src/storage/store';
import { cassandraSettings, eventually, stack, stackCassandra } from '../support/stack';

const log = createLogger({ level: 'fatal', base: {} });
const s = stack();

const unavailable = (): ServiceError =>
  Object.assign(new Error('14 UNAVAILABLE: connect ECONNREFUSED'), {
    code: status.UNAVAILABLE,
    details: 'connect ECONNREFUSED',
    metadata: new Metadata(),
  });

const newId = (): bigint => BigInt(randomInt(1, 2 ** 40)) * 1024n + 7n;

function notice(userId: bigint, channelId: bigint, version: bigint, member = true): RecordMembershipRequest {
  return RecordMembershipRequest.create({
    userId,
    channelId,
    member,
    version,
    channel: Channel.create({ id: channelId, title: `t${version}`, left: !member }),
  });
}

describe('membership notices (real NATS and Cassandra)', () => {
  const DC = 900 + randomInt(0, 99);
  const keyspace = `tern_test_chm_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  let ddl: Client;
  let db: Client;
  let bus: EventBus;
  let store: ChannelStore;

  beforeAll(async () => {
    const settings = cassandraSettings(s);
    ddl = createCassandraClient(settings);
    await connectWithRetry(ddl, 5);
    await ensureKeyspace(ddl, keyspace, { class: 'SimpleStrategy', replication_factor: 1 });
    db = createCassandraClient(settings, keyspace);
    await connectWithRetry(db, 5);
    const migrations = loadMigrations(servicesDir(), 'dc').filter((m) => m.service === 'channel');
    await applyMigrations(db, keyspace, migrations, log);
    store = new ChannelStore(db);
    bus = await EventBus.connect({ servers: s.natsUrl.split(','), name: 'test-channel-memberships', log });
    await bus.ensureStreams(streamsFor(DC).filter((x) => x.name.endsWith('_CHANNEL_MEMBERSHIPS')));
  }, 60_000);

  afterAll(async () => {
    await bus?.jsm.streams.delete(`DC${DC}_CHANNEL_MEMBERSHIPS`).catch(() => false);
    await bus?.close();
    await db?.shutdown();
    await ddl?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await ddl?.shutdown();
  });

  const record = (req: RecordMembershipRequest) =>
    store.recordMembership({
      userId: req.userId,
      channelId: req.channelId,
      dcId: 1,
      member: req.member,
      version: req.version,
      channel: req.channel!,
      date: 1_700_000_000,
    });

  it('applies a notice queued while the member’s DC was down once it is back, by redelivery', async () => {
    const userId = newId();
    const channelId = newId();
    const version = BigInt(Date.now()) * 1000n;
    let down = 3; // the direct attempt and the first two replays fail
    const attempts: number[] = [];
    const delivery = new MembershipDelivery({
      dcId: DC,
      dcIds: [DC + 1],
      bus,
      apply: async (req, dc) => {
        attempts.push(dc);
        if (down-- > 0) throw unavailable();
        await record(req);
      },
      homeOf: () => Promise.resolve(undefined),
      log,
    });
    try {
      expect(await delivery.deliver(notice(userId, channelId, version), DC + 1)).toBe('queued');
      expect(await store.membership(userId, channelId)).toBeUndefined();
      const info = await bus.jsm.streams.info(`DC${DC}_CHANNEL_MEMBERSHIPS`);
      expect(info.state.messages).toBe(1);

      await delivery.start();
      const row = await eventually(async () => store.membership(userId, channelId), 20_000);
      expect(row).toMatchObject({ member: true, version, readInboxMaxId: 0, dcId: 1 });
      expect(row.channel?.title).toBe(`t${version}`);
      expect(attempts).toEqual([DC + 1, DC + 1, DC + 1, DC + 1]);
      // Acknowledged once applied: the work queue is empty.
      await eventually(async () =>
        (await bus.jsm.streams.info(`DC${DC}_CHANNEL_MEMBERSHIPS`)).state.messages === 0 ? true : undefined,
      );
    } finally {
      await delivery.stop();
    }
  }, 60_000);

  it('the same notice queued twice is one entry (Nats-Msg-Id per user, channel and version)', async () => {
    const delivery = new MembershipDelivery({
      dcId: DC,
      dcIds: [],
      bus,
      apply: () => Promise.reject(unavailable()),
      homeOf: () => Promise.resolve(undefined),
      log,
    });
    const n = notice(newId(), newId(), 5n);
    const before = (await bus.jsm.streams.info(`DC${DC}_CHANNEL_MEMBERSHIPS`)).state.messages;
    await delivery.deliver(n, DC + 2);
    await delivery.deliver(n, DC + 2);
    expect((await bus.jsm.streams.info(`DC${DC}_CHANNEL_MEMBERSHIPS`)).state.messages).toBe(before + 1);
  });

  it('keeps the highest version without lightweight transactions; re-joining keeps the read marker', async () => {
    const userId = newId();
    const channelId = newId();
    const v = BigInt(Date.now()) * 1000n;
    expect(await record(notice(userId, channelId, v))).toBe(true);
    expect(await record(notice(userId, channelId, v))).toBe(false); // repeated
    expect(await store.setRead(userId, channelId, 12, 0)).toBe(true);
    expect(await record(notice(userId, channelId, v + 2n, false))).toBe(true); // left
    expect(await record(notice(userId, channelId, v + 1n))).toBe(false); // older, arrives late
    expect(await store.membership(userId, channelId)).toMatchObject({ member: false, version: v + 2n });
    expect(await record(notice(userId, channelId, v + 3n))).toBe(true); // joined again
    expect(await store.membership(userId, channelId)).toMatchObject({
      member: true,
      version: v + 3n,
      readInboxMaxId: 12,
    });

    // Two notices crossing (both pass the read before either writes): the higher version's cells
    // win whatever order the writes land in.
    const u2 = newId();
    await Promise.all([
      record(notice(u2, channelId, v + 20n, false)),
      record(notice(u2, channelId, v + 10n)),
    ]);
    expect(await store.membership(u2, channelId)).toMatchObject({ member: false, version: v + 20n });
    expect((await store.membership(u2, channelId))?.channel?.title).toBe(`t${v + 20n}`);
  }, 30_000);
});

describe("membership notices through the running stack's queue (DC 1 → DC 2)", () => {
  let bus: EventBus;
  let dc2: Client;

  beforeAll(async () => {
    bus = await EventBus.connect({
      servers: s.natsUrl.split(','),
      name: 'test-channel-memberships-stack',
      log,
    });
    dc2 = await stackCassandra(s, 2, 'dc');
  });

  afterAll(async () => {
    await bus?.close();
    await dc2?.shutdown();
  });

  it("DC 1's channel service replays a queued notice into DC 2's RecordMembership", async () => {
    // A user no directory knows: the consumer delivers to the DC the notice was queued for.
    const userId = BigInt(randomInt(1, 2 ** 40)) * 1024n + 999n;
    const channelId = (BigInt(randomInt(1, 2 ** 28)) << 10n) | 1n;
    const req = notice(userId, channelId, BigInt(Date.now()) * 1000n);
    await bus.publish(subjectsFor(1).channelMemberships(2), RecordMembershipRequest.encode(req).finish(), {
      msgId: `test-membership:${randomBytes(6).toString('hex')}`,
    });
    const row = await eventually(async () => new ChannelStore(dc2).membership(userId, channelId), 20_000);
    expect(row).toMatchObject({ member: true, version: req.version, dcId: 1 });
  }, 30_000);
});
