/**
 * AES-256-IGE with WebAssembly SIMD, for what OpenSSL cannot do in bulk (see aes-ige.ts).
 *
 * Decryption: IGE decryption chains through the plaintext it produces, so it runs block by block
 * here, through a constant-time AES: Mike Hamburg's vector-permute AES ("vpaes", "Accelerating
 * AES with Vector Permute Instructions", CHES 2009; public domain), the SSSE3 code OpenSSL falls
 * back to on x86 without AES-NI. The S-box is computed in a GF(2^4) tower with 16-entry tables
 * looked up by i8x16.swizzle (pshufb): every table is read whole, by register, never indexed by
 * secret data through memory, so timing does not depend on the key or the data. The constants
 * and the key schedule follow OpenSSL's crypto/aes/asm/vpaes-x86_64.pl; the decryption rounds
 * are unrolled, and the three MixColumns rotations of a round are applied to each table output
 * directly (M³·a ⊕ M²·b ⊕ M·c ⊕ d instead of M(M(M(a) ⊕ b) ⊕ c) ⊕ d), the key's share
 * pre-rotated by the key schedule, which shortens the dependency chain of a round.
 *
 * Encryption: one native CBC pass (aes-ige.ts) between two XOR passes done here over whole
 * 16-byte vectors.
 *
 * The module (about 10 KiB of code) is written by wasm-writer.ts when an IgeSimd is made, once per
 * process (aes-ige.ts, on first use; some 10–30 ms). Its memory holds the tables, the key schedule
 * and key (wiped after every decryption) and two 64 KiB windows of data; longer messages go through
 * the windows in turns, carrying the chaining blocks.
 */
import { createCipheriv } from 'node:crypto';
import {
  and,
  andNot,
  FunctionWriter,
  I32,
  i32,
  i32Add,
  i32GeU,
  load,
  localGet,
  localSet,
  moduleBytes,
  store,
  swizzle,
  u32ShrU,
  vconst,
  whileNot,
  V128,
  xor,
  type Code,
} from './wasm-writer';

/** Little-endian bytes of `.quad` pairs as written in vpaes-x86_64.pl. */
function quads(...hex: string[]): number[] {
  return hex.flatMap((h) => {
    const v = BigInt(`0x${h}`);
    return Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
  });
}

const TABLES = {
  inv: quads('0E05060F0D080180', '040703090A0B0C02'), // 1/x in GF(2^4); 0x80 for 1/0
  inva: quads('01040A060F0B0780', '030D0E0C02050809'),
  s0F: quads('0F0F0F0F0F0F0F0F', '0F0F0F0F0F0F0F0F'),
  iptLo: quads('C2B2E8985A2A7000', 'CABAE09052227808'), // input transform (key schedule)
  iptHi: quads('4C01307D317C4D00', 'CD80B1FCB0FDCC81'),
  sb1u: quads('B19BE18FCB503E00', 'A5DF7A6E142AF544'), // S-box output (key schedule)
  sb1t: quads('3618D415FAE22300', '3BF7CCC10D2ED9EF'),
  s63: quads('5B5B5B5B5B5B5B5B', '5B5B5B5B5B5B5B5B'),
  deskewLo: quads('07E4A34047A4E300', '1DFEB95A5DBEF91A'),
  deskewHi: quads('5F36B5DC83EA6900', '2841C2ABF49D1E77'),
  dksdLo: quads('FEB91A5DA3E44700', '0740E3A45A1DBEF9'), // decryption key schedule: ×D
  dksdHi: quads('41C277F4B5368300', '5FDC69EAAB289D1E'),
  dksbLo: quads('9A4FCA1F8550D500', '03D653861CC94C99'), // ×B
  dksbHi: quads('115BEDA7B6FC4A00', 'D993256F7E3482C8'),
  dkseLo: quads('D5031CCA1FC9D600', '53859A4C994F5086'), // ×E + 0x63
  dkseHi: quads('A23196054FDC7BE8', 'CD5EF96A20B31487'),
  dks9Lo: quads('B6116FC87ED9A700', '4AED933482255BFC'), // ×9
  dks9Hi: quads('4576516227143300', '8BB89FACE9DAFDCE'),
  diptLo: quads('0F505B040B545F00', '154A411E114E451A'), // decryption input transform
  diptHi: quads('86E383E660056500', '12771772F491F194'),
  dsb9u: quads('851C03539A86D600', 'CAD51F504F994CC9'), // inverse S-box output ×9
  dsb9t: quads('C03B1789ECD74900', '725E2C9EB2FBA565'),
  dsbdu: quads('7D57CCDFE6B1A200', 'F56E9B13882A4439'), // ×D
  dsbdt: quads('3CE2FAF724C6CB00', '2931180D15DEEFD3'),
  dsbbu: quads('D022649296B44200', '602646F6B0F2D404'), // ×B
  dsbbt: quads('C19498A6CD596700', 'F3FF0C3E3255AA6B'),
  dsbeu: quads('46F2929626D4D000', '2242600464B4F6B0'), // ×E
  dsbet: quads('0C55A6CDFFAAC100', '9467F36B98593E32'),
  dsbou: quads('1387EA537EF94000', 'C7AA6DB9D4943E2D'), // last round
  dsbot: quads('12D7560F93441D00', 'CA4B8159D8C58E9C'),
};
type Table = keyof typeof TABLES;

const MC_FORWARD = [
  quads('0407060500030201', '0C0F0E0D080B0A09'),
  quads('080B0A0904070605', '000302010C0F0E0D'),
  quads('0C0F0E0D080B0A09', '0407060500030201'),
  quads('000302010C0F0E0D', '080B0A0904070605'),
] as const;
const SHIFT_ROWS = [
  quads('0706050403020100', '0F0E0D0C0B0A0908'),
  quads('030E09040F0A0500', '0B06010C07020D08'),
  quads('0F060D040B020900', '070E050C030A0108'),
  quads('0B0E0104070A0D00', '0306090C0F020508'),
] as const;
const RCON = quads('1F8391B9AF9DEEB6', '702A98084D7C7D81');

/** Lanes of one permutation that applies `first`, then `second` (out[i] = in[first[second[i]]]). */
const compose = (first: readonly number[], second: readonly number[]): number[] =>
  second.map((j) => first[j]!);
const power = (lanes: readonly number[], n: number): number[] => {
  let out = lanes.map((_, i) => i);
  for (let k = 0; k < n; k++) out = compose(out, lanes);
  return out;
};
/** The MixColumns byte rotation of decryption round r (1..13): vpaes' xmm5, rotated each round. */
const MC: number[][] = [];
for (let r = 1, m: number[] = [...MC_FORWARD[3]]; r <= 13; r++, m = m.map((_, i) => m[(i + 12) & 15]!))
  MC[r] = m;

// ---- memory layout
const CONSTANTS = 0;
const KEYS = 0x400; // 15 round keys, in the order decryption uses them
const KEY = 0x500; // the raw 32-byte key
const CHAIN = 0x520; // decryption: previous ciphertext block, previous plaintext block
const WINDOW = 0x10000;
const A = 0x1000; // 32 bytes of history, then the window
const B = A + 32 + WINDOW; // a second window (encryption)
const PAGES = Math.ceil((B + WINDOW) / 0x10000);

class Constants {
  readonly bytes: number[][] = [];
  private readonly at = new Map<string, number>();
  address(bytes: readonly number[]): number {
    const k = bytes.join(',');
    let a = this.at.get(k);
    if (a === undefined) {
      a = CONSTANTS + 16 * this.bytes.length;
      this.at.set(k, a);
      this.bytes.push([...bytes]);
    }
    if (a + 16 > KEYS) throw new Error('aes-ige-simd: constants overflow');
    return a;
  }
}

function buildModule(relaxed: boolean): { bytes: Uint8Array; constants: Constants } {
  const constants = new Constants();
  const zero = i32(0);
  /** Tables kept in locals of the function being written (loaded once, before its loop). */
  const hoisted = new Map<Table, Code>();
  const table = (t: Table): Code => hoisted.get(t) ?? load(zero, constants.address(TABLES[t]));
  const lookup = (t: Table, index: Code): Code => swizzle(table(t), index, relaxed);
  /** out[i] = a[lanes[i]]: a swizzle by lanes kept in memory (V8 builds i8x16.shuffle's from immediates). */
  const permute = (a: Code, lanes: readonly number[]): Code =>
    swizzle(a, load(zero, constants.address(lanes)), relaxed);

  /** Low and high nibbles of each byte. */
  const nibbles = (f: FunctionWriter, x: Code) => {
    const v = f.let(x);
    return { lo: f.let(and(v, table('s0F'))), hi: f.let(u32ShrU(andNot(v, table('s0F')), 4)) };
  };
  /** A GF(2)-linear map of each byte as two nibble tables. */
  const transform = (f: FunctionWriter, lo: Table, hi: Table, x: Code): Code => {
    const n = nibbles(f, x);
    return xor(lookup(lo, n.lo), lookup(hi, n.hi));
  };
  /** vpaes' "top of round": the tower-field inversion, as the two indexes io, jo of the output tables. */
  const invert = (f: FunctionWriter, x: Code) => {
    const { lo: k, hi: i } = nibbles(f, x);
    const ak = f.let(lookup('inva', k));
    const j = f.let(xor(k, i));
    const iak = f.let(xor(lookup('inv', i), ak));
    const jak = f.let(xor(lookup('inv', j), ak));
    return { io: f.let(xor(lookup('inv', iak), j)), jo: f.let(xor(lookup('inv', jak), i)) };
  };

  // expand(): the decryption key schedule of the key at KEY, into KEYS (vpaes_schedule_core for
  // 256-bit keys, decrypting, unrolled), each middle round key then pre-rotated for the rounds below.
  const expand = new FunctionWriter([]);
  {
    const f = expand;
    const slot = (s: number) => KEYS + 16 * s;
    const mangle = (x: Code, s: number) => {
      const { lo, hi } = nibbles(f, x);
      const m = MC_FORWARD[0];
      let t = f.let(permute(xor(lookup('dksdLo', lo), lookup('dksdHi', hi)), m));
      t = f.let(permute(xor(lookup('dksbLo', lo), t, lookup('dksbHi', hi)), m));
      t = f.let(permute(xor(lookup('dkseLo', lo), t, lookup('dkseHi', hi)), m));
      t = xor(lookup('dks9Lo', lo), t, lookup('dks9Hi', hi));
      f.emit(store(zero, permute(f.let(t), compose(SHIFT_ROWS[s & 3]!, power(MC[s]!, 3))), slot(s)));
    };
    const subBytes = (x: Code) => {
      const { io, jo } = invert(f, x);
      return xor(lookup('sb1u', io), lookup('sb1t', jo));
    };
    /** w ⊕ w<<32 ⊕ w<<64 ⊕ w<<96 (by bytes), ⊕ 0x63 transformed. */
    const smear = (w: Code) => {
      const shift = (v: Code, bytes: number) =>
        permute(
          v,
          Array.from({ length: 16 }, (_, i) => (i < bytes ? 0x80 : i - bytes)),
        );
      const a = f.let(w);
      const b = f.let(xor(a, shift(a, 4)));
      return xor(b, shift(b, 8), table('s63'));
    };
    const broadcast3 = [12, 13, 14, 15, 12, 13, 14, 15, 12, 13, 14, 15, 12, 13, 14, 15];
    const rotBroadcast3 = [13, 14, 15, 12, 13, 14, 15, 12, 13, 14, 15, 12, 13, 14, 15, 12];

    const keyLo = f.let(load(zero, KEY));
    let high = f.let(transform(f, 'iptLo', 'iptHi', keyLo));
    f.emit(store(zero, permute(keyLo, SHIFT_ROWS[2]), slot(14)));
    let low = f.let(transform(f, 'iptLo', 'iptHi', load(zero, KEY + 16)));
    let s = 13;
    for (let round = 1; ; round++) {
      mangle(low, s--);
      const rcon = new Array<number>(16).fill(0);
      rcon[0] = RCON[16 - round]!;
      const sm = f.let(smear(xor(high, vconst(rcon))));
      high = f.let(xor(subBytes(permute(low, rotBroadcast3)), sm));
      if (round === 7) {
        f.emit(store(zero, transform(f, 'deskewLo', 'deskewHi', xor(high, table('s63'))), slot(0)));
        break;
      }
      mangle(high, s--);
      low = f.let(xor(subBytes(permute(high, broadcast3)), f.let(smear(low))));
    }
  }

  // decrypt(from, to): IGE decryption in place of the blocks in [from, to), chaining through CHAIN:
  // m_i = D(c_i ⊕ m_{i-1}) ⊕ c_{i-1}.
  const decrypt = new FunctionWriter([I32, I32]);
  {
    const f = decrypt;
    const [at, end] = [localGet(0), localGet(1)];
    const prevCipher = f.local(V128);
    const prevPlain = f.local(V128);
    f.emit(localSet(prevCipher, load(zero, CHAIN)), localSet(prevPlain, load(zero, CHAIN + 16)));
    for (const t of ['s0F', 'inv', 'inva'] as const) hoisted.set(t, f.let(table(t)));
    const block = f.capture(() => {
      const c = f.let(load(at));
      const key = (r: number) => load(zero, KEYS + 16 * r);
      let x = f.let(xor(transform(f, 'diptLo', 'diptHi', xor(c, localGet(prevPlain))), key(0)));
      for (let r = 1; r <= 13; r++) {
        const { io, jo } = invert(f, x);
        const pair = (u: Table, t: Table) => f.let(xor(lookup(u, io), lookup(t, jo)));
        const m = MC[r]!;
        x = f.let(
          xor(
            xor(key(r), permute(pair('dsb9u', 'dsb9t'), power(m, 3))),
            xor(permute(pair('dsbdu', 'dsbdt'), power(m, 2)), permute(pair('dsbbu', 'dsbbt'), m)),
            pair('dsbeu', 'dsbet'),
          ),
        );
      }
      const { io, jo } = invert(f, x);
      const d = permute(f.let(xor(lookup('dsbou', io), key(14), lookup('dsbot', jo))), SHIFT_ROWS[2]);
      f.emit(
        localSet(prevPlain, xor(d, localGet(prevCipher))),
        store(at, localGet(prevPlain)),
        localSet(prevCipher, c),
        localSet(0, i32Add(at, i32(16))),
      );
    });
    f.emit(whileNot(i32GeU(at, end), block));
    f.emit(store(zero, localGet(prevCipher), CHAIN), store(zero, localGet(prevPlain), CHAIN + 16));
    hoisted.clear();
  }

  // xor(dst, a, b, n): dst[i] = a[i] ⊕ b[i] over n bytes (a multiple of 16).
  const xorBlocks = new FunctionWriter([I32, I32, I32, I32]);
  {
    const f = xorBlocks;
    const [dst, a, b, n] = [0, 1, 2, 3].map(localGet) as [Code, Code, Code, Code];
    const i = f.local(I32);
    const at = (base: Code) => i32Add(base, localGet(i));
    f.emit(
      whileNot(i32GeU(localGet(i), n), [
        store(at(dst), xor(load(at(a)), load(at(b)))),
        localSet(i, i32Add(localGet(i), i32(16))),
      ]),
    );
  }

  return { bytes: moduleBytes(PAGES, { expand, decrypt, xor: xorBlocks }), constants };
}

/** The little of the WebAssembly JS API used here (the project's TypeScript libs do not declare it). */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

/** The runtime's WebAssembly, or undefined (node --jitless has none). */
function webAssembly(): WebAssemblyApi | undefined {
  return (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
}

interface Exports {
  memory: { buffer: ArrayBuffer };
  expand(): void;
  decrypt(from: number, to: number): void;
  xor(dst: number, a: number, b: number, n: number): void;
}

/** One instance of the module, with the two IGE directions over it. */
export class IgeSimd {
  private readonly wasm: Exports;
  private readonly mem: Uint8Array;

  constructor(readonly relaxed: boolean) {
    const { bytes, constants } = buildModule(relaxed);
    const wasm = webAssembly();
    if (!wasm) throw new Error('WebAssembly is not available');
    this.wasm = new wasm.Instance(new wasm.Module(bytes)).exports as Exports;
    this.mem = new Uint8Array(this.wasm.memory.buffer);
    constants.bytes.forEach((c, i) => this.mem.set(c, CONSTANTS + 16 * i));
  }

  /** Callers check the lengths (aes-ige.ts). */
  decrypt(cipher: Buffer, key: Buffer, iv: Buffer): Buffer {
    const { mem, wasm } = this;
    const out = Buffer.allocUnsafe(cipher.length);
    try {
      mem.set(key, KEY);
      wasm.expand();
      mem.set(iv, CHAIN);
      for (let at = 0; at < cipher.length; at += WINDOW) {
        const n = Math.min(WINDOW, cipher.length - at);
        mem.set(cipher.subarray(at, at + n), A);
        wasm.decrypt(A, A + n);
        out.set(mem.subarray(A, A + n), at);
      }
    } finally {
      mem.fill(0, KEYS, CHAIN + 32);
    }
    return out;
  }

  /**
   * IGE encryption c_i = E(m_i ⊕ c_{i-1}) ⊕ m_{i-1} as CBC: with y_i = c_i ⊕ m_{i-1},
   * y_i = E(m_i ⊕ m_{i-2} ⊕ y_{i-1}), which is CBC encryption of x_i = m_i ⊕ m_{i-2} (m_{-1} = 0,
   * m_0 = iv[16..32)) under the IV y_0 = c_0 = iv[0..16); then c_i = y_i ⊕ m_{i-1}.
   */
  encrypt(plain: Buffer, key: Buffer, iv: Buffer, into?: Buffer): Buffer {
    const { mem, wasm } = this;
    const cbc = createCipheriv('aes-256-cbc', key, iv.subarray(0, 16)).setAutoPadding(false);
    const out = into ?? Buffer.allocUnsafe(plain.length);
    mem.fill(0, A, A + 16);
    mem.set(iv.subarray(16, 32), A + 16);
    for (let at = 0; at < plain.length; at += WINDOW) {
      const n = Math.min(WINDOW, plain.length - at);
      mem.set(plain.subarray(at, at + n), A + 32); // m_i at A + 16(i+1): m_{i-1}, m_{i-2} just before
      wasm.xor(B, A + 32, A, n); // x_i = m_i ⊕ m_{i-2}
      mem.set(cbc.update(mem.subarray(B, B + n)), B); // y_i
      wasm.xor(B, B, A + 16, n); // c_i = y_i ⊕ m_{i-1}
      out.set(mem.subarray(B, B + n), at);
      mem.copyWithin(A, A + n, A + n + 32); // the last two plaintext blocks, for the next window
    }
    // No cbc.final(): without padding it has nothing left to write.
    return out;
  }
}

/** Whether this runtime has i8x16.relaxed_swizzle (V8 ≥ 11.4, Node ≥ 22; Node 20 only behind a flag). */
export function relaxedSimdSupported(): boolean {
  const f = new FunctionWriter([]);
  const zero = vconst(new Array<number>(16).fill(0));
  f.emit([swizzle(zero, zero, true), 0x1a]); // drop the result
  return webAssembly()?.validate(moduleBytes(1, { probe: f })) ?? false;
}
