/**
 * The shape of a decoded TL object as the gateway handles it: `_` is the constructor or method
 * name (`help.getConfig`, `resPQ`), the other keys its fields (long → bigint, int → number,
 * bytes/int128/int256 → Buffer, Vector → array, optional fields absent when unset).
 */
export interface TlObject {
  _: string;
  [field: string]: unknown;
}
