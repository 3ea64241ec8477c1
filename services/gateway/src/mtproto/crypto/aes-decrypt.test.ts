import { createCipheriv, randomBytes } from 'node:crypto';
import { aes256DecryptWords, aes256DecryptionKeys } from './aes-decrypt';

describe('AES-256 block decryption in JavaScript', () => {
  it('matches FIPS-197 appendix C.3', () => {
    const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
    const cipher = Buffer.from('8ea2b7ca516745bfeafc49904b496089', 'hex');
    const out = new Uint32Array(4);
    const w = [0, 4, 8, 12].map((o) => cipher.readUInt32BE(o));
    aes256DecryptWords(aes256DecryptionKeys(key), w[0]!, w[1]!, w[2]!, w[3]!, out);
    const plain = Buffer.alloc(16);
    out.forEach((v, i) => plain.writeUInt32BE(v, i * 4));
    expect(plain.toString('hex')).toBe('00112233445566778899aabbccddeeff');
  });

  it('inverts OpenSSL AES-256-ECB on random keys and blocks', () => {
    const out = new Uint32Array(4);
    for (let n = 0; n < 200; n++) {
      const key = randomBytes(32);
      const plain = randomBytes(16);
      const enc = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false).update(plain);
      const w = [0, 4, 8, 12].map((o) => enc.readUInt32BE(o));
      aes256DecryptWords(aes256DecryptionKeys(key), w[0]!, w[1]!, w[2]!, w[3]!, out);
      const back = Buffer.alloc(16);
      out.forEach((v, i) => back.writeUInt32BE(v, i * 4));
      expect(back.equals(plain)).toBe(true);
    }
  });
});
