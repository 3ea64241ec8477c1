import { combinatorId } from '../../services/gateway/src/tl/parser';
import type { TlEntry } from '../../services/gateway/src/tl/schema';
import {
  API_SOURCES,
  fromMtcute,
  fromTeleproto,
  gramjsCamel,
  idMismatches,
  readApiSchema,
  readServiceSchema,
  spellingsOf,
  type TeleprotoDefinition,
} from './generate';

describe('tl:gen sources', () => {
  const schemas = API_SOURCES.map(readApiSchema);

  it('reads the layer of every source package, one package per layer, from before 133 to 229', () => {
    const layers = schemas.map((s) => s.layer);
    expect(layers).toEqual(expect.arrayContaining([131, 198, 214, 227, 228, 229]));
    expect(new Set(layers).size).toBe(layers.length);
    for (const s of schemas) expect(s.source).toMatch(/@\d/);
  });

  it("turns teleproto 1.x's argument tables back into the very entries mtcute's JSON spells", () => {
    // Flag-only `true` fields are not part of a CRC: this is what proves their names and bits.
    // (Layer 228 may add such a field without a new id: only the bits both layers have compare.)
    const tp = schemas[API_SOURCES.findIndex((s) => s.pkg === 'teleproto-layer-228')]!;
    const mt = schemas[API_SOURCES.findIndex((s) => s.pkg === '@mtcute/core')]!;
    const byId = new Map([...mt.constructors, ...mt.methods].map((e) => [e.id, e]));
    const bits = (e: TlEntry) =>
      new Set(e.params.map((p) => (p.flag ? `${p.flag.field}.${p.flag.bit}` : p.name)));
    // and their place among the fields is not on the wire either: they compare as a set
    const isBit = (p: TlEntry['params'][number]) => p.flag !== undefined && p.type === 'true';
    const key = (p: TlEntry['params'][number]) => `${p.flag!.field}.${String(p.flag!.bit).padStart(2, '0')}`;
    const shared = (e: TlEntry, other: TlEntry) => ({
      ...e,
      params: [
        ...e.params.filter((p) => !isBit(p)),
        ...e.params
          .filter((p) => isBit(p) && bits(other).has(`${p.flag!.field}.${p.flag!.bit}`))
          .sort((a, b) => key(a).localeCompare(key(b))),
      ],
    });
    let same = 0;
    for (const e of [...tp.constructors, ...tp.methods]) {
      const m = byId.get(e.id);
      if (!m) continue;
      expect(shared(e, m)).toEqual(shared(m, e));
      same++;
    }
    expect(same).toBeGreaterThan(2000);
  });

  it('spells teleproto names back as TL: namespaces, generics, vectors, flags, `_x` → `X`', () => {
    const arg = (over: Partial<TeleprotoDefinition['argsConfig'][string]>) => ({
      isVector: false,
      isFlag: false,
      skipConstructorId: true,
      flagName: null,
      flagIndex: -1,
      flagIndicator: false,
      type: null,
      useVectorId: null,
      ...over,
    });
    const want: TlEntry = {
      name: 'phone.confirmCall',
      id: 0,
      type: 'phone.PhoneCall',
      params: [
        { name: 'flags', type: '#' },
        { name: 'video', type: 'true', flag: { field: 'flags', bit: 0 } },
        { name: 'g_a', type: 'bytes' },
        { name: 'key_fingerprint', type: 'long', flag: { field: 'flags', bit: 1 } },
        { name: 'ids', type: 'Vector<long>' },
        { name: 'query', type: '!X' },
      ],
    };
    want.id = combinatorId(want);
    const def: TeleprotoDefinition = {
      name: 'ConfirmCall',
      namespace: 'phone',
      constructorId: want.id,
      result: 'phone.PhoneCall',
      isFunction: true,
      argsConfig: {
        flags: arg({ flagIndicator: true }),
        video: arg({ isFlag: true, flagName: 'flags', flagIndex: 0, type: 'true' }),
        gA: arg({ type: 'bytes' }),
        keyFingerprint: arg({ isFlag: true, flagName: 'flags', flagIndex: 1, type: 'long' }),
        ids: arg({ isVector: true, useVectorId: true, type: 'long' }),
        query: arg({ type: 'X', skipConstructorId: false }),
      },
    };
    // `query:!X` needs the result to be the generic X
    expect(fromTeleproto(def)).toBeUndefined();
    want.type = 'X';
    want.id = combinatorId(want);
    expect(fromTeleproto({ ...def, result: 'X', constructorId: want.id })).toEqual(want);
    // a name the default way back gets wrong is found among the spellings other schemas use
    const odd: TlEntry = { name: 'oddName', id: 0, type: 'Odd', params: [{ name: 'xY_z', type: 'int' }] };
    odd.id = combinatorId(odd);
    const oddDef: TeleprotoDefinition = {
      name: 'OddName',
      constructorId: odd.id,
      result: 'Odd',
      isFunction: false,
      argsConfig: { [gramjsCamel('xY_z')]: arg({ type: 'int' }) },
    };
    expect(fromTeleproto(oddDef)).toBeUndefined(); // `xYZ` read back as x_yZ or xYZ: no CRC match
    expect(
      fromTeleproto(oddDef, spellingsOf([{ layer: 1, source: '', constructors: [odd], methods: [] }])),
    ).toEqual(odd);
  });

  // The normalized schemas are right when every id is the CRC32 of the text they spell out:
  // for mtcute's JSON this proves the folding of typeModifiers back into TL types.
  it.each(API_SOURCES.map((s, i) => [s.pkg, i] as const))(
    '%s: every id equals its computed CRC32',
    (_pkg, i) => {
      const s = schemas[i]!;
      // A whole API schema (layer 145 already has ~1500 combinators), not a truncated read.
      expect(s.constructors.length + s.methods.length).toBeGreaterThan(1000);
      expect(idMismatches(s).map((e) => e.name)).toEqual([]);
    },
  );

  it('folds mtcute type modifiers into TL spelling', () => {
    expect(
      fromMtcute(
        {
          kind: 'class',
          name: 'mt_future_salts',
          id: 0xae500895,
          type: 'FutureSalts',
          arguments: [
            { name: 'req_msg_id', type: 'long' },
            {
              name: 'salts',
              type: 'mt_future_salt',
              typeModifiers: { isBareVector: true, isBareType: true },
            },
          ],
        },
        'mt_',
      ),
    ).toEqual({
      name: 'future_salts',
      id: 0xae500895,
      type: 'FutureSalts',
      params: [
        { name: 'req_msg_id', type: 'long' },
        { name: 'salts', type: 'vector<future_salt>' },
      ],
    });
    const m = fromMtcute({
      kind: 'method',
      name: 'users.getUsers',
      id: 0x0d91a548,
      type: 'User',
      typeModifiers: { isVector: true },
      arguments: [
        { name: 'flags', type: '#' },
        { name: 'id', type: 'InputUser', typeModifiers: { isVector: true, predicate: 'flags2.3' } },
        { name: 'user_id', type: 'int53' },
      ],
    });
    expect(m.type).toBe('Vector<User>');
    expect(m.params[1]).toEqual({ name: 'id', type: 'Vector<InputUser>', flag: { field: 'flags2', bit: 3 } });
    expect(m.params[2]!.type).toBe('long');
  });

  it('builds the service schema with requests as methods and binary fields as bytes', () => {
    const s = readServiceSchema();
    const names = (l: typeof s.methods) => l.map((e) => e.name);
    expect(names(s.methods)).toEqual(
      expect.arrayContaining(['req_pq_multi', 'req_DH_params', 'ping', 'get_future_salts']),
    );
    expect(names(s.constructors)).toEqual(
      expect.arrayContaining(['resPQ', 'p_q_inner_data', 'msgs_ack', 'pong']),
    );
    const pq = s.constructors.find((e) => e.name === 'p_q_inner_data')!;
    expect(pq.params.find((p) => p.name === 'pq')!.type).toBe('bytes');
    const err = s.constructors.find((e) => e.name === 'rpc_error')!;
    expect(err.params.find((p) => p.name === 'error_message')!.type).toBe('string');
    expect(idMismatches(s)).toEqual([]);
  });
});
