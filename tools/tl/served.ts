/**
 * Build-time proof of what each client layer is answered with (run by `npm run tl:gen`, and by
 * served.test.ts against generated/tl).
 *
 * The constructors the gateway writes are read from its source: every `_: 'name'` literal in
 * services/gateway/src/convert/** and api/** (answers) and tl/downgrade.ts (fallback
 * replacements) that names a constructor of the newest layer. For every client layer from the
 * oldest held to the newest held, each of them must be expressible in the schema that layer is
 * served with (services/gateway/src/tl/coverage.ts): present, or replaced by a fallback of
 * downgrade.ts whose result is present (or dropped). A constructor whose boxed type the layer
 * does not have at all is not counted: it only answers methods whose result type differs there
 * (those calls fail, typed; docs/compatibility.md lists them).
 *
 * A held layer missing one stops the build. A layer between two held ones missing one (it is
 * not proven in that layer) is refused: index.json lists it with the reasons, and the gateway
 * answers its invokeWithLayer with CONNECTION_LAYER_INVALID.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TlCodec } from '../../services/gateway/src/tl/codec';
import { coverageOf, provenSchema } from '../../services/gateway/src/tl/coverage';
import { CONSTRUCTOR_FALLBACKS, DROP, TYPE_FALLBACKS } from '../../services/gateway/src/tl/downgrade';
import type { TlSchema } from '../../services/gateway/src/tl/schema';

const GATEWAY = join(__dirname, '..', '..', 'services', 'gateway', 'src');

/** Where the gateway builds the objects it writes (directories are read recursively). */
export const EMITTING_SOURCES: readonly string[] = ['convert', 'api', 'tl/downgrade.ts'];

function sourceFiles(path: string): string[] {
  if (path.endsWith('.ts')) return path.endsWith('.test.ts') ? [] : [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() || d.name.endsWith('.ts') ? sourceFiles(join(path, d.name)) : [],
  );
}

/** Every `_: 'name'` literal of the emitting sources, sorted and unique (methods included). */
export function literalNames(root: string = GATEWAY): string[] {
  const names = new Set<string>();
  for (const rel of EMITTING_SOURCES)
    for (const file of sourceFiles(join(root, rel)))
      for (const m of readFileSync(file, 'utf8').matchAll(/\b_:\s*'([A-Za-z][\w.]*)'/g)) names.add(m[1]!);
  return [...names].sort();
}

/** The constructors (of the newest layer) the gateway writes. */
export function emittedConstructors(newest: TlCodec, root: string = GATEWAY): string[] {
  return literalNames(root).filter((n) => newest.byName(n) !== undefined && !newest.isMethod(n));
}

export interface ClientLayer {
  layer: number;
  kind: 'exact' | 'between';
  /** Held layers around a `between` one. */
  lower?: number;
  upper?: number;
  /** Emitted constructors neither present nor replaceable: a held layer must have none. */
  missing: string[];
  /** Emitted constructors whose boxed type the layer lacks (only per-method failures). */
  typeAbsent: string[];
}

/**
 * Every client layer from the oldest held to the newest held, with what it cannot be answered
 * with. `schemas` are the held layers (any order).
 */
export function clientLayers(schemas: readonly TlSchema[], emitted: readonly string[]): ClientLayer[] {
  const held = new Map(schemas.map((s) => [s.layer, s]));
  const layers = [...held.keys()].sort((a, b) => a - b);
  const codecs = new Map<number, TlCodec>();
  const codec = (l: number) => {
    let c = codecs.get(l);
    if (!c) codecs.set(l, (c = new TlCodec(held.get(l)!)));
    return c;
  };
  const newest = codec(layers[layers.length - 1]!);
  const out: ClientLayer[] = [];
  for (let layer = layers[0]!; layer <= newest.layer; layer++) {
    const cov = coverageOf(layers, layer);
    if (cov.kind !== 'exact' && cov.kind !== 'between') continue;
    // Whether a type exists at all is judged on the held layer the answers come from.
    const base = codec(cov.kind === 'exact' ? layer : cov.lower);
    const target =
      cov.kind === 'exact'
        ? base
        : new TlCodec(provenSchema(held.get(cov.lower)!, held.get(cov.upper)!, layer).schema);
    const entry: ClientLayer = { layer, kind: cov.kind, missing: [], typeAbsent: [] };
    if (cov.kind === 'between') Object.assign(entry, { lower: cov.lower, upper: cov.upper });
    for (const name of emitted) {
      if (target.byName(name)) continue;
      const type = newest.byName(name)!.type;
      if (base.constructorsOf(type).length === 0) {
        entry.typeAbsent.push(name);
        continue;
      }
      if (!replaceable(name, type, target)) entry.missing.push(name);
    }
    out.push(entry);
  }
  return out;
}

/** A fallback of downgrade.ts turns `name` into something `target` has, or drops it. */
function replaceable(name: string, type: string, target: TlCodec): boolean {
  let obj = { _: name };
  for (let i = 0; i < 4; i++) {
    const fb = CONSTRUCTOR_FALLBACKS[obj._] ?? TYPE_FALLBACKS[type];
    if (!fb) return false;
    const next = fb(obj);
    if (next === DROP) return true;
    if (target.byName(next._)) return true;
    obj = next;
  }
  return false;
}

/** Layers between held ones that are refused, with the constructors they cannot be answered with. */
export function refusedLayers(report: readonly ClientLayer[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const l of report) if (l.kind === 'between' && l.missing.length > 0) out[l.layer] = l.missing;
  return out;
}

/** `a–b` ranges of ascending numbers, for printing. */
export function ranges(ns: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ns.length;) {
    let j = i;
    while (j + 1 < ns.length && ns[j + 1] === ns[j]! + 1) j++;
    parts.push(i === j ? `${ns[i]}` : `${ns[i]}–${ns[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
