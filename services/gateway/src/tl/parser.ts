/**
 * A parser for TL schema text (the `.tl` format: `name#id params = Type;` lines with
 * `---functions---` / `---types---` sections). Used at build time by tools/tl/generate.ts.
 */
import type { TlEntry, TlParam, TlSchema } from './schema';
import { crc32 } from '../mtproto/transport/framing';

export class TlParseError extends Error {
  override readonly name = 'TlParseError';
}

/** Built-in types the codec implements itself; their schema lines are skipped. */
const BUILTIN = new Set([
  'boolFalse',
  'boolTrue',
  'true',
  'vector',
  'error',
  'null',
  'int',
  'long',
  'double',
  'string',
  'bytes',
  'int128',
  'int256',
]);

/**
 * Parses one combinator line (without the trailing `;`). Returns undefined for the built-ins.
 * When the line has no `#id`, the id is the CRC32 of its canonical form, as TL defines it.
 */
export function parseLine(line: string): TlEntry | undefined {
  const m = /^([\w.]+)(?:#([0-9a-f]+))?\s+(.*?)=\s*([\w.<>%!]+(?:\s+\w+)?)\s*$/.exec(line.trim());
  if (!m) throw new TlParseError(`cannot parse TL line: ${line}`);
  const [, name, hexId, paramText, resultType] = m as unknown as [
    string,
    string,
    string | undefined,
    string,
    string,
  ];
  if (BUILTIN.has(name)) return undefined;
  const params: TlParam[] = [];
  for (const token of paramText.split(/\s+/).filter(Boolean)) {
    if (token.startsWith('{')) continue; // generic declaration {X:Type}
    if (token === '#' || token === '[' || token === ']' || token.startsWith('['))
      throw new TlParseError(`unsupported construct in: ${line}`);
    const colon = token.indexOf(':');
    if (colon < 0) throw new TlParseError(`parameter without type in: ${line}`);
    const pname = token.slice(0, colon);
    let ptype = token.slice(colon + 1);
    const cond = /^([\w]+)\.(\d+)\?(.+)$/.exec(ptype);
    const param: TlParam = { name: pname, type: ptype };
    if (cond) {
      ptype = cond[3]!;
      param.type = ptype;
      param.flag = { field: cond[1]!, bit: Number(cond[2]) };
    }
    params.push(param);
  }
  const id = hexId !== undefined ? parseInt(hexId, 16) >>> 0 : computeId(line);
  return { name, id, type: resultType.trim(), params };
}

/** CRC32 of the canonical line (TL's rule for lines without an explicit id). */
export function computeId(line: string): number {
  const canonical = line
    .replace(/#[0-9a-f]+/, '')
    .replace(/[{}]/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/;/g, '')
    .replace(/:bytes /g, ':string ')
    .replace(/\?bytes /g, '?string ')
    .replace(/</g, ' ')
    .replace(/>/g, '')
    .replace(/ {2,}/g, ' ')
    .trim();
  return crc32(Buffer.from(canonical));
}

/** Parses a whole schema text. */
export function parseSchema(text: string, layer: number, source: string): TlSchema {
  const schema: TlSchema = { layer, source, constructors: [], methods: [] };
  let section: 'types' | 'functions' = 'types';
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (!line) continue;
    if (line === '---functions---') {
      section = 'functions';
      continue;
    }
    if (line === '---types---') {
      section = 'types';
      continue;
    }
    pending += ` ${line}`;
    if (!line.endsWith(';')) continue;
    const entry = parseLine(pending.trim().replace(/;$/, ''));
    pending = '';
    if (!entry) continue;
    (section === 'types' ? schema.constructors : schema.methods).push(entry);
  }
  return schema;
}
