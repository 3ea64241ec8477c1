/**
 * What a client may send: Telegram's size rules for uploads and downloads ("Uploading and
 * Downloading Files") and what a document may declare about itself (MIME type, attributes), as
 * pure functions so they are unit-tested apart from storage. Each throws the error a Telegram
 * server answers with, so clients written against Telegram react the same way here.
 */
import { errors } from '../../../shared/src';
import type { DocumentAttribute } from '../../../shared/src/gen/tern/common/v1/media';

export const KIB = 1024;
export const MIB = 1024 * KIB;
/** Largest part saveFilePart / saveBigFilePart accept. */
export const MAX_PART_SIZE = 512 * KIB;
/** Files up to this size are uploaded with saveFilePart, larger ones with saveBigFilePart. */
export const SMALL_FILE_MAX = 10 * MIB;
/** Parts per upload: 4000 × 512 KiB = 2000 MiB, Telegram's file size limit for non-premium users. */
export const MAX_PARTS = 4000;
/** Largest getFile limit, and the window no single getFile may cross. */
export const DOWNLOAD_WINDOW = MIB;

/** A size every part but the last must have: a multiple of 1 KiB that divides 512 KiB. */
export const isValidPartSize = (n: number): boolean => n > 0 && n % KIB === 0 && MAX_PART_SIZE % n === 0;

export interface PartToSave {
  part: number;
  size: number;
  big: boolean;
  /** saveBigFilePart's file_total_parts (0 for small uploads). */
  totalParts: number;
}

/**
 * What can be checked on one part before storing it. The last part of an upload may be any size
 * up to 512 KiB; a small upload does not say which part is last, so uniform sizes are checked on
 * completion (checkCompletion).
 */
export function checkPart(p: PartToSave): void {
  if (p.size === 0) throw errors.badRequest('FILE_PART_EMPTY');
  if (p.size > MAX_PART_SIZE) throw errors.badRequest('FILE_PART_TOO_BIG');
  if (!Number.isInteger(p.part) || p.part < 0 || p.part >= MAX_PARTS)
    throw errors.badRequest('FILE_PART_INVALID');
  if (p.big) {
    if (p.totalParts < 1 || p.totalParts > MAX_PARTS) throw errors.badRequest('FILE_PARTS_INVALID');
    if (p.part >= p.totalParts) throw errors.badRequest('FILE_PART_INVALID');
    if (p.part < p.totalParts - 1 && !isValidPartSize(p.size))
      throw errors.badRequest('FILE_PART_SIZE_INVALID');
  } else if (p.part * p.size >= SMALL_FILE_MAX) {
    // Parts before this one are at least this size, so it would start past 10 MiB.
    throw errors.badRequest('FILE_PARTS_INVALID');
  }
}

/** What an upload looks like once assembled. */
export interface Layout {
  /** Size of every part but the last. */
  partSize: number;
  parts: number;
  size: number;
}

/**
 * Checks that the saved parts (`sizes`: part → bytes) make up the file the client declared with
 * `parts` parts: every part present, all but the last the same valid size, the last no bigger.
 */
export function checkCompletion(
  sizes: ReadonlyMap<number, number>,
  parts: number,
  upload: { big: boolean; totalParts: number },
  declaredBig: boolean,
): Layout {
  if (!Number.isInteger(parts) || parts < 1 || parts > MAX_PARTS)
    throw errors.badRequest('FILE_PARTS_INVALID');
  if (sizes.size > 0 && upload.big !== declaredBig) throw errors.badRequest('FILE_PARTS_INVALID');
  if (declaredBig && upload.totalParts !== parts) throw errors.badRequest('FILE_PARTS_INVALID');
  for (let i = 0; i < parts; i++) if (!sizes.has(i)) throw errors.badRequest(`FILE_PART_${i}_MISSING`);
  for (const p of sizes.keys()) if (p >= parts) throw errors.badRequest('FILE_PARTS_INVALID');
  const first = sizes.get(0)!;
  const last = sizes.get(parts - 1)!;
  if (parts > 1) {
    if (!isValidPartSize(first)) throw errors.badRequest('FILE_PART_SIZE_INVALID');
    for (let i = 1; i < parts - 1; i++)
      if (sizes.get(i) !== first) throw errors.badRequest('FILE_PART_SIZE_CHANGED');
    if (last > first) throw errors.badRequest('FILE_PART_SIZE_INVALID');
  }
  const partSize = parts > 1 ? first : last;
  const size = partSize * (parts - 1) + last;
  if (!declaredBig && size > SMALL_FILE_MAX) throw errors.badRequest('FILE_PARTS_INVALID');
  return { partSize, parts, size };
}

/**
 * upload.getFile's offset/limit rules: limit at most 1 MiB; offset and limit multiples of 4 KiB
 * and 1 MiB divisible by limit (with `precise`: multiples of 1 KiB); and the requested range never
 * crosses a 1 MiB boundary. The window rule is what lets a server serve any request from one
 * aligned chunk; Tern keeps it so clients that work here work on Telegram.
 */
export function checkRange(offset: bigint, limit: number, precise: boolean): void {
  if (!Number.isInteger(limit) || limit <= 0 || limit > DOWNLOAD_WINDOW)
    throw errors.badRequest('LIMIT_INVALID');
  if (offset < 0n) throw errors.badRequest('OFFSET_INVALID');
  const unit = precise ? KIB : 4 * KIB;
  if (limit % unit !== 0) throw errors.badRequest('LIMIT_INVALID');
  if (!precise && DOWNLOAD_WINDOW % limit !== 0) throw errors.badRequest('LIMIT_INVALID');
  if (offset % BigInt(unit) !== 0n) throw errors.badRequest('OFFSET_INVALID');
  const w = BigInt(DOWNLOAD_WINDOW);
  if (offset / w !== (offset + BigInt(limit) - 1n) / w) throw errors.badRequest('OFFSET_INVALID');
}

/**
 * The part objects a range of content covers: [part index, offset in it, length], in order.
 * `size` is the content size; the range is cut at the end of the content.
 */
export function partsOfRange(
  offset: number,
  limit: number,
  layout: Layout,
): Array<{ part: number; from: number; length: number }> {
  const end = Math.min(offset + limit, layout.size);
  const out: Array<{ part: number; from: number; length: number }> = [];
  for (let pos = offset; pos < end;) {
    const part = Math.floor(pos / layout.partSize);
    const from = pos - part * layout.partSize;
    const length = Math.min(layout.partSize - from, end - pos);
    out.push({ part, from, length });
    pos += length;
  }
  return out;
}

/** Longest MIME type and file name accepted (Telegram's are similar). */
export const MAX_MIME = 255;
export const MAX_NAME = 255;
/** Attributes per document: the kinds Tern knows fit many times over. */
export const MAX_ATTRIBUTES = 16;
/** Longest voice-note waveform an audio attribute may carry. */
export const MAX_WAVEFORM = 1024;

/**
 * A document's MIME type, lower-cased (application/octet-stream when none is given). It must look
 * like type/subtype: anything else is refused (MIME_TYPE_INVALID) rather than stored and echoed.
 */
export function checkMime(mime: string): string {
  const m = mime.trim().toLowerCase() || 'application/octet-stream';
  if (m.length > MAX_MIME || !/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(m))
    throw errors.badRequest('MIME_TYPE_INVALID');
  return m;
}

/**
 * A document's attributes as stored: bounded in number and size (MEDIA_INVALID), empty ones
 * dropped, and a fileName attribute added from the upload's `name` when the client sent none.
 */
export function checkAttributes(attrs: DocumentAttribute[], name: string): DocumentAttribute[] {
  if (attrs.length > MAX_ATTRIBUTES) throw errors.badRequest('MEDIA_INVALID');
  const out = attrs.filter((a) => a.kind !== undefined);
  for (const a of out) {
    if (a.kind?.$case === 'fileName' && a.kind.value.length > MAX_NAME)
      throw errors.badRequest('MEDIA_INVALID');
    if (a.kind?.$case === 'audio' && a.kind.value.waveform.length > MAX_WAVEFORM)
      throw errors.badRequest('MEDIA_INVALID');
  }
  // A document always shows a name when the upload had one (GramJS sends it on both).
  if (name && !out.some((a) => a.kind?.$case === 'fileName'))
    out.push({ kind: { $case: 'fileName', value: name.slice(0, MAX_NAME) } });
  return out;
}
