/**
 * The lease rules of box ownership (pure; no I/O, time is a parameter).
 *
 * A shard's lease is one NATS KV entry; its revision changes on every write, so a compare-and-set
 * on the revision decides every race (take, renew, release). Time enters in two places, and both
 * use each replica's own monotonic clock, never a comparison of two machines' wall clocks:
 *
 * - The holder's fence: it may write only until (the moment it SENT its last successful renewal)
 *   + lease − margin. The renewal cannot have been applied before it was sent.
 * - A taker's patience: a lease that is not released is free only after the taker has seen the
 *   same revision, unchanged, for lease + margin by its own clock. The taker saw that revision
 *   after it was applied, hence after the holder sent it; so by then the holder's fence has been
 *   invalid for at least 2 × margin. That gap absorbs a write the holder started just before its
 *   fence ended (the write timeout must stay below the margin) and clock-rate drift; it does not
 *   depend on the machines' clocks agreeing on the time of day.
 *
 * The `until` field of a lease (holder's wall clock) is informational only (operators, logs).
 */

/** How often and how long things happen; every value in milliseconds. */
export interface OwnershipTimings {
  /** Each replica re-puts its membership entry this often. */
  heartbeatMs: number;
  /**
   * A replica not heard from for this long (by the reader's clock) has left the live set; also the
   * membership bucket's TTL, so a dead replica's entry disappears from storage.
   */
  memberTtlMs: number;
  /** Lease length L: what a renewal buys. */
  leaseMs: number;
  /**
   * Safety margin: the holder stops writing this long before its lease ends, and a taker waits
   * this long after it. Must exceed the longest write (the Cassandra driver's write timeout is set
   * below it) plus any stall between checking the fence and sending the write.
   */
  marginMs: number;
  /** A holder renews each lease this often (L/3: two more chances before the fence ends). */
  renewEveryMs: number;
  /** After a failed renewal, retry this soon. */
  retryMs: number;
  /** The housekeeping tick: expiries, renewals due, acquisitions that became possible. */
  tickMs: number;
  /** start() waits this long after registering, so replicas starting together see each other. */
  settleMs: number;
  /**
   * A handover waits at most this long for in-flight writes to drain. If they do not, the replica
   * does not release (a write might still land) but stops renewing: the lease then ends by time,
   * which is as safe as a crash.
   */
  drainTimeoutMs: number;
}

/** The defaults: a crashed owner's shards move within about L + margin = 8 s; a handover in well under 1 s. */
export const DEFAULT_TIMINGS: Readonly<OwnershipTimings> = {
  heartbeatMs: 1_000,
  memberTtlMs: 5_000,
  leaseMs: 6_000,
  marginMs: 2_000,
  renewEveryMs: 2_000,
  retryMs: 500,
  tickMs: 200,
  settleMs: 1_000,
  drainTimeoutMs: 5_000,
};

/** The problems of a set of timings (empty when they are coherent). */
export function timingProblems(t: OwnershipTimings): string[] {
  const problems: string[] = [];
  for (const [k, v] of Object.entries(t))
    if (!Number.isFinite(v) || v <= 0) problems.push(`${k} must be a positive number of ms`);
  if (t.marginMs * 2 >= t.leaseMs)
    problems.push('marginMs must be below leaseMs / 2 (the fence lasts leaseMs - marginMs)');
  // The fence after a renewal lasts leaseMs - marginMs; the next renewal must fit in it with room for
  // a retry, or a healthy holder would lose its shards between renewals.
  if (t.renewEveryMs + t.retryMs >= t.leaseMs - t.marginMs)
    problems.push('renewEveryMs + retryMs must be below leaseMs - marginMs');
  if (t.heartbeatMs * 2 > t.memberTtlMs) problems.push('memberTtlMs must be at least two heartbeats');
  if (t.tickMs > t.retryMs) problems.push('tickMs must not exceed retryMs');
  return problems;
}

/** What a lease entry holds. */
export interface LeaseValue {
  /** The holder's replica id. */
  owner: string;
  /** The holder's direct gRPC address, where other replicas forward writes. */
  address: string;
  /** The holder's wall-clock ms when the lease ends; 0 = released. Informational (see above). */
  until: number;
}

/** A lease entry as this replica last saw it. */
export interface ObservedLease {
  /** Null when the entry is deleted or unreadable: treated as held by an unknown replica. */
  value: LeaseValue | null;
  /** The KV revision of the entry. */
  revision: number;
  /** This replica's monotonic ms when it FIRST saw this revision. */
  observedAt: number;
}

/** Parses a lease entry's bytes; null if they are not a lease. */
export function decodeLease(bytes: Uint8Array): LeaseValue | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (typeof v !== 'object' || v === null) return null;
    const { owner, address, until } = v as Record<string, unknown>;
    if (typeof owner !== 'string' || typeof address !== 'string' || typeof until !== 'number') return null;
    return { owner, address, until };
  } catch {
    return null;
  }
}

/** Encodes a lease entry. */
export function encodeLease(v: LeaseValue): Uint8Array {
  return Buffer.from(JSON.stringify(v), 'utf8');
}

/**
 * May `selfId` take the lease now? Yes if the key never existed, was released, names `selfId`
 * itself (a tenure it lost or dropped; taking it again starts a fresh epoch), or has stayed at the
 * same revision for lease + margin by this replica's clock. A deleted or unreadable entry waits the
 * full time too: whoever held it before may still be writing.
 */
export function leaseIsFree(
  observed: ObservedLease | undefined,
  selfId: string,
  now: number,
  t: OwnershipTimings,
): boolean {
  if (!observed) return true;
  const v = observed.value;
  if (v && (v.until === 0 || v.owner === selfId)) return true;
  return now - observed.observedAt >= t.leaseMs + t.marginMs;
}

/**
 * The replica to forward a shard's writes to: the lease's holder while the lease looks alive (not
 * released, renewed within a lease length as seen here), else null.
 */
export function liveHolder(
  observed: ObservedLease | undefined,
  now: number,
  t: OwnershipTimings,
): LeaseValue | null {
  const v = observed?.value;
  if (!observed || !v || v.until === 0) return null;
  return now - observed.observedAt < t.leaseMs ? v : null;
}

/** Until when (monotonic ms) a renewal or take SENT at `sentAt` lets its holder write. */
export function fenceDeadline(sentAt: number, t: OwnershipTimings): number {
  return sentAt + t.leaseMs - t.marginMs;
}

/** A lease this replica holds, as the decision needs it. */
export interface HeldState {
  /** Monotonic ms until which the fence is valid. */
  deadline: number;
  /** Monotonic ms when the next renewal is due. */
  nextRenewAt: number;
  /** A renewal is in flight. */
  renewing: boolean;
  /** A handover (drain, then release) is under way. */
  handingOver: boolean;
}

/** What to do about one shard now. */
export type ShardAction = 'acquire' | 'renew' | 'handover' | 'expire' | 'none';

/**
 * The per-shard decision, taken on every tick and on every change seen. `desired` = this replica
 * is the shard's rendezvous owner among the live replicas and is not stopping. `onlyReleased` =
 * take only a lease its holder released (a replica still settling takes what is handed to it, but
 * leaves unclaimed and expired shards until it knows the live set).
 */
export function decide(input: {
  selfId: string;
  desired: boolean;
  onlyReleased?: boolean;
  held: HeldState | null;
  observed: ObservedLease | undefined;
  now: number;
  timings: OwnershipTimings;
}): ShardAction {
  const { held, now } = input;
  if (held) {
    if (now >= held.deadline) return 'expire';
    if (!input.desired && !held.handingOver) return 'handover';
    // Renewals go on during a handover: writes admitted before it still need a valid fence.
    if (!held.renewing && now >= held.nextRenewAt) return 'renew';
    return 'none';
  }
  if (!input.desired) return 'none';
  if (input.onlyReleased) return input.observed?.value?.until === 0 ? 'acquire' : 'none';
  return leaseIsFree(input.observed, input.selfId, now, input.timings) ? 'acquire' : 'none';
}
