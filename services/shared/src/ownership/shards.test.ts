import { SHARD_COUNT, desiredOwners, rendezvousOwner, shardOf } from './shards';

describe('shardOf', () => {
  it('is stable: these values are part of the protocol between replicas', () => {
    // If this test fails, shardOf changed: replicas of two versions would disagree (two writers).
    expect([1n, 2n, 3n, 1000n, 123456789n, 2n ** 62n].map(shardOf)).toEqual([1, 14, 45, 8, 57, 43]);
  });

  it('spreads sequential ids evenly over the shards', () => {
    const counts = new Array<number>(SHARD_COUNT).fill(0);
    const n = 64_000;
    for (let id = 1n; id <= BigInt(n); id++) counts[shardOf(id)]!++;
    const mean = n / SHARD_COUNT;
    for (const c of counts) expect(Math.abs(c - mean)).toBeLessThan(mean * 0.15);
  });

  it('maps every id into range, negative ids included', () => {
    for (const id of [0n, -1n, 2n ** 64n + 5n, -(2n ** 63n)]) {
      const s = shardOf(id);
      expect(Number.isInteger(s) && s >= 0 && s < SHARD_COUNT).toBe(true);
    }
  });
});

describe('rendezvous', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `replica-${i}`);

  it('agrees whatever the order of the live set', () => {
    const a = desiredOwners(ids(5));
    const b = desiredOwners([...ids(5)].reverse());
    expect(b).toEqual(a);
  });

  it('has no owner without replicas', () => {
    expect(rendezvousOwner(3, [])).toBeUndefined();
    expect(desiredOwners([]).every((o) => o === undefined)).toBe(true);
  });

  it('balances shards over replicas', () => {
    const owners = desiredOwners(ids(4));
    const per = new Map<string, number>();
    for (const o of owners) per.set(o!, (per.get(o!) ?? 0) + 1);
    expect(per.size).toBe(4);
    for (const n of per.values()) expect(n).toBeGreaterThan(6); // mean 16
  });

  it('moves only the joiner’s shards when a replica joins, and only the leaver’s when one leaves', () => {
    const before = desiredOwners(ids(4));
    const after = desiredOwners([...ids(4), 'joiner']);
    for (let s = 0; s < SHARD_COUNT; s++) if (after[s] !== 'joiner') expect(after[s]).toBe(before[s]);
    expect(after.filter((o) => o === 'joiner').length).toBeGreaterThan(0);

    const left = desiredOwners(ids(4).filter((id) => id !== 'replica-2'));
    for (let s = 0; s < SHARD_COUNT; s++) if (before[s] !== 'replica-2') expect(left[s]).toBe(before[s]);
  });
});
