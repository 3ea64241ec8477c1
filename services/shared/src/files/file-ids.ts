/**
 * Photo and document ids (one id space). A file lives in the DC that received its upload, and its
 * id says which: any service can route a request about a file to its DC (the media service answers
 * FILE_MIGRATE_X, messaging sends a re-sent file's grant there) without a lookup.
 */
import { randomBytes } from 'node:crypto';

const DC_SHIFT = 56n;

/** A new photo/document id: the holding DC in bits 56..62, 56 random bits below. */
export function newFileId(dcId: number): bigint {
  return (BigInt(dcId) << DC_SHIFT) | (randomBytes(8).readBigUInt64BE() & ((1n << DC_SHIFT) - 1n));
}

/** The DC a photo/document id was issued by (newFileId). */
export const dcOfFileId = (id: bigint): number => Number(id >> DC_SHIFT);
