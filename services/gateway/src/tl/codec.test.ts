import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { TlCodec, type TlObject } from './codec';
import { TlDecodeError, TlEncodeError } from './errors';
import { TlReader } from './reader';
import { loadTlRegistry } from './registry';
import { SchemaArbitrary } from './testing';
import { TlWriter } from './writer';

const registry = loadTlRegistry();

describe('TL primitives', () => {
  it('round-trips ints, longs, doubles, int128/256, Bool and strings of both length forms', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
        fc.double({ noNaN: true }),
        fc.uint8Array({ maxLength: 1000 }),
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.boolean(),
        (i, l, d, b, s, bool) => {
          const i128 = Buffer.alloc(16, 1);
          const bytes = new TlWriter()
            .int(i)
            .long(l)
            .double(d)
            .bytes(b)
            .string(s)
            .bool(bool)
            .int128(i128)
            .result();
          expect(bytes.length % 4).toBe(0);
          const r = new TlReader(bytes);
          expect([r.int(), r.long(), r.double(), r.bytes(), r.string(), r.bool(), r.int128()]).toEqual([
            i,
            l,
            d,
            Buffer.from(b),
            s,
            bool,
            i128,
          ]);
          expect(r.remaining).toBe(0);
        },
      ),
    );
  });

  it('uses the 0xfe length form from 254 bytes on, padded to 4', () => {
    expect(new TlWriter().bytes(Buffer.alloc(253)).result().length).toBe(256);
    const long = new TlWriter().bytes(Buffer.alloc(254, 7)).result();
    expect(long.subarray(0, 4)).toEqual(Buffer.from([254, 254, 0, 0]));
    expect(long.length).toBe(260);
  });

  it('refuses values out of range when writing', () => {
    expect(() => new TlWriter().int(2 ** 40)).toThrow(TlEncodeError);
    expect(() => new TlWriter().long(1n << 64n)).toThrow(TlEncodeError);
    expect(() => new TlWriter().int128(Buffer.alloc(15))).toThrow(TlEncodeError);
  });
});

describe('TL codec', () => {
  const l198 = registry.forLayer(198);

  it('encodes and decodes the object model: bigint longs, boolean true-flags, arrays, absent optionals', () => {
    const obj = {
      _: 'messages.sendMessage',
      silent: true,
      peer: { _: 'inputPeerUser', user_id: 5n, access_hash: -7n },
      message: 'hi',
      random_id: 1n,
      entities: [{ _: 'messageEntityBold', offset: 0, length: 2 }],
    };
    const back = l198.decode(l198.encode(obj));
    expect(back).toMatchObject(obj);
    expect(back.no_webpage).toBe(false);
    expect(back.reply_to).toBeUndefined();
    expect('flags' in back).toBe(false);
  });

  it('looks entries up by id and name and knows method result types', () => {
    const e = l198.byName('help.getConfig')!;
    expect(l198.byId(e.id)).toBe(e);
    expect(l198.isMethod('help.getConfig')).toBe(true);
    expect(l198.methodResultType('help.getConfig')).toBe('Config');
    expect(l198.methodResultType('users.getUsers')).toBe('Vector<User>');
    expect(l198.methodResultType('invokeWithLayer')).toBe('X');
    expect(l198.methodResultType('inputPeerUser')).toBeUndefined();
  });

  it('encodes and decodes bare types and method results', () => {
    expect(l198.decodeBare('Vector<long>', l198.encodeBare('Vector<long>', [1n, -2n]))).toEqual([1n, -2n]);
    const peer = { _: 'inputPeerUser', user_id: 1n, access_hash: 2n };
    const bare = l198.encodeBare('inputPeerUser', peer);
    expect(bare.length).toBe(16); // no constructor id
    expect(l198.decodeBare('inputPeerUser', bare)).toEqual(peer);
    expect(l198.decodeResult('messages.setTyping', l198.encodeBool(true))).toBe(true);
    const cfg = l198.encode({ _: 'nearestDc', country: 'NL', this_dc: 2, nearest_dc: 2 });
    expect(l198.decodeResult('invokeWithLayer', cfg)).toMatchObject({ _: 'nearestDc', this_dc: 2 });
    const mt = registry.mtproto;
    const salts = {
      _: 'future_salts',
      req_msg_id: 1n,
      now: 2,
      salts: [{ _: 'future_salt', valid_since: 1, valid_until: 2, salt: 3n }],
    };
    expect(mt.decode(mt.encode(salts))).toEqual(salts);
  });

  it('decodes generic !X arguments recursively and inside gzip_packed', () => {
    const inner = { _: 'help.getConfig' };
    const call = { _: 'invokeWithLayer', layer: 198, query: { _: 'invokeWithoutUpdates', query: inner } };
    expect(l198.decode(l198.encode(call))).toEqual(call);
    const gz = Buffer.concat([
      new TlWriter()
        .uint32(0xda9b0d0d)
        .int(198)
        .uint32(0x3072cfa1)
        .bytes(gzipSync(l198.encode(inner)))
        .result(),
    ]);
    expect(l198.decode(gz)).toEqual({ _: 'invokeWithLayer', layer: 198, query: inner });
    // an already serialized query is passed through
    expect(l198.encode({ _: 'invokeWithLayer', layer: 198, query: l198.encode(inner) })).toEqual(
      l198.encode({ _: 'invokeWithLayer', layer: 198, query: inner }),
    );
  });

  it('is strict about what the schema requires', () => {
    expect(() => l198.encode({ _: 'inputPeerUser', user_id: 1n })).toThrow(TlEncodeError);
    expect(() => l198.encode({ _: 'inputPeerUser', user_id: 'x', access_hash: 1n })).toThrow(TlEncodeError);
    expect(() => l198.encode({ _: 'noSuchThing' })).toThrow(TlEncodeError);
    const loop: TlObject = { _: 'invokeWithoutUpdates' };
    loop.query = loop;
    expect(() => l198.encode(loop)).toThrow(/nesting too deep/);
    // a method where a constructor of its result type is expected
    expect(() =>
      l198.encode({ _: 'messages.getPeerSettings', peer: { _: 'messages.getPeerSettings' } }),
    ).toThrow(TlEncodeError);
    // a constructor of the wrong type in a typed field
    expect(() =>
      l198.encode({ _: 'messages.sendMessage', peer: { _: 'inputUserSelf' }, message: '', random_id: 1n }),
    ).toThrow(/expected InputPeer/);
  });

  // Property: for random schema-valid objects of many constructors in every layer,
  // decode(encode(x)) == x and encode(decode(bytes)) == bytes.
  it.each(registry.layers)('round-trips random objects of many constructors in layer %i', (layer) => {
    const codec = registry.forLayer(layer);
    const gen = new SchemaArbitrary(codec);
    const names = codec.schema.constructors
      .filter((_, i) => i % 7 === 0)
      // Bool's constructors are the JS booleans true/false, not objects
      .filter((c) => c.type !== 'Bool' && gen.canGenerate(c))
      .map((c) => c.name);
    // Every 7th constructor: ~150 in old layers, ~230 in the newest.
    expect(names.length).toBeGreaterThan(100);
    for (const name of [...names, 'user', 'config', 'message', 'messages.sendMessage']) {
      fc.assert(
        fc.property(gen.object(name), (obj) => {
          const bytes = codec.encode(obj);
          const back = codec.decode(bytes);
          expect(back).toEqual(stripUndefined(obj));
          expect(codec.encode(back).equals(bytes)).toBe(true);
        }),
        { numRuns: 15 },
      );
    }
  });
});

describe('hostile input', () => {
  const l198 = registry.forLayer(198);
  const getConfig = l198.encode({ _: 'help.getConfig' });

  it('throws TlDecodeError on truncation anywhere in a real object', () => {
    const bytes = l198.encode({
      _: 'messages.sendMessage',
      peer: { _: 'inputPeerUser', user_id: 5n, access_hash: 7n },
      message: 'x'.repeat(300),
      random_id: 1n,
      entities: [{ _: 'messageEntityBold', offset: 0, length: 2 }],
    });
    for (let n = 0; n < bytes.length; n++)
      expect(() => l198.decode(bytes.subarray(0, n))).toThrow(TlDecodeError);
  });

  it('never throws anything but TlDecodeError on random or mutated bytes', () => {
    const seed = l198.encode({ _: 'invokeWithLayer', layer: 198, query: { _: 'help.getConfig' } });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), (noise, at) => {
        for (const input of [
          Buffer.from(noise),
          Buffer.concat([seed.subarray(0, at % seed.length), Buffer.from(noise)]),
        ]) {
          try {
            l198.decode(input);
          } catch (e) {
            expect(e).toBeInstanceOf(TlDecodeError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('refuses vector lengths the input cannot hold or over the limit, before allocating', () => {
    const getMessages = l198.byName('messages.getMessages')!.id;
    const huge = new TlWriter()
      .uint32(getMessages)
      .vectorHeader(2 ** 30)
      .result();
    expect(() => l198.decode(huge)).toThrow(/exceeds the limit/);
    const lying = new TlWriter().uint32(getMessages).vectorHeader(1000).result();
    expect(() => l198.decode(lying)).toThrow(/cannot fit/);
    const small = new TlCodec(l198.schema, { limits: { maxVectorLength: 2 } });
    const three = small.encodeBare('Vector<long>', [1n, 2n, 3n]);
    expect(() => small.decodeBare('Vector<long>', three)).toThrow(/exceeds the limit/);
    // long elements need 8 bytes each: 3 claimed in 16 bytes is a lie
    const lie = new TlWriter().vectorHeader(3).long(1n).long(2n).result();
    expect(() => l198.decodeBare('Vector<long>', lie)).toThrow(TlDecodeError);
  });

  it('refuses nesting deeper than the limit (objects, vectors and gzip_packed alike)', () => {
    const wrap = l198.byName('invokeWithoutUpdates')!.id;
    const deep = new TlWriter();
    for (let i = 0; i < 100; i++) deep.uint32(wrap);
    deep.raw(getConfig);
    expect(() => l198.decode(deep.result())).toThrow(/nesting deeper/);
    let nested: Buffer = getConfig;
    for (let i = 0; i < 70; i++) nested = new TlWriter().uint32(0x3072cfa1).bytes(gzipSync(nested)).result();
    expect(() => l198.decode(nested)).toThrow(TlDecodeError);
    const shallow = new TlCodec(l198.schema, { limits: { maxDepth: 2 } });
    expect(() =>
      shallow.decode(
        l198.encode({
          _: 'invokeWithoutUpdates',
          query: { _: 'invokeWithoutUpdates', query: { _: 'help.getConfig' } },
        }),
      ),
    ).toThrow(TlDecodeError);
  });

  it('refuses gzip bombs, unknown ids, bad Bools and bad length prefixes', () => {
    const bomb = new TlWriter()
      .uint32(0x3072cfa1)
      .bytes(gzipSync(Buffer.alloc(20 << 20)))
      .result();
    expect(() => l198.decode(bomb)).toThrow(/inflate/);
    expect(() => l198.decode(Buffer.alloc(8, 0xab))).toThrow(/unknown constructor/);
    expect(() => l198.decodeBare('Bool', Buffer.alloc(4))).toThrow(/expected Bool/);
    expect(() => l198.decodeBare('bytes', Buffer.from([255, 0, 0, 0]))).toThrow(TlDecodeError);
    expect(() => l198.decodeBare('bytes', Buffer.from([254, 0xff, 0xff, 0x00]))).toThrow(TlDecodeError);
    expect(() => l198.decode(new TlWriter().vectorHeader(0).result())).toThrow(TlDecodeError);
    // a field of the wrong type: inputStickerSetEmpty where InputPeer is expected (the sibling
    // types Telegram reads leniently are in leniency.test.ts)
    const wrong = Buffer.concat([
      new TlWriter().uint32(l198.byName('messages.getPeerSettings')!.id).result(),
      l198.encode({ _: 'inputStickerSetEmpty' }),
    ]);
    expect(() => l198.decode(wrong)).toThrow(/expected InputPeer/);
  });
});

/** Decoded objects have no keys for absent optionals; generated ones have them set to undefined. */
function stripUndefined(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripUndefined);
  if (!v || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  const out: TlObject = { _: (v as TlObject)._ };
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = stripUndefined(x);
  return out;
}
