/**
 * The generic byte mutator (AFL's "havoc" stage, with TL in mind: TL is little-endian and
 * 4-byte aligned, so most word operations land on aligned offsets, and a dictionary of
 * constructor ids turns one valid encoding into many).
 */
import type { Rng } from './rng';

/** 32-bit values that sit on boundaries: lengths, signs, TL's own ids (Vector, Bool, gzip_packed, container). */
export const INTERESTING_32: readonly number[] = [
  0, 1, 2, 3, 4, 8, 16, 0x7f, 0x80, 0xfe, 0xff, 0x100, 0x3ff, 0xfffe, 0xffff, 0x10000, 0xfffffe, 0xffffff,
  0x1000000, 0x100000, 0x100400, 0x7ffffffe, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff,
  0x1cb5c415, 0x997275b5, 0xbc799737, 0x3072cfa1, 0x73f1f8dc, 0xf35c6d01, 0xda9b0d0d,
];
const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xfd, 0xfe, 0xff];

export interface MutationContext {
  dictionary: readonly number[];
  /** Other inputs, for splicing. */
  pool: readonly Buffer[];
  maxLength: number;
}

function offset(rng: Rng, len: number, aligned: boolean): number {
  if (len === 0) return 0;
  const at = rng.int(len);
  return aligned && rng.chance(0.8) ? at & ~3 : at;
}

function u32At(buf: Buffer, at: number, v: number): Buffer {
  if (at + 4 > buf.length) {
    const grown = Buffer.alloc(at + 4);
    buf.copy(grown);
    buf = grown;
  }
  buf.writeUInt32LE(v >>> 0, at);
  return buf;
}

/** One mutation of `input` (never in place). */
export function mutateOnce(rng: Rng, input: Buffer, ctx: MutationContext): Buffer {
  const b = Buffer.from(input);
  const len = b.length;
  switch (rng.int(15)) {
    case 0: // flip a bit
      if (len > 0) b[rng.int(len)]! ^= 1 << rng.int(8);
      return b;
    case 1: // a random byte
      if (len > 0) b[rng.int(len)] = rng.int(256);
      return b;
    case 2: // an interesting byte
      if (len > 0) b[rng.int(len)] = rng.pick(INTERESTING_8);
      return b;
    case 3: // an interesting word
      return u32At(b, offset(rng, len, true), rng.pick(INTERESTING_32));
    case 4: {
      // a dictionary word, overwritten or inserted
      const v = ctx.dictionary.length > 0 ? rng.pick(ctx.dictionary) : rng.u32();
      const at = offset(rng, len, true);
      if (rng.bool()) return u32At(b, at, v);
      const w = Buffer.alloc(4);
      w.writeUInt32LE(v >>> 0);
      return Buffer.concat([b.subarray(0, at), w, b.subarray(at)]);
    }
    case 5: {
      // delete a range
      if (len === 0) return b;
      const at = offset(rng, len, true);
      const n = Math.min(len - at, rng.bool() ? 4 * (1 + rng.int(4)) : 1 + rng.size(len));
      return Buffer.concat([b.subarray(0, at), b.subarray(at + n)]);
    }
    case 6: {
      // insert random bytes
      const at = offset(rng, len, true);
      return Buffer.concat([b.subarray(0, at), rng.bytes(rng.bool() ? 4 : 1 + rng.size(64)), b.subarray(at)]);
    }
    case 7: {
      // copy a range elsewhere (repeats structure: vector elements, container messages)
      if (len === 0) return b;
      const from = offset(rng, len, true);
      const n = Math.min(len - from, 1 + rng.size(256));
      const to = offset(rng, len, true);
      const chunk = Buffer.from(b.subarray(from, from + n));
      return rng.bool()
        ? Buffer.concat([b.subarray(0, to), chunk, b.subarray(to)])
        : (chunk.copy(b, to, 0, Math.min(n, len - to)), b);
    }
    case 8: // truncate
      return len === 0 ? b : b.subarray(0, rng.int(len));
    case 9: {
      // splice with another input
      if (ctx.pool.length === 0) return b;
      const other = rng.pick(ctx.pool);
      const cut = offset(rng, len, true);
      const from = offset(rng, other.length, true);
      return Buffer.concat([b.subarray(0, cut), other.subarray(from)]);
    }
    case 10: {
      // word arithmetic (counts and lengths off by a little)
      if (len < 4) return b;
      const at = Math.min(offset(rng, len, true), len - 4);
      const delta = (1 + rng.int(35)) * (rng.bool() ? 1 : -1);
      b.writeUInt32LE((b.readUInt32LE(at) + delta) >>> 0, at);
      return b;
    }
    case 11: {
      // a length field that points at (or just past) the end
      const at = offset(rng, len, true);
      const v = Math.max(0, len - at - 4 + rng.range(-8, 8));
      return u32At(b, at, rng.bool() ? v : v >>> 2);
    }
    case 12: {
      // repeat a chunk many times (large vectors and frames, rarely)
      if (len === 0) return b;
      const from = offset(rng, len, true);
      const chunk = b.subarray(from, from + 4 * (1 + rng.int(8)));
      const times = rng.size(rng.chance(0.05) ? 4096 : 64);
      const at = offset(rng, len, true);
      return Buffer.concat([b.subarray(0, at), ...Array<Buffer>(times).fill(chunk), b.subarray(at)]);
    }
    case 13: {
      // TL bytes-length prefix forms: 0xfe + 3-byte length, or a short length
      const at = offset(rng, len, true);
      const v = rng.bool() ? 0xfe | (rng.size(0xffffff) << 8) : rng.int(254);
      return u32At(b, at, v);
    }
    default: {
      // a random word
      return u32At(b, offset(rng, len, true), rng.u32());
    }
  }
}

/** A stack of 1..8 mutations (fewer more often), capped at ctx.maxLength. */
export function havoc(rng: Rng, input: Buffer, ctx: MutationContext): Buffer {
  let b = input;
  const n = 1 + rng.size(7);
  for (let i = 0; i < n; i++) {
    b = mutateOnce(rng, b, ctx);
    if (b.length > ctx.maxLength) b = b.subarray(0, ctx.maxLength);
  }
  return b;
}
