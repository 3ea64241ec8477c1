import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { IGE } from 'telegram/crypto/IGE';
import { igeDecrypt, igeDecryptPortable, igeEncrypt, igeEncryptPortable } from './aes-ige';
import { IgeSimd, relaxedSimdSupported } from './aes-ige-simd';
import {
  previousIgeDecrypt,
  previousIgeEncrypt,
  referenceIgeDecrypt,
  referenceIgeEncrypt,
} from './aes-ige.test-support';

type Cipher = (data: Buffer, key: Buffer, iv: Buffer) => Buffer;
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const simd = new IgeSimd(false);
const implementations: [string, Cipher, Cipher][] = [
  ['igeEncrypt / igeDecrypt', igeEncrypt, igeDecrypt],
  ['portable (OpenSSL only)', igeEncryptPortable, igeDecryptPortable],
  ['WebAssembly SIMD', (d, k, v) => simd.encrypt(d, k, v), (d, k, v) => simd.decrypt(d, k, v)],
];
if (relaxedSimdSupported()) {
  const relaxed = new IgeSimd(true);
  implementations.push([
    'WebAssembly relaxed SIMD',
    (d, k, v) => relaxed.encrypt(d, k, v),
    (d, k, v) => relaxed.decrypt(d, k, v),
  ]);
}

/** Block counts around every boundary the implementations have: 0–2 blocks, the 64 KiB window. */
const SIZES = [
  ...Array.from({ length: 40 }, (_, i) => i * 16),
  1024,
  65536 - 16,
  65536,
  65536 + 16,
  65536 + 32,
  3 * 65536 + 48,
];

describe('IGE reference (one ECB call per block)', () => {
  // OpenSSL test/igetest.c, ige_test_vectors (AES-128: OpenSSL publishes no AES-256 IGE vectors).
  it('reproduces OpenSSL’s published IGE vectors', () => {
    const key0 = hex('000102030405060708090a0b0c0d0e0f');
    const iv0 = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    const out0 = hex('1a8519a6557be652e9da8e43da4ef4453cf456b4ca488aa383c79c98b34797cb');
    expect(referenceIgeEncrypt(Buffer.alloc(32), key0, iv0).equals(out0)).toBe(true);
    expect(referenceIgeDecrypt(out0, key0, iv0).equals(Buffer.alloc(32))).toBe(true);

    const key1 = Buffer.from('This is an imple', 'latin1');
    const iv1 = Buffer.from('mentation of IGE mode for OpenSS', 'latin1');
    const cipher1 = Buffer.from("L. Let's hope Ben got it right!\n", 'latin1');
    const plain1 = hex('99706487a1cde613bc6de0b6f24b1c7aa448c8b9c3403e3467a8cad89340f53b');
    expect(referenceIgeDecrypt(cipher1, key1, iv1).equals(plain1)).toBe(true);
    expect(referenceIgeEncrypt(plain1, key1, iv1).equals(cipher1)).toBe(true);
  });
});

describe.each(implementations)('AES-256-IGE: %s', (_name, encrypt, decrypt) => {
  it('gives FIPS-197 C.3 (AES-256) for one block under a zero IV', () => {
    // With c_0 = m_0 = 0, one IGE block is one AES block.
    const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    const plain = hex('00112233445566778899aabbccddeeff');
    const cipher = hex('8ea2b7ca516745bfeafc49904b496089');
    expect(encrypt(plain, key, Buffer.alloc(32)).toString('hex')).toBe(cipher.toString('hex'));
    expect(decrypt(cipher, key, Buffer.alloc(32)).toString('hex')).toBe(plain.toString('hex'));
  });

  it('matches the per-block reference in both directions at every size', () => {
    for (const size of SIZES) {
      const key = randomBytes(32);
      const iv = randomBytes(32);
      const plain = randomBytes(size);
      const cipher = referenceIgeEncrypt(plain, key, iv);
      expect(encrypt(plain, key, iv).equals(cipher)).toBe(true);
      expect(decrypt(cipher, key, iv).equals(plain)).toBe(true);
      // Decrypting random bytes is as defined as encrypting them.
      expect(decrypt(plain, key, iv).equals(referenceIgeDecrypt(plain, key, iv))).toBe(true);
    }
  });

  it('reads inputs at any alignment and leaves them untouched', () => {
    for (let offset = 1; offset < 4; offset++) {
      const key = randomBytes(32);
      const iv = randomBytes(32);
      const backing = randomBytes(offset + 160);
      const plain = backing.subarray(offset, offset + 160);
      const before = Buffer.from(backing);
      const cipher = encrypt(plain, key.subarray(0), iv);
      expect(cipher.equals(referenceIgeEncrypt(plain, key, iv))).toBe(true);
      expect(backing.equals(before)).toBe(true);
      const copy = Buffer.alloc(offset + cipher.length);
      cipher.copy(copy, offset);
      expect(decrypt(copy.subarray(offset), key, iv).equals(plain)).toBe(true);
    }
  });

  it('round-trips random messages', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (blocks, key, iv) => {
          const plain = randomBytes(blocks * 16);
          const k = Buffer.from(key);
          const v = Buffer.from(iv);
          expect(decrypt(encrypt(plain, k, v), k, v).equals(plain)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps no state between calls with different keys', () => {
    const calls = Array.from({ length: 20 }, (_, i) => ({
      key: randomBytes(32),
      iv: randomBytes(32),
      plain: randomBytes(16 * (1 + i)),
    }));
    const ciphers = calls.map((c) => encrypt(c.plain, c.key, c.iv));
    calls.forEach((c, i) => {
      expect(ciphers[i]!.equals(referenceIgeEncrypt(c.plain, c.key, c.iv))).toBe(true);
      expect(decrypt(ciphers[i]!, c.key, c.iv).equals(c.plain)).toBe(true);
    });
  });
});

describe('AES-256-IGE, old and new', () => {
  it('agrees with the previous implementation byte for byte', () => {
    for (let n = 0; n < 200; n++) {
      const key = randomBytes(32);
      const iv = randomBytes(32);
      const plain = randomBytes(16 * (1 + (n % 64)));
      const cipher = igeEncrypt(plain, key, iv);
      expect(cipher.equals(previousIgeEncrypt(plain, key, iv))).toBe(true);
      expect(igeDecrypt(cipher, key, iv).equals(previousIgeDecrypt(cipher, key, iv))).toBe(true);
      expect(igeDecrypt(plain, key, iv).equals(previousIgeDecrypt(plain, key, iv))).toBe(true);
    }
  });

  it('agrees with GramJS byte for byte', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), (blocks) => {
        const key = randomBytes(32);
        const iv = randomBytes(32);
        const plain = randomBytes(blocks * 16);
        const ours = igeEncrypt(plain, key, iv);
        const theirs = Buffer.from(new IGE(key, iv).encryptIge(plain));
        expect(ours.equals(theirs)).toBe(true);
        expect(igeDecrypt(ours, key, iv).equals(plain)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('writes into a given buffer exactly what it would return, and nothing around it', () => {
    for (const blocks of [1, 2, 5, 64, 4097]) {
      const key = randomBytes(32);
      const iv = randomBytes(32);
      const plain = randomBytes(blocks * 16);
      const packet = randomBytes(24 + plain.length + 7);
      const before = Buffer.from(packet);
      const into = packet.subarray(24, 24 + plain.length);
      expect(igeEncrypt(plain, key, iv, into)).toBe(into);
      expect(into.equals(igeEncrypt(plain, key, iv))).toBe(true);
      expect(packet.subarray(0, 24).equals(before.subarray(0, 24))).toBe(true);
      expect(packet.subarray(24 + plain.length).equals(before.subarray(24 + plain.length))).toBe(true);
    }
    expect(() => igeEncrypt(Buffer.alloc(32), Buffer.alloc(32), Buffer.alloc(32), Buffer.alloc(16))).toThrow(
      RangeError,
    );
  });

  it.each([
    ['igeEncrypt', igeEncrypt],
    ['igeDecrypt', igeDecrypt],
    ['igeEncryptPortable', igeEncryptPortable],
    ['igeDecryptPortable', igeDecryptPortable],
  ])('%s rejects partial blocks and wrong key or IV sizes', (_name, fn) => {
    expect(() => fn(Buffer.alloc(17), Buffer.alloc(32), Buffer.alloc(32))).toThrow(RangeError);
    expect(() => fn(Buffer.alloc(8), Buffer.alloc(32), Buffer.alloc(32))).toThrow(RangeError);
    expect(() => fn(Buffer.alloc(16), Buffer.alloc(31), Buffer.alloc(32))).toThrow(RangeError);
    expect(() => fn(Buffer.alloc(16), Buffer.alloc(32), Buffer.alloc(16))).toThrow(RangeError);
    expect(fn(Buffer.alloc(0), Buffer.alloc(32), Buffer.alloc(32)).length).toBe(0);
  });
});
