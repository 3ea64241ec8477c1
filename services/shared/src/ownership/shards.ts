/**
 * Box shards and who should own them (pure; no I/O).
 *
 * Users' boxes are grouped into {@link SHARD_COUNT} shards per DC; ownership moves a shard, never a
 * single box, so a replica holds a few dozen leases instead of one per user. The desired owner of
 * each shard is chosen by rendezvous (highest random weight) hashing over the live replica ids:
 * every replica computes the same answer from the same set, and when a replica joins or leaves only
 * the shards it wins or held move (about 1/n of them), not a reshuffle of all.
 *
 * Rendezvous only decides who SHOULD own a shard; who MAY write is decided by the lease
 * (lease.ts). Two replicas that momentarily disagree about the live set can both want a shard,
 * but only one can hold its lease.
 */

/**
 * Shards per DC. Part of the protocol between replicas, like {@link shardOf}: replicas that
 * disagree on it would map one user to two shards with two owners, i.e. two writers for one box.
 * Changing it needs every messaging replica of the DC stopped first. 64 spreads load evenly over
 * up to a few dozen replicas while keeping the lease traffic small (64 renewals per lease third).
 */
export const SHARD_COUNT = 64;

const MASK64 = (1n << 64n) - 1n;

/**
 * A 64-bit finalising mix (the SplitMix64 constants): spreads every input bit over every output
 * bit, so sequential user ids land on unrelated shards.
 */
function mix64(x: bigint): bigint {
  let z = (x + 0x9e3779b97f4a7c15n) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/** FNV-1a over the UTF-8 bytes of `s`, 64-bit: a stable hash of a replica id. */
function fnv1a64(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(s, 'utf8')) h = ((h ^ BigInt(b)) * 0x100000001b3n) & MASK64;
  return h;
}

/**
 * The shard of `userId`'s box: a stable hash of the id mod {@link SHARD_COUNT}. Never change the
 * function (see {@link SHARD_COUNT}).
 */
export function shardOf(userId: bigint): number {
  return Number(mix64(BigInt.asUintN(64, userId)) % BigInt(SHARD_COUNT));
}

/** The rendezvous weight of `replicaId` for `shard`. */
export function rendezvousWeight(replicaId: string, shard: number): bigint {
  return mix64(fnv1a64(replicaId) ^ mix64(BigInt(shard)));
}

/**
 * The desired owner of `shard` among `replicaIds`: the id with the highest weight (ties, which
 * need a 64-bit collision, go to the smaller id so every replica still agrees); undefined if
 * there is no replica.
 */
export function rendezvousOwner(shard: number, replicaIds: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const id of replicaIds) {
    const w = rendezvousWeight(id, shard);
    if (w > bestWeight || (w === bestWeight && best !== undefined && id < best)) {
      best = id;
      bestWeight = w;
    }
  }
  return best;
}

/** The desired owner of every shard (index = shard) among `replicaIds`. */
export function desiredOwners(replicaIds: Iterable<string>): (string | undefined)[] {
  const ids = [...new Set(replicaIds)];
  return Array.from({ length: SHARD_COUNT }, (_, s) => rendezvousOwner(s, ids));
}
