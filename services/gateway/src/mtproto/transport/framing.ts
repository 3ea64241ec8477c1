/**
 * MTProto transport framings: how payloads are cut out of a byte stream and how answers are
 * framed. One instance per connection and direction pair; `push` takes whatever bytes arrived
 * and returns the complete frames, keeping the rest for the next call.
 *
 * Limits: a frame longer than MAX_FRAME is a protocol violation (TransportError), so a client
 * cannot make the gateway buffer without bound.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from '../../tl/crc32';

/** CRC32 (IEEE), as the full transport uses it. */
export { crc32 };

/** The largest MTProto packet Tern accepts (a 512 KiB upload part plus headers, generously). */
export const MAX_FRAME = 1024 * 1024 + 1024;

export type FramingKind = 'abridged' | 'intermediate' | 'padded' | 'full';

export class TransportError extends Error {
  override readonly name = 'TransportError';
}

/** A payload cut from the stream, and whether the client asked for a quick ack of it. */
export interface Frame {
  payload: Buffer;
  quickAck: boolean;
}

export interface Framing {
  readonly kind: FramingKind;
  push(chunk: Buffer): Frame[];
  encode(payload: Buffer): Buffer;
  /**
   * The same bytes as `encode`, as pieces to write in order (a writev): the payload itself is one
   * of them, not copied. A download's 1 MiB answers pass through here.
   */
  encodeChunks(payload: Buffer): Buffer[];
  /** The quick-ack answer for a packet (token = first 32 bits of SHA256 as the spec defines). */
  encodeQuickAck(token: number): Buffer;
  /** A transport error such as -404 (unknown auth key) or -429 (too many requests). */
  encodeError(code: number): Buffer;
}

/**
 * The most a framing keeps between two pushes: one whole frame of the largest size and its header
 * (the full transport's 12 bytes of framing are the most). Every frame length is checked against
 * MAX_FRAME as soon as its header is complete, so what stays buffered never exceeds this; push
 * checks it anyway and answers with a TransportError (the connection is closed) rather than grow.
 */
export const MAX_BUFFERED = MAX_FRAME + 16;

/**
 * Received bytes not yet cut into frames, kept as the list of chunks they arrived in: appending is
 * O(1) and each byte is copied once, into the frame that holds it. (Concatenating everything
 * buffered on every chunk was quadratic: 1 MiB arriving as 64-byte WebSocket messages took
 * seconds of event loop.)
 */
class Buffered {
  private chunks: Buffer[] = [];
  /** Chunks before this index have been taken whole. */
  private first = 0;
  /** Bytes of chunks[first] already taken. */
  private offset = 0;
  private total = 0;

  get length(): number {
    return this.total;
  }

  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** The byte at `i` (i < length). */
  byteAt(i: number): number {
    let at = this.offset + i;
    for (let k = this.first; ; k++) {
      const c = this.chunks[k]!;
      if (at < c.length) return c[at]!;
      at -= c.length;
    }
  }

  /** Little-endian unsigned integer of `bytes` (≤ 4) bytes at `i` (i + bytes ≤ length). */
  readUIntLE(i: number, bytes: number): number {
    const c = this.chunks[this.first]!;
    const at = this.offset + i;
    if (at + bytes <= c.length) return c.readUIntLE(at, bytes);
    let v = 0;
    for (let b = bytes - 1; b >= 0; b--) v = v * 256 + this.byteAt(i + b);
    return v;
  }

  /** Drops the next `n` bytes (n ≤ length). */
  skip(n: number): void {
    this.total -= n;
    while (n > 0) {
      const c = this.chunks[this.first]!;
      const left = c.length - this.offset;
      if (n < left) {
        this.offset += n;
        return;
      }
      n -= left;
      this.dropFirst();
    }
  }

  /**
   * The next `n` bytes (n ≤ length) in a buffer of their own: one copy, whether they lie in one
   * chunk or span many, so a frame never keeps a received chunk (or its neighbours) alive.
   */
  take(n: number): Buffer {
    const c = this.chunks[this.first]!;
    if (this.offset + n <= c.length) {
      const out = Buffer.from(c.subarray(this.offset, this.offset + n));
      this.skip(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const cur = this.chunks[this.first]!;
      const m = Math.min(cur.length - this.offset, n - filled);
      cur.copy(out, filled, this.offset, this.offset + m);
      filled += m;
      this.skip(m);
    }
    return out;
  }

  private dropFirst(): void {
    this.chunks[this.first] = EMPTY;
    this.first++;
    this.offset = 0;
    // Compact once the consumed prefix is half the list: amortised O(1) per chunk.
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first >= 64 && this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }

  /** After a push has taken every complete frame: the bound on what may stay buffered. */
  checkBound(): void {
    if (this.total > MAX_BUFFERED) throw new TransportError(`${this.total} bytes buffered without a frame`);
  }
}

const EMPTY = Buffer.alloc(0);

function checkLength(len: number): void {
  if (len <= 0 || len > MAX_FRAME) throw new TransportError(`frame length ${len} out of range`);
}

const int32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
};

/** Abridged: length/4 in one byte (0x7f + 3 bytes when ≥ 127); the top bit asks for a quick ack. */
class Abridged implements Framing {
  readonly kind = 'abridged';
  private readonly in = new Buffered();
  push(chunk: Buffer): Frame[] {
    this.in.append(chunk);
    const frames: Frame[] = [];
    const b = this.in;
    while (b.length >= 1) {
      const byte0 = b.byteAt(0);
      const quickAck = (byte0 & 0x80) !== 0;
      const first = byte0 & 0x7f;
      let header = 1;
      let words = first;
      if (first === 0x7f) {
        if (b.length < 4) break;
        header = 4;
        words = b.readUIntLE(1, 3);
      }
      const len = words * 4;
      checkLength(len);
      if (b.length < header + len) break;
      b.skip(header);
      frames.push({ payload: b.take(len), quickAck });
    }
    b.checkBound();
    return frames;
  }
  encode(payload: Buffer): Buffer {
    return Buffer.concat(this.encodeChunks(payload));
  }
  encodeChunks(payload: Buffer): Buffer[] {
    const words = payload.length / 4;
    const head =
      words < 0x7f
        ? Buffer.from([words])
        : Buffer.from([0x7f, words & 0xff, (words >> 8) & 0xff, (words >> 16) & 0xff]);
    return [head, payload];
  }
  encodeQuickAck(token: number): Buffer {
    // Abridged sends the token big-endian, top bit set.
    const b = Buffer.alloc(4);
    b.writeUInt32BE((token | 0x80000000) >>> 0);
    return b;
  }
  encodeError(code: number): Buffer {
    return this.encode(int32(code));
  }
}

/** Intermediate (and padded intermediate): a 4-byte little-endian length; top bit = quick ack. */
class Intermediate implements Framing {
  private readonly in = new Buffered();
  constructor(readonly kind: 'intermediate' | 'padded') {}
  push(chunk: Buffer): Frame[] {
    this.in.append(chunk);
    const frames: Frame[] = [];
    while (this.in.length >= 4) {
      const raw = this.in.readUIntLE(0, 4);
      const quickAck = raw >= 0x80000000;
      const len = raw % 0x80000000;
      checkLength(len);
      if (this.in.length < 4 + len) break;
      this.in.skip(4);
      frames.push({ payload: this.in.take(len), quickAck });
    }
    this.in.checkBound();
    return frames;
  }
  encode(payload: Buffer): Buffer {
    return Buffer.concat(this.encodeChunks(payload));
  }
  encodeChunks(payload: Buffer): Buffer[] {
    const padding = this.kind === 'padded' ? randomBytes(Math.floor(Math.random() * 16)) : undefined;
    const head = Buffer.alloc(4);
    head.writeUInt32LE(payload.length + (padding?.length ?? 0));
    return padding ? [head, payload, padding] : [head, payload];
  }
  encodeQuickAck(token: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32LE((token | 0x80000000) >>> 0);
    return b;
  }
  encodeError(code: number): Buffer {
    return this.encode(int32(code));
  }
}

/** Full: length (of the whole frame) ‖ seqno ‖ payload ‖ CRC32; each side counts its own seqno. */
class Full implements Framing {
  readonly kind = 'full';
  private readonly in = new Buffered();
  private inSeq = 0;
  private outSeq = 0;
  push(chunk: Buffer): Frame[] {
    this.in.append(chunk);
    const frames: Frame[] = [];
    while (this.in.length >= 4) {
      const len = this.in.readUIntLE(0, 4);
      if (len < 12 || len > MAX_FRAME + 12 || len % 4 !== 0)
        throw new TransportError(`full frame length ${len} invalid`);
      if (this.in.length < len) break;
      const frame = this.in.take(len);
      const crc = frame.readUInt32LE(len - 4);
      if (crc32(frame.subarray(0, len - 4)) !== crc) throw new TransportError('full frame CRC mismatch');
      const seq = frame.readUInt32LE(4);
      if (seq !== this.inSeq) throw new TransportError(`full frame seqno ${seq}, expected ${this.inSeq}`);
      this.inSeq++;
      // The frame is a copy of its own: the payload may point into it.
      frames.push({ payload: frame.subarray(8, len - 4), quickAck: false });
    }
    this.in.checkBound();
    return frames;
  }
  encode(payload: Buffer): Buffer {
    return Buffer.concat(this.encodeChunks(payload));
  }
  encodeChunks(payload: Buffer): Buffer[] {
    const len = payload.length + 12;
    const head = Buffer.allocUnsafe(8);
    head.writeUInt32LE(len, 0);
    head.writeUInt32LE(this.outSeq++, 4);
    const tail = Buffer.allocUnsafe(4);
    // The CRC runs on over the payload from the header's value: no copy to checksum one buffer.
    tail.writeUInt32LE(crc32(payload, crc32(head)), 0);
    return [head, payload, tail];
  }
  encodeQuickAck(): Buffer {
    return Buffer.alloc(0); // the full transport has no quick acks
  }
  encodeError(code: number): Buffer {
    return this.encode(int32(code));
  }
}

export function createFraming(kind: FramingKind): Framing {
  switch (kind) {
    case 'abridged':
      return new Abridged();
    case 'intermediate':
    case 'padded':
      return new Intermediate(kind);
    case 'full':
      return new Full();
  }
}
