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
  /** The quick-ack answer for a packet (token = first 32 bits of SHA256 as the spec defines). */
  encodeQuickAck(token: number): Buffer;
  /** A transport error such as -404 (unknown auth key) or -429 (too many requests). */
  encodeError(code: number): Buffer;
}

class Buffered {
  private buf: Buffer = Buffer.alloc(0);
  append(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }
  get length(): number {
    return this.buf.length;
  }
  peek(): Buffer {
    return this.buf;
  }
  take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

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
    for (;;) {
      const b = this.in.peek();
      if (b.length < 1) break;
      const quickAck = (b[0]! & 0x80) !== 0;
      const first = b[0]! & 0x7f;
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
      this.in.take(header);
      frames.push({ payload: Buffer.from(this.in.take(len)), quickAck });
    }
    return frames;
  }
  encode(payload: Buffer): Buffer {
    const words = payload.length / 4;
    const head =
      words < 0x7f
        ? Buffer.from([words])
        : Buffer.from([0x7f, words & 0xff, (words >> 8) & 0xff, (words >> 16) & 0xff]);
    return Buffer.concat([head, payload]);
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
      const raw = this.in.peek().readUInt32LE(0);
      const quickAck = (raw & 0x80000000) !== 0;
      const len = raw & 0x7fffffff;
      checkLength(len);
      if (this.in.length < 4 + len) break;
      this.in.take(4);
      frames.push({ payload: Buffer.from(this.in.take(len)), quickAck });
    }
    return frames;
  }
  encode(payload: Buffer): Buffer {
    const padding = this.kind === 'padded' ? randomBytes(Math.floor(Math.random() * 16)) : Buffer.alloc(0);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(payload.length + padding.length);
    return Buffer.concat([head, payload, padding]);
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
      const len = this.in.peek().readUInt32LE(0);
      if (len < 12 || len > MAX_FRAME + 12 || len % 4 !== 0)
        throw new TransportError(`full frame length ${len} invalid`);
      if (this.in.length < len) break;
      const frame = this.in.take(len);
      const crc = frame.readUInt32LE(len - 4);
      if (crc32(frame.subarray(0, len - 4)) !== crc) throw new TransportError('full frame CRC mismatch');
      const seq = frame.readUInt32LE(4);
      if (seq !== this.inSeq) throw new TransportError(`full frame seqno ${seq}, expected ${this.inSeq}`);
      this.inSeq++;
      frames.push({ payload: Buffer.from(frame.subarray(8, len - 4)), quickAck: false });
    }
    return frames;
  }
  encode(payload: Buffer): Buffer {
    const head = Buffer.alloc(8);
    head.writeUInt32LE(payload.length + 12, 0);
    head.writeUInt32LE(this.outSeq++, 4);
    const body = Buffer.concat([head, payload]);
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(crc32(body));
    return Buffer.concat([body, tail]);
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
