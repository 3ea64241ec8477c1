/**
 * Serializing layer-neutral objects in older layers.
 *
 * Handlers build answers shaped like the newest served layer. A client on an older layer gets
 * them rewritten against its layer's schema, walking the target schema's types:
 *  - constructors are looked up by name in the target layer, so a changed id (`user` gained
 *    flags2 fields and a new id) is followed;
 *  - fields the target lacks are dropped, flags are recomputed by the codec from what is left;
 *  - a field the target requires but the object lacks (it became optional, or was removed
 *    later) gets its zero value when it is a primitive or a vector; otherwise TlDowngradeError;
 *  - int ↔ long differences between layers are converted;
 *  - a field whose type changed between layers goes through FIELD_FALLBACKS; without an entry an
 *    optional field is left out and a required one is a TlDowngradeError;
 *  - a constructor the target layer does not have goes through the fallback tables below;
 *    with no entry there, an optional field holding it is left out, anything else is a
 *    TlDowngradeError.
 *
 * Adding a fallback: map the new constructor's name in CONSTRUCTOR_FALLBACKS (or its whole type
 * in TYPE_FALLBACKS) to a function returning an object the older layer has — it is downgraded
 * in turn, so it may itself rely on a fallback — or DROP, which removes the element from a
 * vector or leaves an optional field unset (in a required position DROP is an error). Add a
 * case to downgrade.test.ts that encodes the new constructor for the oldest served layer.
 */
import type { TlObject } from '../mtproto/tl-types';
import type { TlCodec } from './codec';
import { TlDowngradeError } from './errors';
import { loadTlRegistry, type TlRegistry } from './registry';
import type { TlEntry } from './schema';
import { parseType, type TlTypeRef } from './types';

export { TlDowngradeError } from './errors';

/** Returned by a fallback: leave the value out (vector element or optional field). */
export const DROP: unique symbol = Symbol('tl.drop');

/** Replaces a value the target layer cannot express. */
export type TlFallback = (obj: TlObject) => TlObject | typeof DROP;

/** RichText wrappers newer than layer 198 degrade to the text they wrap. */
const innerText: TlFallback = (o) => (o.text as TlObject | undefined) ?? DROP;

/** Per constructor (checked first). */
export const CONSTRUCTOR_FALLBACKS: Readonly<Record<string, TlFallback>> = {
  textSpoiler: innerText,
  textMention: innerText,
  textHashtag: innerText,
  textBotCommand: innerText,
  textCashtag: innerText,
  textAutoUrl: innerText,
  textAutoEmail: innerText,
  textAutoPhone: innerText,
  textBankCard: innerText,
  textMentionName: innerText,
  textDate: innerText,
  textMath: (o) => ({ _: 'textPlain', text: typeof o.source === 'string' ? o.source : '' }),
  textCustomEmoji: (o) => ({ _: 'textPlain', text: typeof o.alt === 'string' ? o.alt : '' }),
  // Before users.UserFull (layer 131), users.getFullUser answered the userFull itself, with its
  // user inside rather than beside it.
  'users.userFull': (o) => {
    const full = o.full_user as TlObject | undefined;
    const user = (o.users as TlObject[] | undefined)?.find((u) => u.id === full?.id);
    return full && user ? { ...full, user } : DROP;
  },
  // Before help.AppConfig (layers up to 152), help.getAppConfig answered the JSON value alone.
  'help.appConfig': (o) => (o.config as TlObject | undefined) ?? DROP,
  // A draft in a layer where its definition is not proven (between two held layers whose
  // draftMessage differs, e.g. 182–183): the device is told there is no draft rather than sent
  // bytes it may misread. The draft stays on the device that wrote it and in every later read.
  draftMessage: (o) => ({ _: 'draftMessageEmpty', date: o.date }),
};

/** Per boxed type, for any of its constructors the target lacks (checked second). */
export const TYPE_FALLBACKS: Readonly<Record<string, TlFallback>> = {
  // Old clients render unknown media as "unsupported, update the app", which is the truth.
  MessageMedia: () => ({ _: 'messageMediaUnsupported' }),
  // A service message the client cannot describe still keeps its place in the history.
  MessageAction: () => ({ _: 'messageActionEmpty' }),
  // Formatting the client does not know: the text stays, the entity goes.
  MessageEntity: () => DROP,
  // Updates the client does not know are left out of updates vectors.
  Update: () => DROP,
};

/**
 * Per field whose type changed (keyed `constructor.field`): the value in the target's type, or
 * DROP. Used when the newer value does not fit the target's type.
 */
export const FIELD_FALLBACKS: Readonly<Record<string, (v: unknown) => unknown>> = {
  // stories_max_id was an int before it became RecentStory (max_id plus a `live` flag).
  'user.stories_max_id': (v) => (isObject(v) && typeof v.max_id === 'number' ? v.max_id : DROP),
};

/** Fallbacks applied one after another before giving up (a fallback must not loop). */
const MAX_FALLBACK_CHAIN = 4;
const MAX_DEPTH = 64;

interface Ctx {
  target: TlCodec;
  /** The codec the object is shaped for (newest layer), to learn a missing constructor's type. */
  source: TlCodec | undefined;
}

/**
 * Rewrites `obj` so that every constructor and field exists in `target`'s layer (see the module
 * comment). `source` is the layer the object is shaped like, by default unknown: fallbacks by
 * type then only apply where the target's schema names the expected type.
 */
export function downgradeObject(obj: TlObject, target: TlCodec, source?: TlCodec): TlObject {
  const out = convertObject({ target, source }, obj, undefined, obj._, 0);
  if (out === DROP)
    throw new TlDowngradeError(`${obj._} has no form in layer ${target.layer}`, obj._, target.layer);
  return out as TlObject;
}

/**
 * Serializes a layer-neutral object (shaped like the newest layer) for `layer`.
 * `layer` is a layer number (its codec comes from `registry`, by default the generated one) or a
 * codec. The older argument order `(codec, obj)` is still accepted.
 */
export function encodeForLayer(
  obj: TlObject | boolean,
  layer: number | TlCodec,
  registry?: TlRegistry,
): Buffer;
/** @deprecated use encodeForLayer(obj, codec). */
export function encodeForLayer(codec: TlCodec, obj: TlObject): Buffer;
export function encodeForLayer(
  a: TlObject | boolean | TlCodec,
  b: number | TlCodec | TlObject,
  registry?: TlRegistry,
): Buffer {
  const [obj, layer] = isCodec(a) ? [b as TlObject, a] : [a, b as number | TlCodec];
  const { target, source } = codecs(layer, registry);
  if (typeof obj === 'boolean') return target.encodeBool(obj);
  return target.encode(downgradeObject(obj, target, source));
}

/**
 * Serializes a method's result for `layer`, typed by the method's result type in that layer
 * (`Vector<User>`, `Bool`, `Vector<long>`, `Updates`, …).
 */
export function encodeResultForLayer(
  method: string,
  value: unknown,
  layer: number | TlCodec,
  registry?: TlRegistry,
): Buffer {
  const { target, source } = codecs(layer, registry);
  const type = target.methodResultType(method);
  if (type === undefined)
    throw new TlDowngradeError(`${method} does not exist in layer ${target.layer}`, method, target.layer);
  const generic = target.byName(method)!.params.some((p) => p.type === `!${type}`);
  const out = convert({ target, source }, value, parseType(generic ? 'Object' : type), method, 0);
  if (out === DROP)
    throw new TlDowngradeError(
      `the result of ${method} has no form in layer ${target.layer}`,
      method,
      target.layer,
    );
  return target.encodeBare(generic ? 'Object' : type, out);
}

let defaultRegistry: TlRegistry | undefined;

function codecs(layer: number | TlCodec, registry?: TlRegistry): Ctx {
  if (isCodec(layer)) {
    const reg = registry ?? tryDefaultRegistry();
    return { target: layer, source: reg?.forLayer(reg.newestLayer) };
  }
  const reg = registry ?? (defaultRegistry ??= loadTlRegistry());
  // A layer number is a client's: held, or served by the proven part of a lower one.
  return { target: reg.forClientLayer(layer), source: reg.forLayer(reg.newestLayer) };
}

/** With an explicit codec the generated registry is optional (only used for type fallbacks). */
function tryDefaultRegistry(): TlRegistry | undefined {
  try {
    return (defaultRegistry ??= loadTlRegistry());
  } catch {
    return undefined;
  }
}

function isCodec(v: unknown): v is TlCodec {
  return typeof v === 'object' && v !== null && 'schema' in v && typeof (v as TlCodec).encode === 'function';
}

function convert(ctx: Ctx, v: unknown, ref: TlTypeRef, path: string, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new TlDowngradeError(`${path}: nesting too deep`, path, ctx.target.layer);
  switch (ref.kind) {
    case 'primitive':
      // Ids widened from int to long in layer 133 (sizes later); converting keeps either shape
      // encodable. A value that does not fit an int is never wrapped around: an id (Tern's user
      // ids are 40-bit) has no form at all, any other number (a size) is capped.
      if (ref.name === 'long' && typeof v === 'number') return BigInt(v);
      if (ref.name === 'int' && typeof v === 'bigint') {
        if (BigInt.asIntN(32, v) === v) return Number(v);
        if (/(^|[._])ids?$/.test(path.replace(/\[\d+\]$/, '')))
          throw new TlDowngradeError(
            `${path}: ${v} does not fit the int of layer ${ctx.target.layer}`,
            path,
            ctx.target.layer,
          );
        return v > 0n ? 0x7fffffff : -0x80000000;
      }
      return v;
    case 'flags':
      return v;
    case 'vector': {
      if (!Array.isArray(v)) return v; // the codec reports the wrong JS type
      const out: unknown[] = [];
      v.forEach((item, i) => {
        const c = convert(ctx, item, ref.of, `${path}[${i}]`, depth + 1);
        if (c !== DROP) out.push(c);
      });
      return out;
    }
    case 'boxed':
      if (typeof v === 'boolean') return v;
      return convertObject(ctx, v, ref.type, path, depth + 1);
    case 'bare': {
      const entry = ctx.target.byName(ref.name) ?? ctx.target.constructorsOf(ref.name)[0];
      if (!entry || !isObject(v)) return v;
      return convertFields(ctx, v, entry, path, depth + 1);
    }
    case 'any':
      if (typeof v === 'boolean' || Buffer.isBuffer(v) || !isObject(v)) return v;
      return convertObject(ctx, v, undefined, path, depth + 1);
  }
}

/** A boxed object: same-named constructor in the target, else a fallback. */
function convertObject(
  ctx: Ctx,
  v: unknown,
  expected: string | undefined,
  path: string,
  depth: number,
): unknown {
  if (!isObject(v)) return v;
  let obj = v;
  for (let i = 0; ; i++) {
    const entry = ctx.target.byName(obj._);
    if (entry && (expected === undefined || entry.type === expected))
      return convertFields(ctx, obj, entry, path, depth);
    const type = expected ?? ctx.source?.byName(obj._)?.type;
    const fallback = CONSTRUCTOR_FALLBACKS[obj._] ?? (type !== undefined ? TYPE_FALLBACKS[type] : undefined);
    if (!fallback || i >= MAX_FALLBACK_CHAIN)
      throw new TlDowngradeError(
        `${path}: ${obj._} does not exist in layer ${ctx.target.layer} and has no fallback`,
        obj._,
        ctx.target.layer,
      );
    const next = fallback(obj);
    if (next === DROP) return DROP;
    obj = next;
  }
}

/** The target constructor's fields, taken from the object; see the module comment for gaps. */
function convertFields(ctx: Ctx, obj: TlObject, entry: TlEntry, path: string, depth: number): TlObject {
  const out: TlObject = { _: entry.name };
  const bitsOn = new Set<string>();
  for (const p of entry.params) {
    if (p.type === '#') continue;
    const v = obj[p.name];
    const where = `${path}.${p.name}`;
    if (p.flag && p.type === 'true') {
      out[p.name] = v === true;
      if (v === true) bitsOn.add(`${p.flag.field}.${p.flag.bit}`);
      continue;
    }
    if (v === undefined || v === null) {
      if (p.flag) continue;
      out[p.name] = zeroValue(p.type, where, ctx.target.layer);
      continue;
    }
    const ref = parseType(p.type);
    let c: unknown = v;
    if (!fits(v, ref)) {
      const field = FIELD_FALLBACKS[`${entry.name}.${p.name}`];
      c = field ? field(v) : DROP;
      if (c !== DROP && !fits(c, ref)) c = DROP;
      if (c === DROP && !p.flag)
        throw new TlDowngradeError(
          `${where}: its type changed to ${p.type} in layer ${ctx.target.layer}`,
          where,
          ctx.target.layer,
        );
    }
    if (c !== DROP) {
      try {
        c = convert(ctx, c, ref, where, depth + 1);
      } catch (e) {
        // An optional field holding a constructor the target lacks (no fallback either) is left
        // out: the old client then shows its default (e.g. user.color without a collectible color).
        if (!(p.flag && e instanceof TlDowngradeError && isObject(c) && e.at === c._)) throw e;
        c = DROP;
      }
    }
    if (c === DROP) {
      if (p.flag) continue;
      throw new TlDowngradeError(
        `${where}: required ${p.type} has no form in layer ${ctx.target.layer}`,
        where,
        ctx.target.layer,
      );
    }
    out[p.name] = c;
    if (p.flag) bitsOn.add(`${p.flag.field}.${p.flag.bit}`);
  }
  // Fields sharing a bit with a present one must be written too (user.bot turns on the bit of
  // bot_info_version): give missing primitives their zero value rather than emit a broken object.
  for (const p of entry.params)
    if (
      p.flag &&
      p.type !== 'true' &&
      out[p.name] === undefined &&
      bitsOn.has(`${p.flag.field}.${p.flag.bit}`)
    )
      out[p.name] = zeroValue(p.type, `${path}.${p.name}`, ctx.target.layer);
  return out;
}

/** Whether a JS value has the shape of a TL type (not its contents: those are checked deeper). */
function fits(v: unknown, ref: TlTypeRef): boolean {
  switch (ref.kind) {
    case 'primitive':
      switch (ref.name) {
        case 'int':
        case 'long':
          return typeof v === 'number' || typeof v === 'bigint';
        case 'double':
          return typeof v === 'number';
        case 'string':
        case 'bytes':
          return typeof v === 'string' || v instanceof Uint8Array;
        case 'int128':
        case 'int256':
          return v instanceof Uint8Array;
        case 'Bool':
        case 'true':
          return typeof v === 'boolean';
      }
      return false;
    case 'vector':
      return Array.isArray(v);
    case 'boxed':
      return ref.type === 'Bool' ? typeof v === 'boolean' : isObject(v);
    case 'bare':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    default:
      return true;
  }
}

/** The value a required field gets when the layer-neutral object does not have it. */
function zeroValue(type: string, where: string, layer: number): unknown {
  switch (type) {
    case 'int':
    case 'double':
      return 0;
    case 'long':
      return 0n;
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    case 'Bool':
      return false;
    case 'true':
      return true;
  }
  if (/^[Vv]ector</.test(type)) return [];
  throw new TlDowngradeError(`${where} (${type}) is required in layer ${layer} and missing`, where, layer);
}

function isObject(v: unknown): v is TlObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as TlObject)._ === 'string';
}
