import { clientNetwork, RateLimits } from './rate-limits';

describe('RateLimits', () => {
  const caller = (authKeyId: bigint, address = '192.0.2.1') => ({ authKeyId, address });

  it('takes from the key and the address bucket together, or from neither', () => {
    let now = 0;
    const limits = new RateLimits(
      { send: { key: { capacity: 2, refillPerSecond: 1 }, ip: { capacity: 3, refillPerSecond: 0.5 } } },
      { maxKeys: 10, now: () => now },
    );
    expect(limits.take('send', caller(1n))).toBe(0);
    expect(limits.take('send', caller(1n))).toBe(0);
    expect(limits.take('send', caller(1n))).toBe(1); // the key is empty: 1 s
    expect(limits.take('send', caller(2n))).toBe(0); // the address's last token
    expect(limits.take('send', caller(3n))).toBe(2); // the address is empty: 2 s
    // Both empty: the longer wait, after which both have a token.
    expect(limits.take('send', caller(1n))).toBe(2);
    now = 2000;
    expect(limits.take('send', caller(1n))).toBe(0);
  });

  it('does not limit classes it has no spec for, nor scopes of capacity 0', () => {
    const limits = new RateLimits(
      { login: { key: { capacity: 0, refillPerSecond: 1 }, ip: { capacity: 1, refillPerSecond: 1 } } },
      { maxKeys: 10, now: () => 0 },
    );
    for (let i = 0; i < 100; i++) expect(limits.take('send', caller(1n))).toBe(0);
    expect(limits.take('login', caller(1n, '192.0.2.1'))).toBe(0);
    expect(limits.take('login', caller(1n, '192.0.2.2'))).toBe(0);
    expect(limits.take('login', caller(2n, '192.0.2.2'))).toBe(1);
    expect(limits.size('login', 'key')).toBe(0);
    expect(limits.size('login', 'ip')).toBe(2);
  });

  it('bounds every table, however many keys and addresses flood it', () => {
    const limits = new RateLimits(
      { upload: { key: { capacity: 5, refillPerSecond: 0.01 }, ip: { capacity: 5, refillPerSecond: 0.01 } } },
      { maxKeys: 100, now: () => 0 },
    );
    for (let i = 0; i < 5000; i++)
      limits.take('upload', caller(BigInt(i), `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`));
    expect(limits.size('upload', 'key')).toBe(100);
    expect(limits.size('upload', 'ip')).toBe(100);
  });
});

describe('clientNetwork', () => {
  it('is an IPv4 address itself, and the /64 of an IPv6 address', () => {
    expect(clientNetwork('203.0.113.9')).toBe('203.0.113.9');
    expect(clientNetwork('2001:db8:a:b:c:d:e:f')).toBe('2001:db8:a:b::/64');
    expect(clientNetwork('2001:db8:a:b::1')).toBe('2001:db8:a:b::/64');
    expect(clientNetwork('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientNetwork('::1')).toBe('0:0:0:0::/64');
    expect(clientNetwork('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientNetwork('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(clientNetwork('2001:0DB8:000a:000b::1')).toBe('2001:db8:a:b::/64');
  });

  it('keeps anything else as it is (one bucket per spelling)', () => {
    expect(clientNetwork('')).toBe('');
    expect(clientNetwork('not-an-address')).toBe('not-an-address');
  });
});
