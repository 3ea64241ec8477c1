/**
 * Typed errors of the TL layer. Callers branch on the class (a malformed request is the client's
 * fault, an unencodable answer is ours), so each failure mode has its own.
 */

/** Input bytes are not a valid TL value: truncated, an unknown id, over a limit. */
export class TlDecodeError extends Error {
  override readonly name = 'TlDecodeError';
}

/** A JS value does not fit the schema (missing required field, wrong JS type, unknown name). */
export class TlEncodeError extends Error {
  override readonly name = 'TlEncodeError';
}

/** A schema line the parser does not understand. */
export class TlParseError extends Error {
  override readonly name = 'TlParseError';
}

/** A layer no generated schema exists for. */
export class UnsupportedLayerError extends Error {
  override readonly name = 'UnsupportedLayerError';
  constructor(
    readonly layer: number,
    readonly served: readonly number[],
  ) {
    super(`layer ${layer} is not served (served: ${served.join(', ')})`);
  }
}

/** An object that cannot be expressed in an older layer, not even through a fallback. */
export class TlDowngradeError extends Error {
  override readonly name = 'TlDowngradeError';
  constructor(
    message: string,
    /** The constructor (or field path) that had no form in the target layer. */
    readonly at: string,
    readonly layer: number,
  ) {
    super(message);
  }
}
