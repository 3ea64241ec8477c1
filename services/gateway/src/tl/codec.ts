/**
 * A schema-driven TL codec for one schema (one API layer, or the MTProto service schema).
 *
 * Objects are plain JS: `{ _: 'name', ...fields }` with TL's names (`messages.sendMessage`,
 * `random_id`). long → bigint, int → number, double → number, bytes/int128/int256 → Buffer,
 * string → string, Bool → boolean, flag-only `true` fields → boolean, vectors → arrays, absent
 * optional fields → undefined. Flags words (`flags`, `flags2`) never appear in objects: decode
 * consumes them, encode computes them from which optional fields are present.
 *
 * Encoding is strict about what the schema requires (a missing required field is a
 * TlEncodeError) but ignores fields the schema does not know, so one object can be encoded in
 * layers that have fewer fields; downgrade.ts builds on that for older layers.
 */
import { gunzipSync } from 'node:zlib';
import type { TlObject } from '../mtproto/tl-types';
import { TlDecodeError, TlEncodeError } from './errors';
import {
  BOOL_FALSE,
  BOOL_TRUE,
  DEFAULT_LIMITS,
  hex,
  TlReader,
  VECTOR_ID,
  type TlReaderLimits,
} from './reader';
import type { TlEntry, TlSchema } from './schema';
import { parseType, type TlTypeRef } from './types';
import { TlWriter } from './writer';

export type { TlObject } from '../mtproto/tl-types';
export { TlDecodeError, TlEncodeError } from './errors';

const GZIP_PACKED = 0x3072cfa1;

/** A parameter prepared for the codec: its type parsed once. */
interface CompiledParam {
  name: string;
  ref: TlTypeRef;
  flag?: { field: string; bit: number };
  /** A flag-only `true` field: no bytes, just its bit. */
  bitOnly: boolean;
  /** `constructor.field`, for error messages (built once: encoding is hot). */
  path: string;
}

export interface TlCodecOptions {
  /** Decoding limits (vector length, nesting depth). */
  limits?: Partial<TlReaderLimits>;
  /** Largest size a gzip_packed value may inflate to (a zip bomb must not exhaust memory). */
  maxInflatedBytes?: number;
  /**
   * Definitions read by id but never written (a client between two held layers may send either
   * layer's; coverage.ts). The schema's own entries win on an id both have.
   */
  decodeOnly?: { constructors: readonly TlEntry[]; methods: readonly TlEntry[] };
}

/**
 * Where Telegram reads a constructor of a sibling type as the type expected, so does Tern: the
 * value is rewritten to the expected type's constructor, so handlers see what the schema says.
 * Keyed by the expected type, then the constructor sent; the two share their fields.
 */
export const SIBLING_CONSTRUCTORS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  InputUser: { inputPeerUser: 'inputUser', inputPeerSelf: 'inputUserSelf' },
  InputChannel: { inputPeerChannel: 'inputChannel' },
  InputPeer: { inputUser: 'inputPeerUser', inputUserSelf: 'inputPeerSelf', inputChannel: 'inputPeerChannel' },
};

export class TlCodec {
  private readonly ids = new Map<number, TlEntry>();
  private readonly names = new Map<string, TlEntry>();
  private readonly types = new Map<string, TlEntry[]>();
  private readonly methods = new Set<string>();
  /** Ids of decode-only definitions that are methods (never accepted as a typed field). */
  private readonly decodeOnlyMethods = new Set<number>();
  private readonly compiled = new Map<TlEntry, CompiledParam[]>();
  private readonly limits: TlReaderLimits;
  private readonly maxInflated: number;

  constructor(
    readonly schema: TlSchema,
    options: TlCodecOptions = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.maxInflated = options.maxInflatedBytes ?? 16 << 20;
    for (const c of schema.constructors) {
      this.ids.set(c.id, c);
      this.names.set(c.name, c);
      const list = this.types.get(c.type) ?? [];
      list.push(c);
      this.types.set(c.type, list);
    }
    for (const m of schema.methods) {
      this.ids.set(m.id, m);
      this.names.set(m.name, m);
      this.methods.add(m.name);
    }
    const extra = options.decodeOnly;
    for (const e of [...(extra?.constructors ?? []), ...(extra?.methods ?? [])])
      if (!this.ids.has(e.id)) this.ids.set(e.id, e);
    for (const m of extra?.methods ?? []) this.decodeOnlyMethods.add(m.id);
  }

  /** The API layer (0 for the service schema). */
  get layer(): number {
    return this.schema.layer;
  }

  // ---- lookups ----

  /** The constructor or method with this id. */
  byId(id: number): TlEntry | undefined {
    return this.ids.get(id >>> 0);
  }
  /** The constructor or method with this full name (`messages.sendMessage`). */
  byName(name: string): TlEntry | undefined {
    return this.names.get(name);
  }
  /** Same as byName (kept for existing callers). */
  entry(name: string): TlEntry | undefined {
    return this.names.get(name);
  }
  hasId(id: number): boolean {
    return this.ids.has(id >>> 0);
  }
  isMethod(name: string): boolean {
    return this.methods.has(name);
  }
  /** The constructors of a boxed type, in schema order (for downgrades that pick a replacement). */
  constructorsOf(type: string): readonly TlEntry[] {
    return this.types.get(type) ?? [];
  }
  /** A method's result type as TL spells it (`Updates`, `Vector<User>`, `Bool`, `X`), or undefined. */
  methodResultType(name: string): string | undefined {
    return this.methods.has(name) ? this.names.get(name)!.type : undefined;
  }

  // ---- decoding ----

  /**
   * Decodes one boxed object or method call by its constructor id. Generic arguments (`!X`, such
   * as invokeWithLayer's query) are decoded the same way, recursively. A Buffer gets a reader
   * with this codec's limits; pass a TlReader to continue reading after the object.
   */
  decode(input: Buffer | TlReader): TlObject {
    const v = this.readAny(this.reader(input));
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw new TlDecodeError(`expected an object, got ${typeof v === 'boolean' ? 'a Bool' : typeof v}`);
    return v as TlObject;
  }

  /**
   * Decodes a value of any TL type expression: bare (`%Message`, `future_salt`, `vector<long>`,
   * `int`) or boxed (`Bool`, `Vector<User>`, `InputPeer`).
   */
  decodeBare(type: string, input: Buffer | TlReader): unknown {
    return this.readValue(this.reader(input), parseType(type));
  }

  /** Decodes a method's result (by methodResultType), e.g. `Vector<User>` for users.getUsers. */
  decodeResult(method: string, input: Buffer | TlReader): unknown {
    const type = this.methodResultType(method);
    if (type === undefined) throw new TlDecodeError(`unknown method ${method}`);
    // A generic method (invokeWithLayer: `= X`) returns whatever its query returns: any object.
    const generic = this.names.get(method)!.params.some((p) => p.type === `!${type}`);
    return this.decodeBare(generic ? 'Object' : type, input);
  }

  private reader(input: Buffer | TlReader): TlReader {
    return input instanceof TlReader ? input : new TlReader(input, this.limits);
  }

  /** A boxed value of any type: constructor id, then fields (Bool ids become booleans). */
  private readAny(r: TlReader, expected?: string): unknown {
    const id = r.uint32();
    if (id === BOOL_TRUE || id === BOOL_FALSE) {
      if (expected !== undefined && expected !== 'Bool')
        throw new TlDecodeError(`expected ${expected}, got Bool`);
      return id === BOOL_TRUE;
    }
    if (id === GZIP_PACKED) return this.readGzipped(r, expected);
    if (id === VECTOR_ID) throw new TlDecodeError('a vector where an object was expected');
    const entry = this.ids.get(id);
    if (!entry) throw new TlDecodeError(`unknown constructor 0x${hex(id)} in layer ${this.layer}`);
    if (expected === undefined) return this.readFields(r, entry);
    // In a typed field only constructors qualify: a method's `type` is its result type.
    const isMethod = this.methods.has(entry.name) || this.decodeOnlyMethods.has(id);
    if (entry.type === expected && !isMethod) return this.readFields(r, entry);
    const sibling = isMethod ? undefined : SIBLING_CONSTRUCTORS[expected]?.[entry.name];
    const target = sibling === undefined ? undefined : this.names.get(sibling);
    if (target?.type !== expected)
      throw new TlDecodeError(`expected ${expected}, got ${entry.name} (${entry.type})`);
    return this.asSibling(this.readFields(r, entry), target);
  }

  /** A sibling's fields under the expected constructor (SIBLING_CONSTRUCTORS); they must all be there. */
  private asSibling(obj: TlObject, target: TlEntry): TlObject {
    const out: TlObject = { _: target.name };
    for (const p of target.params) {
      if (p.type === '#') continue;
      const v = obj[p.name];
      if (v === undefined && !p.flag)
        throw new TlDecodeError(`${obj._} cannot stand for ${target.name}: no ${p.name}`);
      if (v !== undefined) out[p.name] = v;
    }
    return out;
  }

  /** gzip_packed may stand for any boxed object; it is inflated under a size limit. */
  private readGzipped(r: TlReader, expected?: string): unknown {
    // Clients pack an object once; packing inside packing only multiplies what one request may
    // inflate to (each level may reach maxInflated).
    if (r.inflated) throw new TlDecodeError('gzip_packed inside gzip_packed');
    let inflated: Buffer;
    try {
      inflated = gunzipSync(r.bytes(), { maxOutputLength: this.maxInflated });
    } catch (err) {
      if (err instanceof TlDecodeError) throw err;
      throw new TlDecodeError(`gzip_packed does not inflate within ${this.maxInflated} bytes`, {
        cause: err,
      });
    }
    r.enter();
    const inner = r.child(inflated);
    const v = this.readAny(inner, expected);
    r.leave();
    return v;
  }

  private readFields(r: TlReader, entry: TlEntry): TlObject {
    r.enter();
    const obj: TlObject = { _: entry.name };
    const words: Record<string, number> = {};
    for (const p of this.params(entry)) {
      if (p.ref.kind === 'flags') {
        words[p.name] = r.uint32();
        continue;
      }
      if (p.flag) {
        const set = ((words[p.flag.field] ?? 0) & (1 << p.flag.bit)) !== 0;
        if (p.bitOnly) {
          obj[p.name] = set;
          continue;
        }
        if (!set) continue;
      }
      obj[p.name] = this.readValue(r, p.ref);
    }
    r.leave();
    return obj;
  }

  private readValue(r: TlReader, ref: TlTypeRef): unknown {
    switch (ref.kind) {
      case 'primitive':
        switch (ref.name) {
          case 'int':
            return r.int();
          case 'long':
            return r.long();
          case 'double':
            return r.double();
          case 'int128':
            return r.int128();
          case 'int256':
            return r.int256();
          case 'string':
            return r.string();
          case 'bytes':
            return r.bytes();
          case 'Bool':
            return r.bool();
          case 'true':
            return true;
        }
        break;
      case 'flags':
        return r.uint32();
      case 'vector': {
        const of = ref.of;
        return r.vector((rr) => this.readValue(rr, of), ref.boxed, this.minSize(of));
      }
      case 'boxed':
        return this.readAny(r, ref.type);
      case 'bare':
        return this.readFields(r, this.bareEntry(ref.name, TlDecodeError));
      case 'any':
        return this.readAny(r);
    }
    throw new TlDecodeError('unreachable type');
  }

  // ---- encoding ----

  /** Encodes a boxed object or method call; flags words are computed from field presence. */
  encode(obj: TlObject): Buffer {
    const w = new TlWriter();
    this.writeAny(w, obj, undefined, 0);
    return w.result();
  }

  /** Encodes a value of any TL type expression (see decodeBare). */
  encodeBare(type: string, value: unknown): Buffer {
    const w = new TlWriter();
    this.writeValue(w, parseType(type), value, 0, type);
    return w.result();
  }

  /** A boxed Bool (boolTrue / boolFalse), for methods that return Bool. */
  encodeBool(v: boolean): Buffer {
    return new TlWriter().bool(v).result();
  }

  private writeAny(w: TlWriter, v: unknown, expected: string | undefined, depth: number): void {
    if (depth > this.limits.maxDepth) throw new TlEncodeError('nesting too deep');
    if (typeof v === 'boolean' && (expected === undefined || expected === 'Bool')) {
      w.bool(v);
      return;
    }
    // A generic argument may be handed over already serialized (e.g. a query being forwarded).
    if (Buffer.isBuffer(v) && expected === undefined) {
      w.raw(v);
      return;
    }
    if (!isObject(v)) throw new TlEncodeError(`expected ${expected ?? 'a TL object'}, got ${describe(v)}`);
    const entry = this.names.get(v._);
    if (!entry) throw new TlEncodeError(`${v._} does not exist in layer ${this.layer}`);
    if (expected !== undefined && (entry.type !== expected || this.methods.has(entry.name)))
      throw new TlEncodeError(`expected ${expected}, got ${entry.name} (${entry.type})`);
    w.uint32(entry.id);
    this.writeFields(w, entry, v, depth + 1);
  }

  private writeFields(w: TlWriter, entry: TlEntry, o: TlObject, depth: number): void {
    const params = this.params(entry);
    const words: Record<string, number> = {};
    for (const p of params) {
      if (p.ref.kind === 'flags') {
        // A bit is on when any field on it is present: fields may share a bit (user.bot_info_version
        // rides on bot's), and then each of them is written.
        let word = 0;
        for (const q of params)
          if (q.flag?.field === p.name && isPresent(q, o[q.name])) word |= 1 << q.flag.bit;
        words[p.name] = word >>> 0;
        w.uint32(word);
        continue;
      }
      const v = o[p.name];
      if (p.flag) {
        if (p.bitOnly || ((words[p.flag.field] ?? 0) & (1 << p.flag.bit)) === 0) continue;
        // The bit may be on only through a sibling sharing it: the field then must be present too.
        if (v === undefined || v === null)
          throw new TlEncodeError(
            `${entry.name}.${p.name} is required when ${p.flag.field}.${p.flag.bit} is set`,
          );
      } else if (v === undefined || v === null) {
        throw new TlEncodeError(`${entry.name}.${p.name} is required`);
      }
      this.writeValue(w, p.ref, v, depth, p.path);
    }
  }

  private writeValue(w: TlWriter, ref: TlTypeRef, v: unknown, depth: number, where: string): void {
    const fail = (what: string): never => encodeTypeError(where, what, v);
    switch (ref.kind) {
      case 'primitive':
        switch (ref.name) {
          case 'int':
            if (typeof v !== 'number') fail('a number (int)');
            w.int(v as number);
            return;
          case 'long':
            if (typeof v === 'bigint') w.long(v);
            else if (typeof v === 'number' && Number.isSafeInteger(v)) w.long(BigInt(v));
            else fail('a bigint (long)');
            return;
          case 'double':
            if (typeof v !== 'number') fail('a number (double)');
            w.double(v as number);
            return;
          case 'int128':
          case 'int256':
            if (!Buffer.isBuffer(v)) fail(`a Buffer (${ref.name})`);
            if (ref.name === 'int128') w.int128(v as Buffer);
            else w.int256(v as Buffer);
            return;
          case 'string':
            // A Buffer is accepted so strings that were not valid UTF-8 can be passed through.
            if (typeof v === 'string') w.string(v);
            else if (v instanceof Uint8Array) w.bytes(v);
            else fail('a string');
            return;
          case 'bytes':
            if (v instanceof Uint8Array) w.bytes(v);
            else if (typeof v === 'string') w.string(v);
            else fail('a Buffer (bytes)');
            return;
          case 'Bool':
            if (typeof v !== 'boolean') fail('a boolean (Bool)');
            w.bool(v as boolean);
            return;
          case 'true':
            return;
        }
        return;
      case 'flags':
        w.uint32(Number(v));
        return;
      case 'vector': {
        if (!Array.isArray(v)) return fail(`an array (${ref.boxed ? 'Vector' : 'vector'})`);
        if (depth > this.limits.maxDepth) throw new TlEncodeError('nesting too deep');
        w.vectorHeader(v.length, ref.boxed);
        for (const item of v) this.writeValue(w, ref.of, item, depth + 1, where);
        return;
      }
      case 'boxed':
        if (ref.type === 'Bool')
          return this.writeValue(w, { kind: 'primitive', name: 'Bool' }, v, depth, where);
        this.writeAny(w, v, ref.type, depth);
        return;
      case 'bare': {
        if (depth > this.limits.maxDepth) throw new TlEncodeError('nesting too deep');
        const entry = this.bareEntry(ref.name, TlEncodeError);
        if (typeof v !== 'object' || v === null) return fail(`an object (${ref.name})`);
        this.writeFields(w, entry, v as TlObject, depth + 1);
        return;
      }
      case 'any':
        this.writeAny(w, v, undefined, depth);
        return;
    }
  }

  // ---- schema helpers ----

  private params(entry: TlEntry): CompiledParam[] {
    let out = this.compiled.get(entry);
    if (!out) {
      out = entry.params.map((p) => {
        const ref = parseType(p.type);
        const c: CompiledParam = {
          name: p.name,
          ref,
          bitOnly: !!p.flag && p.type === 'true',
          path: `${entry.name}.${p.name}`,
        };
        if (p.flag) c.flag = p.flag;
        return c;
      });
      this.compiled.set(entry, out);
    }
    return out;
  }

  /** A bare reference names a constructor, or a type with exactly one constructor (`%Message`). */
  private bareEntry(name: string, E: typeof TlDecodeError | typeof TlEncodeError): TlEntry {
    const direct = this.names.get(name);
    if (direct) return direct;
    const ofType = this.types.get(name);
    if (ofType?.length === 1) return ofType[0]!;
    throw new E(`bare type ${name} is ${ofType ? 'ambiguous' : 'unknown'} in layer ${this.layer}`);
  }

  /** A lower bound on an element's size, so vector counts can be checked against the input. */
  private minSize(ref: TlTypeRef): number {
    switch (ref.kind) {
      case 'primitive':
        return { int: 4, long: 8, double: 8, int128: 16, int256: 32, string: 4, bytes: 4, Bool: 4, true: 0 }[
          ref.name
        ];
      case 'bare': {
        const entry = this.names.get(ref.name) ?? this.types.get(ref.name)?.[0];
        return entry?.params.some((p) => !p.flag && p.type !== 'true') ? 4 : 0;
      }
      default:
        return 4;
    }
  }
}

function encodeTypeError(where: string, what: string, v: unknown): never {
  throw new TlEncodeError(`${where}: expected ${what}, got ${describe(v)}`);
}

function isObject(v: unknown): v is TlObject {
  return typeof v === 'object' && v !== null && typeof (v as TlObject)._ === 'string';
}

function isPresent(p: CompiledParam, v: unknown): boolean {
  return p.bitOnly ? v === true : v !== undefined && v !== null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (Buffer.isBuffer(v)) return 'a Buffer';
  if (isObject(v)) return v._;
  return typeof v;
}
