/**
 * `npm run tl:gen`: reads the TL schemas that pinned client packages ship and writes them in
 * Tern's normalized form (services/gateway/src/tl/schema.ts) to generated/tl/ (gitignored):
 *   layer-<N>.json  one per API layer
 *   mtproto.json    the MTProto service schema
 *   index.json      the layers, where each came from, and the client layers refused
 * Schemas are data read from node_modules at build time, never pasted into the repository.
 * Then it checks what every client layer is answered with (./served.ts) and stops the build when
 * a held layer cannot express a constructor the gateway writes.
 *
 * To serve another layer, install a client package that carries it under an npm alias
 * (`npm run tl:update` prints the command) and add one line to API_SOURCES
 * (docs/compatibility.md, "Adopting a new layer").
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { combinatorId, parseSchema } from '../../services/gateway/src/tl/parser';
import type { TlEntry, TlIndex, TlParam, TlSchema } from '../../services/gateway/src/tl/schema';
import { TlCodec } from '../../services/gateway/src/tl/codec';
import { isBareName } from '../../services/gateway/src/tl/types';
import { clientLayers, emittedConstructors, ranges, refusedLayers } from './served';

const ROOT = join(__dirname, '..', '..');
export const OUT_DIR = join(ROOT, 'generated', 'tl');

/** How a source package ships its schema (see readApiSchema). */
export type SourceFormat = 'gramjs' | 'mtcute' | 'teleproto';

/**
 * Where API schemas come from, one package per layer. Formats:
 *   gramjs     GramJS and its forks up to teleproto 214: TL text exported by tl/apiTl.js (or, in
 *              GramJS 1.x, the file tl/static/api.tl); LAYER exported by tl/AllTLObjects.js
 *   mtcute     `{ l: layer, e: entries }` JSON: tl/api-schema.json (@mtcute/core) or
 *              api-schema.json (@mtcute/tl)
 *   teleproto  teleproto 1.x: GramJS's argument tables (tl/generated/api-definitions.js, camelCase
 *              names) turned back into TL, every id checked against its CRC32; LAYER in
 *              tl/runtime/registry.js
 * Older releases are installed under npm aliases (package.json devDependencies), one per layer:
 * `telegram-layer-<N>`, `mtcute-tl-layer-<N>`, `teleproto-layer-<N>`. When two packages carry the
 * same layer, the first one listed wins. `npm run tl:update` says when a newer layer is published.
 */
export const API_SOURCES: ReadonlyArray<{ pkg: string; format: SourceFormat }> = [
  { pkg: 'teleproto-layer-229', format: 'teleproto' },
  { pkg: 'teleproto-layer-228', format: 'teleproto' },
  { pkg: '@mtcute/core', format: 'mtcute' }, // 227 (a dependency of @mtcute/node)
  { pkg: 'mtcute-core-layer-225', format: 'mtcute' },
  { pkg: 'mtcute-tl-layer-223', format: 'mtcute' },
  { pkg: 'mtcute-tl-layer-221', format: 'mtcute' },
  { pkg: 'mtcute-tl-layer-220', format: 'mtcute' },
  { pkg: 'mtcute-tl-layer-218', format: 'mtcute' },
  { pkg: 'mtcute-tl-layer-216', format: 'mtcute' },
  { pkg: 'teleproto', format: 'gramjs' }, // 214, the e2e tests' teleproto
  { pkg: 'mtcute-tl-layer-204', format: 'mtcute' },
  { pkg: 'telegram', format: 'gramjs' }, // 198, the e2e tests' GramJS
  { pkg: 'telegram-layer-193', format: 'gramjs' },
  { pkg: 'mtcute-tl-layer-189', format: 'mtcute' },
  { pkg: 'mtcute-tl-layer-185', format: 'mtcute' },
  { pkg: 'telegram-layer-184', format: 'gramjs' },
  { pkg: 'telegram-layer-181', format: 'gramjs' },
  { pkg: 'mtcute-tl-layer-179', format: 'mtcute' },
  { pkg: 'telegram-layer-177', format: 'gramjs' },
  { pkg: 'telegram-layer-174', format: 'gramjs' },
  { pkg: 'mtcute-tl-layer-167', format: 'mtcute' },
  { pkg: 'telegram-layer-166', format: 'gramjs' },
  { pkg: 'telegram-layer-165', format: 'gramjs' },
  { pkg: 'telegram-layer-160', format: 'gramjs' },
  { pkg: 'telegram-layer-158', format: 'gramjs' },
  { pkg: 'telegram-layer-152', format: 'gramjs' },
  { pkg: 'telegram-layer-150', format: 'gramjs' },
  { pkg: 'telegram-layer-148', format: 'gramjs' },
  { pkg: 'telegram-layer-146', format: 'gramjs' },
  { pkg: 'telegram-layer-145', format: 'gramjs' },
  { pkg: 'telegram-layer-143', format: 'gramjs' },
  { pkg: 'telegram-layer-140', format: 'gramjs' },
  { pkg: 'telegram-layer-138', format: 'gramjs' },
  { pkg: 'telegram-layer-137', format: 'gramjs' },
  { pkg: 'telegram-layer-135', format: 'gramjs' },
  { pkg: 'telegram-layer-131', format: 'gramjs' }, // GramJS 1.x: user/chat ids still int
];

/** The installed package's directory (not require.resolve: some packages do not export package.json). */
export function pkgDir(pkg: string): string {
  return join(ROOT, 'node_modules', ...pkg.split('/'));
}

export function version(pkg: string): string {
  return (JSON.parse(readFileSync(join(pkgDir(pkg), 'package.json'), 'utf8')) as { version: string }).version;
}

/* eslint-disable @typescript-eslint/no-require-imports -- the packages' schema modules are CommonJS data */
/**
 * The TL text a GramJS-format package ships: the module tl/<file> exports it
 * (`module.exports = \`...\``); GramJS 1.x ships the text itself as tl/static/api.tl / schema.tl.
 */
export function gramjsText(pkg: string, file: 'apiTl.js' | 'schemaTl.js'): string {
  const module = join(pkgDir(pkg), 'tl', file);
  if (existsSync(module)) return require(module) as string;
  return readFileSync(
    join(pkgDir(pkg), 'tl', 'static', file === 'apiTl.js' ? 'api.tl' : 'schema.tl'),
    'utf8',
  );
}

function gramjsTextFile(pkg: string): string {
  return existsSync(join(pkgDir(pkg), 'tl', 'apiTl.js')) ? 'tl/apiTl.js' : 'tl/static/api.tl';
}

/** teleproto 1.x's argument tables (tl/generated/api-definitions.js). */
function teleprotoDefinitions(pkg: string): TeleprotoDefinition[] {
  return require(join(pkgDir(pkg), 'tl', 'generated', 'api-definitions.js')) as TeleprotoDefinition[];
}
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * The layer a source package carries, read without loading it (GramJS builds its whole API on
 * require): `exports.LAYER = N` in tl/AllTLObjects.js (GramJS) or tl/runtime/registry.js
 * (teleproto 1.x), `{"l":N` at the head of mtcute's api-schema.json.
 */
export function sourceLayer(src: { pkg: string; format: SourceFormat }): number {
  const file =
    src.format === 'gramjs'
      ? 'tl/AllTLObjects.js'
      : src.format === 'teleproto'
        ? 'tl/runtime/registry.js'
        : mtcuteSchemaFile(src.pkg);
  const text = readFileSync(join(pkgDir(src.pkg), file), 'utf8').slice(0, 4096);
  const m = /exports\.LAYER\s*=\s*(\d+)|^\{"l":(\d+)/m.exec(text);
  if (!m) throw new Error(`${src.pkg}: no layer in ${file}`);
  return Number(m[1] ?? m[2]);
}

/** mtcute's schema file: tl/api-schema.json in @mtcute/core, api-schema.json in @mtcute/tl. */
function mtcuteSchemaFile(pkg: string): string {
  return existsSync(join(pkgDir(pkg), 'tl', 'api-schema.json')) ? 'tl/api-schema.json' : 'api-schema.json';
}

/** An entry of mtcute's JSON schemas (only the parts Tern reads). */
export interface MtcuteEntry {
  kind: 'class' | 'method';
  name: string;
  id: number;
  type: string;
  typeModifiers?: { isVector?: boolean };
  arguments: Array<{
    name: string;
    type: string;
    typeModifiers?: { predicate?: string; isVector?: boolean; isBareVector?: boolean; isBareType?: boolean };
  }>;
}

/**
 * mtcute's entry → TL spelling. mtcute keeps vectors and conditions in typeModifiers; they are
 * folded back into the type (`Vector<T>`, `vector<T>`, `%T`) and the flag. `strip` removes the
 * `mt_` prefix mtcute puts on service-schema names.
 */
export function fromMtcute(e: MtcuteEntry, strip = ''): TlEntry {
  const unprefix = (s: string) => (strip && s.startsWith(strip) ? s.slice(strip.length) : s);
  // A method's result can be a vector too (users.getUsers → Vector<User>).
  const result = e.typeModifiers?.isVector ? `Vector<${unprefix(e.type)}>` : unprefix(e.type);
  return {
    name: unprefix(e.name),
    id: e.id >>> 0,
    type: result,
    params: e.arguments.map((a): TlParam => {
      const m = a.typeModifiers ?? {};
      // mtcute's `int53` is a `long` on the wire that its runtime reads as a JS number.
      let type = a.type === 'int53' ? 'long' : unprefix(a.type);
      // A bare use of a type needs `%`; a constructor name is bare already.
      if (m.isBareType && !isBareName(type) && !type.startsWith('%')) type = `%${type}`;
      if (m.isVector) type = `Vector<${type}>`;
      if (m.isBareVector) type = `vector<${type}>`;
      const param: TlParam = { name: a.name, type };
      if (m.predicate) {
        const [field, bit] = m.predicate.split('.');
        param.flag = { field: field!, bit: Number(bit) };
      }
      return param;
    }),
  };
}

/** A definition of teleproto 1.x's tl/generated/api-definitions.js (GramJS's generator output). */
export interface TeleprotoDefinition {
  /** PascalCase, without the namespace: `SendMessage`, `User`. */
  name: string;
  namespace?: string;
  constructorId: number;
  /** TL's result type (`messages.Messages`, `Vector<User>`, `X`). */
  result: string;
  isFunction: boolean;
  /** In TL order; keys are camelCase (`accessHash`). */
  argsConfig: Record<
    string,
    {
      isVector: boolean;
      isFlag: boolean;
      skipConstructorId: boolean;
      flagName: string | null;
      flagIndex: number;
      flagIndicator: boolean;
      /** Element type of a vector; null for a flags word. */
      type: string | null;
      /** For vectors: Vector (true) or bare vector (false). */
      useVectorId: boolean | null;
    }
  >;
}

/** GramJS's spelling of a TL parameter name: `_x` → `X` (`access_hash` → `accessHash`, `srp_B` kept). */
export function gramjsCamel(name: string): string {
  return name.replace(/_[a-z]/g, (g) => g[1]!.toUpperCase());
}

/** The default way back: an uppercase letter after a lowercase one or a digit was `_x`. */
function snakeFromCamel(name: string): string {
  return name.replace(/(?<=[a-z0-9])[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * teleproto's definition → TL entry. Names come back from GramJS's camelCase through `spellings`
 * (camelCase → the TL names seen in other held schemas), else by snakeFromCamel; every candidate
 * spelling is tried until the entry's CRC32 equals its id (flag-only `true` fields are not part
 * of the CRC: they take the known spelling). Returns undefined when no spelling matches.
 */
export function fromTeleproto(
  d: TeleprotoDefinition,
  spellings: ReadonlyMap<string, readonly string[]> = new Map(),
): TlEntry | undefined {
  const name = `${d.namespace ? `${d.namespace}.` : ''}${d.name[0]!.toLowerCase()}${d.name.slice(1)}`;
  // A generic method (`{X:Type} query:!X = X`): GramJS strips the `!`.
  const generic = /^[A-Z]$/.test(d.result) ? d.result : undefined;
  const params: TlParam[] = [];
  const choices: string[][] = [];
  for (const [camel, a] of Object.entries(d.argsConfig)) {
    let type: string;
    if (a.flagIndicator) type = '#';
    else {
      type = a.type ?? '';
      if (type === generic) type = `!${type}`;
      if (a.isVector) type = a.useVectorId === false ? `vector<${type}>` : `Vector<${type}>`;
    }
    const known = spellings.get(camel) ?? [];
    const fallback = snakeFromCamel(camel);
    choices.push([...new Set([...known, fallback, camel])]);
    const param: TlParam = { name: choices[choices.length - 1]![0]!, type };
    if (a.isFlag && a.flagName !== null) param.flag = { field: a.flagName, bit: a.flagIndex };
    params.push(param);
  }
  const entry: TlEntry = { name, id: d.constructorId >>> 0, type: d.result, params };
  // Only the names of fields that are part of the CRC can be told apart by it.
  const open = params
    .map((p, i) => i)
    .filter((i) => choices[i]!.length > 1 && !(params[i]!.flag && params[i]!.type === 'true'));
  // Every combination of candidate spellings, up to a bound (real entries need one or two tries).
  const combinations = Math.min(
    open.reduce((n, i) => n * choices[i]!.length, 1),
    4096,
  );
  for (let n = 0; n < combinations; n++) {
    let rest = n;
    for (const i of open) {
      const c = choices[i]!;
      params[i]!.name = c[rest % c.length]!;
      rest = Math.floor(rest / c.length);
    }
    if (combinatorId(entry) === entry.id) return entry;
  }
  // Legacy combinators whose id is not their CRC32 (ID_EXCEPTIONS) keep the first spelling.
  if (ID_EXCEPTIONS.has(name)) {
    for (const i of open) params[i]!.name = choices[i]![0]!;
    return entry;
  }
  return undefined;
}

/** camelCase → TL spellings of every parameter name in `schemas`. */
export function spellingsOf(schemas: readonly TlSchema[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of schemas)
    for (const e of [...s.constructors, ...s.methods])
      for (const p of e.params) {
        const list = out.get(gramjsCamel(p.name)) ?? [];
        if (!list.includes(p.name)) list.push(p.name);
        out.set(gramjsCamel(p.name), list);
      }
  return out;
}

const schemaCache = new Map<string, TlSchema>();

/** One API layer's schema from a source package (read once per process). */
export function readApiSchema(src: (typeof API_SOURCES)[number]): TlSchema {
  let schema = schemaCache.get(src.pkg);
  if (!schema) {
    schema = readApiSchemaUncached(src);
    schemaCache.set(src.pkg, schema);
  }
  return schema;
}

function readApiSchemaUncached(src: (typeof API_SOURCES)[number]): TlSchema {
  const from = `${src.pkg}@${version(src.pkg)}`;
  if (src.format === 'gramjs')
    return parseSchema(
      gramjsText(src.pkg, 'apiTl.js'),
      sourceLayer(src),
      `${from}/${gramjsTextFile(src.pkg)}`,
    );
  if (src.format === 'teleproto') return readTeleprotoSchema(src.pkg, from);
  const file = mtcuteSchemaFile(src.pkg);
  const doc = JSON.parse(readFileSync(join(pkgDir(src.pkg), file), 'utf8')) as {
    l: number;
    e: MtcuteEntry[];
  };
  // mtcute's own entries are not Telegram's schema: `mtcute.*` (e.g. mtcute.dummyUpdate), and in
  // @mtcute/tl 179–216 the `invokeWith…Prefix` helpers, methods typed Error (no Telegram method is).
  const entries = doc.e
    .filter((e) => !e.name.startsWith('mtcute.') && !(e.kind === 'method' && e.type === 'Error'))
    .map((e) => ({ kind: e.kind, entry: fromMtcute(e) }));
  return {
    layer: doc.l,
    source: `${from}/${file}`,
    constructors: entries.filter((e) => e.kind === 'class').map((e) => e.entry),
    methods: entries.filter((e) => e.kind === 'method').map((e) => e.entry),
  };
}

/**
 * teleproto 1.x: its definitions mix the API with the MTProto service schema (GramJS generates
 * both into one table); service combinators (by id) are left out. Parameter spellings come from
 * every TL-text and JSON source held.
 */
function readTeleprotoSchema(pkg: string, from: string): TlSchema {
  const service = readServiceSchema();
  const serviceIds = new Set([...service.constructors, ...service.methods].map((e) => e.id));
  const spellings = spellingsOf(API_SOURCES.filter((s) => s.format !== 'teleproto').map(readApiSchema));
  const schema: TlSchema = {
    layer: sourceLayer({ pkg, format: 'teleproto' }),
    source: `${from}/tl/generated/api-definitions.js`,
    constructors: [],
    methods: [],
  };
  const unreadable: string[] = [];
  for (const d of teleprotoDefinitions(pkg)) {
    if (serviceIds.has(d.constructorId >>> 0) || SERVICE_ONLY_TYPES.has(d.result)) continue;
    const entry = fromTeleproto(d, spellings);
    if (!entry) {
      unreadable.push(`${d.namespace ? `${d.namespace}.` : ''}${d.name}`);
      continue;
    }
    (d.isFunction ? schema.methods : schema.constructors).push(entry);
  }
  if (unreadable.length > 0)
    throw new Error(`${from}: no TL spelling matches the id of ${unreadable.join(', ')}`);
  return schema;
}

/** Service-schema types teleproto lists that Tern's service schema lacks (the fake-TLS hello of obfuscated transports). */
const SERVICE_ONLY_TYPES: ReadonlySet<string> = new Set(['TlsClientHello', 'TlsBlock']);

/**
 * The MTProto service schema. GramJS's schemaTl.js is TL text with sections (so requests are
 * methods) but spells binary fields `string`; mtcute's mtp-schema.json types them `bytes` but
 * lists everything as a class and lacks a few combinators (req_pq, p_q_inner_data, …). So: the
 * GramJS text, with each combinator's params taken from mtcute when it has it, and `string`
 * read as `bytes` otherwise (every string of the key exchange is binary; rpc_error is in mtcute).
 */
export function readServiceSchema(): TlSchema {
  const gram = parseSchema(gramjsText('telegram', 'schemaTl.js'), 0, 'telegram/tl/schemaTl.js');
  const mtcuteRaw = JSON.parse(
    readFileSync(join(pkgDir('@mtcute/core'), 'tl', 'mtp-schema.json'), 'utf8'),
  ) as MtcuteEntry[];
  const mtcute = new Map(mtcuteRaw.map((e) => fromMtcute(e, 'mt_')).map((e) => [e.name, e]));
  const merge = (e: TlEntry): TlEntry => {
    const m = mtcute.get(e.name);
    mtcute.delete(e.name);
    if (m && m.id === e.id) return m;
    return { ...e, params: e.params.map((p) => (p.type === 'string' ? { ...p, type: 'bytes' } : p)) };
  };
  const constructors = gram.constructors.map(merge);
  const methods = gram.methods.map(merge);
  constructors.push(...mtcute.values()); // combinators only mtcute lists
  return {
    layer: 0,
    source: `telegram@${version('telegram')}/tl/schemaTl.js + @mtcute/core@${version('@mtcute/core')}/tl/mtp-schema.json`,
    constructors,
    methods,
  };
}

/**
 * Combinators whose published id is not the CRC32 of their text: legacy constructors renamed
 * after their id was fixed (mtcute keeps them to read old file references), and the
 * config-simple family of the service schema, whose ids come from an older spelling.
 */
export const ID_EXCEPTIONS: ReadonlySet<string> = new Set([
  'inputPeerPhotoFileLocationLegacy',
  'inputStickerSetThumbLegacy',
  'ipPortSecret',
  'accessPointRule',
  'help.configSimple',
]);

/**
 * Entries whose id is not the CRC32 of their canonical text. Outside ID_EXCEPTIONS that means
 * the schema was read or normalized wrongly, so the build stops.
 */
export function idMismatches(schema: TlSchema): TlEntry[] {
  return [...schema.constructors, ...schema.methods].filter(
    (e) => !ID_EXCEPTIONS.has(e.name) && combinatorId(e) !== e.id,
  );
}

function main(): void {
  mkdirSync(OUT_DIR, { recursive: true });
  const index: TlIndex = { layers: [], mtproto: { file: 'mtproto.json', source: '' } };
  const log: string[] = [];
  const schemas: TlSchema[] = [];
  for (const src of API_SOURCES) {
    const schema = readApiSchema(src);
    const dup = index.layers.find((l) => l.layer === schema.layer);
    if (dup) {
      log.push(`layer ${schema.layer} from ${schema.source} skipped (already from ${dup.source})`);
      continue;
    }
    const bad = idMismatches(schema);
    if (bad.length > 0)
      throw new Error(
        `${schema.source}: ids differ from their CRC32 for ${bad.map((e) => e.name).join(', ')}`,
      );
    const file = `layer-${schema.layer}.json`;
    writeFileSync(join(OUT_DIR, file), JSON.stringify(schema));
    index.layers.push({ layer: schema.layer, file, source: schema.source });
    schemas.push(schema);
    log.push(
      `layer ${schema.layer}: ${schema.constructors.length} constructors, ${schema.methods.length} methods (${schema.source})`,
    );
  }
  const service = readServiceSchema();
  const badService = idMismatches(service);
  if (badService.length > 0)
    throw new Error(
      `service schema: ids differ from their CRC32 for ${badService.map((e) => e.name).join(', ')}`,
    );
  writeFileSync(join(OUT_DIR, 'mtproto.json'), JSON.stringify(service));
  index.mtproto.source = service.source;
  index.layers.sort((a, b) => a.layer - b.layer);
  log.push(`mtproto: ${service.constructors.length} constructors, ${service.methods.length} methods`);

  // What each client layer is answered with (tools/tl/served.ts): a held layer must express every
  // constructor the gateway writes; a layer between held ones that cannot is refused.
  const newest = schemas.reduce((a, b) => (b.layer > a.layer ? b : a));
  const emitted = emittedConstructors(new TlCodec(newest));
  const report = clientLayers(schemas, emitted);
  const broken = report.filter((l) => l.kind === 'exact' && l.missing.length > 0);
  if (broken.length > 0)
    throw new Error(
      `constructors the gateway writes are missing from held layers (add a fallback in services/gateway/src/tl/downgrade.ts):\n${broken
        .map((l) => `  layer ${l.layer}: ${l.missing.join(', ')}`)
        .join('\n')}`,
    );
  index.refused = refusedLayers(report);
  writeFileSync(join(OUT_DIR, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  const served = report.filter((l) => l.kind === 'between' && l.missing.length === 0).map((l) => l.layer);
  const refused = Object.keys(index.refused).map(Number);
  log.push(
    `client layers (${emitted.length} constructors the gateway writes, checked in each):`,
    `  exact (${index.layers.length}): ${ranges(index.layers.map((l) => l.layer))}`,
    `  between held layers, every written constructor proven (${served.length}): ${ranges(served) || '—'}`,
    `  between held layers, refused (${refused.length}): ${ranges(refused) || '—'}`,
    `  newer than ${newest.layer}: served with layer ${newest.layer}, unproven (npm run tl:update)`,
  );
  process.stdout.write(`tl:gen → ${OUT_DIR}\n${log.map((l) => `  ${l}\n`).join('')}`);
}

if (require.main === module) main();
