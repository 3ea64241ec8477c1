/**
 * The TL schemas the gateway serves, loaded from generated/tl (made by `npm run tl:gen` at build
 * time). Codecs are built per layer on first use.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TlCodec } from './codec';
import type { TlSchema } from './schema';

export class UnsupportedLayerError extends Error {
  override readonly name = 'UnsupportedLayerError';
}

export interface TlRegistry {
  /** Layers served, ascending. */
  readonly layers: readonly number[];
  readonly newestLayer: number;
  readonly mtproto: TlCodec;
  forLayer(layer: number): TlCodec;
}

/** generated/tl beside the package.json of the checkout or image this code runs from. */
function findGeneratedDir(): string {
  let dir = __dirname;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'generated', 'tl', 'index.json')))
      return join(dir, 'generated', 'tl');
    const up = dirname(dir);
    if (up === dir) throw new Error('generated/tl not found: run `npm run tl:gen` (part of `npm run build`)');
    dir = up;
  }
}

export function loadTlRegistry(dir: string = findGeneratedDir()): TlRegistry {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as {
    layers: Array<{ layer: number }>;
  };
  const layers = index.layers.map((l) => l.layer).sort((a, b) => a - b);
  const codecs = new Map<number, TlCodec>();
  const load = (file: string) => new TlCodec(JSON.parse(readFileSync(join(dir, file), 'utf8')) as TlSchema);
  return {
    layers,
    newestLayer: layers[layers.length - 1]!,
    mtproto: load('mtproto.json'),
    forLayer(layer) {
      let codec = codecs.get(layer);
      if (!codec) {
        if (!layers.includes(layer))
          throw new UnsupportedLayerError(`layer ${layer} is not served (served: ${layers.join(', ')})`);
        codec = load(`layer-${layer}.json`);
        codecs.set(layer, codec);
      }
      return codec;
    },
  };
}

/**
 * The layer whose schema decodes a client's requests: the announced one when served, else the
 * newest served layer not above it (TL layers only add), else undefined.
 */
export function servingLayer(layers: readonly number[], announced: number): number | undefined {
  if (layers.includes(announced)) return announced;
  const below = layers.filter((l) => l <= announced);
  return below.length > 0 ? below[below.length - 1] : undefined;
}
