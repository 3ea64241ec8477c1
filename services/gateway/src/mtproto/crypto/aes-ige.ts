/**
 * AES-256 in IGE mode, the cipher MTProto uses for every encrypted message and for the
 * handshake's inner data. OpenSSL has no IGE, so it is built from AES primitives here.
 *
 * IGE: y_i = E(x_i ⊕ y_{i-1}) ⊕ x_{i-1}, with y_0 = iv[0..16) and x_0 = iv[16..32).
 *
 * Encryption runs as ONE native CBC pass: with w_1 = x_1, w_2 = x_2 ⊕ x_0 and
 * w_i = x_i ⊕ x_{i-2}, CBC over w with IV y_0 yields z_i = E(x_i ⊕ y_{i-1}) (because
 * z_{i-1} ⊕ x_{i-2} = y_{i-1}); then y_i = z_i ⊕ x_{i-1}. Every w_i depends on plaintext only,
 * so nothing is sequential in JavaScript. Decryption chains through the plaintext it produces,
 * so it goes block by block, through the JavaScript AES of aes-decrypt.ts (a native call per
 * 16-byte block was slower than the cipher).
 */
import { createCipheriv } from 'node:crypto';
import { aes256DecryptWords, aes256DecryptionKeys } from './aes-decrypt';

const BLOCK = 16;

function check(data: Buffer, key: Buffer, iv: Buffer): void {
  if (key.length !== 32) throw new RangeError('AES-256-IGE key must be 32 bytes');
  if (iv.length !== 32) throw new RangeError('AES-256-IGE iv must be 32 bytes');
  if (data.length % BLOCK !== 0) throw new RangeError('AES-256-IGE data must be a multiple of 16 bytes');
}

function xorInto(
  out: Buffer,
  outOffset: number,
  a: Buffer,
  aOffset: number,
  b: Buffer,
  bOffset: number,
): void {
  for (let j = 0; j < BLOCK; j++) out[outOffset + j] = a[aOffset + j]! ^ b[bOffset + j]!;
}

export function igeEncrypt(plain: Buffer, key: Buffer, iv: Buffer): Buffer {
  check(plain, key, iv);
  const n = plain.length / BLOCK;
  const x0 = iv.subarray(16, 32);
  const w = Buffer.allocUnsafe(plain.length);
  for (let i = 0; i < n; i++) {
    const at = i * BLOCK;
    if (i === 0) plain.copy(w, 0, 0, BLOCK);
    else if (i === 1) xorInto(w, at, plain, at, x0, 0);
    else xorInto(w, at, plain, at, plain, at - 2 * BLOCK);
  }
  const cbc = createCipheriv('aes-256-cbc', key, iv.subarray(0, 16)).setAutoPadding(false);
  const z = Buffer.concat([cbc.update(w), cbc.final()]);
  for (let i = 0; i < n; i++) {
    const at = i * BLOCK;
    if (i === 0) xorInto(z, 0, z, 0, x0, 0);
    else xorInto(z, at, z, at, plain, at - BLOCK);
  }
  return z;
}

/** Big-endian word at `at` (Buffer.readUInt32BE's bounds checks cost more than the cipher here). */
function word(b: Buffer, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function putWord(b: Buffer, at: number, w: number): void {
  b[at] = w >>> 24;
  b[at + 1] = w >>> 16;
  b[at + 2] = w >>> 8;
  b[at + 3] = w;
}

export function igeDecrypt(cipher: Buffer, key: Buffer, iv: Buffer): Buffer {
  check(cipher, key, iv);
  const dk = aes256DecryptionKeys(key);
  const out = Buffer.allocUnsafe(cipher.length);
  const d = new Uint32Array(4);
  // y_{i-1}: the previous ciphertext block; x_{i-1}: the previous plaintext block (words).
  let y0 = iv.readUInt32BE(0);
  let y1 = iv.readUInt32BE(4);
  let y2 = iv.readUInt32BE(8);
  let y3 = iv.readUInt32BE(12);
  let x0 = iv.readUInt32BE(16);
  let x1 = iv.readUInt32BE(20);
  let x2 = iv.readUInt32BE(24);
  let x3 = iv.readUInt32BE(28);
  for (let at = 0; at < cipher.length; at += BLOCK) {
    // x_i = D(y_i ⊕ x_{i-1}) ⊕ y_{i-1}
    const c0 = word(cipher, at);
    const c1 = word(cipher, at + 4);
    const c2 = word(cipher, at + 8);
    const c3 = word(cipher, at + 12);
    aes256DecryptWords(dk, c0 ^ x0, c1 ^ x1, c2 ^ x2, c3 ^ x3, d);
    x0 = (d[0]! ^ y0) >>> 0;
    x1 = (d[1]! ^ y1) >>> 0;
    x2 = (d[2]! ^ y2) >>> 0;
    x3 = (d[3]! ^ y3) >>> 0;
    putWord(out, at, x0);
    putWord(out, at + 4, x1);
    putWord(out, at + 8, x2);
    putWord(out, at + 12, x3);
    y0 = c0;
    y1 = c1;
    y2 = c2;
    y3 = c3;
  }
  return out;
}
