/**
 * TL as the MTProto layer sees it: the shape of a decoded object, what a method may answer, and
 * the codecs the engine is given (implemented over the schema registry by ../tl-runtime.ts).
 */

/**
 * The shape of a decoded TL object as the gateway handles it: `_` is the constructor or method
 * name (`help.getConfig`, `resPQ`), the other keys its fields (long → bigint, int → number,
 * bytes/int128/int256 → Buffer, Vector → array, optional fields absent when unset).
 */
export interface TlObject {
  _: string;
  [field: string]: unknown;
}

/**
 * A method's answer: a TL object, a boolean (Bool results) or an array (Vector results: of
 * objects, or of longs such as photos.deletePhotos' ids).
 */
export type ApiResult = TlObject | boolean | TlObject[] | bigint[];

/** The TL codecs the engine and the handlers need. */
export interface TlRuntime {
  readonly newestLayer: number;
  serves(layer: number): boolean;
  /** True when the constructor id belongs to the MTProto service schema. */
  isService(id: number): boolean;
  decodeService(body: Buffer): TlObject;
  encodeService(obj: TlObject): Buffer;
  decodeApi(layer: number, body: Buffer): TlObject;
  /**
   * Serializes a layer-neutral result in the client's layer; `method` names the call answered
   * (its result type tells how to write a bare vector).
   */
  encodeApi(layer: number, obj: ApiResult, method: string): Buffer;
  /** Serializes a layer-neutral object (a pushed Updates) in the client's layer. */
  encodeObject(layer: number, obj: TlObject): Buffer;
  /**
   * `method`'s result type as TL spells it in the schema that serves `layer` (`Updates`,
   * `messages.InvitedUsers`), or undefined when that schema lacks the method. Handlers whose
   * answer changed shape between layers ask this instead of reading schemas themselves.
   */
  resultType(layer: number, method: string): string | undefined;
}
