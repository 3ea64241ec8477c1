import {
  bareInviteHash,
  channelDc,
  channelIdCandidate,
  createKey,
  inviteDc,
  logBucket,
  messageBucket,
  newInviteHash,
  participantBucket,
  PARTICIPANT_BUCKETS,
} from './ids';

describe('channel ids', () => {
  it('name their home DC, stay below 2^39 and never start with "100"', () => {
    for (let attempt = 0; attempt < 2000; attempt++) {
      const dc = 1 + (attempt % 1000);
      const id = channelIdCandidate(BigInt(attempt) * 7919n, BigInt(attempt), dc, attempt % 3);
      expect(channelDc(id)).toBe(dc);
      expect(id > 0n && id < 1n << 39n).toBe(true);
      expect(id.toString().startsWith('100')).toBe(false);
    }
  });

  it('are deterministic per (creator, random_id, attempt): a retry finds its own row', () => {
    expect(channelIdCandidate(5n, 9n, 2, 0)).toBe(channelIdCandidate(5n, 9n, 2, 0));
    expect(channelIdCandidate(5n, 9n, 2, 0)).not.toBe(channelIdCandidate(5n, 9n, 2, 1));
    expect(createKey(5n, 9n)).toBe(createKey(5n, 9n));
    expect(createKey(5n, 9n)).not.toBe(createKey(5n, 10n));
  });
});

describe('buckets', () => {
  it('bound partitions: 10,000 messages or pts each, 64 participant partitions', () => {
    expect([messageBucket(1), messageBucket(9999), messageBucket(10_000)]).toEqual([0, 0, 1]);
    expect([logBucket(0), logBucket(20_001)]).toEqual([0, 2]);
    const seen = new Set<number>();
    for (let u = 1n; u < 5000n; u++) {
      const b = participantBucket(u);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(PARTICIPANT_BUCKETS);
      seen.add(b);
    }
    expect(seen.size).toBe(PARTICIPANT_BUCKETS);
    expect(participantBucket(42n)).toBe(participantBucket(42n));
  });
});

describe('invite hashes', () => {
  it('start with the home DC, and links reduce to the hash', () => {
    const h = newInviteHash(3);
    expect(inviteDc(h)).toBe(3);
    expect(inviteDc(newInviteHash(1000))).toBe(1000);
    expect(bareInviteHash(`https://t.me/+${h}`)).toBe(h);
    expect(bareInviteHash(`t.me/joinchat/${h}`)).toBe(h);
    expect(bareInviteHash(h)).toBe(h);
    expect(inviteDc('nonsense')).toBeUndefined();
    expect(inviteDc('3.short')).toBeUndefined();
  });
});
