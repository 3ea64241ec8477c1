/**
 * The TL schemas the gateway serves, loaded from generated/tl (written by `npm run tl:gen`, part
 * of `npm run build`). Layer codecs are built on first use: each is a few MB of maps and most
 * processes only ever see one or two layers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TlCodec, type TlCodecOptions } from './codec';
import { UnsupportedLayerError } from './errors';
import type { TlIndex, TlSchema } from './schema';

export { UnsupportedLayerError } from './errors';

export interface TlRegistry {
  /** Layers served, ascending. */
  readonly layers: readonly number[];
  /** The highest served layer: objects handlers build are shaped like it. */
  readonly newestLayer: number;
  /** Codec of the MTProto service schema (req_pq_multi, msgs_ack, pong, …). */
  readonly mtproto: TlCodec;
  /** The codec of a served layer; UnsupportedLayerError for any other. */
  forLayer(layer: number): TlCodec;
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
  const load = (file: string) =>
    new TlCodec(JSON.parse(readFileSync(join(dir, file), 'utf8')) as TlSchema, options);
  const codecs = new Map<number, TlCodec>();
  let mtproto: TlCodec | undefined;
  return {
    layers,
    newestLayer: layers[layers.length - 1]!,
    get mtproto() {
      return (mtproto ??= load(index.mtproto.file));
    },
    forLayer(layer) {
      let codec = codecs.get(layer);
      if (!codec) {
        const file = files.get(layer);
        if (file === undefined) throw new UnsupportedLayerError(layer, layers);
        codec = load(file);
        codecs.set(layer, codec);
      }
      return codec;
    },
  };
}

/**
 * The layer whose schema decodes a client's requests: the announced one when served, else the
 * newest served layer below it (a client newer than every served layer still speaks them: TL
 * layers mostly add), else undefined (too old to serve).
 */
export function servingLayer(layers: readonly number[], announced: number): number | undefined {
  let best: number | undefined;
  for (const l of layers) if (l <= announced && (best === undefined || l > best)) best = l;
  return best;
}
