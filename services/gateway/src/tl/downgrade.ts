/**
 * Serializing a layer-neutral object (shaped like the newest layer) for an older client.
 *
 * Most of the work is done by the codec itself: constructors are looked up by name in the target
 * layer (so a changed constructor id is followed), fields that layer lacks are skipped, flags are
 * recomputed, and required primitives missing from the object get zero values. What remains is a
 * constructor the target layer does not have at all; REPLACEMENTS names what to send instead.
 * To add one: map the new constructor's name to a function returning an object the older layer
 * knows (or undefined to drop the element from a vector).
 */
import type { TlObject } from '../mtproto/tl-types';
import type { TlCodec } from './codec';

export const REPLACEMENTS: Readonly<Record<string, (obj: TlObject) => TlObject | undefined>> = {
  // Entries are added as handlers start returning constructors newer than a served layer.
};

/** Rewrites `obj` (deeply) so that every constructor exists in `codec`'s layer. */
export function downgrade(obj: unknown, codec: TlCodec, depth = 0): unknown {
  if (depth > 64 || obj === null || typeof obj !== 'object') return obj;
  if (Buffer.isBuffer(obj)) return obj;
  if (Array.isArray(obj))
    return obj.map((v) => downgrade(v, codec, depth + 1)).filter((v) => v !== undefined);
  let o = obj as TlObject;
  if (typeof o._ !== 'string') return obj;
  if (!codec.entry(o._)) {
    const replace = REPLACEMENTS[o._];
    const replaced = replace?.(o);
    if (!replaced) return undefined;
    o = replaced;
  }
  const out: TlObject = { _: o._ };
  for (const [k, v] of Object.entries(o)) if (k !== '_') out[k] = downgrade(v, codec, depth + 1);
  return out;
}

export function encodeForLayer(codec: TlCodec, obj: TlObject): Buffer {
  const ready = downgrade(obj, codec) as TlObject | undefined;
  if (!ready) throw new Error(`${obj._} has no form in layer ${codec.layer}`);
  return codec.encode(ready);
}
