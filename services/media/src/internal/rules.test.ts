import { TernError } from '../../../shared/src';
import {
  checkAttributes,
  checkCompletion,
  checkMime,
  checkPart,
  checkRange,
  isValidPartSize,
  MAX_PART_SIZE,
  partsOfRange,
} from './rules';

/** The Telegram error name `fn` throws (or '' when it does not throw). */
function errorOf(fn: () => unknown): string {
  try {
    fn();
    return '';
  } catch (err) {
    if (err instanceof TernError) return err.telegramName;
    throw err;
  }
}

const KIB = 1024;
const small = { big: false, totalParts: 0 };

describe('part sizes', () => {
  it('accepts only 1 KiB multiples that divide 512 KiB', () => {
    expect([1, 2, 4, 8, 16, 32, 64, 128, 256, 512].every((k) => isValidPartSize(k * KIB))).toBe(true);
    expect(isValidPartSize(3 * KIB)).toBe(false);
    expect(isValidPartSize(1000)).toBe(false);
    expect(isValidPartSize(1024 * KIB)).toBe(false);
  });

  it('refuses empty, oversized and out-of-range parts', () => {
    expect(errorOf(() => checkPart({ part: 0, size: 0, ...small }))).toBe('FILE_PART_EMPTY');
    expect(errorOf(() => checkPart({ part: 0, size: MAX_PART_SIZE + 1, ...small }))).toBe(
      'FILE_PART_TOO_BIG',
    );
    expect(errorOf(() => checkPart({ part: -1, size: KIB, ...small }))).toBe('FILE_PART_INVALID');
    expect(errorOf(() => checkPart({ part: 4000, size: KIB, ...small }))).toBe('FILE_PART_INVALID');
    // A small upload cannot reach past 10 MiB.
    expect(errorOf(() => checkPart({ part: 20, size: 512 * KIB, ...small }))).toBe('FILE_PARTS_INVALID');
    expect(errorOf(() => checkPart({ part: 19, size: 512 * KIB, ...small }))).toBe('');
  });

  it('checks big parts against the declared total', () => {
    const big = (part: number, size: number, totalParts: number) =>
      checkPart({ part, size, big: true, totalParts });
    expect(errorOf(() => big(0, 512 * KIB, 0))).toBe('FILE_PARTS_INVALID');
    expect(errorOf(() => big(3, 512 * KIB, 3))).toBe('FILE_PART_INVALID');
    expect(errorOf(() => big(0, 3 * KIB, 3))).toBe('FILE_PART_SIZE_INVALID');
    expect(errorOf(() => big(2, 3 * KIB, 3))).toBe(''); // the last part may be any size
  });
});

describe('completion', () => {
  const sizes = (...s: number[]) => new Map(s.map((n, i) => [i, n]));

  it('names the first missing part', () => {
    const m = sizes(512 * KIB, 512 * KIB);
    m.delete(1);
    m.set(2, 100);
    expect(errorOf(() => checkCompletion(m, 3, small, false))).toBe('FILE_PART_1_MISSING');
  });

  it('computes the layout of uniform parts with a shorter last part', () => {
    expect(checkCompletion(sizes(128 * KIB, 128 * KIB, 7), 3, small, false)).toEqual({
      partSize: 128 * KIB,
      parts: 3,
      size: 256 * KIB + 7,
    });
    expect(checkCompletion(sizes(777), 1, small, false)).toEqual({ partSize: 777, parts: 1, size: 777 });
  });

  it('refuses mixed sizes, a count that does not match, and small uploads over 10 MiB', () => {
    expect(errorOf(() => checkCompletion(sizes(128 * KIB, 64 * KIB, 7), 3, small, false))).toBe(
      'FILE_PART_SIZE_CHANGED',
    );
    expect(errorOf(() => checkCompletion(sizes(3 * KIB, 1), 2, small, false))).toBe('FILE_PART_SIZE_INVALID');
    expect(errorOf(() => checkCompletion(sizes(KIB, 2 * KIB), 2, small, false))).toBe(
      'FILE_PART_SIZE_INVALID',
    );
    expect(errorOf(() => checkCompletion(sizes(KIB, KIB, KIB), 2, small, false))).toBe('FILE_PARTS_INVALID');
    expect(errorOf(() => checkCompletion(sizes(KIB), 1, { big: true, totalParts: 1 }, false))).toBe(
      'FILE_PARTS_INVALID',
    );
    expect(errorOf(() => checkCompletion(sizes(KIB), 1, { big: true, totalParts: 2 }, true))).toBe(
      'FILE_PARTS_INVALID',
    );
    const over = new Map(Array.from({ length: 21 }, (_, i) => [i, 512 * KIB]));
    expect(errorOf(() => checkCompletion(over, 21, small, false))).toBe('FILE_PARTS_INVALID');
    expect(checkCompletion(over, 21, { big: true, totalParts: 21 }, true).size).toBe(21 * 512 * KIB);
  });
});

describe('getFile ranges', () => {
  it('enforces limit and offset rules', () => {
    expect(errorOf(() => checkRange(0n, 0, false))).toBe('LIMIT_INVALID');
    expect(errorOf(() => checkRange(0n, 1024 * KIB + 4 * KIB, false))).toBe('LIMIT_INVALID');
    expect(errorOf(() => checkRange(0n, 5000, false))).toBe('LIMIT_INVALID');
    expect(errorOf(() => checkRange(0n, 12 * KIB, false))).toBe('LIMIT_INVALID'); // does not divide 1 MiB
    expect(errorOf(() => checkRange(1000n, 4 * KIB, false))).toBe('OFFSET_INVALID');
    expect(errorOf(() => checkRange(-4096n, 4 * KIB, false))).toBe('OFFSET_INVALID');
    // Crosses a 1 MiB boundary.
    expect(errorOf(() => checkRange(BigInt(1020 * KIB), 8 * KIB, false))).toBe('OFFSET_INVALID');
    expect(errorOf(() => checkRange(BigInt(512 * KIB), 512 * KIB, false))).toBe('');
    expect(errorOf(() => checkRange(BigInt(5 * KIB), 12 * KIB, true))).toBe(''); // precise: 1 KiB units
    expect(errorOf(() => checkRange(BigInt(1020 * KIB), 8 * KIB, true))).toBe('OFFSET_INVALID');
  });

  it('maps a range onto part objects and stops at the end of the content', () => {
    const layout = { partSize: 128 * KIB, parts: 3, size: 300 * KIB };
    expect(partsOfRange(120 * KIB, 16 * KIB, layout)).toEqual([
      { part: 0, from: 120 * KIB, length: 8 * KIB },
      { part: 1, from: 0, length: 8 * KIB },
    ]);
    expect(partsOfRange(256 * KIB, 1024 * KIB, layout)).toEqual([{ part: 2, from: 0, length: 44 * KIB }]);
    expect(partsOfRange(300 * KIB, 4 * KIB, layout)).toEqual([]);
  });
});

describe('what a document declares', () => {
  it('lower-cases MIME types, defaults an empty one and refuses what is not type/subtype', () => {
    expect(checkMime(' Image/PNG ')).toBe('image/png');
    expect(checkMime('')).toBe('application/octet-stream');
    expect(errorOf(() => checkMime('png'))).toBe('MIME_TYPE_INVALID');
    expect(errorOf(() => checkMime('text/html; charset=utf-8'))).toBe('MIME_TYPE_INVALID');
    expect(errorOf(() => checkMime(`a/${'b'.repeat(255)}`))).toBe('MIME_TYPE_INVALID');
  });

  it('adds the upload name when no fileName attribute was sent, and bounds the attributes', () => {
    expect(checkAttributes([], 'a.pdf')).toEqual([{ kind: { $case: 'fileName', value: 'a.pdf' } }]);
    const named = [{ kind: { $case: 'fileName' as const, value: 'b.pdf' } }];
    expect(checkAttributes(named, 'a.pdf')).toEqual(named);
    expect(checkAttributes([{ kind: undefined }], '')).toEqual([]);
    expect(errorOf(() => checkAttributes(Array(17).fill(named[0]), ''))).toBe('MEDIA_INVALID');
    expect(
      errorOf(() => checkAttributes([{ kind: { $case: 'fileName', value: 'x'.repeat(256) } }], '')),
    ).toBe('MEDIA_INVALID');
  });
});
