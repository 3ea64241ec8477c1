import { randomBytes } from 'node:crypto';
import {
  DH_G,
  DH_PRIME,
  bigintFromBytes,
  bigintToBytes,
  dhSharedKey,
  inSafeRange,
  isProbablePrime,
  modPow,
  newDhSecret,
  newPq,
} from './dh';

describe('key exchange parameters', () => {
  it('uses a 2048-bit safe prime for which 3 generates the large subgroup', () => {
    expect(DH_PRIME.toString(2)).toHaveLength(2048);
    expect(isProbablePrime(DH_PRIME)).toBe(true);
    expect(isProbablePrime((DH_PRIME - 1n) / 2n)).toBe(true);
    expect(DH_G).toBe(3);
    expect(DH_PRIME % 3n).toBe(2n);
  });

  it('makes g_a in the safe range and agrees on the shared key', () => {
    const server = newDhSecret();
    const client = newDhSecret();
    expect(inSafeRange(server.gA)).toBe(true);
    expect(modPow(server.gA, client.a, DH_PRIME)).toBe(modPow(client.gA, server.a, DH_PRIME));
    expect(inSafeRange(1n)).toBe(false);
    expect(inSafeRange(DH_PRIME - 1n)).toBe(false);
  });

  it('hands out pq as a product of two distinct primes that fits 64 bits', () => {
    const { pq, p, q } = newPq();
    expect(p < q).toBe(true);
    expect(p * q).toBe(pq);
    expect(pq < 2n ** 64n).toBe(true);
    expect(isProbablePrime(p) && isProbablePrime(q)).toBe(true);
  });

  it('converts big-endian bytes both ways', () => {
    expect(bigintToBytes(0x0102n, 4).toString('hex')).toBe('00000102');
    expect(bigintFromBytes(Buffer.from('00ff', 'hex'))).toBe(255n);
  });
});

describe('DH through OpenSSL', () => {
  it('agrees with BigInt modPow for g^a and g_b^a', () => {
    for (let i = 0; i < 3; i++) {
      const { a, gA } = newDhSecret();
      expect(gA).toBe(modPow(BigInt(DH_G), a, DH_PRIME));
      const b = bigintFromBytes(randomBytes(256)) % DH_PRIME;
      const gB = modPow(BigInt(DH_G), b, DH_PRIME);
      expect(bigintFromBytes(dhSharedKey(gB, a))).toBe(modPow(gB, a, DH_PRIME));
      expect(bigintFromBytes(dhSharedKey(gB, a))).toBe(modPow(gA, b, DH_PRIME));
      expect(dhSharedKey(gB, a)).toHaveLength(256);
    }
  });
});
