import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { IGE } from 'telegram/crypto/IGE';
import { igeDecrypt, igeEncrypt } from './aes-ige';

describe('AES-256-IGE', () => {
  it('agrees with GramJS byte for byte and round-trips', () => {
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

  it('rejects lengths that are not whole blocks', () => {
    expect(() => igeEncrypt(Buffer.alloc(17), Buffer.alloc(32), Buffer.alloc(32))).toThrow(RangeError);
    expect(() => igeDecrypt(Buffer.alloc(16), Buffer.alloc(31), Buffer.alloc(32))).toThrow(RangeError);
  });
});
