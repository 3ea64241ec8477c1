import sharp from 'sharp';
import {
  checkDimensions,
  makePhoto,
  makeProfilePhoto,
  profileSquare,
  renditionPlan,
  sniffImage,
} from './renditions';
import { expandStripped } from './stripped';

/** A `w`×`h` picture with a pattern (`channels` 3 or 4), encoded by `encode`. */
async function picture(
  w: number,
  h: number,
  encode: (s: sharp.Sharp) => sharp.Sharp = (s) => s.jpeg(),
  channels: 3 | 4 = 3,
): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * channels);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 31 + Math.floor(i / (w * channels)) * 7) % 256;
  return encode(sharp(raw, { raw: { width: w, height: h, channels } })).toBuffer();
}

/** The CRC-32 PNG chunks end with. */
function crc32(bytes: Buffer): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

/** A PNG whose header claims `w`×`h` (pixels are never decoded when the size is refused). */
async function pngClaiming(w: number, h: number): Promise<Buffer> {
  const png = Buffer.from(await picture(8, 8, (s) => s.png()));
  // Signature (8), IHDR length and type (8), then width and height; the chunk's CRC after 13 bytes.
  png.writeUInt32BE(w, 16);
  png.writeUInt32BE(h, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (e: Error) => e.message,
  );

describe('photo renditions', () => {
  it('takes JPEG, PNG and WebP by their bytes, not their names', async () => {
    expect(sniffImage(await picture(4, 4))).toBe('image/jpeg');
    expect(sniffImage(await picture(4, 4, (s) => s.png()))).toBe('image/png');
    expect(sniffImage(await picture(4, 4, (s) => s.webp()))).toBe('image/webp');
    expect(sniffImage(await picture(4, 4, (s) => s.gif()))).toBeUndefined();
    expect(sniffImage(Buffer.from('%PDF-1.7'))).toBeUndefined();
  });

  it('applies Telegram’s dimension limits: width + height ≤ 10000, at most 20:1', () => {
    expect(() => checkDimensions(9000, 1000)).not.toThrow();
    expect(() => checkDimensions(9001, 1000)).toThrow('PHOTO_INVALID_DIMENSIONS');
    expect(() => checkDimensions(2000, 100)).not.toThrow();
    expect(() => checkDimensions(100, 2001)).toThrow('PHOTO_INVALID_DIMENSIONS');
    expect(() => checkDimensions(0, 10)).toThrow('PHOTO_INVALID_DIMENSIONS');
  });

  it('plans the sizes a picture has detail for, s and m always', () => {
    const plan = (w: number, h: number) => renditionPlan(w, h).map((p) => `${p.type}${p.box}`);
    expect(plan(1600, 1200)).toEqual(['s100', 'm320', 'x800', 'y1280']);
    expect(plan(1000, 1400)).toEqual(['s100', 'm320', 'x800', 'y1280']);
    expect(plan(1000, 500)).toEqual(['s100', 'm320', 'x800', 'y1000']);
    expect(plan(800, 600)).toEqual(['s100', 'm320', 'x800']);
    expect(plan(200, 100)).toEqual(['s100', 'm200']);
    expect(plan(50, 40)).toEqual(['s50', 'm50']);
  });

  it('makes JPEG renditions of the advertised sizes and a stripped thumbnail', async () => {
    const made = await makePhoto(await picture(1600, 1200));
    expect(made).toMatchObject({ mimeType: 'image/jpeg', w: 1600, h: 1200 });
    expect(made.renditions.map((r) => [r.type, r.w, r.h])).toEqual([
      ['s', 100, 75],
      ['m', 320, 240],
      ['x', 800, 600],
      ['y', 1280, 960],
    ]);
    for (const r of made.renditions) {
      const meta = await sharp(r.jpeg).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', r.w, r.h]);
    }
    const thumb = await sharp(expandStripped(made.stripped)).metadata();
    expect([thumb.width, thumb.height]).toEqual([40, 30]);
  });

  it('turns pictures upright, and puts transparency on white', async () => {
    // Stored 300×200 with EXIF orientation 6 (rotate 90°): shown 200×300.
    const turned = await makePhoto(await picture(300, 200, (s) => s.jpeg().withMetadata({ orientation: 6 })));
    expect([turned.w, turned.h]).toEqual([200, 300]);
    expect(turned.renditions.map((r) => [r.type, r.w, r.h])).toEqual([
      ['s', 67, 100],
      ['m', 200, 300],
    ]);
    const clear = await makePhoto(await picture(64, 64, (s) => s.png(), 4));
    expect(clear.mimeType).toBe('image/png');
    expect((await sharp(clear.renditions[0]!.jpeg).metadata()).channels).toBe(3);
  });

  it('answers Telegram’s errors for pictures it cannot take', async () => {
    expect(await codeOf(makePhoto(Buffer.from('just some text, not a picture')))).toBe('PHOTO_EXT_INVALID');
    expect(await codeOf(makePhoto(await picture(4, 4, (s) => s.gif())))).toBe('PHOTO_EXT_INVALID');
    const broken = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7)]);
    expect(await codeOf(makePhoto(broken))).toBe('IMAGE_PROCESS_FAILED');
    expect(await codeOf(makePhoto(await pngClaiming(30_000, 20_000)))).toBe('PHOTO_INVALID_DIMENSIONS');
    expect(await codeOf(makePhoto(await pngClaiming(4000, 100)))).toBe('PHOTO_INVALID_DIMENSIONS');
    expect(await codeOf(makePhoto(Buffer.alloc(11 * 1024 * 1024, 0xff)))).toBe('PHOTO_SAVE_FILE_INVALID');
  });
});

describe('profile photo renditions', () => {
  it('cuts a centred square no larger than the largest size', () => {
    expect(profileSquare(1600, 1200)).toBe(640);
    expect(profileSquare(300, 500)).toBe(300);
    expect(profileSquare(160, 160)).toBe(160);
  });

  it('makes the square sizes a, b and c, never enlarged, and a square stripped thumbnail', async () => {
    const big = await makeProfilePhoto(await picture(1600, 1200));
    expect(big.renditions.map((r) => [r.type, r.w, r.h])).toEqual([
      ['a', 160, 160],
      ['b', 320, 320],
      ['c', 640, 640],
    ]);
    for (const r of big.renditions) {
      const meta = await sharp(r.jpeg).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', r.w, r.h]);
    }
    const thumb = await sharp(expandStripped(big.stripped)).metadata();
    expect([thumb.width, thumb.height]).toEqual([40, 40]);

    const small = await makeProfilePhoto(await picture(200, 300, (s) => s.png()));
    expect(small.renditions.map((r) => [r.type, r.w, r.h])).toEqual([
      ['a', 160, 160],
      ['b', 200, 200],
      ['c', 200, 200],
    ]);
  });

  it('refuses pictures too small for the smallest size, and what photos refuse', async () => {
    expect(await codeOf(makeProfilePhoto(await picture(400, 150)))).toBe('PHOTO_CROP_SIZE_SMALL');
    expect(await codeOf(makeProfilePhoto(Buffer.from('not a picture')))).toBe('PHOTO_EXT_INVALID');
    expect(await codeOf(makeProfilePhoto(await pngClaiming(4000, 100)))).toBe('PHOTO_INVALID_DIMENSIONS');
  });
});
