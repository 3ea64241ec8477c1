/**
 * SHA-1 and SHA-256 over several buffers, as MTProto's key derivations concatenate their inputs.
 */
import { createHash } from 'node:crypto';

function digest(algorithm: 'sha1' | 'sha256', parts: readonly Buffer[]): Buffer {
  const h = createHash(algorithm);
  for (const p of parts) h.update(p);
  return h.digest();
}

export const sha1 = (...parts: Buffer[]): Buffer => digest('sha1', parts);
export const sha256 = (...parts: Buffer[]): Buffer => digest('sha256', parts);
