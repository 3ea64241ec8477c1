/**
 * The TL schemas the gateway serves, loaded from generated/tl (written by `npm run tl:gen`, part
 * of `npm run build`). Layer codecs are built on first use: each is a few MB of maps and most
 * processes only ever see one or two layers. A client's layer is served as coverage.ts says:
 * its own schema when held, else the proven part of the nearest lower one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TlCodec, type TlCodecOptions } from './codec';
import { coverageOf, provenSchema, type LayerCoverage } from './coverage';
import { UnsupportedLayerError } from './errors';
import type { TlIndex, TlSchema } from './schema';

export { UnsupportedLayerError } from './errors';
export type { LayerCoverage } from './coverage';

export interface TlRegistry {
  /** Layers served, ascending. */
  readonly layers: readonly number[];
  /** The highest served layer: objects handlers build are shaped like it. */
  readonly newestLayer: number;
  /** Codec of the MTProto service schema (req_pq_multi, msgs_ack, pong, …). */
  readonly mtproto: TlCodec;
  /** The codec of a held layer; UnsupportedLayerError for any other. */
  forLayer(layer: number): TlCodec;
  /** How a client announcing `layer` is served (coverage.ts). */
  coverage(layer: number): LayerCoverage;
  /**
   * The codec a client announcing `layer` is served with: its own layer's when held, the proven
   * part of the nearest lower held layer between two held ones, the newest above them all;
   * UnsupportedLayerError below the oldest and for refused layers.
   */
  forClientLayer(layer: number): TlCodec;
  /** The names a client between two held layers is not answered with (empty when held). */
  unproven(layer: number): readonly string[];
}

/**
 * generated/tl of the checkout or image this code runs from: the nearest directory above this
 * file that has a package.json (the repository root, or /app in the image). Walking up rather
 * than using a fixed relative path keeps it working from src/ under tsx and from dist/ alike.
 */
export function findGeneratedDir(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) {
      const out = join(dir, 'generated', 'tl');
      if (existsSync(join(out, 'index.json'))) return out;
    }
    const up = dirname(dir);
    if (up === dir)
      throw new Error('generated/tl/index.json not found: run `npm run tl:gen` (part of `npm run build`)');
    dir = up;
  }
}

/** Loads the index of `dir` (default: findGeneratedDir()); codecs are created lazily. */
export function loadTlRegistry(dir: string = findGeneratedDir(), options: TlCodecOptions = {}): TlRegistry {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as TlIndex;
  const files = new Map(index.layers.map((l) => [l.layer, l.file]));
  const layers = [...files.keys()].sort((a, b) => a - b);
  if (layers.length === 0) throw new Error(`${dir}/index.json lists no layers`);
  const read = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as TlSchema;
  const codecs = new Map<number, TlCodec>();
  const between = new Map<number, { codec: TlCodec; unproven: readonly string[] }>();
  let mtproto: TlCodec | undefined;
  const newestLayer = layers[layers.length - 1]!;
  const refused = index.refused ?? {};
  const forLayer = (layer: number): TlCodec => {
    let codec = codecs.get(layer);
    if (!codec) {
      const file = files.get(layer);
      if (file === undefined) throw new UnsupportedLayerError(layer, layers);
      codec = new TlCodec(read(file), options);
      codecs.set(layer, codec);
    }
    return codec;
  };
  const proven = (layer: number, lower: number, upper: number) => {
    let p = between.get(layer);
    if (!p) {
      // The held codec's schema object is shared: the proof filters entries, it copies none.
      const r = provenSchema(forLayer(lower).schema, forLayer(upper).schema, layer);
      p = { codec: new TlCodec(r.schema, { ...options, decodeOnly: r.decodeOnly }), unproven: r.unproven };
      between.set(layer, p);
    }
    return p;
  };
  return {
    layers,
    newestLayer,
    get mtproto() {
      return (mtproto ??= new TlCodec(read(index.mtproto.file), options));
    },
    forLayer,
    coverage: (layer) => coverageOf(layers, layer, refused),
    forClientLayer(layer) {
      const c = coverageOf(layers, layer, refused);
      switch (c.kind) {
        case 'exact':
          return forLayer(layer);
        case 'between':
          return proven(layer, c.lower, c.upper).codec;
        case 'newer':
          return forLayer(c.lower);
        case 'unserved':
        case 'refused':
          throw new UnsupportedLayerError(layer, layers);
      }
    },
    unproven(layer) {
      const c = coverageOf(layers, layer, refused);
      return c.kind === 'between' || c.kind === 'refused' ? proven(layer, c.lower, c.upper).unproven : [];
    },
  };
}

/**
 * The held layer a client's answers are drawn from: the announced one when held, else the
 * newest held layer below it (whose constructors are then served only where proven: see
 * coverage.ts and TlRegistry.forClientLayer), else undefined (too old to serve).
 */
export function servingLayer(layers: readonly number[], announced: number): number | undefined {
  let best: number | undefined;
  for (const l of layers) if (l <= announced && (best === undefined || l > best)) best = l;
  return best;
}
