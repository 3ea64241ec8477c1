import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TlParseError } from './errors';
import { canonicalText, combinatorId, computeId, parseLine, parseSchema, renderLine } from './parser';

/* eslint-disable @typescript-eslint/no-require-imports -- the packages' schema modules are CommonJS strings */
const TEXTS: Record<string, string> = {
  'telegram/apiTl': require('telegram/tl/apiTl.js') as string,
  'telegram/schemaTl': require('telegram/tl/schemaTl.js') as string,
  'teleproto/apiTl': require('teleproto/tl/apiTl.js') as string,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Published ids that are not the CRC32 of today's spelling (see tools/tl/generate.ts ID_EXCEPTIONS). */
const SERVICE_EXCEPTIONS = new Set(['ipPortSecret', 'accessPointRule', 'help.configSimple']);

describe('TL parser', () => {
  it('parses a combinator with flags, two flags words, vectors and an explicit id', () => {
    const e = parseLine(
      'messages.sendMessage#fe05dc9a flags:# no_webpage:flags.1?true peer:InputPeer entities:flags.3?Vector<MessageEntity> message:string random_id:long flags2:# x:flags2.31?long = Updates;',
    )!;
    expect(e).toMatchObject({
      name: 'messages.sendMessage',
      id: 0xfe05dc9a,
      type: 'Updates',
      computedId: false,
    });
    expect(e.params).toEqual([
      { name: 'flags', type: '#' },
      { name: 'no_webpage', type: 'true', flag: { field: 'flags', bit: 1 } },
      { name: 'peer', type: 'InputPeer' },
      { name: 'entities', type: 'Vector<MessageEntity>', flag: { field: 'flags', bit: 3 } },
      { name: 'message', type: 'string' },
      { name: 'random_id', type: 'long' },
      { name: 'flags2', type: '#' },
      { name: 'x', type: 'long', flag: { field: 'flags2', bit: 31 } },
    ]);
  });

  it('parses generics, !X arguments, bare types and bare vectors', () => {
    const w = parseLine('invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X;')!;
    expect(w.generics).toEqual(['X']);
    expect(w.params).toEqual([
      { name: 'layer', type: 'int' },
      { name: 'query', type: '!X' },
    ]);
    expect(w.type).toBe('X');
    const c = parseLine('msg_container#73f1f8dc messages:vector<%Message> = MessageContainer')!;
    expect(c.params[0]).toEqual({ name: 'messages', type: 'vector<%Message>' });
    expect(
      parseLine('future_salts#ae500895 req_msg_id:long now:int salts:vector<future_salt> = FutureSalts')!
        .params[2]!.type,
    ).toBe('vector<future_salt>');
  });

  it('computes the CRC32 id of a line without #id, following the canonical-text rules', () => {
    // flag-only `true` fields and `{X:Type}` braces, `bytes` as `string`, `<>` as spaces
    expect(parseLine('inputPeerUser user_id:long access_hash:long = InputPeer')!).toMatchObject({
      id: 0xdde8a54c,
      computedId: true,
    });
    expect(
      computeId(
        'resPQ#00000000 nonce:int128 server_nonce:int128 pq:string server_public_key_fingerprints:Vector<long> = ResPQ',
      ),
    ).toBe(0x05162463);
    expect(computeId('invokeWithLayer {X:Type} layer:int query:!X = X')).toBe(0xda9b0d0d);
    expect(
      canonicalText(parseLine('a#1 flags:# b:flags.0?true c:flags.1?bytes d:Vector<Vector<int>> = A')!),
    ).toBe('a flags:# c:flags.1?string d:Vector Vector int = A');
  });

  it('skips TL machinery and builtin declarations, honours sections and multi-line declarations', () => {
    expect(parseLine('vector#1cb5c415 {t:Type} # [ t ] = Vector t;')).toBeUndefined();
    expect(parseLine('int ? = Int;')).toBeUndefined();
    const s = parseSchema(
      'int ? = Int;\n// comment\nfoo#00000001 a:int\n  b:string = Foo;\n---functions---\ngetFoo#00000002 = Foo;\n---types---\nbar#00000003 = Bar;',
      1,
      'test',
    );
    expect(s.constructors.map((e) => e.name)).toEqual(['foo', 'bar']);
    expect(s.methods.map((e) => e.name)).toEqual(['getFoo']);
    expect(s.constructors[0]!.params).toHaveLength(2);
  });

  it('rejects malformed lines with TlParseError', () => {
    for (const bad of [
      'foo#1 a:int',
      'foo#1 a = Foo',
      'foo#1 a:flags.0?int = Foo', // condition on an undeclared flags word
      'foo#1 flags:# a:flags.32?int = Foo',
      '#1 = Foo',
      'foo#1 a:Vector<> = Foo',
      'foo#1 = ',
    ])
      expect(() => parseLine(bad)).toThrow(TlParseError);
    expect(() => parseSchema('foo#1 = Foo;\n---bogus---\n', 1, 't')).toThrow(TlParseError);
    expect(() => parseSchema('foo#1 a:int', 1, 't')).toThrow(TlParseError);
  });

  it('renders entries back to lines that parse to the same entry', () => {
    const e = parseLine(
      'initConnection#c1cd5ea9 {X:Type} flags:# api_id:int proxy:flags.0?InputClientProxy query:!X = X',
    )!;
    const again = parseLine(renderLine(e))!;
    expect(again).toMatchObject({ name: e.name, id: e.id, type: e.type, params: e.params });
  });

  // The proof that the parser reads every layer right: each published id equals the CRC32 of
  // the canonical text the parser reconstructs from what it understood.
  it.each(Object.keys(TEXTS))('every explicit id in %s equals the CRC32 the parser computes', (key) => {
    const schema = parseSchema(TEXTS[key]!, 0, key);
    const all = [...schema.constructors, ...schema.methods];
    expect(all.length).toBeGreaterThan(key.endsWith('apiTl') ? 2000 : 50);
    const wrong = all
      .filter((e) => !SERVICE_EXCEPTIONS.has(e.name) && combinatorId(e) !== e.id)
      .map((e) => e.name);
    expect(wrong).toEqual([]);
  });

  it('reads the schemas from the installed packages, not from the repository', () => {
    const src = readFileSync(join(__dirname, 'parser.ts'), 'utf8');
    expect(src).not.toMatch(/inputPeerUser#/);
  });
});
