/**
 * `npm run tl:update`: is a layer newer than the held ones published, and how to adopt it.
 *
 * Offline (the default) it reads the pinned packages in node_modules: the layer of every source
 * in API_SOURCES, and of every installed client package that is not a source yet (a bumped
 * `telegram` / `teleproto` / `@mtcute/core`, an alias installed but not listed). With `--online`
 * it also asks the npm registry (`npm view`) for the published versions of teleproto (version
 * 1.<layer>.x), @mtcute/tl (<layer>.x.y), and the newest GramJS and @mtcute/core, whose layer it
 * reads from the package itself (`npm pack` into a temporary directory).
 *
 * It prints the command that installs the newer layer and the one line to add to API_SOURCES
 * in tools/tl/generate.ts (docs/compatibility.md, "Adopting a new layer"). Exit status: 0, or 3
 * with `--check` when a newer layer is published or installed but not held.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_SOURCES, pkgDir, sourceLayer, version, type SourceFormat } from './generate';

const ROOT = join(__dirname, '..', '..');

export interface Candidate {
  /** The layer it carries. */
  layer: number;
  /** npm package and exact version. */
  pkg: string;
  version: string;
  format: SourceFormat;
  /** Where it was seen: installed (node_modules) or published (the registry). */
  where: 'installed' | 'published';
  /** The directory it is installed under (an npm alias), when installed. */
  alias?: string;
}

/** The alias a layer's package is installed under, as in package.json. */
export function aliasFor(c: Pick<Candidate, 'layer' | 'pkg' | 'alias'>): string {
  if (c.alias) return c.alias;
  if (c.pkg === 'teleproto') return `teleproto-layer-${c.layer}`;
  if (c.pkg.startsWith('@mtcute/')) return `mtcute-${c.pkg.slice('@mtcute/'.length)}-layer-${c.layer}`;
  return `telegram-layer-${c.layer}`;
}

/** What to run and the API_SOURCES line to add to adopt `c`. */
export function adoption(c: Candidate): { install: string; line: string } {
  const alias = aliasFor(c);
  return {
    install: `npm install --save-dev --save-exact ${alias}@npm:${c.pkg}@${c.version}`,
    line: `{ pkg: '${alias}', format: '${c.format}' },`,
  };
}

/** The format a package's schema comes in, by package and version. */
export function formatOf(pkg: string, ver: string): SourceFormat {
  if (pkg.startsWith('@mtcute/')) return 'mtcute';
  if (pkg === 'teleproto' && /^1\./.test(ver)) return 'teleproto';
  return 'gramjs';
}

/** The layer a published version names, when its version spells it (teleproto 1.L.x, @mtcute/tl L.x.y). */
export function layerOfVersion(pkg: string, ver: string): number | undefined {
  if (pkg === 'teleproto') {
    const m = /^1\.(\d+)\.\d+$/.exec(ver) ?? /^(\d{3})\.\d+\.\d+$/.exec(ver);
    return m ? Number(m[1]) : undefined;
  }
  if (pkg === '@mtcute/tl') {
    const m = /^(\d+)\.\d+\.\d+$/.exec(ver);
    return m ? Number(m[1]) : undefined;
  }
  return undefined;
}

/** The package an installed directory really is (an alias's package.json names the original). */
function realName(dir: string): { name: string; version: string } | undefined {
  const file = join(ROOT, 'node_modules', ...dir.split('/'), 'package.json');
  if (!existsSync(file)) return undefined;
  const j = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
  return j.name && j.version ? { name: j.name, version: j.version } : undefined;
}

/** Installed client packages carrying a schema that API_SOURCES does not list. */
export function installedCandidates(): Candidate[] {
  const listed = new Set(API_SOURCES.map((s) => s.pkg));
  const dirs = [
    ...readdirSync(join(ROOT, 'node_modules')).filter((d) => /^(telegram|teleproto|mtcute-)/.test(d)),
    ...['@mtcute/core', '@mtcute/tl'],
  ];
  const out: Candidate[] = [];
  for (const dir of dirs) {
    if (listed.has(dir)) continue;
    const real = realName(dir);
    if (!real || !['telegram', 'teleproto', '@mtcute/core', '@mtcute/tl'].includes(real.name)) continue;
    const format = formatOf(real.name, real.version);
    try {
      out.push({
        layer: sourceLayer({ pkg: dir, format }),
        pkg: real.name,
        version: real.version,
        format,
        where: 'installed',
        alias: dir,
      });
    } catch {
      // a package version without a schema this tool knows how to read
    }
  }
  return out;
}

function npm(args: string[], cwd = ROOT): string {
  return execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
}

/** The layer of a published package version, read from its tarball (npm pack into a temporary directory). */
function probeLayer(pkg: string, ver: string): number | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'tl-update-'));
  try {
    const file = npm(['pack', `${pkg}@${ver}`, '--pack-destination', dir, '--silent'])
      .trim()
      .split('\n')
      .pop()!;
    execFileSync('tar', ['xzf', join(dir, file), '-C', dir]);
    const probe = join(dir, 'package');
    for (const [rel, re] of [
      ['tl/AllTLObjects.js', /exports\.LAYER\s*=\s*(\d+)/],
      ['tl/runtime/registry.js', /exports\.LAYER\s*=\s*(\d+)/],
      ['tl/api-schema.json', /^\{"l":(\d+)/],
      ['api-schema.json', /^\{"l":(\d+)/],
    ] as const) {
      const f = join(probe, rel);
      if (!existsSync(f)) continue;
      const m = re.exec(readFileSync(f, 'utf8').slice(0, 4096));
      if (m) return Number(m[1]);
    }
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Published versions carrying a layer newer than `newest` (asks the npm registry). */
export function publishedCandidates(newest: number): Candidate[] {
  const out: Candidate[] = [];
  for (const pkg of ['teleproto', '@mtcute/tl']) {
    const versions = JSON.parse(npm(['view', pkg, 'versions', '--json'])) as string[] | string;
    for (const v of Array.isArray(versions) ? versions : [versions]) {
      const layer = layerOfVersion(pkg, v);
      if (layer !== undefined && layer > newest)
        out.push({ layer, pkg, version: v, format: formatOf(pkg, v), where: 'published' });
    }
  }
  // GramJS and @mtcute/core do not spell the layer in their version: their newest is probed.
  for (const pkg of ['telegram', '@mtcute/core']) {
    const latest = npm(['view', pkg, 'version']).trim();
    const layer = probeLayer(pkg, latest);
    if (layer !== undefined && layer > newest)
      out.push({ layer, pkg, version: latest, format: formatOf(pkg, latest), where: 'published' });
  }
  // The newest version of each layer, newest layer first.
  const best = new Map<number, Candidate>();
  for (const c of out) {
    const b = best.get(c.layer);
    if (!b || (b.pkg === c.pkg && compareVersions(c.version, b.version) > 0)) best.set(c.layer, c);
  }
  return [...best.values()].sort((a, b) => b.layer - a.layer);
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map(Number);
  const pb = b.split(/[.-]/).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0 && !Number.isNaN(d)) return d;
  }
  return 0;
}

function main(): void {
  const online = process.argv.includes('--online');
  const check = process.argv.includes('--check');
  const held = new Map<number, string>();
  for (const src of API_SOURCES) {
    const layer = sourceLayer(src);
    if (!held.has(layer)) held.set(layer, `${src.pkg}@${version(src.pkg)}`);
    if (!existsSync(pkgDir(src.pkg))) throw new Error(`${src.pkg} is not installed: run npm ci`);
  }
  const newest = Math.max(...held.keys());
  const lines = [`held: ${held.size} layers, newest ${newest} (${held.get(newest)})`];
  const found: Candidate[] = installedCandidates().filter((c) => !held.has(c.layer));
  if (online) {
    try {
      found.push(...publishedCandidates(newest));
    } catch (err) {
      lines.push(
        `npm registry not reachable (${(err as Error).message.split('\n')[0]}): offline answer only`,
      );
    }
  } else
    lines.push('offline: pinned packages only (npm run tl:update -- --online also asks the npm registry)');
  const newer = found.filter((c) => c.layer > newest).sort((a, b) => b.layer - a.layer);
  const gaps = found.filter((c) => c.layer < newest);
  if (newer.length === 0)
    lines.push(`no layer newer than ${newest} ${online ? 'is published' : 'is installed'}`);
  for (const c of [...newer, ...gaps]) {
    const a = adoption(c);
    lines.push(
      `layer ${c.layer}${c.layer < newest ? ' (between held layers)' : ''}: ${c.pkg}@${c.version} (${c.where})`,
      `  to adopt it: ${c.where === 'published' ? `${a.install}\n    then ` : ''}add to API_SOURCES in tools/tl/generate.ts:`,
      `    ${a.line}`,
      '  and run npm run tl:gen (docs/compatibility.md, "Adopting a new layer")',
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  if (check && found.length > 0) process.exitCode = 3;
}

if (require.main === module) main();
