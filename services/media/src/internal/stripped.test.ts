import sharp from 'sharp';
import { expandStripped, makeStripped, scaledQuantTable, strippedHeader, stripJpeg } from './stripped';

/** A `w`×`h` RGB picture with a gradient and a bright square, so a wrong decode shows. */
function pattern(w: number, h: number): sharp.Sharp {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const square = x > w / 4 && x < w / 2 && y > h / 4 && y < h / 2;
      raw[i] = square ? 250 : Math.floor((x / w) * 255);
      raw[i + 1] = square ? 240 : Math.floor((y / h) * 255);
      raw[i + 2] = 60;
    }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } });
}

/** The JPEG segments (marker, payload) up to the scan. */
function segments(jpeg: Buffer): Array<{ marker: number; payload: Buffer }> {
  const out: Array<{ marker: number; payload: Buffer }> = [];
  for (let at = 2; at < jpeg.length;) {
    const marker = jpeg[at + 1]!;
    const length = jpeg.readUInt16BE(at + 2);
    out.push({ marker, payload: jpeg.subarray(at + 4, at + 2 + length) });
    if (marker === 0xda) break;
    at += 2 + length;
  }
  return out;
}

describe('stripped thumbnails', () => {
  it('scales the IJG tables like libjpeg: quality 50 is the base table, 20 is 2.5× clamped to 255', () => {
    const flat = Array.from({ length: 64 }, (_, i) => i + 1);
    // Zig-zag starts 0, 1, 8, 16, 9, 2 in natural order.
    expect(scaledQuantTable(flat, 50).slice(0, 6)).toEqual([1, 2, 9, 17, 10, 3]);
    expect(scaledQuantTable([...flat].fill(16), 20)).toEqual(Array(64).fill(40));
    expect(scaledQuantTable([...flat].fill(121), 20)).toEqual(Array(64).fill(255));
    expect(scaledQuantTable([...flat].fill(11), 20)).toEqual(Array(64).fill(28)); // (11·250 + 50) / 100
  });

  it('builds a header of the shape clients expect: two tables, frame, four Huffman tables, scan', () => {
    const header = strippedHeader(30, 40);
    expect(header.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const segs = segments(header);
    expect(segs.map((s) => s.marker)).toEqual([0xe0, 0xdb, 0xdb, 0xc0, 0xc4, 0xc4, 0xc4, 0xc4, 0xda]);
    // Clients patch height and width into the low bytes at these fixed offsets.
    expect(header.length).toBe(623);
    expect([header[164], header[166]]).toEqual([30, 40]);
    // Each Huffman table lists as many symbols as its code lengths count.
    for (const s of segs.filter((x) => x.marker === 0xc4)) {
      const count = [...s.payload.subarray(1, 17)].reduce((a, b) => a + b, 0);
      expect(s.payload.length).toBe(17 + count);
      expect(new Set(s.payload.subarray(17)).size).toBe(count);
      expect(count).toBe(s.payload[0]! >> 4 === 0 ? 12 : 162);
    }
  });

  it('keeps only the scan, and a client header makes it a JPEG of the thumbnail again', async () => {
    const source = pattern(1600, 1200);
    const stripped = await makeStripped(source);
    expect(stripped[0]).toBe(1);
    expect([stripped[1], stripped[2]]).toEqual([30, 40]); // height, width: 40 px box
    expect(stripped.length).toBeLessThan(1000);

    const jpeg = expandStripped(stripped);
    const decoded = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    expect(decoded.info).toMatchObject({ width: 40, height: 30, channels: 3 });
    // The picture survives (at quality 20): compared with a plain 40×30 scale-down.
    const expected = await source.clone().resize(40, 30).raw().toBuffer();
    let error = 0;
    for (let i = 0; i < expected.length; i++) error += Math.abs(expected[i]! - decoded.data[i]!);
    expect(error / expected.length).toBeLessThan(12);
  });

  it('fits tall, tiny and grey pictures', async () => {
    const tall = await makeStripped(pattern(90, 400));
    expect([tall[1], tall[2]]).toEqual([40, 9]);
    const tiny = await makeStripped(pattern(7, 5));
    expect([tiny[1], tiny[2]]).toEqual([5, 7]);
    const grey = await makeStripped(pattern(64, 64).greyscale().toColourspace('srgb'));
    expect((await sharp(expandStripped(grey)).metadata()).channels).toBe(3);
  });

  it('refuses JPEGs whose tables differ from the header rather than cut them', async () => {
    const optimised = await pattern(40, 30).jpeg({ quality: 20, optimiseCoding: true }).toBuffer();
    expect(() => stripJpeg(optimised)).toThrow('differ');
    const otherQuality = await pattern(40, 30).jpeg({ quality: 50, optimiseCoding: false }).toBuffer();
    expect(() => stripJpeg(otherQuality)).toThrow('differ');
    expect(() => expandStripped(Buffer.from([2, 1, 1]))).toThrow();
  });
});
