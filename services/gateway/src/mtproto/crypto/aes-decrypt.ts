/**
 * AES-256 block decryption in JavaScript, table-driven: the form of the FIPS-197 "equivalent
 * inverse cipher" with four 256-entry round tables and the inverse S-box, all computed at load
 * time from GF(2^8) arithmetic. Unit tests compare it with OpenSSL on random keys and blocks.
 *
 * No longer used by igeDecrypt (decision 0015): its table lookups are indexed by key- and
 * data-dependent bytes, so its timing leaks through the cache, and the WebAssembly SIMD AES of
 * aes-ige-simd.ts is both constant-time and faster. Kept for its exported API and as the previous
 * implementation the IGE tests compare against (aes-ige.test-support.ts).
 */

const SBOX = new Uint8Array(256);
const INV_SBOX = new Uint8Array(256);
/** Td0..Td3: InvSubBytes + InvMixColumns for one byte position each (Td(k) = Td0 rotated). */
const T0 = new Uint32Array(256);
const T1 = new Uint32Array(256);
const T2 = new Uint32Array(256);
const T3 = new Uint32Array(256);
const TD = [T0, T1, T2, T3] as const;

/** Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1. */
function gmul(a: number, b: number): number {
  let p = 0;
  for (let i = 0; i < 8; i++) {
    if (b & 1) p ^= a;
    const hi = a & 0x80;
    a = (a << 1) & 0xff;
    if (hi) a ^= 0x1b;
    b >>= 1;
  }
  return p;
}

(function buildTables() {
  // S(x) = affine(x^-1); inverses by brute force once (256 × 256 multiplications).
  const inverse = new Uint8Array(256);
  for (let x = 1; x < 256; x++)
    for (let y = 1; y < 256; y++)
      if (gmul(x, y) === 1) {
        inverse[x] = y;
        break;
      }
  for (let x = 0; x < 256; x++) {
    const b = inverse[x]!;
    let s = b;
    for (let r = 1; r <= 4; r++) s ^= ((b << r) | (b >>> (8 - r))) & 0xff;
    s ^= 0x63;
    SBOX[x] = s;
    INV_SBOX[s] = x;
  }
  for (let x = 0; x < 256; x++) {
    const y = INV_SBOX[x]!;
    const w = ((gmul(y, 14) << 24) | (gmul(y, 9) << 16) | (gmul(y, 13) << 8) | gmul(y, 11)) >>> 0;
    TD[0][x] = w;
    TD[1][x] = ((w >>> 8) | (w << 24)) >>> 0;
    TD[2][x] = ((w >>> 16) | (w << 16)) >>> 0;
    TD[3][x] = ((w >>> 24) | (w << 8)) >>> 0;
  }
})();

const ROUNDS = 14;

/** The decryption key schedule of a 32-byte key (60 words, in the order decryption uses them). */
export function aes256DecryptionKeys(key: Buffer): Uint32Array {
  if (key.length !== 32) throw new RangeError('AES-256 key must be 32 bytes');
  const ek = new Uint32Array(60);
  for (let i = 0; i < 8; i++) ek[i] = key.readUInt32BE(i * 4);
  let rcon = 1;
  for (let i = 8; i < 60; i++) {
    let t = ek[i - 1]!;
    if (i % 8 === 0) {
      t = ((t << 8) | (t >>> 24)) >>> 0; // RotWord
      t = sub(t) ^ (rcon << 24);
      rcon = gmul(rcon, 2);
    } else if (i % 8 === 4) t = sub(t);
    ek[i] = (ek[i - 8]! ^ t) >>> 0;
  }
  // Round keys in reverse order, the middle ones through InvMixColumns.
  const dk = new Uint32Array(60);
  for (let r = 0; r <= ROUNDS; r++)
    for (let j = 0; j < 4; j++) {
      const w = ek[(ROUNDS - r) * 4 + j]!;
      dk[r * 4 + j] =
        r === 0 || r === ROUNDS
          ? w
          : (TD[0][SBOX[w >>> 24]!]! ^
              TD[1][SBOX[(w >>> 16) & 0xff]!]! ^
              TD[2][SBOX[(w >>> 8) & 0xff]!]! ^
              TD[3][SBOX[w & 0xff]!]!) >>>
            0;
    }
  return dk;
}

function sub(w: number): number {
  return (
    ((SBOX[w >>> 24]! << 24) |
      (SBOX[(w >>> 16) & 0xff]! << 16) |
      (SBOX[(w >>> 8) & 0xff]! << 8) |
      SBOX[w & 0xff]!) >>>
    0
  );
}

/**
 * Decrypts one block given as four big-endian words, writing four words to `out`. Words, not
 * bytes, so IGE can XOR its chaining values without copying.
 */
export function aes256DecryptWords(
  dk: Uint32Array,
  i0: number,
  i1: number,
  i2: number,
  i3: number,
  out: Uint32Array,
): void {
  let s0 = (i0 ^ dk[0]!) >>> 0;
  let s1 = (i1 ^ dk[1]!) >>> 0;
  let s2 = (i2 ^ dk[2]!) >>> 0;
  let s3 = (i3 ^ dk[3]!) >>> 0;
  let k = 4;
  for (let r = 1; r < ROUNDS; r++, k += 4) {
    const t0 = T0[s0 >>> 24]! ^ T1[(s3 >>> 16) & 0xff]! ^ T2[(s2 >>> 8) & 0xff]! ^ T3[s1 & 0xff]! ^ dk[k]!;
    const t1 =
      T0[s1 >>> 24]! ^ T1[(s0 >>> 16) & 0xff]! ^ T2[(s3 >>> 8) & 0xff]! ^ T3[s2 & 0xff]! ^ dk[k + 1]!;
    const t2 =
      T0[s2 >>> 24]! ^ T1[(s1 >>> 16) & 0xff]! ^ T2[(s0 >>> 8) & 0xff]! ^ T3[s3 & 0xff]! ^ dk[k + 2]!;
    const t3 =
      T0[s3 >>> 24]! ^ T1[(s2 >>> 16) & 0xff]! ^ T2[(s1 >>> 8) & 0xff]! ^ T3[s0 & 0xff]! ^ dk[k + 3]!;
    s0 = t0 >>> 0;
    s1 = t1 >>> 0;
    s2 = t2 >>> 0;
    s3 = t3 >>> 0;
  }
  const S = INV_SBOX;
  out[0] =
    ((S[s0 >>> 24]! << 24) | (S[(s3 >>> 16) & 0xff]! << 16) | (S[(s2 >>> 8) & 0xff]! << 8) | S[s1 & 0xff]!) ^
    dk[k]!;
  out[1] =
    ((S[s1 >>> 24]! << 24) | (S[(s0 >>> 16) & 0xff]! << 16) | (S[(s3 >>> 8) & 0xff]! << 8) | S[s2 & 0xff]!) ^
    dk[k + 1]!;
  out[2] =
    ((S[s2 >>> 24]! << 24) | (S[(s1 >>> 16) & 0xff]! << 16) | (S[(s0 >>> 8) & 0xff]! << 8) | S[s3 & 0xff]!) ^
    dk[k + 2]!;
  out[3] =
    ((S[s3 >>> 24]! << 24) | (S[(s2 >>> 16) & 0xff]! << 16) | (S[(s1 >>> 8) & 0xff]! << 8) | S[s0 & 0xff]!) ^
    dk[k + 3]!;
}
