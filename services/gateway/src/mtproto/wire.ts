/**
 * The few MTProto structures the session layer builds and parses by hand because they wrap
 * other messages (bare vectors of %Message, generic results): msg_container, rpc_result,
 * gzip_packed, future_salts. Everything else goes through the schema-driven TL codec.
 */
import { gzipSync, unzipSync } from 'node:zlib';

export const ID = {
  msg_container: 0x73f1f8dc,
  rpc_result: 0xf35c6d01,
  gzip_packed: 0x3072cfa1,
  future_salts: 0xae500895,
  invokeWithLayer: 0xda9b0d0d,
} as const;

/** Inner messages a container may hold (the spec's limit is in the same range). */
export const MAX_CONTAINER_MESSAGES = 1024;
/**
 * One gzip_packed may not expand beyond this (a zip bomb must not exhaust memory). A request is at
 * most a frame (MAX_FRAME, about 1 MiB: a 512 KiB upload part and its headers), so this is 16 times
 * anything a client has reason to pack.
 */
export const MAX_UNPACKED_BYTES = 16 * 1024 * 1024;
/**
 * What all the gzip_packed messages of one packet may expand to together. A client's container of
 * packed upload parts (GramJS packs up to 100 messages in a container, and gzips whatever shrinks:
 * 100 × 512 KiB ≈ 50 MiB of compressible parts) stays under it; a container of 1024 zip bombs does
 * not multiply MAX_UNPACKED_BYTES. Only inflation draws on it: plain messages never do.
 */
export const MAX_UNPACKED_PER_PACKET = 64 * 1024 * 1024;
/** gzip_packed levels on the way to a message: gzip_packed → msg_container → gzip_packed at most. */
export const MAX_GZIP_DEPTH = 2;

export class WireError extends Error {
  override readonly name = 'WireError';
}

export function constructorId(body: Buffer): number | undefined {
  return body.length >= 4 ? body.readUInt32LE(0) : undefined;
}

export interface InnerMessage {
  msgId: bigint;
  seqNo: number;
  body: Buffer;
}

export function parseContainer(body: Buffer): InnerMessage[] {
  if (body.length < 8) throw new WireError('container too short');
  const count = body.readUInt32LE(4);
  if (count > MAX_CONTAINER_MESSAGES) throw new WireError('container too large');
  const out: InnerMessage[] = [];
  let at = 8;
  for (let i = 0; i < count; i++) {
    if (at + 16 > body.length) throw new WireError('container truncated');
    const msgId = body.readBigInt64LE(at);
    const seqNo = body.readUInt32LE(at + 8);
    const len = body.readUInt32LE(at + 12);
    at += 16;
    if (len % 4 !== 0 || at + len > body.length) throw new WireError('container message truncated');
    out.push({ msgId, seqNo, body: body.subarray(at, at + len) });
    at += len;
  }
  return out;
}

export function buildContainer(messages: readonly InnerMessage[]): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(8);
  head.writeUInt32LE(ID.msg_container, 0);
  head.writeUInt32LE(messages.length, 4);
  parts.push(head);
  for (const m of messages) {
    const h = Buffer.alloc(16);
    h.writeBigInt64LE(m.msgId, 0);
    h.writeUInt32LE(m.seqNo, 8);
    h.writeUInt32LE(m.body.length, 12);
    parts.push(h, m.body);
  }
  return Buffer.concat(parts);
}

/** TL `bytes`: length prefix, data, padding to 4. */
export function tlBytes(data: Buffer): Buffer {
  const head =
    data.length < 254
      ? Buffer.from([data.length])
      : Buffer.from([254, data.length & 0xff, (data.length >> 8) & 0xff, (data.length >> 16) & 0xff]);
  const used = head.length + data.length;
  return Buffer.concat([head, data, Buffer.alloc((4 - (used % 4)) % 4)]);
}

function readTlBytes(buf: Buffer, at: number): Buffer {
  if (at >= buf.length) throw new WireError('bytes truncated');
  let len = buf[at]!;
  let start = at + 1;
  if (len === 254) {
    if (at + 4 > buf.length) throw new WireError('bytes truncated');
    len = buf.readUIntLE(at + 1, 3);
    start = at + 4;
  }
  if (start + len > buf.length) throw new WireError('bytes truncated');
  return buf.subarray(start, start + len);
}

/**
 * gzip_packed's payload. Clients differ: GramJS sends gzip, mtcute a zlib stream (deflate with the
 * zlib header); both are accepted, as Telegram's servers do.
 */
export function unpackGzip(body: Buffer, budget = MAX_UNPACKED_BYTES): Buffer {
  const packed = readTlBytes(body, 4);
  const limit = Math.min(MAX_UNPACKED_BYTES, budget);
  if (limit <= 0) throw new WireError("gzip_packed over the packet's unpack budget");
  try {
    return unzipSync(packed, { maxOutputLength: limit });
  } catch (err) {
    throw new WireError('gzip_packed does not unpack', { cause: err });
  }
}

export function packGzip(data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(ID.gzip_packed);
  return Buffer.concat([head, tlBytes(gzipSync(data))]);
}

/** Results larger than this travel gzip_packed (when packing actually saves bytes). */
const GZIP_ABOVE = 1024;
/**
 * Results never packed: file bytes (upload.file#096a18d5) are photos, video or archives that do
 * not shrink, and trying costs ~80 ms of blocking gzip per MiB before being thrown away
 * (docs/benchmarks.md, media).
 */
const NEVER_PACKED = new Set([0x096a18d5]);

/**
 * A serialized result whose last field, a TL `bytes`, is kept apart: `head` is everything before
 * it. buildRpcResult writes the two into the rpc_result with one copy of `bytes`, where encoding
 * the whole result first would copy a download's 1 MiB three times (TL writer, its result,
 * the rpc_result).
 */
export interface ResultWithBytes {
  head: Buffer;
  bytes: Buffer;
}

export function buildRpcResult(reqMsgId: bigint, result: Buffer | ResultWithBytes): Buffer {
  if (!Buffer.isBuffer(result)) return rpcResultWithBytes(reqMsgId, result);
  const head = Buffer.alloc(12);
  head.writeUInt32LE(ID.rpc_result, 0);
  head.writeBigInt64LE(reqMsgId, 4);
  if (result.length > GZIP_ABOVE && !NEVER_PACKED.has(result.readUInt32LE(0))) {
    const packed = packGzip(result);
    if (packed.length < result.length) return Buffer.concat([head, packed]);
  }
  return Buffer.concat([head, result]);
}

/** rpc_result ‖ head ‖ bytes as TL bytes, in one allocation; never gzip_packed (file bytes). */
function rpcResultWithBytes(reqMsgId: bigint, r: ResultWithBytes): Buffer {
  const n = r.bytes.length;
  if (n >= 1 << 24) throw new RangeError('TL bytes longer than 2^24 - 1');
  const lengthHead = n < 254 ? 1 : 4;
  const unpadded = 12 + r.head.length + lengthHead + n;
  const out = Buffer.allocUnsafe(unpadded + ((4 - (unpadded % 4)) % 4));
  out.writeUInt32LE(ID.rpc_result, 0);
  out.writeBigInt64LE(reqMsgId, 4);
  let at = 12 + r.head.copy(out, 12);
  if (lengthHead === 1) out[at++] = n;
  else {
    out[at++] = 254;
    out.writeUIntLE(n, at, 3);
    at += 3;
  }
  at += r.bytes.copy(out, at);
  out.fill(0, at);
  return out;
}

export function buildFutureSalts(
  reqMsgId: bigint,
  now: number,
  salts: ReadonlyArray<{ validSince: number; validUntil: number; salt: bigint }>,
): Buffer {
  const b = Buffer.alloc(4 + 8 + 4 + 4 + salts.length * 16);
  b.writeUInt32LE(ID.future_salts, 0);
  b.writeBigInt64LE(reqMsgId, 4);
  b.writeInt32LE(now, 12);
  b.writeUInt32LE(salts.length, 16);
  salts.forEach((s, i) => {
    b.writeInt32LE(s.validSince, 20 + i * 16);
    b.writeInt32LE(s.validUntil, 24 + i * 16);
    b.writeBigInt64LE(s.salt, 28 + i * 16);
  });
  return b;
}
