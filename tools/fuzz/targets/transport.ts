/**
 * Transport targets: the four framings on their own (framing.ts), the obfuscated2 layer as a
 * WebSocket connection has it (detect.ts + connection.ts, allowPlain false), and a plain TCP
 * connection from its first byte (detection, then any framing). The protocol's refusal is a
 * TransportError (framing) or the connection closing itself (connection.ts catches those).
 *
 * Inputs: byte 0 picks how the stream is cut into chunks, bytes 1..4 seed the cut points, the
 * rest is the byte stream (for obfuscated2's client mode: the client's header fields and the
 * plaintext stream, which the target encrypts the way a client does).
 */
import { createCipheriv } from 'node:crypto';
import { crc32 } from '../../../services/gateway/src/tl/crc32';
import { detectTransport } from '../../../services/gateway/src/mtproto/transport/detect';
import {
  createFraming,
  MAX_FRAME,
  TransportError,
  type FramingKind,
} from '../../../services/gateway/src/mtproto/transport/framing';
import {
  TransportConnection,
  type ByteStream,
  type PacketHandler,
} from '../../../services/gateway/src/mtproto/transport/connection';
import { Rng } from '../rng';
import { FuzzCheckFailed, type FuzzTarget, type TargetInstance } from '../types';

const HEAD = 5;

/** Cuts `stream` into chunks as input byte 0 says (whole, tiny, small, mixed). */
export function chunks(input: Buffer, stream: Buffer): Buffer[] {
  const mode = (input[0] ?? 0) & 3;
  if (mode === 0 || stream.length === 0) return [stream];
  const rng = Rng.fromBytes(input.subarray(1, HEAD));
  // One-byte chunks only for short streams: a million one-byte pushes would time the loop, not the framing.
  const max = mode === 1 ? (stream.length <= 1024 ? 1 : 64) : mode === 2 ? 64 : 8192;
  const out: Buffer[] = [];
  for (let at = 0; at < stream.length;) {
    const n = 1 + rng.int(max);
    out.push(stream.subarray(at, at + n));
    at += n;
  }
  return out;
}

function withHead(rng: Rng, stream: Buffer, mode?: number): Buffer {
  const head = rng.bytes(HEAD);
  head[0] = mode ?? rng.int(4);
  return Buffer.concat([head, stream]);
}

/** A frame as the reference parser sees it. */
interface RefFrame {
  payload: Buffer;
  quickAck: boolean;
}

/**
 * The framings written again from the spec (core.telegram.org/mtproto/mtproto-transports), with
 * Tern's two policies (frames of 1..MAX_FRAME bytes; full frames numbered from 0): the frames a
 * complete stream holds, and whether it breaks a rule before its end.
 */
export function referenceFrames(kind: FramingKind, s: Buffer): { frames: RefFrame[]; error: boolean } {
  const frames: RefFrame[] = [];
  let at = 0;
  let seq = 0;
  for (;;) {
    if (kind === 'abridged') {
      if (at >= s.length) break;
      const quickAck = s[at]! >= 0x80;
      let words = s[at]! & 0x7f;
      let head = 1;
      if (words === 0x7f) {
        if (at + 4 > s.length) break;
        words = s[at + 1]! | (s[at + 2]! << 8) | (s[at + 3]! << 16);
        head = 4;
      }
      const len = words * 4;
      if (len === 0 || len > MAX_FRAME) return { frames, error: true };
      if (at + head + len > s.length) break;
      frames.push({ payload: s.subarray(at + head, at + head + len), quickAck });
      at += head + len;
    } else if (kind === 'full') {
      if (at + 4 > s.length) break;
      const len = s.readUInt32LE(at);
      if (len < 12 || len > MAX_FRAME + 12 || len % 4 !== 0) return { frames, error: true };
      if (at + len > s.length) break;
      if (crc32(s.subarray(at, at + len - 4)) !== s.readUInt32LE(at + len - 4))
        return { frames, error: true };
      if (s.readUInt32LE(at + 4) !== seq++) return { frames, error: true };
      frames.push({ payload: s.subarray(at + 8, at + len - 4), quickAck: false });
      at += len;
    } else {
      if (at + 4 > s.length) break;
      const word = s.readUInt32LE(at);
      const len = word & 0x7fffffff;
      if (len === 0 || len > MAX_FRAME) return { frames, error: true };
      if (at + 4 + len > s.length) break;
      frames.push({ payload: s.subarray(at + 4, at + 4 + len), quickAck: word >= 0x80000000 });
      at += 4 + len;
    }
  }
  return { frames, error: false };
}

/** Compares what Tern delivered with the reference: a prefix when it refused, all of it otherwise. */
function compare(kind: FramingKind, got: RefFrame[], refused: boolean, stream: Buffer): void {
  const ref = referenceFrames(kind, stream);
  if (refused && !ref.error) throw new FuzzCheckFailed(`${kind}: refused a stream the spec accepts`);
  if (!refused && ref.error) throw new FuzzCheckFailed(`${kind}: accepted a stream the spec refuses`);
  if (got.length > ref.frames.length || (!refused && got.length !== ref.frames.length))
    throw new FuzzCheckFailed(`${kind}: ${got.length} frames, the spec reads ${ref.frames.length}`);
  got.forEach((f, i) => {
    const r = ref.frames[i]!;
    if (!f.payload.equals(r.payload) || f.quickAck !== r.quickAck)
      throw new FuzzCheckFailed(`${kind}: frame ${i} differs from the spec's`);
  });
}

/** A stream of valid frames as Tern's own encoder writes them (quick-ack bits set at random). */
function validStream(rng: Rng, kind: FramingKind, big = false): Buffer {
  const f = createFraming(kind);
  const parts: Buffer[] = [];
  const n = big ? 1 : 1 + rng.size(6);
  for (let i = 0; i < n; i++) {
    let len = big ? rng.range(256 * 1024, MAX_FRAME) : 1 + rng.size(rng.chance(0.02) ? 70000 : 600);
    if (kind === 'abridged' || kind === 'full') len = Math.max(4, len & ~3);
    const frame = f.encode(rng.bytes(len));
    if (kind !== 'full' && rng.chance(0.2)) {
      if (kind === 'abridged') frame[0]! |= 0x80;
      else frame[3]! |= 0x80;
    }
    parts.push(frame);
  }
  if (rng.chance(0.2)) parts.push(rng.bytes(rng.size(16)));
  return Buffer.concat(parts);
}

function framingTarget(kind: FramingKind): FuzzTarget {
  return {
    name: `framing-${kind}`,
    what: `createFraming('${kind}').push over chunked streams; refusal: TransportError; frames checked against the spec`,
    setup(o): TargetInstance {
      const rng = new Rng(o.seed, 1);
      const seeds = Array.from({ length: 16 }, (_, i) => withHead(rng, validStream(rng, kind), i & 3));
      return {
        seeds,
        dictionary: [0xefefefef, 0xeeeeeeee, 0xdddddddd, MAX_FRAME, MAX_FRAME + 4, MAX_FRAME + 12],
        generate: (r) =>
          // Rarely one large frame in small pieces: how a WebSocket client can send it.
          r.chance(1 / 250_000)
            ? withHead(r, validStream(r, kind, true), 2)
            : r.chance(0.85)
              ? withHead(r, validStream(r, kind))
              : withHead(r, r.bytes(r.size(4096))),
        run(input) {
          const stream = input.subarray(HEAD);
          const f = createFraming(kind);
          const got: RefFrame[] = [];
          try {
            for (const c of chunks(input, stream)) for (const fr of f.push(c)) got.push(fr);
          } catch (err) {
            if (!(err instanceof TransportError)) throw err;
            compare(kind, got, true, stream);
            return 'refused';
          }
          compare(kind, got, false, stream);
          return `frames:${Math.min(got.length, 8)}`;
        },
        expected: (err) => err instanceof TransportError,
      };
    },
  };
}

/** A socket and an MTProto layer that record what the connection does. */
class Recorder implements ByteStream, PacketHandler {
  packets: RefFrame[] = [];
  written: Buffer[] = [];
  closed = false;
  pending = 0;
  readonly remoteAddress = '192.0.2.1';
  readonly remotePort = 40000;
  echo = false;
  write(data: Buffer): void {
    this.written.push(data);
  }
  close(): void {
    this.closed = true;
  }
  onPacket(conn: TransportConnection, payload: Buffer, quickAck: boolean): void {
    if (this.closed) throw new FuzzCheckFailed('a packet after the connection closed');
    if (payload.length === 0 || payload.length > MAX_FRAME)
      throw new FuzzCheckFailed(`a packet of ${payload.length} bytes`);
    this.packets.push({ payload, quickAck });
    if (this.echo) conn.send(payload);
  }
  onClose(): void {
    this.closed = true;
  }
}

const TAGS: Record<Exclude<FramingKind, 'full'>, number> = {
  abridged: 0xefefefef,
  intermediate: 0xeeeeeeee,
  padded: 0xdddddddd,
};
const KINDS = ['abridged', 'intermediate', 'padded'] as const;

/**
 * An obfuscated2 client, from the spec: a random 64-byte header whose bytes 8..56 key AES-256-CTR
 * (client → server), with the protocol tag and DC id at 56..62 sent encrypted; the stream follows
 * under the same cipher.
 */
export function obfuscatedClient(
  init: Buffer,
  tag: number,
  dc: number,
): { header: Buffer; encrypt: (b: Buffer) => Buffer; decrypt: (b: Buffer) => Buffer } {
  const h = Buffer.from(init);
  // Bytes a client must avoid at the start, so the server cannot take it for a plain transport.
  if (h[0] === 0xef) h[0] = 0xee;
  const first = h.readUInt32LE(0);
  if ([0xeeeeeeee, 0xdddddddd, 0x44414548, 0x54534f50, 0x20544547, 0x4954504f, 0x02010316].includes(first))
    h[0] = (h[0]! + 1) & 0xff;
  if (h.readUInt32LE(4) === 0) h[4] = 1;
  h.writeUInt32LE(tag >>> 0, 56);
  h.writeInt16LE(dc, 60);
  const enc = createCipheriv('aes-256-ctr', h.subarray(8, 40), h.subarray(40, 56));
  const encrypted = enc.update(h);
  const header = Buffer.concat([h.subarray(0, 56), encrypted.subarray(56, 64)]);
  const rev = Buffer.from(h.subarray(8, 56)).reverse();
  const dec = createCipheriv('aes-256-ctr', rev.subarray(0, 32), rev.subarray(32, 48));
  return { header, encrypt: (b) => enc.update(b), decrypt: (b) => dec.update(b) };
}

/** Client mode input: [chunking 5][init 64][tag pick 1][dc 2][plaintext stream]. */
const CLIENT_FIELDS = HEAD + 64 + 3;

function obfuscatedTarget(): FuzzTarget {
  return {
    name: 'obfuscated2',
    what: 'obfuscated2 init and stream on a WebSocket-style connection (detectTransport + TransportConnection, allowPlain false); refusal: the connection closes',
    setup(o): TargetInstance {
      const make = (r: Rng, tagPick?: number) => {
        const head = r.bytes(CLIENT_FIELDS);
        head[0] = (r.int(4) << 2) | 1; // client mode, chunking in bits 2-3
        head[HEAD + 64] = tagPick ?? r.int(256);
        const kind = KINDS[head[HEAD + 64]! % 4] ?? 'intermediate';
        return Buffer.concat([head, validStream(r, kind)]);
      };
      const rng = new Rng(o.seed, 2);
      const seeds = KINDS.flatMap((_, k) => Array.from({ length: 4 }, () => make(rng, k)));
      return {
        seeds,
        dictionary: [...Object.values(TAGS), 0x02010316, 0x44414548, 0x54534f50],
        generate: (r) =>
          r.chance(0.9) ? make(r) : Buffer.concat([Buffer.from([r.int(256) & ~1]), r.bytes(r.size(2048))]),
        run(input) {
          const rec = new Recorder();
          rec.echo = true;
          const conn = new TransportConnection(rec, rec, false);
          const mode = input[0] ?? 0;
          const cut = Buffer.from([mode >> 2, ...input.subarray(1, HEAD)]);
          if ((mode & 1) === 0) {
            for (const c of chunks(cut, input.subarray(1))) conn.receive(c);
            return rec.closed ? 'raw:closed' : `raw:${conn.kind ?? 'pending'}`;
          }
          if (input.length < CLIENT_FIELDS) return 'short';
          const init = input.subarray(HEAD, HEAD + 64);
          const pick = input[HEAD + 64]!;
          const kind = KINDS[pick % 4];
          const tag = kind ? TAGS[kind] : input.readUInt32LE(HEAD + 60);
          const dc = input.readInt16LE(HEAD + 65);
          const client = obfuscatedClient(init, tag, dc);
          const plain = input.subarray(CLIENT_FIELDS);
          const stream = Buffer.concat([client.header, client.encrypt(plain)]);
          for (const c of chunks(cut, stream)) conn.receive(c);
          if (kind === undefined) {
            // Any tag but the three: the server must refuse (unless the random word is one of them).
            if (!Object.values(TAGS).includes(tag >>> 0) && !rec.closed)
              throw new FuzzCheckFailed('an unknown protocol tag was accepted');
            return 'unknown-tag';
          }
          const detected = detectTransport(client.header, { allowPlain: false });
          if (detected?.kind !== kind || detected.dcId !== dc || conn.kind !== kind)
            throw new FuzzCheckFailed(
              `header for ${kind}/dc ${dc} detected as ${detected?.kind}/${detected?.dcId}`,
            );
          const ref = referenceFrames(kind, plain);
          compare(kind, rec.packets, rec.closed, plain);
          // What the connection sent back (each packet echoed) must read as the same packets.
          const back = client.decrypt(Buffer.concat(rec.written));
          const echoed = referenceFrames(kind, back).frames;
          if (echoed.length !== rec.packets.length)
            throw new FuzzCheckFailed(`${rec.packets.length} packets echoed as ${echoed.length}`);
          return `client:${kind}:${ref.error ? 'refused' : Math.min(ref.frames.length, 8)}`;
        },
        expected: () => false,
      };
    },
  };
}

function plainTarget(): FuzzTarget {
  const make = (r: Rng): Buffer => {
    const pick = r.int(6);
    let stream: Buffer;
    if (pick === 0) stream = Buffer.concat([Buffer.from([0xef]), validStream(r, 'abridged')]);
    else if (pick === 1) stream = Buffer.concat([Buffer.alloc(4, 0xee), validStream(r, 'intermediate')]);
    else if (pick === 2) stream = Buffer.concat([Buffer.alloc(4, 0xdd), validStream(r, 'padded')]);
    else if (pick === 3) stream = validStream(r, 'full');
    else if (pick === 4) {
      const kind = r.pick(KINDS);
      const c = obfuscatedClient(r.bytes(64), TAGS[kind], r.range(-5, 5));
      stream = Buffer.concat([c.header, c.encrypt(validStream(r, kind))]);
    } else stream = r.chance(0.5) ? Buffer.from('POST /api HTTP/1.1\r\n\r\n') : r.bytes(r.size(512));
    const head = r.bytes(HEAD);
    head[0] = r.int(8); // bits 0-1 chunking, bit 2: refused with -429 before any byte
    return Buffer.concat([head, stream]);
  };
  return {
    name: 'transport',
    what: 'a plain TCP connection from its first byte (TransportConnection, allowPlain true: detection, every framing, obfuscated2, refusal -429); refusal: the connection closes',
    setup(o): TargetInstance {
      const rng = new Rng(o.seed, 3);
      return {
        seeds: Array.from({ length: 24 }, () => make(rng)),
        dictionary: [0xefefefef, 0xeeeeeeee, 0xdddddddd, 0x54534f50, 0x20544547, 0, MAX_FRAME],
        generate: make,
        run(input) {
          const rec = new Recorder();
          const conn = new TransportConnection(rec, rec, true);
          const refuse = ((input[0] ?? 0) & 4) !== 0;
          if (refuse) conn.refuse(-429);
          for (const c of chunks(input, input.subarray(HEAD))) conn.receive(c);
          if (refuse && rec.packets.length > 0)
            throw new FuzzCheckFailed('a refused connection delivered a packet');
          if (refuse && conn.kind !== undefined && !rec.closed)
            throw new FuzzCheckFailed('a refused connection stayed open after its header');
          conn.send(Buffer.alloc(16));
          conn.sendQuickAck(0x12345678);
          conn.fail(-404);
          return `${conn.kind ?? 'none'}:${conn.obfuscated}:${refuse}:${Math.min(rec.packets.length, 4)}`;
        },
        expected: () => false,
      };
    },
  };
}

export const transportTargets: FuzzTarget[] = [
  framingTarget('abridged'),
  framingTarget('intermediate'),
  framingTarget('padded'),
  framingTarget('full'),
  obfuscatedTarget(),
  plainTarget(),
];
