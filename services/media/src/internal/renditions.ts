/**
 * Photos: what Telegram's servers do with an uploaded picture, done here. The client uploads one
 * image (JPEG, PNG or WebP, at most 10 MB); the server decodes it and keeps JPEG renditions that
 * fit the boxes clients ask for by letter — `s` 100 px, `m` 320, `x` 800, `y` 1280 on the longer
 * side — plus a stripped thumbnail (type `i`, stripped.ts) carried inside the message. Clients
 * pick a rendition for the screen they have and never need the original.
 *
 * Unlike documents, a photo is decoded whole in memory: it is bounded (10 MB of input, at most
 * 10000 px of width + height, so ≤ 25 Mpx decoded), and renditions cannot be made from parts.
 * Errors are Telegram's for messages.sendMedia: PHOTO_SAVE_FILE_INVALID (too big),
 * PHOTO_EXT_INVALID (not an image format photos take), PHOTO_INVALID_DIMENSIONS (over Telegram's
 * limits: width + height ≤ 10000, sides at most 20:1) and IMAGE_PROCESS_FAILED (does not decode).
 *
 * Profile photos (makeProfilePhoto) go through the same checks and are cut to a centred square in
 * Telegram's profile sizes `a` 160, `b` 320 and `c` 640 px instead.
 */
import sharp from 'sharp';
import { errors } from '../../../shared/src';
import { makeStripped } from './stripped';

/** Telegram's photo size limit (larger pictures must be sent as documents). */
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
/** Telegram's limits on a photo's dimensions. */
export const MAX_PHOTO_SIDES = 10_000;
export const MAX_PHOTO_RATIO = 20;
/** Type letter of the stripped thumbnail. */
export const STRIPPED_TYPE = 'i';
/**
 * Rendition quality: the usual trade-off for photos viewed on screens (artefacts hard to see,
 * about a third of quality 100's bytes).
 */
const RENDITION_QUALITY = 85;

/** Telegram's photo size letters Tern makes, smallest first, with their boxes. */
export const PHOTO_BOXES: ReadonlyArray<{ type: string; box: number }> = [
  { type: 's', box: 100 },
  { type: 'm', box: 320 },
  { type: 'x', box: 800 },
  { type: 'y', box: 1280 },
];

// Decoded images are not worth caching across requests (each photo is decoded once), and the
// cache would hold up to tens of MB per process.
sharp.cache(false);

/** The image formats photos take, by their magic bytes; undefined for anything else. */
export function sniffImage(bytes: Buffer): 'image/jpeg' | 'image/png' | 'image/webp' | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
    return 'image/png';
  if (
    bytes.subarray(0, 4).toString('latin1') === 'RIFF' &&
    bytes.subarray(8, 12).toString('latin1') === 'WEBP'
  )
    return 'image/webp';
  return undefined;
}

/** PHOTO_INVALID_DIMENSIONS unless `w`×`h` is a picture Telegram would take as a photo. */
export function checkDimensions(w: number, h: number): void {
  if (w < 1 || h < 1 || w + h > MAX_PHOTO_SIDES || Math.max(w, h) > MAX_PHOTO_RATIO * Math.min(w, h))
    throw errors.badRequest('PHOTO_INVALID_DIMENSIONS');
}

/**
 * Which renditions a `w`×`h` picture gets, and the box each is fitted into. A box no smaller than
 * the picture would only repeat it, so the first such box gets the picture at its own size and
 * larger ones are skipped; `s` and `m` are always made (at most the picture's size), because
 * clients expect a small and a medium one to exist.
 */
export function renditionPlan(w: number, h: number): Array<{ type: string; box: number }> {
  const longer = Math.max(w, h);
  const out: Array<{ type: string; box: number }> = [];
  for (const b of PHOTO_BOXES) {
    const previous = out[out.length - 1];
    if (previous && previous.box >= longer && b.type !== 'm') break;
    out.push({ type: b.type, box: Math.min(b.box, longer) });
  }
  return out;
}

export interface Rendition {
  type: string;
  w: number;
  h: number;
  jpeg: Buffer;
}

export interface MadePhoto {
  /** The uploaded format (sniffImage). */
  mimeType: string;
  /** Upright size of the picture as uploaded. */
  w: number;
  h: number;
  /** Smallest first. */
  renditions: Rendition[];
  /** Stripped thumbnail data (stripped.ts). */
  stripped: Buffer;
}

/** An uploaded picture opened for encoding, upright, on white, in sRGB. */
interface OpenedPhoto {
  mimeType: string;
  w: number;
  h: number;
  base: sharp.Sharp;
}

/**
 * Opens an uploaded picture: checks the size, the format by its bytes and the dimensions from the
 * header, before any pixel is decoded, and throws Telegram's errors.
 */
async function openPhoto(bytes: Buffer): Promise<OpenedPhoto> {
  if (bytes.length > MAX_PHOTO_BYTES) throw errors.badRequest('PHOTO_SAVE_FILE_INVALID');
  const mimeType = sniffImage(bytes);
  if (!mimeType) throw errors.badRequest('PHOTO_EXT_INVALID');
  // Metadata reads the header only, so the size is checked before any pixel is decoded; the
  // decode then refuses more pixels than an accepted size can have, should the data disagree.
  const open = (limitInputPixels: number | false) =>
    sharp(bytes, { limitInputPixels, failOn: 'error', animated: false });
  let meta: sharp.Metadata;
  try {
    meta = await open(false).metadata();
  } catch {
    throw errors.badRequest('IMAGE_PROCESS_FAILED');
  }
  // EXIF orientations 5..8 turn the picture a quarter: the upright width is the stored height.
  const turned = (meta.orientation ?? 1) >= 5;
  const w = (turned ? meta.height : meta.width) ?? 0;
  const h = (turned ? meta.width : meta.height) ?? 0;
  checkDimensions(w, h);
  // Upright (EXIF orientation applied), transparency on white (JPEG has no alpha), and sRGB with
  // three channels, which the stripped header requires (grey pictures included).
  const base = open((MAX_PHOTO_SIDES / 2) ** 2)
    .rotate()
    .flatten({ background: '#ffffff' })
    .toColourspace('srgb');
  return { mimeType, w, h, base };
}

/** One JPEG rendition of `image` fitted into a `box`×`box` square, never enlarged. */
async function rendition(image: sharp.Sharp, type: string, box: number): Promise<Rendition> {
  const { data, info } = await image
    .clone()
    .resize(box, box, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: RENDITION_QUALITY, chromaSubsampling: '4:2:0' })
    .toBuffer({ resolveWithObject: true });
  return { type, w: info.width, h: info.height, jpeg: data };
}

/**
 * Decodes an uploaded picture and makes its renditions and stripped thumbnail. Checks format and
 * dimensions (from the header, before decoding anything) and throws Telegram's errors.
 */
export async function makePhoto(bytes: Buffer): Promise<MadePhoto> {
  const { mimeType, w, h, base } = await openPhoto(bytes);
  const renditions: Rendition[] = [];
  try {
    for (const { type, box } of renditionPlan(w, h)) renditions.push(await rendition(base, type, box));
  } catch {
    // Pixel data that fails to decode (truncated or corrupt past a valid header).
    throw errors.badRequest('IMAGE_PROCESS_FAILED');
  }
  // The picture decoded above, so a failure here is ours (stripped.ts's table check): INTERNAL.
  return { mimeType, w, h, renditions, stripped: await makeStripped(base) };
}

/**
 * Telegram's profile photo sizes: square, `a` 160 px (what clients show in lists, and
 * inputPeerPhotoFileLocation without `big`), `b` 320 and `c` 640 (`big`).
 */
export const PROFILE_BOXES: ReadonlyArray<{ type: string; box: number }> = [
  { type: 'a', box: 160 },
  { type: 'b', box: 320 },
  { type: 'c', box: 640 },
];
/** The size letters inputPeerPhotoFileLocation downloads. */
export const PROFILE_SMALL = 'a';
export const PROFILE_BIG = 'c';
/** A profile photo fills the smallest size without being enlarged (else PHOTO_CROP_SIZE_SMALL). */
export const MIN_PROFILE_SIDE = 160;

/** The centred square a profile photo is cut to: the shorter side, at most the largest size. */
export function profileSquare(w: number, h: number): number {
  return Math.min(w, h, PROFILE_BOXES[PROFILE_BOXES.length - 1]!.box);
}

/**
 * Decodes an uploaded picture as a profile photo: the centred square (clients crop before
 * uploading, so this only trims what they did not) in every profile size, never enlarged, so a
 * picture between 160 and 640 px gets `b` and `c` at its own size; plus the stripped thumbnail.
 * Everything else is as for photos (errors, formats, limits).
 */
export async function makeProfilePhoto(bytes: Buffer): Promise<MadePhoto> {
  const { mimeType, w, h, base } = await openPhoto(bytes);
  if (Math.min(w, h) < MIN_PROFILE_SIDE) throw errors.badRequest('PHOTO_CROP_SIZE_SMALL');
  const side = profileSquare(w, h);
  const renditions: Rendition[] = [];
  let square: sharp.Sharp;
  try {
    // Cut and scaled once to the largest size (raw, ≤ 640×640×3 bytes); the sizes come from it.
    const { data, info } = await base
      .clone()
      .resize(side, side, { fit: 'cover', position: 'centre' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    square = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
    for (const { type, box } of PROFILE_BOXES) renditions.push(await rendition(square, type, box));
  } catch {
    throw errors.badRequest('IMAGE_PROCESS_FAILED');
  }
  return { mimeType, w, h, renditions, stripped: await makeStripped(square) };
}
