/**
 * The normalized TL schema format Tern generates at build time (tools/tl/generate.ts) from the
 * schemas published client packages ship, and the gateway loads at run time.
 *
 * Parameter types keep TL's spelling: `int`, `long`, `double`, `string`, `bytes`, `int128`,
 * `int256`, `Bool`, `true` (flag-only), `#` (a flags word), `Vector<T>` (boxed), `vector<T>`
 * (bare), `%T` / lowercase constructor names (bare), `!X` (a generic query), and boxed type names
 * (`InputPeer`, `messages.Messages`).
 */

export interface TlParam {
  name: string;
  type: string;
  /** For conditional fields: the flags word's name and the bit. */
  flag?: { field: string; bit: number };
}

export interface TlEntry {
  /** Full name with namespace, e.g. `messages.sendMessage`. */
  name: string;
  /** Constructor id as an unsigned 32-bit number. */
  id: number;
  /** The boxed type a constructor belongs to, or a method's result type. */
  type: string;
  params: TlParam[];
}

export interface TlSchema {
  /** The API layer, or 0 for the MTProto service schema. */
  layer: number;
  /** Where it was read from (package@version/path). */
  source: string;
  constructors: TlEntry[];
  methods: TlEntry[];
}
