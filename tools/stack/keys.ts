/**
 * Local secrets: the MTProto RSA key and the MinIO root credentials, made once per clone on
 * first start and kept in `.stack/` (gitignored, mode 0600). Nothing here is ever committed.
 */
import { createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import type { LocalSecrets } from './plan';

/**
 * Writes a new 2048-bit RSA private key (PKCS#1 PEM) to `file`, mode 0600.
 *
 * Keys whose fingerprint has a zero top nibble are skipped (1 in 16): mtcute (0.30) writes the
 * fingerprints it trusts as zero-padded hex but looks up the server's without the padding, so it
 * cannot find such a key and retries the connection forever.
 */
export function writeRsaKey(file: string): void {
  let privateKey = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 }).privateKey;
  while (BigInt.asUintN(64, rsaFingerprint(createPublicKey(privateKey))) < 1n << 60n)
    privateKey = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 }).privateKey;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
}

/** The RSA key at `file`, made first if missing; returns its public half as clients embed it. */
export function ensureRsaKey(file: string): string {
  if (!existsSync(file)) writeRsaKey(file);
  return createPublicKey(readFileSync(file)).export({ type: 'pkcs1', format: 'pem' }).toString();
}

/** A 32-byte random key as hex at `file` (mode 0600), made first if missing. */
export function ensureSecretKey(file: string): void {
  if (existsSync(file)) return;
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
}

/** The clone's generated secrets, made on first use. */
export function ensureSecrets(file: string): LocalSecrets {
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets;
  const secrets: LocalSecrets = {
    minio: {
      accessKey: `tern-${randomBytes(6).toString('hex')}`,
      secretKey: randomBytes(24).toString('base64url'),
    },
  };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
