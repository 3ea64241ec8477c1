/**
 * AES-256 in IGE mode, the cipher MTProto uses for every encrypted message and for the
 * handshake's inner data. OpenSSL has no IGE mode (not through Node), so it is built here;
 * docs/decisions/0015-aes-ige.md has the reasoning and the figures.
 *
 * IGE: c_i = E(m_i ⊕ c_{i-1}) ⊕ m_{i-1}, with c_0 = iv[0..16) and m_0 = iv[16..32);
 *      m_i = D(c_i ⊕ m_{i-1}) ⊕ c_{i-1}.
 *
 * Encryption is ONE native AES-256-CBC pass between two XOR passes (derivation in
 * IgeSimd.encrypt): every CBC input depends on the plaintext only.
 *
 * Decryption cannot be: the input of each block's D is the output of the previous one, a chain
 * no OpenSSL mode runs (CBC, ECB, XTS and OCB decryption are parallel; key unwrap chains only 64
 * bits and checks an integrity value). It runs block by block through a constant-time AES in
 * WebAssembly SIMD (aes-ige-simd.ts). WebAssembly has no AES instructions, so this stays well
 * below OpenSSL's AES-NI; the old JavaScript AES (aes-decrypt.ts) was slower and used
 * key- and data-dependent table lookups.
 *
 * Without WebAssembly (node --jitless), both directions fall back to OpenSSL alone: CBC plus
 * XORs in JavaScript for encryption, one ECB call per block for decryption (constant-time, slow).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { IgeSimd, relaxedSimdSupported } from './aes-ige-simd';

const BLOCK = 16;

function check(data: Buffer, key: Buffer, iv: Buffer): void {
  if (key.length !== 32) throw new RangeError('AES-256-IGE key must be 32 bytes');
  if (iv.length !== 32) throw new RangeError('AES-256-IGE iv must be 32 bytes');
  if (data.length % BLOCK !== 0) throw new RangeError('AES-256-IGE data must be a multiple of 16 bytes');
}

let simd: IgeSimd | null | undefined;

/** The process's WebAssembly engine, or null where WebAssembly (with SIMD) is unavailable. */
function engine(): IgeSimd | null {
  if (simd === undefined) {
    try {
      simd = new IgeSimd(relaxedSimdSupported());
    } catch {
      simd = null;
    }
  }
  return simd;
}

/** Which implementation igeEncrypt/igeDecrypt use in this process (for benchmarks and logs). */
export function igeEngine(): 'wasm-simd' | 'wasm-relaxed-simd' | 'openssl-only' {
  const e = engine();
  return e === null ? 'openssl-only' : e.relaxed ? 'wasm-relaxed-simd' : 'wasm-simd';
}

/**
 * Encrypts `plain`; with `into` (of plain's length, not overlapping it), the ciphertext is written
 * there and `into` returned, which saves a copy when the caller's packet already has room for it.
 */
export function igeEncrypt(plain: Buffer, key: Buffer, iv: Buffer, into?: Buffer): Buffer {
  check(plain, key, iv);
  if (into && into.length !== plain.length)
    throw new RangeError('AES-256-IGE output must be as long as the input');
  const e = engine();
  if (e) return e.encrypt(plain, key, iv, into);
  const out = igeEncryptPortable(plain, key, iv);
  if (!into) return out;
  out.copy(into);
  return into;
}

export function igeDecrypt(cipher: Buffer, key: Buffer, iv: Buffer): Buffer {
  check(cipher, key, iv);
  return engine()?.decrypt(cipher, key, iv) ?? igeDecryptPortable(cipher, key, iv);
}

/** A buffer's 32-bit words, in place: the buffer must start on a 4-byte boundary. */
const words = (b: Buffer): Int32Array => new Int32Array(b.buffer, b.byteOffset, b.length >>> 2);
/** The buffer itself if it starts on a 4-byte boundary, else an aligned copy. */
const aligned = (b: Buffer): Buffer => ((b.byteOffset & 3) === 0 ? b : Buffer.from(b));

/** Encryption with OpenSSL and JavaScript only: the same CBC derivation, XORs by 32-bit words. */
export function igeEncryptPortable(plain: Buffer, key: Buffer, iv: Buffer): Buffer {
  check(plain, key, iv);
  const n = plain.length >>> 2;
  const m = words(aligned(plain));
  const m0 = words(aligned(iv.subarray(16, 32)));
  const x = new Int32Array(n); // x_i = m_i ⊕ m_{i-2}, m_{-1} = 0
  for (let k = 0; k < n; k++) x[k] = m[k]! ^ (k < 4 ? 0 : k < 8 ? m0[k - 4]! : m[k - 8]!);
  const cbc = createCipheriv('aes-256-cbc', key, iv.subarray(0, BLOCK)).setAutoPadding(false);
  const y = aligned(cbc.update(new Uint8Array(x.buffer)));
  const c = words(y); // c_i = y_i ⊕ m_{i-1}
  for (let k = 0; k < n; k++) c[k] = c[k]! ^ (k < 4 ? m0[k]! : m[k - 4]!);
  return y;
}

/** Decryption with OpenSSL only: one ECB call per block (its call overhead dominates). */
export function igeDecryptPortable(cipher: Buffer, key: Buffer, iv: Buffer): Buffer {
  check(cipher, key, iv);
  const ecb = createDecipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  const out = Buffer.allocUnsafe(cipher.length);
  const block = Buffer.allocUnsafe(BLOCK);
  let prevCipher = iv.subarray(0, BLOCK);
  let prevPlain = iv.subarray(BLOCK, 2 * BLOCK);
  for (let at = 0; at < cipher.length; at += BLOCK) {
    for (let j = 0; j < BLOCK; j++) block[j] = cipher[at + j]! ^ prevPlain[j]!;
    const d = ecb.update(block);
    for (let j = 0; j < BLOCK; j++) out[at + j] = d[j]! ^ prevCipher[j]!;
    prevCipher = cipher.subarray(at, at + BLOCK);
    prevPlain = out.subarray(at, at + BLOCK);
  }
  return out;
}
