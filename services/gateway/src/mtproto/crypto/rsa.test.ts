import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import bigInt from 'big-integer';
import { _serverKeys, encrypt as gramjsLegacyEncrypt } from 'telegram/crypto/RSA';
import { decryptInnerData, serverRsaKey } from './rsa';
import { igeEncrypt } from './aes-ige';
import { bigintFromBytes, bigintToBytes, modPow } from './dh';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
const key = serverRsaKey(privateKey);

/** RSA_PAD as the MTProto spec describes it (written from the spec, for the test). */
function rsaPadEncrypt(data: Buffer): Buffer {
  const dataWithPadding = Buffer.concat([data, randomBytes(192 - data.length)]);
  const reversed = Buffer.from(dataWithPadding).reverse();
  for (;;) {
    const tempKey = randomBytes(32);
    const hash = createHash('sha256').update(tempKey).update(dataWithPadding).digest();
    const aesEncrypted = igeEncrypt(Buffer.concat([reversed, hash]), tempKey, Buffer.alloc(32));
    const h = createHash('sha256').update(aesEncrypted).digest();
    const xor = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) xor[i] = tempKey[i]! ^ h[i]!;
    const block = Buffer.concat([xor, aesEncrypted]);
    if (bigintFromBytes(block) >= key.modulus) continue; // the spec says: pick another temp_key
    return bigintToBytes(modPow(bigintFromBytes(block), 65537n, key.modulus), 256);
  }
}

describe('server RSA key', () => {
  it('has the fingerprint mtcute computes for it', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { parsePublicKey } = require('@mtcute/core/utils.js') as {
      parsePublicKey: (c: unknown, pem: string) => { fingerprint: string };
    };
    const parsed = parsePublicKey(
      { sha1: (d: Uint8Array) => createHash('sha1').update(d).digest() },
      key.publicPem,
    );
    expect(BigInt.asUintN(64, key.fingerprint).toString(16).padStart(16, '0')).toBe(
      parsed.fingerprint.padStart(16, '0'),
    );
  });

  it('decrypts RSA_PAD inner data', () => {
    const data = randomBytes(96);
    expect(decryptInnerData(key, rsaPadEncrypt(data))?.subarray(0, 96).equals(data)).toBe(true);
  });

  it('decrypts the legacy encoding as GramJS sends it', async () => {
    _serverKeys.set(key.fingerprint.toString(), { n: bigInt(key.modulus.toString()), e: 65537 });
    const data = randomBytes(96);
    const encrypted = await gramjsLegacyEncrypt(bigInt(key.fingerprint.toString()), data);
    expect(decryptInnerData(key, encrypted!)?.equals(data)).toBe(true);
  });

  it('rejects garbage and blocks at or above the modulus', () => {
    expect(decryptInnerData(key, randomBytes(256))).toBeUndefined();
    expect(decryptInnerData(key, Buffer.alloc(256, 0xff))).toBeUndefined();
    expect(decryptInnerData(key, randomBytes(10))).toBeUndefined();
  });
});
