/**
 * `npm run tl:gen`: reads the TL schemas that pinned client packages ship and writes them in
 * Tern's normalized form (services/gateway/src/tl/schema.ts) to generated/tl/ (gitignored):
 *   layer-<N>.json  one per API layer
 *   mtproto.json    the MTProto service schema
 *   index.json      the layers and where each came from
 * Schemas are data read from node_modules at build time, never pasted into the repository.
 *
 * To serve another layer, install a client package that carries it (an older version works as
 * an npm alias: `npm i -D telegram-2.22@npm:telegram@2.22.2`) and add one line to API_SOURCES.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { combinatorId, parseSchema } from '../../services/gateway/src/tl/parser';
import type { TlEntry, TlIndex, TlParam, TlSchema } from '../../services/gateway/src/tl/schema';
import { isBareName } from '../../services/gateway/src/tl/types';

const ROOT = join(__dirname, '..', '..');
export const OUT_DIR = join(ROOT, 'generated', 'tl');

/**
 * Where API schemas come from, one package per line. Formats:
 *   gramjs  TL text exported by tl/apiTl.js, LAYER exported by tl/AllTLObjects.js (GramJS and forks)
 *   mtcute  tl/api-schema.json: `{ l: layer, e: entries }`
 * When two packages carry the same layer, the first one listed wins.
 */
export const API_SOURCES: ReadonlyArray<{ pkg: string; format: 'gramjs' | 'mtcute' }> = [
  { pkg: 'telegram', format: 'gramjs' },
  { pkg: 'teleproto', format: 'gramjs' },
  { pkg: '@mtcute/core', format: 'mtcute' },
  // Older layers, from older GramJS releases installed under npm aliases (package.json).
  { pkg: 'telegram-layer-184', format: 'gramjs' },
  { pkg: 'telegram-layer-181', format: 'gramjs' },
  { pkg: 'telegram-layer-174', format: 'gramjs' },
  { pkg: 'telegram-layer-152', format: 'gramjs' },
  { pkg: 'telegram-layer-145', format: 'gramjs' },
];

/** The installed package's directory (not require.resolve: some packages do not export package.json). */
function pkgDir(pkg: string): string {
  return join(ROOT, 'node_modules', ...pkg.split('/'));
}

function version(pkg: string): string {
  return (JSON.parse(readFileSync(join(pkgDir(pkg), 'package.json'), 'utf8')) as { version: string }).version;
}

/* eslint-disable @typescript-eslint/no-require-imports -- the packages' schema modules are CommonJS data */
/** The TL text a GramJS-format module exports (`module.exports = \`...\``). */
export function gramjsText(pkg: string, file: 'apiTl.js' | 'schemaTl.js'): string {
  return require(join(pkgDir(pkg), 'tl', file)) as string;
}

function gramjsLayer(pkg: string): number {
  return (require(join(pkgDir(pkg), 'tl', 'AllTLObjects.js')) as { LAYER: number }).LAYER;
}
/* eslint-enable @typescript-eslint/no-require-imports */

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

/** One API layer's schema from a source package. */
export function readApiSchema(src: (typeof API_SOURCES)[number]): TlSchema {
  const from = `${src.pkg}@${version(src.pkg)}`;
  if (src.format === 'gramjs')
    return parseSchema(gramjsText(src.pkg, 'apiTl.js'), gramjsLayer(src.pkg), `${from}/tl/apiTl.js`);
  const doc = JSON.parse(readFileSync(join(pkgDir(src.pkg), 'tl', 'api-schema.json'), 'utf8')) as {
    l: number;
    e: MtcuteEntry[];
  };
  // `mtcute.*` entries are mtcute's own (e.g. mtcute.dummyUpdate), not Telegram's schema.
  const entries = doc.e
    .filter((e) => !e.name.startsWith('mtcute.'))
    .map((e) => ({ kind: e.kind, entry: fromMtcute(e) }));
  return {
    layer: doc.l,
    source: `${from}/tl/api-schema.json`,
    constructors: entries.filter((e) => e.kind === 'class').map((e) => e.entry),
    methods: entries.filter((e) => e.kind === 'method').map((e) => e.entry),
  };
}

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
  writeFileSync(join(OUT_DIR, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
  log.push(`mtproto: ${service.constructors.length} constructors, ${service.methods.length} methods`);
  process.stdout.write(`tl:gen → ${OUT_DIR}\n${log.map((l) => `  ${l}\n`).join('')}`);
}

if (require.main === module) main();
