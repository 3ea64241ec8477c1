/**
 * Diffie–Hellman parameters of the key exchange and the random pq the server hands out.
 */
import {
  checkPrimeSync,
  createDiffieHellman,
  generatePrimeSync,
  randomBytes,
  type DiffieHellman,
} from 'node:crypto';

/**
 * The 2048-bit safe prime Tern uses for every key exchange, with generator 3 (p mod 3 = 2, so 3
 * generates the subgroup of order (p-1)/2). It is the group Telegram's own servers use; clients
 * know it and skip their (slow) primality checks for it. A unit test re-checks that p and (p-1)/2
 * are prime.
 */
export const DH_PRIME = BigInt(
  '0xC71CAEB9C6B1C9048E6C522F70F13F73980D40238E3E21C14934D037563D930F48198A0AA7C14058229493D22530F4DBFA336F6E0AC925139543AED44CCE7C3720FD51F69458705AC68CD4FE6B6B13ABDC9746512969328454F18FAF8C595F642477FE96BB2A941D5BCD1D4AC8CC49880708FA9B378E3C4F3A9060BEE67CF9A4A4A695811051907E162753B56B0F6B410DBA74D8A84B2A14B3144E0EF1284754FD17ED950D5965B4B9DD46582DB1178D169C6BC465B0D6FF9CA3928FEF5B9AE4E418FC15E83EBEA0F87FA9FF5EED70050DED2849F47BF959D956850CE929851F0D8115F635B105EE2E4E15D04B2454BF6F4FADF034B10403119CD8E3B92FCC5B',
);
export const DH_G = 3;

/** g_a, g_b and the key must lie in [2^(2048-64), p - 2^(2048-64)] (the spec's range check). */
const SAFETY = 2n ** (2048n - 64n);
export function inSafeRange(value: bigint, prime: bigint = DH_PRIME): boolean {
  return value > 1n && value < prime - 1n && value >= SAFETY && value <= prime - SAFETY;
}

export function bigintFromBytes(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

/** Big-endian bytes of `value`, left-padded to `length` when given. */
export function bigintToBytes(value: bigint, length?: number): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const raw = Buffer.from(hex, 'hex');
  if (length === undefined || raw.length >= length) return raw;
  return Buffer.concat([Buffer.alloc(length - raw.length), raw]);
}

export function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

/**
 * OpenSSL's modular exponentiation, through one DiffieHellman object per process (creating it
 * checks the group once): about 7× faster than BigInt modPow, which capped handshakes at ~20/s per
 * core (docs/benchmarks.md). Each use sets the private exponent first, so nothing leaks between
 * exchanges; Node runs these calls synchronously on one thread.
 */
let group: DiffieHellman | undefined;
function dhGroup(): DiffieHellman {
  group ??= createDiffieHellman(bigintToBytes(DH_PRIME, 256), Buffer.from([DH_G]));
  return group;
}

/** A fresh server secret `a` in [2, p - 2] with g_a in the safe range. */
export function newDhSecret(): { a: bigint; gA: bigint } {
  for (;;) {
    const a = (bigintFromBytes(randomBytes(256)) % (DH_PRIME - 3n)) + 2n;
    const dh = dhGroup();
    dh.setPrivateKey(bigintToBytes(a, 256));
    const gA = bigintFromBytes(dh.generateKeys());
    if (inSafeRange(gA)) return { a, gA };
  }
}

/** g_b^a mod p as the 256-byte auth key. */
export function dhSharedKey(gB: bigint, a: bigint): Buffer {
  const dh = dhGroup();
  dh.setPrivateKey(bigintToBytes(a, 256));
  return bigintToBytes(bigintFromBytes(dh.computeSecret(bigintToBytes(gB, 256))), 256);
}

/**
 * pq for res_pq: a product of two distinct random 31/32-bit primes p < q. Clients factor it as
 * proof of work; the server keeps p and q to check their answer.
 */
export function newPq(): { pq: bigint; p: bigint; q: bigint } {
  for (;;) {
    const a = generatePrimeSync(31, { bigint: true });
    const b = generatePrimeSync(31, { bigint: true });
    if (a === b) continue;
    const [p, q] = a < b ? [a, b] : [b, a];
    return { pq: p * q, p, q };
  }
}

/** For tests: Miller–Rabin via OpenSSL. */
export function isProbablePrime(n: bigint): boolean {
  return checkPrimeSync(n, { checks: 32 });
}
