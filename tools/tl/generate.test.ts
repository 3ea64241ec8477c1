import { API_SOURCES, fromMtcute, idMismatches, readApiSchema, readServiceSchema } from './generate';

describe('tl:gen sources', () => {
  const schemas = API_SOURCES.map(readApiSchema);

  it('reads the layer of every source package (GramJS 198, teleproto 214, mtcute 227 at least)', () => {
    expect(schemas.map((s) => s.layer)).toEqual(expect.arrayContaining([198, 214, 227]));
    for (const s of schemas) expect(s.source).toMatch(/@\d/);
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
