/**
 * Reference implementations for the AES-IGE tests: the textbook per-block definition over
 * OpenSSL's ECB (any AES key size, so OpenSSL's published AES-128 IGE vectors can check it),
 * and the gateway's previous implementation (before decision 0015), to compare old with new.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { aes256DecryptWords, aes256DecryptionKeys } from './aes-decrypt';

const BLOCK = 16;
const ecbName = (key: Buffer) => `aes-${key.length * 8}-ecb`;

/** c_i = E(m_i ⊕ c_{i-1}) ⊕ m_{i-1}, c_0 = iv[0..16), m_0 = iv[16..32), one block at a time. */
export function referenceIgeEncrypt(plain: Buffer, key: Buffer, iv: Buffer): Buffer {
  const ecb = createCipheriv(ecbName(key), key, null).setAutoPadding(false);
  const out = Buffer.alloc(plain.length);
  let prevCipher = iv.subarray(0, BLOCK);
  let prevPlain = iv.subarray(BLOCK, 2 * BLOCK);
  for (let at = 0; at < plain.length; at += BLOCK) {
    const block = Buffer.alloc(BLOCK);
    for (let j = 0; j < BLOCK; j++) block[j] = plain[at + j]! ^ prevCipher[j]!;
    const e = ecb.update(block);
    for (let j = 0; j < BLOCK; j++) out[at + j] = e[j]! ^ prevPlain[j]!;
    prevCipher = out.subarray(at, at + BLOCK);
    prevPlain = plain.subarray(at, at + BLOCK);
  }
  return out;
}

/** m_i = D(c_i ⊕ m_{i-1}) ⊕ c_{i-1}, one block at a time. */
export function referenceIgeDecrypt(cipher: Buffer, key: Buffer, iv: Buffer): Buffer {
  const ecb = createDecipheriv(ecbName(key), key, null).setAutoPadding(false);
  const out = Buffer.alloc(cipher.length);
  let prevCipher = iv.subarray(0, BLOCK);
  let prevPlain = iv.subarray(BLOCK, 2 * BLOCK);
  for (let at = 0; at < cipher.length; at += BLOCK) {
    const block = Buffer.alloc(BLOCK);
    for (let j = 0; j < BLOCK; j++) block[j] = cipher[at + j]! ^ prevPlain[j]!;
    const d = ecb.update(block);
    for (let j = 0; j < BLOCK; j++) out[at + j] = d[j]! ^ prevCipher[j]!;
    prevCipher = cipher.subarray(at, at + BLOCK);
    prevPlain = out.subarray(at, at + BLOCK);
  }
  return out;
}

/** The previous igeEncrypt: CBC over w_i = m_i ⊕ m_{i-2} with byte-by-byte XORs. */
export function previousIgeEncrypt(plain: Buffer, key: Buffer, iv: Buffer): Buffer {
  const n = plain.length / BLOCK;
  const x0 = iv.subarray(16, 32);
  const xorInto = (out: Buffer, o: number, a: Buffer, ao: number, b: Buffer, bo: number) => {
    for (let j = 0; j < BLOCK; j++) out[o + j] = a[ao + j]! ^ b[bo + j]!;
  };
  const w = Buffer.alloc(plain.length);
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

/** The previous igeDecrypt: block by block through the table-driven JavaScript AES of aes-decrypt.ts. */
export function previousIgeDecrypt(cipher: Buffer, key: Buffer, iv: Buffer): Buffer {
  const dk = aes256DecryptionKeys(key);
  const out = Buffer.alloc(cipher.length);
  const d = new Uint32Array(4);
  const y = [0, 4, 8, 12].map((o) => iv.readUInt32BE(o));
  const x = [16, 20, 24, 28].map((o) => iv.readUInt32BE(o));
  for (let at = 0; at < cipher.length; at += BLOCK) {
    const c = [0, 4, 8, 12].map((o) => cipher.readUInt32BE(at + o));
    aes256DecryptWords(dk, c[0]! ^ x[0]!, c[1]! ^ x[1]!, c[2]! ^ x[2]!, c[3]! ^ x[3]!, d);
    for (let j = 0; j < 4; j++) {
      x[j] = (d[j]! ^ y[j]!) >>> 0;
      out.writeUInt32BE(x[j]!, at + 4 * j);
      y[j] = c[j]!;
    }
  }
  return out;
}
