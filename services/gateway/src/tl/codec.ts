/**
 * A schema-driven TL codec for one schema (one API layer, or the MTProto service schema).
 * Objects are plain JS: `{ _: 'name', ...fields }` with TL field names; long → bigint,
 * int → number, bytes/int128/int256 → Buffer, string → string, Bool → boolean, `true` flags →
 * boolean, vectors → arrays, absent optional fields → undefined. Flags words are computed on
 * encode from which optional fields are present, so objects never carry them.
 *
 * Encoding is lenient where layers differ (see encode): fields the schema lacks are ignored and
 * required primitive fields the object lacks get their zero value, which is what makes one
 * layer-neutral object serializable in every layer (downgrade.ts handles renamed constructors).
 */
import type { TlObject } from '../mtproto/tl-types';
import { TlDecodeError, TlReader, TlWriter } from './binary';
import type { TlEntry, TlParam, TlSchema } from './schema';

export class TlEncodeError extends Error {
  override readonly name = 'TlEncodeError';
}

const VECTOR_ID = 0x1cb5c415;
const BOOL_TRUE = 0x997275b5;
const BOOL_FALSE = 0xbc799737;
const GZIP_PACKED = 0x3072cfa1;
/** Nesting deeper than this is hostile input, not a real object. */
const MAX_DEPTH = 64;

export class TlCodec {
  private readonly byId = new Map<number, TlEntry>();
  private readonly byName = new Map<string, TlEntry>();
  /** For bare `%Type` references: the single constructor of a type. */
  private readonly byType = new Map<string, TlEntry[]>();
  private readonly methodNames = new Set<string>();

  constructor(readonly schema: TlSchema) {
    for (const c of schema.constructors) {
      this.byId.set(c.id, c);
      this.byName.set(c.name, c);
      const list = this.byType.get(c.type) ?? [];
      list.push(c);
      this.byType.set(c.type, list);
    }
    for (const m of schema.methods) {
      this.byId.set(m.id, m);
      this.byName.set(m.name, m);
      this.methodNames.add(m.name);
    }
  }

  get layer(): number {
    return this.schema.layer;
  }
  hasId(id: number): boolean {
    return this.byId.has(id);
  }
  entry(name: string): TlEntry | undefined {
    return this.byName.get(name);
  }
  isMethod(name: string): boolean {
    return this.methodNames.has(name);
  }
  /** Constructors of a boxed type (for downgrades that pick a replacement). */
  constructorsOf(type: string): readonly TlEntry[] {
    return this.byType.get(type) ?? [];
  }

  decode(buf: Buffer): TlObject {
    return this.readObject(new TlReader(buf), 0) as TlObject;
  }

  /** A boxed Bool (boolTrue / boolFalse), for methods that return Bool. */
  encodeBool(v: boolean): Buffer {
    return new TlWriter().uint32(v ? BOOL_TRUE : BOOL_FALSE).result();
  }

  encode(obj: TlObject): Buffer {
    const w = new TlWriter();
    this.writeObject(w, obj, 0);
    return w.result();
  }

  // ---- decoding ----

  private readObject(r: TlReader, depth: number): unknown {
    if (depth > MAX_DEPTH) throw new TlDecodeError('nesting too deep');
    const id = r.uint32();
    if (id === BOOL_TRUE) return true;
    if (id === BOOL_FALSE) return false;
    if (id === VECTOR_ID) throw new TlDecodeError('an untyped vector cannot be decoded');
    if (id === GZIP_PACKED) throw new TlDecodeError('gzip_packed inside an object is not accepted');
    const entry = this.byId.get(id);
    if (!entry)
      throw new TlDecodeError(
        `unknown constructor 0x${id.toString(16).padStart(8, '0')} in layer ${this.schema.layer}`,
      );
    return this.readFields(r, entry, depth);
  }

  private readFields(r: TlReader, entry: TlEntry, depth: number): TlObject {
    const obj: TlObject = { _: entry.name };
    const flags: Record<string, number> = {};
    for (const p of entry.params) {
      if (p.type === '#') {
        flags[p.name] = r.uint32();
        continue;
      }
      if (p.flag) {
        const word = flags[p.flag.field];
        if (word === undefined)
          throw new TlDecodeError(`${entry.name}.${p.name}: flags field ${p.flag.field} missing`);
        const set = (word & (1 << p.flag.bit)) !== 0;
        if (p.type === 'true') {
          obj[p.name] = set;
          continue;
        }
        if (!set) continue;
      }
      obj[p.name] = this.readValue(r, p.type, depth + 1);
    }
    return obj;
  }

  private readValue(r: TlReader, type: string, depth: number): unknown {
    switch (type) {
      case 'int':
        return r.int32();
      case 'long':
        return r.int64();
      case 'double':
        return r.double();
      case 'int128':
        return r.raw(16);
      case 'int256':
        return r.raw(32);
      case 'string':
        return r.string();
      case 'bytes':
        return r.bytes();
      case 'true':
        return true;
      case 'Bool': {
        const id = r.uint32();
        if (id === BOOL_TRUE) return true;
        if (id === BOOL_FALSE) return false;
        throw new TlDecodeError('Bool expected');
      }
    }
    const vec = /^([Vv])ector<(.+)>$/.exec(type);
    if (vec) {
      if (vec[1] === 'V' && r.uint32() !== VECTOR_ID) throw new TlDecodeError('vector expected');
      const count = r.uint32();
      // Every element takes at least 4 bytes: a larger count is a lie meant to allocate.
      if (count * 4 > r.remaining)
        throw new TlDecodeError(`vector of ${count} cannot fit in ${r.remaining} bytes`);
      const out: unknown[] = [];
      for (let i = 0; i < count; i++) out.push(this.readValue(r, vec[2]!, depth + 1));
      return out;
    }
    const bare = this.bareEntry(type);
    if (bare) return this.readFields(r, bare, depth + 1);
    return this.readObject(r, depth + 1);
  }

  /** `%T`, or a lowercase constructor name used as a type: a bare constructor. */
  private bareEntry(type: string): TlEntry | undefined {
    if (type.startsWith('%')) {
      const name = type.slice(1);
      return this.byName.get(name) ?? this.byType.get(name)?.[0];
    }
    const last = type.split('.').pop()!;
    if (last[0] && last[0] === last[0].toLowerCase() && last[0] !== last[0].toUpperCase())
      return this.byName.get(type);
    return undefined;
  }

  // ---- encoding ----

  private writeObject(w: TlWriter, obj: unknown, depth: number): void {
    if (depth > MAX_DEPTH) throw new TlEncodeError('nesting too deep');
    if (typeof obj === 'boolean') {
      w.uint32(obj ? BOOL_TRUE : BOOL_FALSE);
      return;
    }
    if (!obj || typeof obj !== 'object' || typeof (obj as TlObject)._ !== 'string')
      throw new TlEncodeError(`not a TL object: ${String(obj)}`);
    const o = obj as TlObject;
    const entry = this.byName.get(o._);
    if (!entry) throw new TlEncodeError(`${o._} does not exist in layer ${this.schema.layer}`);
    w.uint32(entry.id);
    this.writeFields(w, entry, o, depth);
  }

  private writeFields(w: TlWriter, entry: TlEntry, o: TlObject, depth: number): void {
    // Flags first: a bit is set when any field on it is present. Fields may share a bit (e.g.
    // user.bot and user.bot_info_version), and then all of them must be written.
    const words: Record<string, number> = {};
    for (const p of entry.params) {
      if (p.type === '#') {
        const word = this.flagsWord(entry, p.name, o);
        words[p.name] = word;
        w.uint32(word);
        continue;
      }
      if (p.flag) {
        const on = ((words[p.flag.field] ?? 0) & (1 << p.flag.bit)) !== 0;
        if (!on || p.type === 'true') continue;
      }
      this.writeValue(w, p.type, o[p.name] ?? zeroValue(p.type, `${entry.name}.${p.name}`), depth + 1);
    }
  }

  private flagsWord(entry: TlEntry, field: string, o: TlObject): number {
    let word = 0;
    for (const p of entry.params) if (p.flag?.field === field && isSet(p, o[p.name])) word |= 1 << p.flag.bit;
    return word >>> 0;
  }

  private writeValue(w: TlWriter, type: string, v: unknown, depth: number): void {
    switch (type) {
      case 'int':
        w.int32(Number(v));
        return;
      case 'long':
        w.int64(typeof v === 'bigint' ? v : BigInt(v as number));
        return;
      case 'double':
        w.double(Number(v));
        return;
      case 'int128':
      case 'int256': {
        const len = type === 'int128' ? 16 : 32;
        if (!Buffer.isBuffer(v) || v.length !== len)
          throw new TlEncodeError(`${type} must be a ${len}-byte Buffer`);
        w.raw(v);
        return;
      }
      case 'string':
        if (Buffer.isBuffer(v)) w.bytes(v);
        else w.string(String(v));
        return;
      case 'bytes':
        w.bytes(Buffer.isBuffer(v) ? v : Buffer.from(String(v), 'utf8'));
        return;
      case 'Bool':
        w.uint32(v ? BOOL_TRUE : BOOL_FALSE);
        return;
    }
    const vec = /^([Vv])ector<(.+)>$/.exec(type);
    if (vec) {
      if (!Array.isArray(v)) throw new TlEncodeError(`${type} needs an array`);
      if (vec[1] === 'V') w.uint32(VECTOR_ID);
      w.uint32(v.length);
      for (const item of v) this.writeValue(w, vec[2]!, item, depth + 1);
      return;
    }
    const bare = this.bareEntry(type);
    if (bare) {
      this.writeFields(w, bare, v as TlObject, depth + 1);
      return;
    }
    this.writeObject(w, v, depth + 1);
  }
}

function isSet(p: TlParam, v: unknown): boolean {
  return p.type === 'true' ? v === true : v !== undefined && v !== null;
}

/** The value a required field gets when the layer-neutral object does not have it. */
function zeroValue(type: string, where: string): unknown {
  switch (type) {
    case 'int':
    case 'double':
      return 0;
    case 'long':
      return 0n;
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'Bool':
      return false;
  }
  if (/^[Vv]ector</.test(type)) return [];
  throw new TlEncodeError(`${where} (${type}) is required`);
}
