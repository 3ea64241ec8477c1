/**
 * The TL decoder of every served layer and of the MTProto service schema, loaded the way the
 * gateway loads it (tl-runtime.ts over generated/tl). An input is a request body as the engine
 * hands it over: decodeApi(layer, body) for API layers (invocation.ts), decodeService(body) for
 * service messages (engine.ts). The refusal is TlDecodeError; anything else thrown is a failure.
 * What decodes must encode again and decode to the same object (no value the decoder produces
 * is one the encoder refuses).
 *
 * The corpus is built from real objects: random schema-valid method calls of the layer
 * (tl/testing.ts SchemaArbitrary) encoded by the layer's own codec, plus invokeWithLayer /
 * initConnection wrappers. Mutations know TL: a constructor id is swapped for another of the
 * same type, and a value is wrapped in gzip_packed.
 */
import { isDeepStrictEqual } from 'node:util';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { TlDecodeError, type TlCodec } from '../../../services/gateway/src/tl/codec';
import { loadTlRegistry, type TlRegistry } from '../../../services/gateway/src/tl/registry';
import { SchemaArbitrary } from '../../../services/gateway/src/tl/testing';
import { loadTlRuntime } from '../../../services/gateway/src/tl-runtime';
import { tlBytes } from '../../../services/gateway/src/mtproto/wire';
import type { TlObject } from '../../../services/gateway/src/mtproto/tl-types';
import { Rng } from '../rng';
import { FuzzCheckFailed, type FuzzTarget, type TargetInstance } from '../types';

const GZIP_PACKED = 0x3072cfa1;

let registry: TlRegistry | undefined;
/** One registry per thread: codecs are built on first use and shared by the TL and convert targets. */
export function tlRegistry(): TlRegistry {
  return (registry ??= loadTlRegistry());
}

/** Constructor names in a decoded value (the features of an input). */
export function namesIn(v: unknown, out: Set<string> = new Set(), budget = { n: 256 }): Set<string> {
  if (budget.n-- <= 0) return out;
  if (Array.isArray(v)) for (const x of v) namesIn(x, out, budget);
  else if (typeof v === 'object' && v !== null && !Buffer.isBuffer(v)) {
    const o = v as TlObject;
    if (typeof o._ === 'string') out.add(o._);
    for (const [k, x] of Object.entries(o)) if (k !== '_') namesIn(x, out, budget);
  }
  return out;
}

/** Random schema-valid encodings of `entries` (method calls, constructors) of `codec`. */
export function encodedSamples(
  codec: TlCodec,
  names: readonly string[],
  count: number,
  seed: number,
): Buffer[] {
  const arb = new SchemaArbitrary(codec, { maxDepth: 2, maxVector: 3 });
  const rng = new Rng(seed, 20);
  const out: Buffer[] = [];
  const usable = names.filter((n) => arb.canGenerate(codec.byName(n)!));
  for (let i = 0; i < count && usable.length > 0; i++) {
    const name = rng.pick(usable);
    try {
      const [obj] = fc.sample(arb.object(name), { numRuns: 1, seed: rng.u32() | 0 });
      out.push(codec.encode(obj!));
    } catch {
      // a constructor the arbitrary cannot fill within its depth: skip it
    }
  }
  return out;
}

/** gzip_packed around `value` (optionally followed by zeros inside the packed bytes). */
export function gzipPacked(value: Buffer, zeros = 0): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32LE(GZIP_PACKED);
  const inner = zeros > 0 ? Buffer.concat([value, Buffer.alloc(zeros)]) : value;
  return Buffer.concat([head, tlBytes(gzipSync(inner))]);
}

/** Mutations that know TL: same-type constructor swaps, gzip_packed wrapping. */
export function tlMutator(codec: TlCodec): (rng: Rng, input: Buffer) => Buffer | undefined {
  const siblings = new Map<number, number[]>();
  for (const c of codec.schema.constructors) {
    const same = codec.constructorsOf(c.type).map((e) => e.id);
    if (same.length > 1) siblings.set(c.id, same);
  }
  return (rng, input) => {
    if (input.length < 4) return undefined;
    const op = rng.int(10);
    if (op < 7) {
      // swap a constructor id for a sibling of the same type
      const starts: number[] = [];
      for (let at = 0; at + 4 <= input.length; at += 4)
        if (siblings.has(input.readUInt32LE(at))) starts.push(at);
      if (starts.length === 0) return undefined;
      const at = rng.pick(starts);
      const out = Buffer.from(input);
      out.writeUInt32LE(rng.pick(siblings.get(input.readUInt32LE(at))!), at);
      return out;
    }
    // wrap the whole value, or a value starting at an aligned offset, in gzip_packed
    const at = op === 7 ? 0 : rng.int(input.length >> 2) * 4;
    const zeros = rng.chance(1 / 2000) ? rng.size(16 << 20) : rng.chance(0.1) ? rng.size(4096) : 0;
    return Buffer.concat([input.subarray(0, at), gzipPacked(input.subarray(at), zeros)]);
  };
}

/** The codec, the runtime's decode path and the corpus of one schema. */
interface Schema {
  codec: TlCodec;
  decode: (body: Buffer) => TlObject;
  seeds: Buffer[];
  mutate: (rng: Rng, input: Buffer) => Buffer | undefined;
}

function schemaOf(reg: TlRegistry, layer: number | 'mtproto', poolSize: number, seed: number): Schema {
  const runtime = loadTlRuntime(reg);
  const codec = layer === 'mtproto' ? reg.mtproto : reg.forLayer(layer);
  const decode =
    layer === 'mtproto'
      ? (b: Buffer) => runtime.decodeService(b)
      : (b: Buffer) => runtime.decodeApi(layer, b);
  const seeds = [
    ...encodedSamples(
      codec,
      codec.schema.methods.map((m) => m.name),
      poolSize,
      seed,
    ),
    ...encodedSamples(
      codec,
      codec.schema.constructors.map((c) => c.name),
      Math.ceil(poolSize / 4),
      seed + 1,
    ),
  ];
  if (layer !== 'mtproto') {
    const getConfig = codec.encode({ _: 'help.getConfig' });
    const init = codec.encode({
      _: 'initConnection',
      api_id: 6,
      device_model: 'fuzz',
      system_version: '1',
      app_version: '1',
      system_lang_code: 'en',
      lang_pack: '',
      lang_code: 'en',
      query: getConfig,
    });
    seeds.push(
      codec.encode({ _: 'invokeWithLayer', layer, query: init }),
      codec.encode({ _: 'invokeAfterMsg', msg_id: 4n, query: init }),
      gzipPacked(getConfig),
    );
  }
  return { codec, decode, seeds, mutate: tlMutator(codec) };
}

function idsOf(codec: TlCodec): number[] {
  return [...codec.schema.constructors.map((c) => c.id), ...codec.schema.methods.map((m) => m.id)];
}

/** Decodes, re-encodes, decodes again: the refusal is TlDecodeError, the rest must agree. */
function decodeTwice(s: Schema, body: Buffer): string[] {
  const obj = s.decode(body);
  let again: Buffer;
  try {
    again = s.codec.encode(obj);
  } catch (err) {
    throw new FuzzCheckFailed(`decoded ${obj._} does not encode again: ${(err as Error).message}`);
  }
  const back = s.codec.decode(again);
  if (!isDeepStrictEqual(back, obj))
    throw new FuzzCheckFailed(`${obj._} decodes differently once re-encoded`);
  return [...namesIn(obj)];
}

const SPECIAL = [0x1cb5c415, 0x997275b5, 0xbc799737, GZIP_PACKED];

function randomBody(r: Rng, dictionary: readonly number[]): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32LE(r.pick(dictionary));
  return Buffer.concat([id, r.bytes(r.size(256))]);
}

/** One schema: a single API layer (`tl-<layer>`, on request) or the service schema. */
function tlTarget(layer: number | 'mtproto'): FuzzTarget {
  return {
    name: `tl-${layer}`,
    what:
      layer === 'mtproto'
        ? 'decodeService (the MTProto service schema) on message bodies; re-encoded and decoded again; refusal: TlDecodeError'
        : `decodeApi(${layer}) on request bodies; re-encoded and decoded again; refusal: TlDecodeError`,
    setup(o): TargetInstance {
      const s = schemaOf(tlRegistry(), layer, o.poolSize, o.seed);
      const dictionary = [...idsOf(s.codec), ...SPECIAL];
      return {
        seeds: s.seeds,
        dictionary,
        generate: (r) => randomBody(r, dictionary),
        mutate: s.mutate,
        run: (input) => decodeTwice(s, input),
        expected: (err) => err instanceof TlDecodeError,
      };
    },
  };
}

/**
 * Every served API layer in one target: bytes 0..1 name the layer (a number no layer has picks
 * one by remainder, so old corpus entries stay usable when layers are added), the rest is the body.
 */
function tlApiTarget(): FuzzTarget {
  return {
    name: 'tl-api',
    what: 'decodeApi(layer, body) for every served layer (bytes 0-1 name it); re-encoded and decoded again; refusal: TlDecodeError',
    setup(o): TargetInstance {
      const reg = tlRegistry();
      const layers = reg.layers;
      const per = Math.max(4, Math.ceil(o.poolSize / layers.length));
      const schemas = new Map(layers.map((l, i) => [l, schemaOf(reg, l, per, o.seed + 7 * i)]));
      const pick = (input: Buffer) => {
        const asked = input.length >= 2 ? input.readUInt16LE(0) : 0;
        const layer = schemas.has(asked) ? asked : layers[asked % layers.length]!;
        return { layer, s: schemas.get(layer)! };
      };
      const tagged = (layer: number, body: Buffer) => {
        const head = Buffer.alloc(2);
        head.writeUInt16LE(layer);
        return Buffer.concat([head, body]);
      };
      const dictionary = [...new Set([...schemas.values()].flatMap((s) => idsOf(s.codec))), ...SPECIAL];
      return {
        seeds: [...schemas].flatMap(([l, s]) => s.seeds.map((b) => tagged(l, b))),
        dictionary,
        generate: (r) => tagged(r.pick(layers), randomBody(r, dictionary)),
        mutate: (r, input) => {
          const { layer, s } = pick(input);
          const body = s.mutate(r, input.subarray(2));
          // Sometimes the same body in another layer.
          return body && tagged(r.chance(0.1) ? r.pick(layers) : layer, body);
        },
        run(input) {
          const { s } = pick(input);
          return decodeTwice(s, input.subarray(2));
        },
        expected: (err) => err instanceof TlDecodeError,
      };
    },
  };
}

/** tl-api and tl-mtproto; `tl-<layer>` targets for one layer each are there for --target. */
export function tlTargets(): FuzzTarget[] {
  return [tlApiTarget(), tlTarget('mtproto')];
}

export function tlLayerTargets(): FuzzTarget[] {
  return tlRegistry().layers.map((l) => tlTarget(l));
}
