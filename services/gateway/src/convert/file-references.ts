/**
 * The file references clients see. Every photo and document the gateway writes to a client gets a
 * reference issued now (shared/src/files/file-reference.ts), whatever reference was stored with
 * the message: that is how a client that met FILE_REFERENCE_EXPIRED gets a working one by fetching
 * the message again.
 *
 * Process-wide, set once at start: rendering (media.ts) is pure functions called deep inside
 * every update and message conversion, and the issuer is configuration like the TL schema, not
 * per-call state. Unset (unit tests of rendering), the stored reference is shown as it is.
 */
import type { FileReferences } from '../../../shared/src';

let issuer: FileReferences | undefined;

/** Called once by the gateway's start with the deployment's key. */
export function issueFileReferencesWith(references: FileReferences): void {
  issuer = references;
}

/** The reference to show for file `id` (a photo or document id) now. */
export function currentFileReference(id: bigint, stored: Uint8Array): Buffer {
  return issuer ? issuer.issue(id) : Buffer.from(stored);
}
