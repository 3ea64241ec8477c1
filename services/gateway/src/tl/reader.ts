/**
 * Bounds-checked reader of TL's binary primitives (all little-endian, 4-byte aligned). Every read
 * checks the remaining length first, so malformed input raises TlDecodeError and never reads past
 * the buffer. Limits on vector length and nesting depth live here too, because they are what
 * stops hostile input from making the decoder allocate or recurse without bound.
 */
import { TlDecodeError } from './errors';

export { TlDecodeError } from './errors';

/** Limits a reader enforces; the defaults suit client requests to the gateway. */
export interface TlReaderLimits {
  /** Largest element count a vector may announce. */
  maxVectorLength: number;
  /** Deepest nesting of objects/vectors. */
  maxDepth: number;
}

export const DEFAULT_LIMITS: Readonly<TlReaderLimits> = {
  // Telegram's own limits are far lower (e.g. 100 ids per request); 1M leaves room for service
  // vectors (msgs_ack) while bounding what one frame can claim.
  maxVectorLength: 1 << 20,
  // Real objects nest < 20 deep (invokeWithLayer → initConnection → method → …).
  maxDepth: 64,
};

export const BOOL_TRUE = 0x997275b5;
export const BOOL_FALSE = 0xbc799737;
export const VECTOR_ID = 0x1cb5c415;

export class TlReader {
  private at = 0;
  private depth = 0;
  readonly limits: Readonly<TlReaderLimits>;

  constructor(
    private readonly buf: Buffer,
    limits: Partial<TlReaderLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.at;
  }
  get remaining(): number {
    return this.buf.length - this.at;
  }

  private need(n: number): void {
    if (n < 0 || this.at + n > this.buf.length)
      throw new TlDecodeError(
        `read of ${n} bytes at offset ${this.at} runs past the end (${this.buf.length})`,
      );
  }

  /** A reader over other bytes (an inflated gzip_packed) that shares this one's limits and depth. */
  child(buf: Buffer): TlReader {
    const r = new TlReader(buf, this.limits);
    r.depth = this.depth;
    r.inflated = true;
    return r;
  }

  /** Whether these bytes came out of a gzip_packed (which may not hold another one). */
  inflated = false;

  /** Enters one nesting level; throws past the depth limit. Pair with leave(). */
  enter(): void {
    if (++this.depth > this.limits.maxDepth)
      throw new TlDecodeError(`nesting deeper than ${this.limits.maxDepth}`);
  }
  leave(): void {
    this.depth--;
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }
  /** The next uint32 without consuming it (to peek at a constructor id). */
  peekUint32(): number {
    this.need(4);
    return this.buf.readUInt32LE(this.at);
  }
  int(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.at);
    this.at += 4;
    return v;
  }
  long(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64LE(this.at);
    this.at += 8;
    return v;
  }
  double(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }
  int128(): Buffer {
    return this.raw(16);
  }
  int256(): Buffer {
    return this.raw(32);
  }
  /** `n` raw bytes, copied (decoded objects must not pin the frame buffer). */
  raw(n: number): Buffer {
    this.need(n);
    const v = Buffer.from(this.buf.subarray(this.at, this.at + n));
    this.at += n;
    return v;
  }
  /**
   * TL `bytes`: a 1-byte length (< 254) or 0xFE plus a 3-byte length, the data, then zero
   * padding to a multiple of 4 counted from the length prefix.
   */
  bytes(): Buffer {
    this.need(1);
    let len = this.buf[this.at]!;
    let head = 1;
    if (len === 254) {
      this.need(4);
      len = this.buf.readUIntLE(this.at + 1, 3);
      head = 4;
    } else if (len === 255) {
      throw new TlDecodeError(`invalid bytes length prefix 0xff at offset ${this.at}`);
    }
    const total = head + len + ((4 - ((head + len) % 4)) % 4);
    this.need(total);
    const v = Buffer.from(this.buf.subarray(this.at + head, this.at + head + len));
    this.at += total;
    return v;
  }
  /** TL `string`: `bytes` holding UTF-8 (invalid sequences become U+FFFD, as in clients). */
  string(): string {
    return this.bytes().toString('utf8');
  }
  /** A boxed Bool (boolTrue / boolFalse). */
  bool(): boolean {
    const id = this.uint32();
    if (id === BOOL_TRUE) return true;
    if (id === BOOL_FALSE) return false;
    throw new TlDecodeError(`expected Bool, got 0x${hex(id)}`);
  }
  /**
   * A vector's element count (after its 0x1cb5c415 header when `boxed`), checked against the
   * limit and against what the remaining bytes could hold at `minElementSize` bytes each, so a
   * lying count fails before anything is allocated.
   */
  vectorLength(boxed: boolean, minElementSize = 4): number {
    if (boxed) {
      const id = this.uint32();
      if (id !== VECTOR_ID) throw new TlDecodeError(`expected vector, got 0x${hex(id)}`);
    }
    const n = this.uint32();
    if (n > this.limits.maxVectorLength)
      throw new TlDecodeError(`vector of ${n} elements exceeds the limit ${this.limits.maxVectorLength}`);
    if (n * minElementSize > this.remaining)
      throw new TlDecodeError(`vector of ${n} elements cannot fit in ${this.remaining} bytes`);
    return n;
  }
  /** A vector of `read()` results (see vectorLength for the checks). */
  vector<T>(read: (r: this) => T, boxed = true, minElementSize = 4): T[] {
    const n = this.vectorLength(boxed, minElementSize);
    const out: T[] = [];
    this.enter();
    for (let i = 0; i < n; i++) out.push(read(this));
    this.leave();
    return out;
  }
}

export function hex(id: number): string {
  return (id >>> 0).toString(16).padStart(8, '0');
}
