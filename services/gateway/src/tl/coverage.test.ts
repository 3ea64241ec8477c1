import { TlCodec } from './codec';
import { coverageOf, provenSchema } from './coverage';
import { combinatorId } from './parser';
import type { TlEntry, TlSchema } from './schema';

/** An entry whose id is its CRC32, as in every real schema. */
function entry(name: string, type: string, params: TlEntry['params'] = []): TlEntry {
  const e = { name, type, params, id: 0 };
  return { ...e, id: combinatorId(e) };
}

const peer = entry('peerUser', 'Peer', [{ name: 'user_id', type: 'long' }]);
const userOld = entry('user', 'User', [{ name: 'id', type: 'long' }]);
const userNew = entry('user', 'User', [
  { name: 'flags', type: '#' },
  { name: 'id', type: 'long' },
  { name: 'bot', type: 'true', flag: { field: 'flags', bit: 0 } },
  { name: 'premium_until', type: 'int', flag: { field: 'flags', bit: 1 } },
]);
const gone = entry('userStatusGone', 'UserStatus');
const wrap = entry('userWrap', 'Wrap', [{ name: 'user', type: 'User' }]);
const newcomer = entry('userStatusNew', 'UserStatus');
const getUser = entry('users.getUser', 'User', [{ name: 'id', type: 'long' }]);
const getPeer = entry('users.getPeer', 'Peer', [{ name: 'id', type: 'long' }]);
const getPeer2 = entry('users.getPeer', 'User', [{ name: 'id', type: 'long' }]);
const getUser2 = entry('users.getUser', 'User', [
  { name: 'id', type: 'long' },
  { name: 'full', type: 'Bool' },
]);

const lower: TlSchema = {
  layer: 10,
  source: 'lower',
  constructors: [peer, userOld, gone, wrap],
  methods: [getUser, getPeer],
};
const upper: TlSchema = {
  layer: 14,
  source: 'upper',
  constructors: [peer, userNew, newcomer, wrap],
  methods: [getUser2, getPeer2],
};

describe('client layer coverage', () => {
  it('classifies a client layer: exact, between, newer, unserved, refused', () => {
    const held = [10, 14, 20];
    expect(coverageOf(held, 14)).toEqual({ kind: 'exact', layer: 14 });
    expect(coverageOf(held, 12)).toEqual({ kind: 'between', layer: 12, lower: 10, upper: 14 });
    expect(coverageOf(held, 25)).toEqual({ kind: 'newer', layer: 25, lower: 20 });
    expect(coverageOf(held, 9)).toEqual({ kind: 'unserved', layer: 9 });
    expect(coverageOf(held, 17, { 17: ['user'] })).toEqual({
      kind: 'refused',
      layer: 17,
      lower: 14,
      upper: 20,
      unproven: ['user'],
    });
  });

  it('answers a between-layer only with what is the same at both ends', () => {
    const p = provenSchema(lower, upper, 12);
    expect(p.schema.layer).toBe(12);
    // peerUser kept its id: proven. user changed, userStatusGone was dropped: unproven.
    expect(p.schema.constructors.map((e) => e.name)).toEqual(['peerUser', 'userWrap']);
    expect(p.unproven).toEqual(['user', 'userStatusGone', 'users.getPeer']);
    // users.getUser changed its arguments but still answers User: kept for its result type.
    expect(p.schema.methods.map((e) => e.name)).toEqual(['users.getUser']);
    const codec = new TlCodec(p.schema, { decodeOnly: p.decodeOnly });
    expect(codec.byName('user')).toBeUndefined();
    expect(codec.methodResultType('users.getUser')).toBe('User');
    expect(codec.methodResultType('users.getPeer')).toBeUndefined();
    expect(() => provenSchema(lower, upper, 14)).toThrow(RangeError);
  });

  it('decodes either end definition the client may send, by id', () => {
    const p = provenSchema(lower, upper, 12);
    const codec = new TlCodec(p.schema, { decodeOnly: p.decodeOnly });
    const lowerCodec = new TlCodec(lower);
    const upperCodec = new TlCodec(upper);
    expect(codec.decode(lowerCodec.encode({ _: 'user', id: 3n }))).toEqual({ _: 'user', id: 3n });
    expect(codec.decode(upperCodec.encode({ _: 'user', id: 3n, bot: true }))).toMatchObject({
      _: 'user',
      id: 3n,
      bot: true,
    });
    expect(codec.decode(upperCodec.encode({ _: 'users.getUser', id: 1n, full: true }))).toEqual({
      _: 'users.getUser',
      id: 1n,
      full: true,
    });
    // a decode-only method is still not a value of its result type (upper's users.getPeer is a User)
    const asField = Buffer.concat([
      Buffer.from(Uint32Array.of(wrap.id).buffer),
      upperCodec.encode({ _: 'users.getPeer', id: 1n }),
    ]);
    expect(() => codec.decode(asField)).toThrow(/expected User, got users.getPeer/);
  });
});
