/**
 * TL binary primitives. The reader is bounds-checked: malformed input raises TlDecodeError and
 * never reads past the buffer.
 */

export class TlDecodeError extends Error {
  override readonly name = 'TlDecodeError';
}

export class TlReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  get offset(): number {
    return this.at;
  }
  get remaining(): number {
    return this.buf.length - this.at;
  }

  private need(n: number): void {
    if (this.at + n > this.buf.length)
      throw new TlDecodeError(`read of ${n} bytes at ${this.at} past the end (${this.buf.length})`);
  }

  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.at);
    this.at += 4;
    return v;
  }
  int64(): bigint {
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
  raw(n: number): Buffer {
    this.need(n);
    const v = Buffer.from(this.buf.subarray(this.at, this.at + n));
    this.at += n;
    return v;
  }
  bytes(): Buffer {
    this.need(1);
    let len = this.buf[this.at]!;
    let head = 1;
    if (len === 254) {
      this.need(4);
      len = this.buf.readUIntLE(this.at + 1, 3);
      head = 4;
    } else if (len === 255) {
      throw new TlDecodeError('bytes length prefix 255 is invalid');
    }
    const padded = head + len + ((4 - ((head + len) % 4)) % 4);
    this.need(padded);
    const v = Buffer.from(this.buf.subarray(this.at + head, this.at + head + len));
    this.at += padded;
    return v;
  }
  string(): string {
    return this.bytes().toString('utf8');
  }
}

export class TlWriter {
  private readonly parts: Buffer[] = [];

  uint32(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32LE(v >>> 0);
    this.parts.push(b);
    return this;
  }
  int32(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32LE(v | 0);
    this.parts.push(b);
    return this;
  }
  int64(v: bigint): this {
    const b = Buffer.allocUnsafe(8);
    b.writeBigInt64LE(BigInt.asIntN(64, v));
    this.parts.push(b);
    return this;
  }
  double(v: number): this {
    const b = Buffer.allocUnsafe(8);
    b.writeDoubleLE(v);
    this.parts.push(b);
    return this;
  }
  raw(v: Buffer): this {
    this.parts.push(v);
    return this;
  }
  bytes(v: Buffer): this {
    const head =
      v.length < 254
        ? Buffer.from([v.length])
        : Buffer.from([254, v.length & 0xff, (v.length >> 8) & 0xff, (v.length >> 16) & 0xff]);
    const pad = (4 - ((head.length + v.length) % 4)) % 4;
    this.parts.push(head, v, Buffer.alloc(pad));
    return this;
  }
  string(v: string): this {
    return this.bytes(Buffer.from(v, 'utf8'));
  }
  result(): Buffer {
    return Buffer.concat(this.parts);
  }
}
