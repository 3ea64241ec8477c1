import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { writeRsaKey } from './keys';

describe('writeRsaKey', () => {
  it('writes private 2048-bit keys whose fingerprint has a non-zero top nibble (mtcute can find them)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tern-keys-'));
    try {
      for (let i = 0; i < 8; i++) {
        const file = join(dir, `k${i}.pem`);
        writeRsaKey(file);
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const key = createPublicKey(readFileSync(file));
        expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
        expect(BigInt.asUintN(64, rsaFingerprint(key)).toString(16)).toHaveLength(16);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
