import { randomBytes } from 'node:crypto';
import { FileReferences, FILE_REFERENCE_BYTES, parseFileReferenceKey } from './file-reference';

describe('file references', () => {
  const key = randomBytes(32);
  const refs = new FileReferences(key, 3600);
  const id = (2n << 56n) | 12345n;
  const t0 = Date.UTC(2026, 10, 23, 12, 0, 0);

  it('accepts a reference it issued within its lifetime, and only for that file', () => {
    const ref = refs.issue(id, t0);
    expect(ref).toHaveLength(FILE_REFERENCE_BYTES);
    expect(refs.check(id, ref, t0)).toBe('valid');
    expect(refs.check(id, ref, t0 + 3600_000)).toBe('valid');
    expect(refs.check(id + 1n, ref, t0)).toBe('invalid');
    // A different deployment (key) does not accept it.
    expect(new FileReferences(randomBytes(32), 3600).check(id, ref, t0)).toBe('invalid');
  });

  it('expires after the lifetime, and a fresh one works again', () => {
    const ref = refs.issue(id, t0);
    expect(refs.check(id, ref, t0 + 3601_000)).toBe('expired');
    expect(refs.check(id, refs.issue(id, t0 + 3601_000), t0 + 3601_000)).toBe('valid');
  });

  it('refuses forged, truncated and future-dated references', () => {
    const ref = refs.issue(id, t0);
    const flipped = Buffer.from(ref);
    flipped[FILE_REFERENCE_BYTES - 1]! ^= 1;
    expect(refs.check(id, flipped, t0)).toBe('invalid');
    // Moving the issue time forward without the key breaks the tag.
    const redated = Buffer.from(ref);
    redated.writeUInt32BE(redated.readUInt32BE(1) + 7200, 1);
    expect(refs.check(id, redated, t0 + 7200_000)).toBe('invalid');
    expect(refs.check(id, ref.subarray(0, 10), t0)).toBe('invalid');
    expect(refs.check(id, Buffer.alloc(0), t0)).toBe('invalid');
    // Issued by a gateway whose clock is far ahead.
    expect(refs.check(id, refs.issue(id, t0 + 600_000), t0)).toBe('invalid');
  });

  it('reads keys as hex, base64 or raw bytes, and refuses short ones', () => {
    expect(parseFileReferenceKey(Buffer.from(`${key.toString('hex')}\n`))).toEqual(key);
    expect(parseFileReferenceKey(Buffer.from(key.toString('base64')))).toEqual(key);
    expect(() => parseFileReferenceKey(Buffer.from('abcd'))).toThrow(/at least 32/);
  });
});
