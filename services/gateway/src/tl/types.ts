/**
 * TL type expressions (`Vector<%Message>`, `flags.3?InputPeer`'s `InputPeer`, `!X`) parsed into a
 * small tree, so the codec decides how to read a field once per type string instead of
 * re-inspecting the text for every value.
 */
import { TlParseError } from './errors';

export type TlPrimitive =
  'int' | 'long' | 'double' | 'int128' | 'int256' | 'string' | 'bytes' | 'Bool' | 'true';

export type TlTypeRef =
  | { kind: 'primitive'; name: TlPrimitive }
  /** A flags word (`#`). */
  | { kind: 'flags' }
  /** `Vector<T>` (boxed: with the 0x1cb5c415 header) or `vector<T>` (bare: count only). */
  | { kind: 'vector'; boxed: boolean; of: TlTypeRef }
  /** A boxed polymorphic type: constructor id, then fields. */
  | { kind: 'boxed'; type: string }
  /** A bare constructor (`%T` or a lowercase name): fields only, no id. */
  | { kind: 'bare'; name: string }
  /** `!X` / `X` / `Object`: any boxed object, decoded by its id. */
  | { kind: 'any' };

const PRIMITIVES = new Set<string>([
  'int',
  'long',
  'double',
  'int128',
  'int256',
  'string',
  'bytes',
  'Bool',
  'true',
]);

/** True when a TL identifier names a constructor (lowercase last segment) rather than a type. */
export function isBareName(name: string): boolean {
  const last = name.slice(name.lastIndexOf('.') + 1);
  const c = last[0] ?? '';
  return c !== c.toUpperCase() && c === c.toLowerCase();
}

/**
 * Parses a type expression. `generics` are the names declared with `{X:Type}` on the combinator;
 * a bare use of one of them (`X`, as in a method's result) means any object.
 */
export function parseType(text: string, generics?: ReadonlySet<string>): TlTypeRef {
  // Without generics the result depends on the text alone: cache it (downgrades parse per value).
  if (generics === undefined || generics.size === 0) {
    let ref = CACHE.get(text);
    if (!ref) {
      ref = parseUncached(text, EMPTY);
      CACHE.set(text, ref);
    }
    return ref;
  }
  return parseUncached(text, generics);
}

const CACHE = new Map<string, TlTypeRef>();
const EMPTY: ReadonlySet<string> = new Set();

function parseUncached(text: string, generics: ReadonlySet<string>): TlTypeRef {
  const t = text.trim();
  if (t === '#') return { kind: 'flags' };
  if (PRIMITIVES.has(t)) return { kind: 'primitive', name: t as TlPrimitive };
  if (t.startsWith('!') || t === 'Object' || generics.has(t)) return { kind: 'any' };
  const vec = /^([Vv])ector\s*<(.+)>$/.exec(t) ?? /^([Vv])ector\s+(.+)$/.exec(t);
  if (vec) return { kind: 'vector', boxed: vec[1] === 'V', of: parseUncached(vec[2]!, generics) };
  if (t.startsWith('%')) return { kind: 'bare', name: t.slice(1) };
  if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)?$/.test(t)) throw new TlParseError(`invalid TL type: ${text}`);
  return isBareName(t) ? { kind: 'bare', name: t } : { kind: 'boxed', type: t };
}
