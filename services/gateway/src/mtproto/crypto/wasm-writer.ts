/**
 * A minimal WebAssembly binary writer: just enough to emit straight-line 128-bit SIMD code from
 * TypeScript, so that aes-ige-simd.ts can ship its AES as readable source instead of a compiled
 * blob or a toolchain. An expression is a tree of bytes (flattened once, when emitted) that
 * leaves one value on the operand stack; `FunctionWriter.let` stores one in a fresh local (V8
 * turns locals into SSA values, so this costs nothing at run time).
 * Opcodes: https://webassembly.github.io/spec/core/binary/.
 */

export type Code = readonly (number | Code)[];

export const I32 = 0x7f;
export const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const simd = (opcode: number): number[] => [0xfd, ...uleb(opcode)];

// ---- scalar instructions
export const localGet = (index: number): Code => [0x20, ...uleb(index)];
export const localSet = (index: number, value: Code): Code => [value, 0x21, uleb(index)];
export const i32 = (value: number): Code => [0x41, ...sleb(value)];
export const i32Add = (a: Code, b: Code): Code => [a, b, 0x6a];
export const i32GeU = (a: Code, b: Code): Code => [a, b, 0x4f];

/** `while (!exit) body`: exit is evaluated before every pass. */
export const whileNot = (exit: Code, body: Code): Code => [
  [0x02, 0x40, 0x03, 0x40], // block, loop
  exit,
  [0x0d, 1], // br_if to the end of the block
  body,
  [0x0c, 0, 0x0b, 0x0b], // br to the loop, end loop, end block
];

// ---- 128-bit SIMD instructions
/** v128.load at `address + offset` (offset: a constant in the instruction). */
export const load = (address: Code, offset = 0): Code => [address, simd(0x00), 0, uleb(offset)];
export const store = (address: Code, value: Code, offset = 0): Code => [
  address,
  value,
  simd(0x0b),
  0,
  uleb(offset),
];
export const vconst = (bytes: readonly number[]): Code => [simd(0x0c), bytes];
export const and = (a: Code, b: Code): Code => [a, b, simd(0x4e)];
/** a & ~b */
export const andNot = (a: Code, b: Code): Code => [a, b, simd(0x4f)];
export const xor = (first: Code, ...rest: Code[]): Code =>
  rest.reduce<Code>((acc, v) => [acc, v, simd(0x51)], first);
/** Each 32-bit lane shifted right (logical) by `bits`. */
export const u32ShrU = (a: Code, bits: number): Code => [a, i32(bits), simd(0xad)];
/**
 * out[i] = table[index[i]], 0 where index[i] > 15 (i8x16.swizzle). The relaxed form
 * (i8x16.relaxed_swizzle) may differ only for indexes 16..127, which callers here never produce;
 * V8 compiles it to one pshufb instead of two instructions.
 */
export const swizzle = (table: Code, index: Code, relaxed: boolean): Code => [
  table,
  index,
  simd(relaxed ? 0x100 : 0x0e),
];
export class FunctionWriter {
  private readonly localTypes: number[] = [];
  private body: number[] = [];

  constructor(readonly params: readonly number[]) {}

  local(type: number): number {
    this.localTypes.push(type);
    return this.params.length + this.localTypes.length - 1;
  }

  emit(...code: Code[]): void {
    const flatten = (c: Code): void => {
      for (const b of c)
        if (typeof b === 'number') this.body.push(b);
        else flatten(b);
    };
    code.forEach(flatten);
  }

  /** Runs `write` and returns what it emitted instead of keeping it (a loop body, say). */
  capture(write: () => void): number[] {
    const outer = this.body;
    this.body = [];
    try {
      write();
      return this.body;
    } finally {
      this.body = outer;
    }
  }

  /** Evaluates a v128 expression once, into a fresh local; returns an expression that reads it. */
  let(value: Code): Code {
    const index = this.local(V128);
    this.emit(localSet(index, value));
    return localGet(index);
  }

  /** The function's entry of the code section. */
  encode(): number[] {
    const groups: number[][] = [];
    for (let i = 0; i < this.localTypes.length;) {
      let j = i;
      while (j < this.localTypes.length && this.localTypes[j] === this.localTypes[i]) j++;
      groups.push([...uleb(j - i), this.localTypes[i]!]);
      i = j;
    }
    const code = [...vec(groups), ...this.body, 0x0b];
    return [...uleb(code.length), ...code];
  }
}

/** A module of functions without results, one memory of `pages` × 64 KiB, everything exported. */
export function moduleBytes(pages: number, functions: Record<string, FunctionWriter>): Uint8Array {
  const entries = Object.entries(functions);
  const types = entries.map(([, f]) => [0x60, ...uleb(f.params.length), ...f.params, 0]);
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(types)),
    ...section(3, vec(entries.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...section(
      7,
      vec([[...name('memory'), 0x02, 0], ...entries.map(([n], i) => [...name(n), 0x00, ...uleb(i)])]),
    ),
    ...section(10, vec(entries.map(([, f]) => f.encode()))),
  ]);
}
