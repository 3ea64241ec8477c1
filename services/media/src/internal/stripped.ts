/**
 * Stripped thumbnails (TL photoStrippedSize, "Stripped thumbnails" in Telegram's file docs): a
 * JPEG of at most a few dozen pixels, shown blurred while a photo loads, carried inside the
 * message itself. To keep it to a few hundred bytes, the JPEG header — which is the same for
 * every such thumbnail except for its height and width — is cut off: the bytes are
 * `0x01, height, width` followed by the entropy-coded scan, and clients rebuild the file by
 * prefixing one fixed header (patching in height and width) and appending EOI.
 *
 * So the thumbnail must be encoded with exactly the tables that fixed header declares: baseline
 * DCT, YCbCr with 2×2 luma and 1×1 chroma sampling, the IJG quantisation tables scaled to quality
 * 20, the typical Huffman tables of ITU T.81 Annex K, and no restart markers. This module builds
 * that header from the standard tables (nothing here is copied from a client), has sharp encode
 * the thumbnail with the same settings, checks that every table sharp wrote equals the header's,
 * and keeps only the scan. A mismatch (a sharp or libjpeg change) is an error, not a thumbnail
 * that clients would decode to noise.
 */
import sharp from 'sharp';

/** Longest side of a stripped thumbnail: Telegram's are about this size. */
export const STRIPPED_BOX = 40;
/** The only quality the fixed header's quantisation tables describe. */
export const STRIPPED_QUALITY = 20;
/** Format byte that starts stripped data (the header variant clients know). */
const STRIPPED_VERSION = 1;

/** ITU T.81 Annex K.1: luminance quantisation table, in natural (row-major) order. */
const LUMA_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22,
  29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103,
  121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];

/** Annex K.1: chrominance quantisation table: a 4×4 corner that grows, 99 everywhere else. */
const CHROMA_QUANT = (() => {
  const corner = [
    [17, 18, 24, 47],
    [18, 21, 26, 66],
    [24, 26, 56, 99],
    [47, 66, 99, 99],
  ];
  return Array.from({ length: 64 }, (_, i) => corner[i >> 3]?.[i & 7] ?? 99);
})();

/** Positions of the natural-order coefficients in the zig-zag order DQT segments use. */
const ZIGZAG: number[] = (() => {
  const order: number[] = [];
  for (let s = 0; s < 15; s++) {
    // Anti-diagonal s (row + col = s), walked up-right on even s and down-left on odd s.
    const cells: number[] = [];
    for (let r = 0; r < 8; r++) {
      const c = s - r;
      if (c >= 0 && c < 8) cells.push(r * 8 + c);
    }
    order.push(...(s % 2 === 0 ? cells.reverse() : cells));
  }
  return order;
})();

/**
 * The IJG (libjpeg) scaling of a base table to `quality`, clamped to 1..255 as baseline JPEG
 * requires, in zig-zag order.
 */
export function scaledQuantTable(base: readonly number[], quality: number): number[] {
  const scale = quality < 50 ? Math.floor(5000 / quality) : 200 - quality * 2;
  return ZIGZAG.map((i) => Math.min(255, Math.max(1, Math.floor((base[i]! * scale + 50) / 100))));
}

interface Huffman {
  /** Codes of each length 1..16. */
  bits: number[];
  /** Symbols in code order. */
  values: number[];
}

/**
 * Annex K.3's AC tables list their 162 symbols (run << 4 | size, plus EOB 0x00 and ZRL 0xF0) with
 * the common ones first; the rest, all 16-bit codes, are simply every remaining symbol in
 * ascending order. So a table is its list of short codes plus that rule.
 */
function acTable(bits: number[], shortCodes: number[]): Huffman {
  const all = [0x00, 0xf0];
  for (let run = 0; run < 16; run++) for (let size = 1; size <= 10; size++) all.push((run << 4) | size);
  const rest = all.filter((v) => !shortCodes.includes(v)).sort((a, b) => a - b);
  return { bits, values: [...shortCodes, ...rest] };
}

const DC_VALUES = Array.from({ length: 12 }, (_, i) => i);

/** Annex K.3.1–K.3.2: the "typical" Huffman tables (not optimised per image). */
const HUFFMAN = {
  dcLuma: { bits: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], values: DC_VALUES },
  dcChroma: { bits: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], values: DC_VALUES },
  acLuma: acTable(
    [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
    [
      0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22,
      0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24, 0x33,
      0x62, 0x72, 0x82,
    ],
  ),
  acChroma: acTable(
    [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
    [
      0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13,
      0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15, 0x62,
      0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1,
    ],
  ),
} satisfies Record<string, Huffman>;

/** One marker segment: FF, marker, 16-bit length (which counts itself), payload. */
function segment(marker: number, payload: number[]): Buffer {
  const out = Buffer.alloc(4 + payload.length);
  out[0] = 0xff;
  out[1] = marker;
  out.writeUInt16BE(payload.length + 2, 2);
  Buffer.from(payload).copy(out, 4);
  return out;
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);
const SOF0 = 0xc0;
const DHT = 0xc4;
const SOS = 0xda;
const DQT = 0xdb;
const APP0 = 0xe0;

/**
 * The segments after SOI and APP0, in the order clients' fixed header has them: two quantisation
 * tables, the frame header, four Huffman tables, the scan header. Height and width sit in the
 * frame header.
 */
function tableSegments(height: number, width: number): Buffer {
  const dht = (cls: number, id: number, t: Huffman) =>
    segment(DHT, [(cls << 4) | id, ...t.bits, ...t.values]);
  return Buffer.concat([
    segment(DQT, [0x00, ...scaledQuantTable(LUMA_QUANT, STRIPPED_QUALITY)]),
    segment(DQT, [0x01, ...scaledQuantTable(CHROMA_QUANT, STRIPPED_QUALITY)]),
    // 8-bit samples; three components: Y (id 1, 2×2 sampling, table 0), Cb and Cr (1×1, table 1).
    segment(SOF0, [
      8,
      height >> 8,
      height & 0xff,
      width >> 8,
      width & 0xff,
      3,
      1,
      0x22,
      0,
      2,
      0x11,
      1,
      3,
      0x11,
      1,
    ]),
    dht(0, 0, HUFFMAN.dcLuma),
    dht(1, 0, HUFFMAN.acLuma),
    dht(0, 1, HUFFMAN.dcChroma),
    dht(1, 1, HUFFMAN.acChroma),
    // All three components in one scan (Y: tables 0/0, Cb and Cr: 1/1), coefficients 0..63.
    segment(SOS, [3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]),
  ]);
}

/**
 * The header a client puts before stripped data: SOI, a JFIF APP0 (version 1.1, no density
 * units, 1:1) and the table segments.
 */
export function strippedHeader(height: number, width: number): Buffer {
  const jfif = segment(APP0, [0x4a, 0x46, 0x49, 0x46, 0x00, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  return Buffer.concat([SOI, jfif, tableSegments(height, width)]);
}

/** A complete JPEG from stripped data (what clients do; used by tests and tools). */
export function expandStripped(stripped: Uint8Array): Buffer {
  if (stripped.length < 3 || stripped[0] !== STRIPPED_VERSION) throw new Error('not stripped thumbnail data');
  return Buffer.concat([strippedHeader(stripped[1]!, stripped[2]!), stripped.subarray(3), EOI]);
}

/**
 * Cuts a baseline JPEG made with the fixed header's tables down to stripped data. `jpeg` must be
 * SOI, then (APPn segments, skipped, then) exactly the header's table segments, the scan, EOI.
 */
export function stripJpeg(jpeg: Buffer): Buffer {
  if (!jpeg.subarray(0, 2).equals(SOI) || !jpeg.subarray(-2).equals(EOI)) throw new Error('not a JPEG');
  let at = 2;
  // Metadata segments (APP0..APP15, COM) carry nothing the picture needs.
  while (jpeg[at] === 0xff && ((jpeg[at + 1]! >= 0xe0 && jpeg[at + 1]! <= 0xef) || jpeg[at + 1] === 0xfe))
    at += 2 + jpeg.readUInt16BE(at + 2);
  // The frame header follows the two DQT segments; read the size it declares.
  const sof = at + 2 * (4 + 65);
  if (jpeg[sof] !== 0xff || jpeg[sof + 1] !== SOF0)
    throw new Error('JPEG tables differ from the stripped header');
  const height = jpeg.readUInt16BE(sof + 5);
  const width = jpeg.readUInt16BE(sof + 7);
  if (height < 1 || width < 1 || height > 255 || width > 255)
    throw new Error('too large for a stripped thumbnail');
  const tables = tableSegments(height, width);
  if (!jpeg.subarray(at, at + tables.length).equals(tables))
    throw new Error('JPEG tables differ from the stripped header');
  const scan = jpeg.subarray(at + tables.length, jpeg.length - 2);
  return Buffer.concat([Buffer.from([STRIPPED_VERSION, height, width]), scan]);
}

/**
 * The stripped thumbnail of an image sharp has open (already oriented and flattened): at most
 * STRIPPED_BOX on its longer side, encoded with the header's tables and cut.
 */
export async function makeStripped(image: sharp.Sharp): Promise<Buffer> {
  const jpeg = await image
    .clone()
    .resize(STRIPPED_BOX, STRIPPED_BOX, { fit: 'inside', withoutEnlargement: true })
    .jpeg({
      quality: STRIPPED_QUALITY,
      chromaSubsampling: '4:2:0',
      // The header's fixed tables: Annex K quantisation (table 0) and Huffman tables, baseline.
      quantisationTable: 0,
      optimiseCoding: false,
      progressive: false,
      trellisQuantisation: false,
      overshootDeringing: false,
      optimiseScans: false,
    })
    .toBuffer();
  return stripJpeg(jpeg);
}
