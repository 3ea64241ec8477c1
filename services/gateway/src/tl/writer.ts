/**
 * Writer of TL's binary primitives into one growing buffer (doubling), since answers are built
 * field by field and their size is not known up front; result() copies out what was written.
 */
import { TlEncodeError } from './errors';
import { BOOL_FALSE, BOOL_TRUE, VECTOR_ID } from './reader';

export { TlEncodeError } from './errors';

export class TlWriter {
  private buf: Buffer;
  private at = 0;

  constructor(initialSize = 256) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.at;
  }

  /**
   * Makes room for `n` more bytes and returns the offset to write them at. It may replace
   * this.buf, so callers call it before touching this.buf.
   */
  private reserve(n: number): number {
    if (this.at + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.at + n) size *= 2;
      const next = Buffer.allocUnsafe(size);
      this.buf.copy(next, 0, 0, this.at);
      this.buf = next;
    }
    const at = this.at;
    this.at += n;
    return at;
  }

  uint32(v: number): this {
    const at = this.reserve(4);
    this.buf.writeUInt32LE(v >>> 0, at);
    return this;
  }
  int(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff)
      throw new TlEncodeError(`int out of range: ${v}`);
    // Values 2^31..2^32-1 are accepted as their two's-complement int (ids read as unsigned).
    const at = this.reserve(4);
    this.buf.writeInt32LE(v | 0, at);
    return this;
  }
  long(v: bigint): this {
    if (v < -(1n << 63n) || v >= 1n << 64n) throw new TlEncodeError(`long out of range: ${v}`);
    const at = this.reserve(8);
    this.buf.writeBigInt64LE(BigInt.asIntN(64, v), at);
    return this;
  }
  double(v: number): this {
    const at = this.reserve(8);
    this.buf.writeDoubleLE(v, at);
    return this;
  }
  int128(v: Buffer): this {
    return this.fixed(v, 16, 'int128');
  }
  int256(v: Buffer): this {
    return this.fixed(v, 32, 'int256');
  }
  private fixed(v: Buffer, len: number, what: string): this {
    if (!Buffer.isBuffer(v) || v.length !== len)
      throw new TlEncodeError(`${what} must be a ${len}-byte Buffer`);
    return this.raw(v);
  }
  raw(v: Uint8Array): this {
    const at = this.reserve(v.length);
    this.buf.set(v, at);
    return this;
  }
  /** TL `bytes` with its length prefix and padding (see TlReader.bytes). */
  bytes(v: Uint8Array): this {
    const n = v.length;
    if (n >= 1 << 24) throw new TlEncodeError(`bytes of ${n} exceed TL's 16 MiB limit`);
    const head = n < 254 ? 1 : 4;
    const pad = (4 - ((head + n) % 4)) % 4;
    const at = this.reserve(head + n + pad);
    if (head === 1) this.buf[at] = n;
    else {
      this.buf[at] = 254;
      this.buf.writeUIntLE(n, at + 1, 3);
    }
    this.buf.set(v, at + head);
    this.buf.fill(0, at + head + n, at + head + n + pad);
    return this;
  }
  string(v: string): this {
    return this.bytes(Buffer.from(v, 'utf8'));
  }
  bool(v: boolean): this {
    return this.uint32(v ? BOOL_TRUE : BOOL_FALSE);
  }
  /** A vector header: 0x1cb5c415 (when boxed) and the count; the caller writes the elements. */
  vectorHeader(count: number, boxed = true): this {
    if (boxed) this.uint32(VECTOR_ID);
    return this.uint32(count);
  }
  /** A copy of the bytes written (the writer may go on writing). */
  result(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.at));
  }
}
