/**
 * Box ownership (services/shared/src/ownership) against the real NATS JetStream of the local
 * stack: four replicas in one process, each with its own NATS connection, in a test-only DC whose
 * buckets are deleted at the end. A sampler checks every 2 ms that no shard ever has two valid
 * fences, through joins, a graceful stop and a crash.
 */
import { performance } from 'node:perf_hooks';
import { EventBus, boxOwnershipBucketsFor, createLogger } from '../../services/shared/src';
import { ShardOwnership, DEFAULT_TIMINGS, SHARD_COUNT, shardOf } from '../../services/shared/src/ownership';
import { desiredOwners } from '../../services/shared/src/ownership/shards';
import { eventually, stack } from '../support/stack';

const log = createLogger({ level: 'error', base: { test: 'box-ownership' } });
const L = DEFAULT_TIMINGS.leaseMs;
const M = DEFAULT_TIMINGS.marginMs;
const DRAIN_MS = 100;

interface Ev {
  at: number;
  replica: string;
  kind: 'acquired' | 'lost' | 'drain-start' | 'drain-end';
  shard: number;
  reason?: string;
}

interface Replica {
  name: string;
  bus: EventBus;
  own: ShardOwnership;
  live: boolean;
}

/** One user id per shard, so the public route(userId) can be asked about each shard. */
const userOf: bigint[] = (() => {
  const found = new Map<number, bigint>();
  for (let id = 1n; found.size < SHARD_COUNT; id++) if (!found.has(shardOf(id))) found.set(shardOf(id), id);
  return Array.from({ length: SHARD_COUNT }, (_, s) => found.get(s)!);
})();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('box ownership (real NATS)', () => {
  const s = stack();
  const servers = s.natsUrl.split(',');
  const dcId = 900 + Math.floor(Math.random() * 99);
  const events: Ev[] = [];
  const replicas = new Map<string, Replica>();
  const violations: string[] = [];
  let samples = 0;
  let sampler: NodeJS.Timeout | undefined;

  async function replica(name: string): Promise<Replica> {
    const bus = await EventBus.connect({ servers, name: `test-ownership-${name}`, log });
    const own = new ShardOwnership({
      js: bus.js,
      buckets: boxOwnershipBucketsFor(dcId),
      what: 'box',
      selfAddress: `${name}.test:50052`,
      log,
      hooks: {
        drain: async (shard) => {
          events.push({ at: performance.now(), replica: name, kind: 'drain-start', shard });
          await sleep(DRAIN_MS); // writes in flight finishing
          events.push({ at: performance.now(), replica: name, kind: 'drain-end', shard });
        },
        onLost: (shard, reason) =>
          events.push({ at: performance.now(), replica: name, kind: 'lost', shard, reason }),
        onAcquired: (shard) => events.push({ at: performance.now(), replica: name, kind: 'acquired', shard }),
      },
    });
    const r = { name, bus, own, live: true };
    replicas.set(name, r);
    return r;
  }

  /** The replica each shard routes 'here' on, or null where not exactly one does. */
  function owners(): (string | null)[] {
    return userOf.map((u) => {
      const here = [...replicas.values()].filter((r) => r.live && r.own.route(u).kind === 'here');
      return here.length === 1 ? here[0]!.name : null;
    });
  }

  const shardsOf = (name: string) =>
    owners()
      .map((o, shard) => (o === name ? shard : -1))
      .filter((shard) => shard >= 0);

  const last = (replica: string, kind: Ev['kind'], shard: number) =>
    events.filter((e) => e.replica === replica && e.kind === kind && e.shard === shard).at(-1);

  beforeAll(() => {
    // Every fence of every replica, crashed ones included: at no instant may two be valid.
    sampler = setInterval(() => {
      samples++;
      for (let shard = 0; shard < SHARD_COUNT; shard++) {
        const valid = [...replicas.values()].filter((r) => r.own.fence(shard)?.valid());
        if (valid.length > 1) violations.push(`shard ${shard}: ${valid.map((r) => r.name).join(', ')}`);
      }
    }, 2);
  });

  afterAll(async () => {
    clearInterval(sampler);
    await Promise.allSettled([...replicas.values()].map((r) => r.own.stop()));
    await Promise.allSettled([...replicas.values()].map((r) => r.bus.close()));
    const admin = await EventBus.connect({ servers, name: 'test-ownership-admin', log });
    const names = boxOwnershipBucketsFor(dcId);
    for (const b of [names.replicas, names.leases])
      await admin.jsm.streams.delete(`KV_${b}`).catch(() => false);
    await admin.close();
  });

  it('three replicas own every shard exactly once, as rendezvous says, and forward to each other', async () => {
    const rs = await Promise.all(['a', 'b', 'c'].map(replica));
    await Promise.all(rs.map((r) => r.own.start()));
    const want = desiredOwners(rs.map((r) => r.own.selfId));
    const nameOf = new Map(rs.map((r) => [r.own.selfId, r.name]));
    await eventually(
      async () => (owners().every((o, shard) => o === nameOf.get(want[shard]!)) ? true : undefined),
      15_000,
      50,
    );
    for (const r of rs) expect(shardsOf(r.name).length).toBeGreaterThan(0);
    // Each replica learns the others' leases from its watch, a moment after they are taken.
    const forwardsRight = () =>
      owners().every((owner, shard) =>
        rs
          .filter((x) => x.name !== owner)
          .every((r) => {
            const route = r.own.route(userOf[shard]!);
            return (
              route.kind === 'forward' &&
              route.address === `${owner}.test:50052` &&
              route.ownerId === replicas.get(owner!)!.own.selfId
            );
          }),
      );
    await eventually(async () => (forwardsRight() ? true : undefined), 5_000, 20);
  });

  it('a joining replica takes its share by handover: drained and released before it takes each shard', async () => {
    const d = await replica('d');
    const ids = [...replicas.values()].map((r) => r.own.selfId);
    const moving = desiredOwners(ids)
      .map((o, shard) => (o === d.own.selfId ? shard : -1))
      .filter((shard) => shard >= 0);
    expect(moving.length).toBeGreaterThan(0);
    const before = owners();
    const t0 = performance.now();
    await d.own.start();
    await eventually(
      async () => (moving.every((shard) => owners()[shard] === 'd') ? true : undefined),
      10_000,
      20,
    );
    const took = performance.now() - t0;
    expect(shardsOf('d').sort((x, y) => x - y)).toEqual(moving);
    for (const shard of moving) {
      const prev = before[shard]!;
      const acquired = last('d', 'acquired', shard)!;
      const drainStart = last(prev, 'drain-start', shard)!;
      const drainEnd = last(prev, 'drain-end', shard)!;
      const lost = last(prev, 'lost', shard)!;
      expect(lost.reason).toBe('released');
      expect(drainStart.at).toBeLessThan(drainEnd.at);
      expect(drainEnd.at).toBeLessThanOrEqual(lost.at);
      expect(lost.at).toBeLessThan(acquired.at);
    }
    // Every other replica, the previous owners included, now sends the moved shards' writes to d.
    for (const shard of moving)
      for (const name of ['a', 'b', 'c'])
        expect(await replicas.get(name)!.own.waitForRoute(userOf[shard]!, 2_000)).toEqual({
          kind: 'forward',
          address: 'd.test:50052',
          ownerId: d.own.selfId,
        });
    console.info(`join: ${moving.length} shards moved to d in ${Math.round(took)} ms (start() included)`);
  });

  it('a replica stopped gracefully hands every shard over within about a second', async () => {
    const a = replicas.get('a')!;
    const held = shardsOf('a');
    expect(held.length).toBeGreaterThan(0);
    const t0 = performance.now();
    await a.own.stop();
    a.live = false;
    await eventually(
      async () => (held.every((shard) => owners()[shard] !== null) ? true : undefined),
      5_000,
      10,
    );
    const moved = performance.now() - t0;
    for (const shard of held) expect(last('a', 'lost', shard)?.reason).toBe('released');
    expect(owners().every((o) => o !== null)).toBe(true);
    expect(moved).toBeLessThan(1_500);
    console.info(`graceful stop: ${held.length} shards moved in ${Math.round(moved)} ms`);
  });

  it('a crashed replica’s shards are taken only after its lease and margin, never while its fence is valid', async () => {
    const b = replicas.get('b')!;
    const held = shardsOf('b');
    expect(held.length).toBeGreaterThan(0);
    // kill -9 as NATS sees it: no heartbeat, no renewal, no release. The process itself lives on and
    // must fence itself off by time.
    const t0 = performance.now();
    await b.bus.nc.close();
    b.live = false;
    await eventually(
      async () => (held.every((shard) => owners()[shard] !== null) ? true : undefined),
      L + M + 10_000,
      20,
    );
    const moved = performance.now() - t0;
    for (const shard of held) {
      const lost = last('b', 'lost', shard)!;
      const next = [...replicas.values()]
        .filter((r) => r.name !== 'b')
        .map((r) => last(r.name, 'acquired', shard))
        .filter((e) => e && e.at > t0)[0]!;
      expect(lost.reason).toBe('expired');
      expect(lost.at).toBeLessThan(next.at);
      // Its last renewal was at most renewEveryMs before the crash; its fence lasted L − M after it.
      expect(next.at - t0).toBeGreaterThanOrEqual(L - M);
    }
    expect(moved).toBeLessThan(L + M + 2_000);
    console.info(`crash: ${held.length} shards taken over ${Math.round(moved)} ms after the crash`);
  });

  it('never had two valid fences on one shard', () => {
    expect(samples).toBeGreaterThan(1_000);
    expect(violations).toEqual([]);
    expect(owners().every((o) => o === 'c' || o === 'd')).toBe(true);
  });
});
