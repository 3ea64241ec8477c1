/**
 * Every held layer is read by that layer's own client: the package its schema came from (GramJS,
 * teleproto or mtcute, pinned in package.json) decodes what Tern writes for it, for every
 * constructor the gateway writes (tools/tl/served.ts). This is the issue's proof with the
 * clients' own code: teleproto 1.229 reads the users Tern answers layer 229 with.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { emittedConstructors } from '../../../../tools/tl/served';
import type { TlCodec, TlObject } from './codec';
import { encodeForLayer, encodeResultForLayer, TlDowngradeError } from './downgrade';
import { findGeneratedDir, loadTlRegistry } from './registry';
import type { TlIndex } from './schema';
import { parseType, type TlTypeRef } from './types';

const registry = loadTlRegistry();
const newest = registry.forLayer(registry.newestLayer);
const index = JSON.parse(readFileSync(join(findGeneratedDir(), 'index.json'), 'utf8')) as TlIndex;

const NODE_MODULES = join(__dirname, '..', '..', '..', '..', 'node_modules');

/** What a client library reads back: its constructor id, and whether it consumed every byte. */
type ClientRead = (bytes: Buffer) => { id: number; rest: number };

/* eslint-disable @typescript-eslint/no-require-imports -- each held layer's client package, by name */
function clientOf(source: string): ClientRead {
  const pkg = /^(@?[^@]+)@/.exec(source)![1]!;
  if (source.includes('api-schema.json')) {
    // mtcute: its generated reader map over its TL runtime
    // (its CommonJS bundle warns that it is deprecated, once: not this test's concern)
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { TlBinaryReader } = require('@mtcute/tl-runtime') as {
      TlBinaryReader: new (map: unknown, data: Buffer) => { object(): unknown; pos: number };
    };
    const file = existsSync(join(NODE_MODULES, pkg, 'tl')) ? 'tl/binary/reader.cjs' : 'binary/reader.js';
    // by path: @mtcute/core's exports map hides its tl/ directory
    const map = (require(join(NODE_MODULES, pkg, file)) as { __tlReaderMap: unknown }).__tlReaderMap;
    warn.mockRestore();
    return (bytes) => {
      const r = new TlBinaryReader(map, bytes);
      r.object();
      return { id: bytes.readUInt32LE(0), rest: bytes.length - r.pos };
    };
  }
  // GramJS and teleproto: BinaryReader.tgReadObject to the last byte, and where the library can
  // (GramJS 2.20's own serializer refuses Node's Buffer) the object serializes back to the bytes
  const { BinaryReader } = require(`${pkg}/extensions`) as {
    BinaryReader: new (data: Buffer) => {
      offset: number;
      tgReadObject(): { CONSTRUCTOR_ID: number; getBytes(): Buffer };
    };
  };
  return (bytes) => {
    const reader = new BinaryReader(bytes);
    const obj = reader.tgReadObject();
    let rest = bytes.length - reader.offset;
    try {
      if (!Buffer.from(obj.getBytes()).equals(bytes)) rest = -1;
    } catch (e) {
      if (!/Bytes or str expected/.test(String(e))) throw e;
    }
    return { id: obj.CONSTRUCTOR_ID >>> 0, rest };
  };
}
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * The smallest newest-layer object of a constructor: required fields only, small values, and for
 * a boxed type its constructor with the fewest required objects (depth-limited).
 */
function minimal(codec: TlCodec, name: string, depth = 0): TlObject {
  const entry = codec.byName(name)!;
  const out: TlObject = { _: name };
  for (const p of entry.params)
    if (!p.flag && p.type !== '#') out[p.name] = zero(codec, parseType(p.type), depth);
  return out;
}

function zero(codec: TlCodec, ref: TlTypeRef, depth: number): unknown {
  switch (ref.kind) {
    case 'primitive':
      // Not zero: GramJS refuses falsy required values ("id is a required attribute").
      return {
        int: 1,
        long: 1n,
        double: 1,
        int128: Buffer.alloc(16, 1),
        int256: Buffer.alloc(32, 1),
        string: 'a',
        bytes: Buffer.from([1]),
        Bool: true,
        true: true,
      }[ref.name];
    case 'vector':
      return [];
    case 'bare':
      return minimal(
        codec,
        codec.byName(ref.name)?.name ?? codec.constructorsOf(ref.name)[0]!.name,
        depth + 1,
      );
    case 'boxed': {
      if (ref.type === 'Bool') return true;
      const required = (n: string) =>
        codec.byName(n)!.params.filter((p) => !p.flag && /^[A-Z%]/.test(p.type)).length;
      const pick = [...codec.constructorsOf(ref.type)].sort(
        (a, b) => required(a.name) - required(b.name),
      )[0]!;
      if (depth > 6) throw new Error(`too deep at ${ref.type}`);
      return minimal(codec, pick.name, depth + 1);
    }
    default:
      return { _: 'boolTrue' };
  }
}

const emitted = emittedConstructors(newest);

describe("each held layer's own client reads what Tern writes for it", () => {
  it.each(index.layers.map((l) => [l.layer, l.source] as const))('layer %i (%s)', (layer, source) => {
    const read = clientOf(source);
    const target = registry.forLayer(layer);
    let checked = 0;
    for (const name of emitted) {
      if (target.constructorsOf(newest.byName(name)!.type).length === 0) continue; // type absent
      let bytes: Buffer;
      try {
        bytes = encodeForLayer(minimal(newest, name), layer);
      } catch (e) {
        // nothing but typed refusals (a constructor with no form there and no fallback)
        expect(e).toBeInstanceOf(TlDowngradeError);
        continue;
      }
      const got = read(bytes);
      expect({ name, id: got.id.toString(16), rest: got.rest }).toEqual({
        name,
        id: bytes.readUInt32LE(0).toString(16),
        rest: 0,
      });
      checked++;
    }
    expect(checked).toBeGreaterThan(emitted.length / 2);
  });

  it('teleproto 1.229 reads the users Tern answers layer 229 with (the issue: user#b1b8cc83)', () => {
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { Api } = require('teleproto-layer-229') as { Api: { User: new () => unknown } };
    const { BinaryReader } = require('teleproto-layer-229/extensions') as {
      BinaryReader: new (data: Buffer) => { tgReadObject(): unknown };
    };
    /* eslint-enable @typescript-eslint/no-require-imports */
    const user = {
      _: 'user',
      self: true,
      id: 1_099_511_627_000n,
      access_hash: 5n,
      first_name: 'Ada',
      phone: '123',
    };
    const bytes = encodeResultForLayer('users.getUsers', [user], 229);
    const users = new BinaryReader(bytes).tgReadObject() as Array<{
      id: unknown;
      firstName: string;
      self: boolean;
    }>;
    expect(users).toHaveLength(1);
    expect(users[0]).toBeInstanceOf(Api.User);
    expect(String(users[0]!.id)).toBe('1099511627000');
    expect(users[0]).toMatchObject({ firstName: 'Ada', self: true });
    const auth = encodeForLayer({ _: 'auth.authorization', user }, 229);
    expect(new BinaryReader(auth).tgReadObject()).toMatchObject({ user: { firstName: 'Ada' } });
  });
});
