/**
 * `npm run tl:gen`: reads the TL schemas that pinned client packages ship and writes them, in
 * Tern's normalized form (services/gateway/src/tl/schema.ts), to generated/tl/ (gitignored):
 * one file per API layer, the MTProto service schema, and an index. Schemas are data from the
 * packages, never pasted into the repository; to serve another layer, add its package (an npm
 * alias of an older client version works) to SOURCES.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSchema } from '../../services/gateway/src/tl/parser';
import type { TlEntry, TlParam, TlSchema } from '../../services/gateway/src/tl/schema';

const ROOT = join(__dirname, '..', '..');
const OUT = join(ROOT, 'generated', 'tl');

/** Where API schemas come from. `gramjs`: TL text in tl/apiTl.js, layer in tl/AllTLObjects.js. */
const SOURCES: ReadonlyArray<{ pkg: string; format: 'gramjs' | 'mtcute' }> = [
  { pkg: 'telegram', format: 'gramjs' },
  { pkg: 'teleproto', format: 'gramjs' },
  { pkg: '@mtcute/core', format: 'mtcute' },
];

/** The installed package's directory (not via require.resolve: some packages do not export package.json). */
function pkgDir(pkg: string): string {
  return join(ROOT, 'node_modules', ...pkg.split('/'));
}

function version(pkg: string): string {
  return (JSON.parse(readFileSync(join(pkgDir(pkg), 'package.json'), 'utf8')) as { version: string }).version;
}

/* eslint-disable @typescript-eslint/no-require-imports -- the packages' schema modules are CommonJS data */
function gramjsSchema(pkg: string): TlSchema {
  const dir = pkgDir(pkg);
  const text = require(join(dir, 'tl', 'apiTl.js')) as string;
  const { LAYER } = require(join(dir, 'tl', 'AllTLObjects.js')) as { LAYER: number };
  return parseSchema(text, LAYER, `${pkg}@${version(pkg)}/tl/apiTl.js`);
}
/* eslint-enable @typescript-eslint/no-require-imports */

interface MtcuteArg {
  name: string;
  type: string;
  typeModifiers?: { predicate?: string; isVector?: boolean; isBareVector?: boolean; isBareType?: boolean };
}
interface MtcuteEntry {
  kind: 'class' | 'method';
  name: string;
  id: number;
  type: string;
  arguments: MtcuteArg[];
}

function fromMtcute(entries: MtcuteEntry[], strip = ''): { constructors: TlEntry[]; methods: TlEntry[] } {
  const unprefix = (s: string) => (strip && s.startsWith(strip) ? s.slice(strip.length) : s);
  const convert = (e: MtcuteEntry): TlEntry => ({
    name: unprefix(e.name),
    id: e.id >>> 0,
    type: unprefix(e.type),
    params: e.arguments.map((a): TlParam => {
      const m = a.typeModifiers ?? {};
      let type = unprefix(a.type);
      if (m.isBareType && !type.startsWith('%')) type = `%${type}`;
      if (m.isVector) type = `Vector<${type}>`;
      if (m.isBareVector) type = `vector<${type}>`;
      const param: TlParam = { name: a.name, type };
      if (m.predicate) {
        const [field, bit] = m.predicate.split('.');
        param.flag = { field: field!, bit: Number(bit) };
      }
      return param;
    }),
  });
  return {
    constructors: entries.filter((e) => e.kind === 'class').map(convert),
    methods: entries.filter((e) => e.kind === 'method').map(convert),
  };
}

function mtcuteSchema(pkg: string): TlSchema {
  const doc = JSON.parse(readFileSync(join(pkgDir(pkg), 'tl', 'api-schema.json'), 'utf8')) as {
    l: number;
    e: MtcuteEntry[];
  };
  return { layer: doc.l, source: `${pkg}@${version(pkg)}/tl/api-schema.json`, ...fromMtcute(doc.e) };
}

/**
 * The MTProto service schema: mtcute's mtp-schema.json (binary fields typed `bytes`), completed
 * with the combinators only GramJS's schemaTl.js lists (req_pq, p_q_inner_data, …). Those spell
 * binary fields `string`; in this schema every such field is binary, so they become `bytes`.
 */
function serviceSchema(): TlSchema {
  const mtcute = JSON.parse(
    readFileSync(join(pkgDir('@mtcute/core'), 'tl', 'mtp-schema.json'), 'utf8'),
  ) as MtcuteEntry[];
  const base = fromMtcute(mtcute, 'mt_');
  // mtcute lists everything as classes; the requests the server answers are methods.
  const gramjsText = require(join(pkgDir('telegram'), 'tl', 'schemaTl.js')) as string; // eslint-disable-line @typescript-eslint/no-require-imports
  const gram = parseSchema(gramjsText, 0, 'telegram/tl/schemaTl.js');
  const known = new Set(base.constructors.map((c) => c.name));
  const binary = (e: TlEntry): TlEntry => ({
    ...e,
    params: e.params.map((p) =>
      p.type === 'string' && e.name !== 'rpc_error' ? { ...p, type: 'bytes' } : p,
    ),
  });
  const extra = [...gram.constructors, ...gram.methods]
    .filter(
      (e) =>
        !known.has(e.name) &&
        !['msg_container', 'rpc_result', 'gzip_packed', 'message', 'msg_copy'].includes(e.name),
    )
    .map(binary);
  return {
    layer: 0,
    source: `@mtcute/core@${version('@mtcute/core')}/tl/mtp-schema.json + telegram@${version('telegram')}/tl/schemaTl.js`,
    constructors: [...base.constructors, ...extra],
    methods: [],
  };
}

function main(): void {
  mkdirSync(OUT, { recursive: true });
  const layers: Array<{ layer: number; source: string }> = [];
  for (const src of SOURCES) {
    const schema = src.format === 'gramjs' ? gramjsSchema(src.pkg) : mtcuteSchema(src.pkg);
    if (layers.some((l) => l.layer === schema.layer)) continue;
    writeFileSync(join(OUT, `layer-${schema.layer}.json`), JSON.stringify(schema));
    layers.push({ layer: schema.layer, source: schema.source });
  }
  const service = serviceSchema();
  writeFileSync(join(OUT, 'mtproto.json'), JSON.stringify(service));
  layers.sort((a, b) => a.layer - b.layer);
  writeFileSync(join(OUT, 'index.json'), `${JSON.stringify({ layers }, null, 2)}\n`);
  process.stdout.write(
    `tl:gen: layers ${layers.map((l) => l.layer).join(', ')} and the MTProto schema (${service.constructors.length} combinators) → ${OUT}\n`,
  );
}

main();
