/**
 * Tern's parser for TL schema text: `name#id params = Type;` combinators, `---functions---` /
 * `---types---` sections, `//` comments, `flags:#` words (any number of them: `flags2:#`, …),
 * conditional fields `flags.N?type`, `Vector<T>` / `vector<T>`, bare types (`%T`, lowercase
 * names), generics `{X:Type}` with `!X` arguments. Used at build time by tools/tl/generate.ts;
 * a line without `#id` gets the CRC32 of its canonical text, as TL defines combinator ids.
 */
import { crc32 } from './crc32';
import { TlParseError } from './errors';
import type { TlEntry, TlParam, TlSchema } from './schema';
import { parseType } from './types';

export { TlParseError } from './errors';

/**
 * Lines that declare TL's own machinery rather than combinators: the polymorphic `vector`
 * (`vector#1cb5c415 {t:Type} # [ t ] = Vector t`), which the codec implements natively.
 */
const MACHINERY = new Set(['vector']);

/** A parsed combinator and the generic names it declares. */
export interface ParsedLine extends TlEntry {
  /** Names declared with `{X:Type}`. */
  generics: string[];
  /** True when the id was computed because the line had none. */
  computedId: boolean;
}

const HEAD = /^([A-Za-z_][\w.]*)(?:#([0-9a-fA-F]{1,8}))?$/;
const PARAM = /^([A-Za-z_]\w*):(?:([A-Za-z_]\w*)\.(\d+)\?)?(.+)$/;

/**
 * Parses one combinator (without its trailing `;`). Returns undefined for TL machinery lines
 * (`vector`) and built-in type declarations (`int ? = Int`).
 */
export function parseLine(line: string): ParsedLine | undefined {
  const text = line.trim().replace(/;$/, '').trim();
  const eq = text.lastIndexOf('=');
  if (eq < 0) throw new TlParseError(`no '=' in TL line: ${line}`);
  const left = text.slice(0, eq).trim();
  const resultType = text.slice(eq + 1).trim();
  if (!resultType) throw new TlParseError(`no result type in TL line: ${line}`);
  const tokens = tokenize(left);
  const head = HEAD.exec(tokens.shift() ?? '');
  if (!head) throw new TlParseError(`invalid combinator name in TL line: ${line}`);
  const name = head[1]!;
  if (MACHINERY.has(name) || tokens.includes('?')) return undefined;

  const generics: string[] = [];
  const params: TlParam[] = [];
  const flagWords = new Set<string>();
  for (const tok of tokens) {
    const gen = /^\{([A-Za-z_]\w*):Type\}$/.exec(tok);
    if (gen) {
      generics.push(gen[1]!);
      continue;
    }
    const m = PARAM.exec(tok);
    if (!m) throw new TlParseError(`unsupported parameter '${tok}' in TL line: ${line}`);
    // Groups: name, then the flags word and bit of a conditional field (absent otherwise), the type.
    const pname = m[1]!;
    const field = m[2];
    const bit = m[3];
    const ptype = m[4]!;
    const param: TlParam = { name: pname, type: ptype };
    if (field !== undefined) {
      // A condition must name a flags word declared earlier on the line, bits 0..31.
      if (!flagWords.has(field)) throw new TlParseError(`${name}.${pname}: unknown flags field '${field}'`);
      const b = Number(bit);
      if (b > 31) throw new TlParseError(`${name}.${pname}: flag bit ${b} out of range`);
      param.flag = { field, bit: b };
    }
    if (ptype === '#') flagWords.add(pname);
    parseType(ptype, new Set(generics)); // validates the type expression
    params.push(param);
  }
  parseType(resultType, new Set(generics));
  const entry = { name, type: resultType.replace(/\s+/g, ' '), params, generics };
  const computedId = head[2] === undefined;
  const id = computedId ? combinatorId(entry) : parseInt(head[2]!, 16) >>> 0;
  return { ...entry, id, computedId };
}

/** Splits on whitespace, keeping `{X:Type}` and `Vector < T >` (with spaces) together. */
function tokenize(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let angle = 0;
  let brace = 0;
  for (const ch of text) {
    if (ch === '<') angle++;
    else if (ch === '>') angle--;
    else if (ch === '{') brace++;
    else if (ch === '}') brace--;
    if (/\s/.test(ch) && angle === 0 && brace === 0) {
      if (cur) out.push(cur);
      cur = '';
    } else if (!/\s/.test(ch)) {
      cur += ch;
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** The generic names a normalized entry uses (`!X` arguments), for entries that lost `{X:Type}`. */
function usedGenerics(entry: Pick<TlEntry, 'params'>): string[] {
  const out: string[] = [];
  for (const p of entry.params)
    if (p.type.startsWith('!') && !out.includes(p.type.slice(1))) out.push(p.type.slice(1));
  return out;
}

/**
 * TL's canonical text of a combinator, whose CRC32 is its id: no id, `{X:Type}` without braces,
 * `<`/`>` of vectors replaced by a space, `bytes` spelled `string`, and flag-only `true` fields
 * left out (they occupy no bytes on the wire, and the ids Telegram publishes are computed so).
 */
export function canonicalText(
  entry: Pick<TlEntry, 'name' | 'type' | 'params'> & { generics?: string[] },
): string {
  const type = (t: string) =>
    t
      .replace(/</g, ' ')
      .replace(/>/g, '')
      .replace(/\s+/g, ' ')
      .trim()
      .replace(/^bytes$/, 'string');
  const parts = [entry.name];
  for (const g of entry.generics ?? usedGenerics(entry)) parts.push(`${g}:Type`);
  for (const p of entry.params) {
    if (p.flag && p.type === 'true') continue;
    const cond = p.flag ? `${p.flag.field}.${p.flag.bit}?` : '';
    parts.push(`${p.name}:${cond}${type(p.type)}`);
  }
  parts.push('=', type(entry.type));
  return parts.join(' ');
}

/** The id TL assigns a combinator: CRC32 of canonicalText. */
export function combinatorId(
  entry: Pick<TlEntry, 'name' | 'type' | 'params'> & { generics?: string[] },
): number {
  return crc32(Buffer.from(canonicalText(entry), 'utf8'));
}

/** The id of a TL line, computed (ignoring any `#id` it carries). */
export function computeId(line: string): number {
  const withoutId = line.replace(/^(\s*[\w.]+)#[0-9a-fA-F]+/, '$1');
  const parsed = parseLine(withoutId);
  if (!parsed) throw new TlParseError(`not a combinator: ${line}`);
  return parsed.id;
}

/** Renders a normalized entry back as a TL line (`name#id params = Type`). */
export function renderLine(entry: TlEntry): string {
  const gens = usedGenerics(entry).map((g) => `{${g}:Type}`);
  const params = entry.params.map(
    (p) => `${p.name}:${p.flag ? `${p.flag.field}.${p.flag.bit}?` : ''}${p.type}`,
  );
  const id = entry.id.toString(16).padStart(8, '0');
  return [`${entry.name}#${id}`, ...gens, ...params, '=', entry.type].join(' ');
}

/**
 * Parses a whole schema text. Declarations may span lines and end at `;`; `---types---` and
 * `---functions---` switch sections (types first, as in every published schema).
 */
export function parseSchema(text: string, layer: number, source: string): TlSchema {
  const schema: TlSchema = { layer, source, constructors: [], methods: [] };
  let section: 'types' | 'functions' = 'types';
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (!line) continue;
    const sec = /^---(\w+)---$/.exec(line);
    if (sec) {
      if (pending.trim()) throw new TlParseError(`unterminated declaration before ${line}: ${pending}`);
      if (sec[1] !== 'types' && sec[1] !== 'functions') throw new TlParseError(`unknown section ${line}`);
      section = sec[1];
      continue;
    }
    pending += ` ${line}`;
    if (!line.endsWith(';')) continue;
    const parsed = parseLine(pending);
    pending = '';
    if (!parsed) continue;
    const entry: TlEntry = { name: parsed.name, id: parsed.id, type: parsed.type, params: parsed.params };
    (section === 'types' ? schema.constructors : schema.methods).push(entry);
  }
  if (pending.trim()) throw new TlParseError(`unterminated declaration at end: ${pending}`);
  return schema;
}
