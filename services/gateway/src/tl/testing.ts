/**
 * Test support for the TL layer (imported by *.test.ts only, never by runtime code; it needs the
 * dev dependencies fast-check, telegram and big-integer):
 *  - schemaArbitrary: random, schema-valid objects of any constructor, so property tests cover
 *    the schema rather than a few hand-picked shapes;
 *  - toGramJS: the same object as a GramJS `Api` instance, to compare bytes with a real client.
 */
import bigInt from 'big-integer';
import fc from 'fast-check';
import { Api } from 'telegram';
import type { TlCodec, TlObject } from './codec';
import type { TlEntry } from './schema';
import { parseType, type TlTypeRef } from './types';

export interface ArbitraryOptions {
  /** Below this depth nested objects are generated; at it, only leaves (default 2). */
  maxDepth?: number;
  /** Longest generated vector (default 3). */
  maxVector?: number;
}

const INT = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const LONG = fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n });
// Lengths around 254 exercise both forms of TL's bytes length prefix.
const STRING = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ minLength: 250, maxLength: 260 }),
);
const BYTES = fc
  .oneof(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ minLength: 250, maxLength: 260 }))
  .map((a) => Buffer.from(a));

/** Random objects that follow `codec`'s schema. */
export class SchemaArbitrary {
  private readonly maxDepth: number;
  private readonly maxVector: number;

  constructor(
    private readonly codec: TlCodec,
    options: ArbitraryOptions = {},
  ) {
    this.maxDepth = options.maxDepth ?? 2;
    this.maxVector = options.maxVector ?? 3;
  }

  /** Objects of one constructor (its nested fields random too). */
  object(name: string, depth = 0): fc.Arbitrary<TlObject> {
    const entry = this.codec.byName(name);
    if (!entry) throw new Error(`no ${name} in layer ${this.codec.layer}`);
    return this.fields(entry, depth);
  }

  /** True when `entry` can be generated at `depth` without an unbounded chain of objects. */
  canGenerate(entry: TlEntry, depth = 0): boolean {
    return entry.params.every((p) => p.flag || this.feasible(parseType(p.type), depth + 1));
  }

  private feasible(ref: TlTypeRef, depth: number): boolean {
    switch (ref.kind) {
      case 'vector':
        return true; // may be empty
      case 'boxed':
        if (ref.type === 'Bool') return true;
        if (depth > this.maxDepth + 3) return false;
        return this.codec.constructorsOf(ref.type).some((c) => this.canGenerate(c, depth));
      case 'bare': {
        const e = this.codec.byName(ref.name) ?? this.codec.constructorsOf(ref.name)[0];
        return !!e && depth <= this.maxDepth + 3 && this.canGenerate(e, depth);
      }
      case 'any':
        return false;
      default:
        return true;
    }
  }

  private fields(entry: TlEntry, depth: number): fc.Arbitrary<TlObject> {
    const shape: Record<string, fc.Arbitrary<unknown>> = { _: fc.constant(entry.name) };
    const deep = depth >= this.maxDepth;
    for (const p of entry.params) {
      if (p.type === '#') continue;
      const ref = parseType(p.type);
      if (p.flag && p.type === 'true') shape[p.name] = fc.boolean();
      else if (p.flag)
        shape[p.name] =
          deep || !this.feasible(ref, depth + 1)
            ? fc.constant(undefined)
            : fc.option(this.value(ref, depth + 1), { nil: undefined });
      else shape[p.name] = this.value(ref, depth + 1);
    }
    return fc.record(shape).map((o) => fixSharedBits(entry, o as TlObject));
  }

  /** Values of a type expression. */
  value(ref: TlTypeRef, depth: number): fc.Arbitrary<unknown> {
    switch (ref.kind) {
      case 'primitive':
        switch (ref.name) {
          case 'int':
            return INT;
          case 'long':
            return LONG;
          case 'double':
            return fc.double({ noNaN: true });
          case 'int128':
            return fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => Buffer.from(a));
          case 'int256':
            return fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => Buffer.from(a));
          case 'string':
            return STRING;
          case 'bytes':
            return BYTES;
          case 'Bool':
            return fc.boolean();
          case 'true':
            return fc.constant(true);
        }
        break;
      case 'vector':
        if (depth >= this.maxDepth + 2 || !this.feasible(ref.of, depth + 1)) return fc.constant([]);
        return fc.array(this.value(ref.of, depth + 1), { maxLength: this.maxVector });
      case 'boxed': {
        if (ref.type === 'Bool') return fc.boolean();
        const options = this.codec.constructorsOf(ref.type).filter((c) => this.canGenerate(c, depth));
        // Deep down prefer constructors without required objects, so generation terminates.
        const leaves = options.filter((c) =>
          c.params.every((p) => p.flag || !isObjectRef(parseType(p.type))),
        );
        const pick = depth >= this.maxDepth && leaves.length > 0 ? leaves : options;
        if (pick.length === 0) throw new Error(`cannot generate ${ref.type}`);
        return fc.oneof(...pick.map((c) => fc.constant(c))).chain((c) => this.fields(c, depth));
      }
      case 'bare': {
        const e = this.codec.byName(ref.name) ?? this.codec.constructorsOf(ref.name)[0]!;
        return this.fields(e, depth);
      }
      case 'flags':
      case 'any':
        break;
    }
    throw new Error(`cannot generate ${JSON.stringify(ref)}`);
  }
}

function isObjectRef(ref: TlTypeRef): boolean {
  return (ref.kind === 'boxed' && ref.type !== 'Bool') || ref.kind === 'bare' || ref.kind === 'any';
}

/**
 * When a `true` flag shares its bit with a value field (user.bot / bot_info_version), decode
 * reports both whenever either is present; make generated objects agree with that.
 */
function fixSharedBits(entry: TlEntry, o: TlObject): TlObject {
  for (const p of entry.params) {
    if (!p.flag) continue;
    const siblings = entry.params.filter(
      (q) => q !== p && q.flag?.field === p.flag!.field && q.flag.bit === p.flag!.bit,
    );
    if (siblings.length === 0) continue;
    const on = [p, ...siblings].some((q) =>
      q.type === 'true' ? o[q.name] === true : o[q.name] !== undefined,
    );
    const all = [p, ...siblings];
    if (!on) continue;
    if (all.some((q) => q.type !== 'true' && o[q.name] === undefined)) {
      for (const q of all) o[q.name] = q.type === 'true' ? false : undefined;
    } else {
      for (const q of all) if (q.type === 'true') o[q.name] = true;
    }
  }
  return o;
}

// ---- GramJS bridge ----

/** GramJS's spelling of a field: snake_case → camelCase. */
export function gramjsField(name: string): string {
  return name.replace(/[-_][a-z]/g, (g) => g.slice(1).toUpperCase());
}

/** GramJS's class for a TL name: `messages.sendMessage` → Api.messages.SendMessage. */
export function gramjsClass(name: string): new (args: Record<string, unknown>) => { getBytes(): Buffer } {
  const dot = name.lastIndexOf('.');
  const ns = dot < 0 ? undefined : name.slice(0, dot);
  const cls = name
    .slice(dot + 1)
    .replace(/(?:^|_)([a-z])/g, (_m, c: string) => c.toUpperCase())
    .replace(/_/g, '');
  const holder: unknown = ns ? Reflect.get(Api, ns) : Api;
  const ctor: unknown =
    (typeof holder === 'object' || typeof holder === 'function') && holder !== null
      ? Reflect.get(holder, cls)
      : undefined;
  if (typeof ctor !== 'function') throw new Error(`GramJS has no class for ${name}`);
  return ctor as new (args: Record<string, unknown>) => { getBytes(): Buffer };
}

/** Our object as a GramJS instance (longs become big-integer values, as GramJS expects). */
export function toGramJS(codec: TlCodec, value: unknown): unknown {
  if (typeof value === 'bigint') return bigInt(value.toString());
  if (Array.isArray(value)) return value.map((v) => toGramJS(codec, v));
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return value;
  const obj = value as TlObject;
  const entry = codec.byName(obj._);
  if (!entry) throw new Error(`${obj._} not in layer ${codec.layer}`);
  const args: Record<string, unknown> = {};
  for (const p of entry.params) {
    if (p.type === '#' || obj[p.name] === undefined) continue;
    args[gramjsField(p.name)] = toGramJS(codec, obj[p.name]);
  }
  const Ctor = gramjsClass(obj._);
  return new Ctor(args);
}
