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
 * so it goes block by block through an ECB decipher.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

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

export function igeDecrypt(cipher: Buffer, key: Buffer, iv: Buffer): Buffer {
  check(cipher, key, iv);
  const ecb = createDecipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  const out = Buffer.allocUnsafe(cipher.length);
  let prevY = iv.subarray(0, 16);
  let prevX = iv.subarray(16, 32);
  const block = Buffer.allocUnsafe(BLOCK);
  for (let at = 0; at < cipher.length; at += BLOCK) {
    // x_i = D(y_i ⊕ x_{i-1}) ⊕ y_{i-1}
    xorInto(block, 0, cipher, at, prevX, 0);
    const d = ecb.update(block);
    xorInto(out, at, d, 0, prevY, 0);
    prevY = cipher.subarray(at, at + BLOCK);
    prevX = out.subarray(at, at + BLOCK);
  }
  return out;
}
