/**
 * The server side of Telegram's two-step verification (core.telegram.org/api/srp): SRP-6a over
 * passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow.
 *
 * The client derives x from the password (two salted SHA-256 rounds, PBKDF2-HMAC-SHA512 with
 * 100000 iterations, one more salted SHA-256) and sends only the verifier v = g^x mod p when it
 * sets a password; the server keeps v and never sees the password or x. To log in, the server
 * answers account.getPassword with B = k·v + g^b mod p for a fresh secret b; the client answers
 * with A = g^a and M1, and the server, which can compute the shared S = (A·v^u)^b without knowing
 * x, checks M1. Numbers are big-endian and, wherever they are hashed, padded to 256 bytes.
 */
import {
  createDiffieHellman,
  createHash,
  randomBytes,
  timingSafeEqual,
  type DiffieHellman,
} from 'node:crypto';

/** Bytes of every number of the group (2048 bits). */
export const SRP_SIZE = 256;

/**
 * The 2048-bit safe prime Telegram's servers hand out for 2FA (the same as MTProto's DH prime);
 * client libraries refuse any other (GramJS compares it byte for byte).
 */
export const SRP_PRIME = Buffer.from(
  'c71caeb9c6b1c9048e6c522f70f13f73980d40238e3e21c14934d037563d930f48198a0aa7c14058229493d22530f4dbfa336f6e0ac925139543aed44cce7c3720fd51f69458705ac68cd4fe6b6b13abdc9746512969328454f18faf8c595f642477fe96bb2a941d5bcd1d4ac8cc49880708fa9b378e3c4f3a9060bee67cf9a4a4a695811051907e162753b56b0f6b410dba74d8a84b2a14b3144e0ef1284754fd17ed950d5965b4b9dd46582db1178d169c6bc465b0d6ff9ca3928fef5b9ae4e418fc15e83ebea0f87fa9ff5eed70050ded2849f47bf959d956850ce929851f0d8115f635b105ee2e4e15d04b2454bf6f4fadf034b10403119cd8e3b92fcc5b',
  'hex',
);

/** The generator Telegram uses with SRP_PRIME (p mod 3 = 2, the condition the clients check for g = 3). */
export const SRP_G = 3;

const P = toBigint(SRP_PRIME);

/** Big-endian bytes → number. */
export function toBigint(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + Buffer.from(bytes).toString('hex'));
}

/** Number → big-endian bytes, left-padded to `size` (the spec's padding for hashing). */
export function toBytes(n: bigint, size = SRP_SIZE): Buffer {
  const hex = n.toString(16);
  const raw = Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex');
  if (raw.length > size) throw new RangeError(`number does not fit in ${size} bytes`);
  return Buffer.concat([Buffer.alloc(size - raw.length), raw]);
}

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/**
 * Modular exponentiation mod p through OpenSSL: one DH object whose private key is set to the
 * exponent computes base^exponent as its "shared secret". Done with BigInt it takes ~70 ms of the
 * event loop per 2048-bit exponent; OpenSSL takes about 9 ms for a whole exchange or check, and is
 * constant-time in the exponent (the secret b). Creating the object checks the prime, slowly
 * (~0.4 s), so it is made once, on first use.
 * OpenSSL refuses bases ≤ 1 or ≥ p − 1; callers pass only values checked to be in range.
 */
let group: DiffieHellman | undefined;
function modPowP(base: bigint, exponent: Buffer): bigint {
  group ??= createDiffieHellman(SRP_PRIME, Buffer.from([SRP_G]));
  // Synchronous from setPrivateKey to computeSecret, so no other call can swap the key between.
  group.setPrivateKey(exponent);
  return toBigint(group.computeSecret(toBytes(base)));
}

/** k = H(p | g), the SRP-6a multiplier. */
const K = toBigint(sha256(SRP_PRIME, toBytes(BigInt(SRP_G))));

/** H(p) xor H(g), the first part of M1. */
const P_XOR_G = (() => {
  const hp = sha256(SRP_PRIME);
  const hg = sha256(toBytes(BigInt(SRP_G)));
  return Buffer.from(hp.map((b, i) => b ^ hg[i]!));
})();

/**
 * Whether g^b (or any power the peer sees) is safely inside the group: both it and p minus it at
 * least 2048 − 64 bits long. The clients refuse a B whose g^b is not (GramJS's "bad gB"), so the
 * server picks another b rather than hand one out.
 */
function goodPower(n: bigint): boolean {
  const min = 1n << BigInt(2048 - 64);
  return n >= min && P - n >= min;
}

/** Whether `v` can be a password verifier: a 256-byte number strictly between 1 and p − 1. */
export function isValidVerifier(v: Uint8Array): boolean {
  if (v.length !== SRP_SIZE) return false;
  const n = toBigint(v);
  return n > 1n && n < P - 1n;
}

/** The server's half of one SRP exchange: the secret b (kept until the check) and B (sent). */
export interface SrpServerValue {
  b: Buffer;
  B: Buffer;
}

/** A fresh b and B = (k·v + g^b) mod p for the verifier `v` (account.getPassword's srp_B). */
export function newServerValue(verifier: Uint8Array): SrpServerValue {
  const v = toBigint(verifier);
  for (;;) {
    const b = randomBytes(SRP_SIZE);
    const gb = modPowP(BigInt(SRP_G), b);
    if (!goodPower(gb)) continue;
    const B = (K * v + gb) % P;
    // B = 0 would leak nothing but makes the client abort; vanishingly rare, but cheap to avoid.
    if (B === 0n) continue;
    return { b, B: toBytes(B) };
  }
}

/** What the server kept of a password and an exchange, and what the client answered. */
export interface SrpProof {
  salt1: Uint8Array;
  salt2: Uint8Array;
  verifier: Uint8Array;
  b: Uint8Array;
  B: Uint8Array;
  /** The client's g^a, as sent (up to 256 bytes, big-endian). */
  A: Uint8Array;
  /** The client's M1 (32 bytes). */
  M1: Uint8Array;
}

/**
 * Whether the client's M1 proves it knows the password behind `verifier`, for the exchange that
 * produced b and B. The expected M1 = H(H(p) xor H(g) | H(salt1) | H(salt2) | A | B | K) with
 * K = H(S) and S = (A·v^u)^b, u = H(A | B); compared in constant time. An A outside (1, p − 1)
 * (which would force S) or u = 0 is refused as a wrong proof.
 */
export function verifyProof(p: SrpProof): boolean {
  if (p.A.length > SRP_SIZE || p.M1.length !== 32 || p.b.length === 0) return false;
  const A = toBigint(p.A);
  if (A <= 1n || A >= P - 1n) return false;
  const aBytes = toBytes(A);
  const bBytes = toBytes(toBigint(p.B));
  const u = sha256(aBytes, bBytes);
  if (toBigint(u) === 0n) return false;
  const v = toBigint(p.verifier);
  if (v <= 1n || v >= P - 1n) return false;
  const base = (A * modPowP(v, u)) % P;
  // Only a malicious A makes A·v^u land on 0, 1 or p − 1; OpenSSL would refuse it anyway.
  if (base <= 1n || base >= P - 1n) return false;
  const S = modPowP(base, Buffer.from(p.b));
  const k = sha256(toBytes(S));
  const expected = sha256(P_XOR_G, sha256(p.salt1), sha256(p.salt2), aBytes, bBytes, k);
  return timingSafeEqual(expected, Buffer.from(p.M1));
}

/** Bytes of the salt1 prefix the server hands out in new_algo (the client adds 32). */
export const NEW_SALT1_SIZE = 8;
/** Bytes of salt2 in new_algo (used by the client as is). */
export const NEW_SALT2_SIZE = 16;
/** What the client appends to new_algo's salt1 (core.telegram.org/api/srp, "Setting a new password"). */
export const CLIENT_SALT1_SIZE = 32;

/** A new_algo for account.password: fresh salts, Telegram's group. */
export function newAlgo(): { salt1: Buffer; salt2: Buffer; g: number; p: Buffer } {
  return { salt1: randomBytes(NEW_SALT1_SIZE), salt2: randomBytes(NEW_SALT2_SIZE), g: SRP_G, p: SRP_PRIME };
}
