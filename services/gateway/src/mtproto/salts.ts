/**
 * Server salts without storage: the salt of an auth key for a 30-minute window is an HMAC of the
 * key id and the window number under a secret all gateway replicas of a DC share. Salts therefore
 * rotate on their own, survive gateway restarts and are the same on every replica;
 * get_future_salts lists the coming windows.
 *
 * The secret is derived from the DC's RSA private key with HKDF under a label of its own
 * ({@link Salts.fromRsaKey}), so the salt secret is not the RSA key material used for a second
 * purpose: knowing salts (or the secret) tells nothing about the key, and other derivations from
 * the same key use other labels.
 */
import { createHmac, hkdfSync, type KeyObject } from 'node:crypto';

/** The HKDF label of the salt secret; changing it changes every salt (clients re-sync at once). */
const SALT_SECRET_LABEL = 'tern/mtproto/server-salts/v1';

export const SALT_WINDOW_SECONDS = 30 * 60;

export interface FutureSalt {
  validSince: number;
  validUntil: number;
  salt: bigint;
}

export class Salts {
  constructor(private readonly secret: Buffer) {}

  /** Salts whose secret is HKDF-SHA256(the RSA private key's DER, label {@link SALT_SECRET_LABEL}). */
  static fromRsaKey(privateKey: KeyObject): Salts {
    const der = privateKey.export({ format: 'der', type: 'pkcs1' });
    return new Salts(Buffer.from(hkdfSync('sha256', der, Buffer.alloc(0), SALT_SECRET_LABEL, 32)));
  }

  private saltFor(authKeyId: bigint, window: number): bigint {
    const h = createHmac('sha256', this.secret).update(`${authKeyId}:${window}`).digest();
    return h.readBigInt64LE(0);
  }

  private window(nowMs: number): number {
    return Math.floor(nowMs / 1000 / SALT_WINDOW_SECONDS);
  }

  /** The salt the server expects now (and puts in its own messages). */
  current(authKeyId: bigint, nowMs: number = Date.now()): bigint {
    return this.saltFor(authKeyId, this.window(nowMs));
  }

  /** A client salt is good if it is this window's or the previous one's (a grace period). */
  isValid(authKeyId: bigint, salt: bigint, nowMs: number = Date.now()): boolean {
    const w = this.window(nowMs);
    return salt === this.saltFor(authKeyId, w) || salt === this.saltFor(authKeyId, w - 1);
  }

  future(authKeyId: bigint, count: number, nowMs: number = Date.now()): FutureSalt[] {
    const w = this.window(nowMs);
    return Array.from({ length: Math.min(Math.max(count, 1), 64) }, (_, i) => ({
      validSince: (w + i) * SALT_WINDOW_SECONDS,
      validUntil: (w + i + 1) * SALT_WINDOW_SECONDS,
      salt: this.saltFor(authKeyId, w + i),
    }));
  }
}
