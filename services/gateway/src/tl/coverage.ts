/**
 * Which schema answers a client, and what is proven about it.
 *
 * A client announces its layer. When a schema of that layer is held it is served as is
 * (**exact**). A client between two held layers (`lower` < layer < `upper`) is served from
 * `lower`, but only with what is **proven** to be in its own layer: a combinator whose id is the
 * same in `lower` and `upper` is in every layer between them (the id is the CRC32 of the whole
 * definition, so a change shows as a new id, and Telegram never restores an old definition).
 * A constructor whose id changed, or that `upper` dropped, may or may not be in the client's
 * layer: it is left out of the schema the client is answered with, so the downgrade treats it
 * like any constructor the layer lacks (a fallback from downgrade.ts, an optional field left out,
 * or a TlDowngradeError that fails that one call) — it is never sent on a guess.
 *
 * Requests are decoded more leniently, by id, with every definition of `lower` and `upper`: an
 * id names one definition, so whichever of the two the client sent is read right.
 *
 * Which between-layers are served at all is decided at build time (tools/tl/served.ts): one in
 * which a constructor the gateway writes is neither proven nor replaceable by a fallback is
 * **refused** (CONNECTION_LAYER_INVALID), rather than answered with calls failing one by one
 * and live updates silently dropped.
 *
 * A client newer than every held layer (**newer**) is served from the newest held schema, which
 * nothing proves (`npm run tl:update` says when a newer layer is published); a client older than
 * every held layer is not served (CONNECTION_LAYER_INVALID).
 */
import type { TlEntry, TlSchema } from './schema';

export type LayerCoverage =
  | { kind: 'exact'; layer: number }
  | { kind: 'between'; layer: number; lower: number; upper: number }
  | { kind: 'newer'; layer: number; lower: number }
  | { kind: 'unserved'; layer: number }
  /** Between two held layers, but a constructor the gateway writes is not proven in it. */
  | { kind: 'refused'; layer: number; lower: number; upper: number; unproven: readonly string[] };

/**
 * How `layer` is served given the held layers (any order) and the layers refused at build time
 * (tools/tl/served.ts: index.json `refused`).
 */
export function coverageOf(
  held: readonly number[],
  layer: number,
  refused: Readonly<Record<string, readonly string[]>> = {},
): LayerCoverage {
  let lower: number | undefined;
  let upper: number | undefined;
  for (const l of held) {
    if (l === layer) return { kind: 'exact', layer };
    if (l < layer && (lower === undefined || l > lower)) lower = l;
    if (l > layer && (upper === undefined || l < upper)) upper = l;
  }
  if (lower === undefined) return { kind: 'unserved', layer };
  if (upper === undefined) return { kind: 'newer', layer, lower };
  const unproven = refused[layer];
  if (unproven) return { kind: 'refused', layer, lower, upper, unproven };
  return { kind: 'between', layer, lower, upper };
}

/** The schema a client between two held layers is answered with. */
export interface ProvenSchema {
  /**
   * `lower`'s constructors whose id is the same in `upper`, and `lower`'s methods whose result
   * type is the same in `upper` (answers are written in it; the call is decoded by id anyway).
   * Its `layer` is the client's.
   */
  schema: TlSchema;
  /** Definitions of either layer the client may send, known to the decoder by id only. */
  decodeOnly: { constructors: TlEntry[]; methods: TlEntry[] };
  /** `lower`'s constructors, and methods whose answer type changed, left out of `schema`. */
  unproven: string[];
}

export function provenSchema(lower: TlSchema, upper: TlSchema, layer: number): ProvenSchema {
  if (!(lower.layer < layer && layer < upper.layer))
    throw new RangeError(`layer ${layer} is not between ${lower.layer} and ${upper.layer}`);
  const up = new Map([...upper.constructors, ...upper.methods].map((e) => [e.name, e]));
  const schema: TlSchema = {
    layer,
    source: `layer ${lower.layer} (${lower.source}) less what changed by layer ${upper.layer} (${upper.source})`,
    constructors: [],
    methods: [],
  };
  const decodeOnly: ProvenSchema['decodeOnly'] = { constructors: [], methods: [] };
  const unproven: string[] = [];
  for (const c of lower.constructors) {
    if (up.get(c.name)?.id === c.id) schema.constructors.push(c);
    else {
      unproven.push(c.name);
      decodeOnly.constructors.push(c);
    }
  }
  for (const m of lower.methods) {
    if (up.get(m.name)?.type === m.type) schema.methods.push(m);
    else {
      unproven.push(m.name);
      decodeOnly.methods.push(m);
    }
  }
  // What `upper` defines differently (or newly) may already be what the client speaks.
  const known = new Set([...lower.constructors, ...lower.methods].map((e) => e.id));
  for (const c of upper.constructors) if (!known.has(c.id)) decodeOnly.constructors.push(c);
  for (const m of upper.methods) if (!known.has(m.id)) decodeOnly.methods.push(m);
  return { schema, decodeOnly, unproven };
}
