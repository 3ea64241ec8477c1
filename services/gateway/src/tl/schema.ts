/**
 * The normalized TL schema format Tern generates at build time (tools/tl/generate.ts) from the
 * schemas that published client packages ship, and that the gateway loads at run time
 * (generated/tl/layer-<N>.json, generated/tl/mtproto.json).
 *
 * Parameter types keep TL's spelling, so a schema file reads like the TL it came from:
 * `int`, `long`, `double`, `string`, `bytes`, `int128`, `int256`, `Bool`, `true` (flag-only),
 * `#` (a flags word), `Vector<T>` (boxed vector), `vector<T>` (bare vector), `%T` or a
 * lowercase constructor name (bare), `!X` (a generic argument: any boxed object, e.g.
 * invokeWithLayer's query) and boxed type names (`InputPeer`, `messages.Messages`).
 */

export interface TlParam {
  name: string;
  /** The type, without the `flags.N?` condition. */
  type: string;
  /** For conditional fields: the flags word's name (`flags`, `flags2`) and the bit. */
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
  /** Where it was read from (package@version/path), for humans. */
  source: string;
  constructors: TlEntry[];
  methods: TlEntry[];
}

/** generated/tl/index.json. */
export interface TlIndex {
  layers: Array<{ layer: number; file: string; source: string }>;
  mtproto: { file: string; source: string };
  /**
   * Client layers between two held ones that are not served, each with the constructors the
   * gateway writes that are not proven in it (tools/tl/served.ts). Absent: none refused.
   */
  refused?: Record<string, string[]>;
}
