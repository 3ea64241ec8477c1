import {
  DEFAULT_TIMINGS,
  decide,
  decodeLease,
  encodeLease,
  fenceDeadline,
  leaseIsFree,
  liveHolder,
  timingProblems,
  type HeldState,
  type ObservedLease,
} from './lease';

const t = DEFAULT_TIMINGS;
const L = t.leaseMs;
const M = t.marginMs;
const held = (over: Partial<HeldState> = {}): HeldState => ({
  deadline: 10_000,
  nextRenewAt: 5_000,
  renewing: false,
  handingOver: false,
  ...over,
});
const seen = (owner: string, until: number, observedAt: number, revision = 7): ObservedLease => ({
  value: { owner, address: `${owner}:1`, until },
  revision,
  observedAt,
});

describe('timings', () => {
  it('accepts the defaults', () => expect(timingProblems(t)).toEqual([]));

  it('refuses a margin that leaves no fence, and renewals that cannot fit in it', () => {
    expect(timingProblems({ ...t, marginMs: 3_000 })).toHaveLength(1);
    expect(timingProblems({ ...t, renewEveryMs: 4_000 })).toHaveLength(1);
    expect(timingProblems({ ...t, heartbeatMs: 0 }).length).toBeGreaterThan(0);
  });
});

describe('the fence and a taker’s patience', () => {
  it('leave at least 2 × margin between the holder’s last safe instant and the earliest take', () => {
    // The holder sends a renewal at 1000; it is applied and seen by the taker no earlier.
    const sentAt = 1_000;
    const fenceEnd = fenceDeadline(sentAt, t);
    const observed = seen('holder', Date.now() + L, sentAt);
    let earliestTake = sentAt;
    while (!leaseIsFree(observed, 'taker', earliestTake, t)) earliestTake += 1;
    expect(earliestTake - fenceEnd).toBe(2 * M);
  });

  it('measures expiry from when the taker first saw the revision, not from the holder’s wall clock', () => {
    // `until` long past by the holder's clock: irrelevant, the taker has only just seen the entry.
    expect(leaseIsFree(seen('holder', 1, 50_000), 'taker', 50_001, t)).toBe(false);
    expect(leaseIsFree(seen('holder', 1, 50_000), 'taker', 50_000 + L + M, t)).toBe(true);
  });

  it('frees a lease that was never taken, was released, or is the replica’s own', () => {
    expect(leaseIsFree(undefined, 'a', 0, t)).toBe(true);
    expect(leaseIsFree(seen('b', 0, 100), 'a', 101, t)).toBe(true);
    expect(leaseIsFree(seen('a', Date.now() + L, 100), 'a', 101, t)).toBe(true);
  });

  it('makes a deleted or unreadable entry wait the full time', () => {
    const gone: ObservedLease = { value: null, revision: 9, observedAt: 100 };
    expect(leaseIsFree(gone, 'a', 100 + L + M - 1, t)).toBe(false);
    expect(leaseIsFree(gone, 'a', 100 + L + M, t)).toBe(true);
  });
});

describe('liveHolder', () => {
  it('forwards to a holder renewed recently, not to a released or silent one', () => {
    expect(liveHolder(seen('b', 99, 1_000), 1_000 + L - 1, t)?.owner).toBe('b');
    expect(liveHolder(seen('b', 99, 1_000), 1_000 + L, t)).toBeNull();
    expect(liveHolder(seen('b', 0, 1_000), 1_001, t)).toBeNull();
    expect(liveHolder(undefined, 0, t)).toBeNull();
  });
});

describe('decide', () => {
  const base = { selfId: 'a', timings: t };

  it('acquires a free shard it should own, and only then', () => {
    expect(decide({ ...base, desired: true, held: null, observed: undefined, now: 0 })).toBe('acquire');
    expect(decide({ ...base, desired: false, held: null, observed: undefined, now: 0 })).toBe('none');
    const busy = seen('b', 1, 1_000);
    expect(decide({ ...base, desired: true, held: null, observed: busy, now: 1_500 })).toBe('none');
    expect(decide({ ...base, desired: true, held: null, observed: busy, now: 1_000 + L + M })).toBe(
      'acquire',
    );
  });

  it('while settling takes only what was released to it', () => {
    const s = { ...base, desired: true, onlyReleased: true, held: null };
    expect(decide({ ...s, observed: undefined, now: 0 })).toBe('none');
    expect(decide({ ...s, observed: seen('b', 1, 0), now: 1e9 })).toBe('none');
    expect(decide({ ...s, observed: seen('b', 0, 0), now: 1 })).toBe('acquire');
  });

  it('expires a held shard at its deadline before anything else', () => {
    expect(decide({ ...base, desired: false, held: held(), observed: undefined, now: 10_000 })).toBe(
      'expire',
    );
  });

  it('hands over a shard it should no longer own, once', () => {
    expect(decide({ ...base, desired: false, held: held(), observed: undefined, now: 1_000 })).toBe(
      'handover',
    );
    expect(
      decide({ ...base, desired: false, held: held({ handingOver: true }), observed: undefined, now: 1_000 }),
    ).toBe('none');
  });

  it('renews when due, also during a handover, never two at once', () => {
    expect(decide({ ...base, desired: true, held: held(), observed: undefined, now: 4_999 })).toBe('none');
    expect(decide({ ...base, desired: true, held: held(), observed: undefined, now: 5_000 })).toBe('renew');
    expect(
      decide({ ...base, desired: false, held: held({ handingOver: true }), observed: undefined, now: 5_000 }),
    ).toBe('renew');
    expect(
      decide({ ...base, desired: true, held: held({ renewing: true }), observed: undefined, now: 6_000 }),
    ).toBe('none');
  });
});

describe('lease encoding', () => {
  it('round-trips and refuses what is not a lease', () => {
    const v = { owner: 'a', address: '10.0.0.1:50052', until: 123 };
    expect(decodeLease(encodeLease(v))).toEqual(v);
    expect(decodeLease(Buffer.from('nope'))).toBeNull();
    expect(decodeLease(Buffer.from('{"owner":1}'))).toBeNull();
  });
});
