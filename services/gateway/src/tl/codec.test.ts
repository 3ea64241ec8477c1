import { randomBytes } from 'node:crypto';
import bigInt from 'big-integer';
import fc from 'fast-check';
import { Api } from 'telegram';
import { BinaryReader } from 'telegram/extensions';
import { TlDecodeError } from './binary';
import { encodeForLayer } from './downgrade';
import { computeId, parseLine } from './parser';
import { loadTlRegistry, servingLayer } from './registry';

const registry = loadTlRegistry();
const l198 = registry.forLayer(198);

describe('TL schemas from client packages', () => {
  it('serves layers 198, 214 and 227 and the MTProto service schema', () => {
    expect(registry.layers).toEqual(expect.arrayContaining([198, 214, 227]));
    expect(registry.mtproto.entry('req_pq_multi')).toBeDefined();
    expect(registry.mtproto.entry('p_q_inner_data')!.params.find((p) => p.name === 'pq')!.type).toBe('bytes');
  });

  it('parses flags, second flags words, generics and vectors', () => {
    const e = parseLine(
      'messages.sendMessage#fe05dc9a flags:# no_webpage:flags.1?true silent:flags.5?true peer:InputPeer reply_to:flags.0?InputReplyTo message:string random_id:long reply_markup:flags.2?ReplyMarkup entities:flags.3?Vector<MessageEntity> schedule_date:flags.10?int send_as:flags.13?InputPeer flags2:# x:flags2.1?long = Updates',
    )!;
    expect(e.id).toBe(0xfe05dc9a);
    expect(e.params.find((p) => p.name === 'entities')).toEqual({
      name: 'entities',
      type: 'Vector<MessageEntity>',
      flag: { field: 'flags', bit: 3 },
    });
    expect(e.params.find((p) => p.name === 'x')!.flag).toEqual({ field: 'flags2', bit: 1 });
    expect(parseLine('invokeWithLayer#da9b0d0d {X:Type} layer:int query:!X = X')!.params).toEqual([
      { name: 'layer', type: 'int' },
      { name: 'query', type: '!X' },
    ]);
  });

  it('computes a combinator id from its canonical line when the line has none', () => {
    expect(computeId('inputPeerUser user_id:long access_hash:long = InputPeer')).toBe(0xdde8a54c);
    expect(
      computeId(
        'resPQ nonce:int128 server_nonce:int128 pq:string server_public_key_fingerprints:Vector long = ResPQ',
      ),
    ).toBe(0x05162463);
  });

  it('falls back to the newest served layer below an unknown one, and refuses older ones', () => {
    expect(servingLayer([198, 214, 227], 214)).toBe(214);
    expect(servingLayer([198, 214, 227], 220)).toBe(214);
    expect(servingLayer([198, 214, 227], 150)).toBeUndefined();
  });
});

describe('TL codec agrees with GramJS byte for byte (layer 198)', () => {
  it('encodes what GramJS encodes and decodes GramJS bytes', () => {
    const theirs = new Api.messages.SendMessage({
      peer: new Api.InputPeerUser({ userId: bigInt(5), accessHash: bigInt('-7') }),
      message: 'héllo',
      randomId: bigInt('123456789012345'),
      silent: true,
      entities: [new Api.MessageEntityBold({ offset: 0, length: 2 })],
    });
    const bytes = Buffer.from(theirs.getBytes());
    const ours = l198.decode(bytes);
    expect(ours).toMatchObject({
      _: 'messages.sendMessage',
      silent: true,
      message: 'héllo',
      random_id: 123456789012345n,
      peer: { _: 'inputPeerUser', user_id: 5n, access_hash: -7n },
    });
    expect(l198.encode(ours).equals(bytes)).toBe(true);
  });

  it('decodes invokeWithLayer(initConnection(help.getConfig)) as GramJS sends it', () => {
    const req = new Api.InvokeWithLayer({
      layer: 198,
      query: new Api.InitConnection({
        apiId: 1,
        deviceModel: 'd',
        systemVersion: 's',
        appVersion: 'a',
        systemLangCode: 'en',
        langPack: '',
        langCode: 'en',
        query: new Api.help.GetConfig(),
      }),
    });
    const obj = l198.decode(Buffer.from(req.getBytes()));
    expect(obj).toMatchObject({
      _: 'invokeWithLayer',
      layer: 198,
      query: { _: 'initConnection', api_id: 1, query: { _: 'help.getConfig' } },
    });
  });

  it('round-trips random users through both codecs', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 2n ** 62n }),
        fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
        fc.boolean(),
        (id, first, bot) => {
          const user = { _: 'user', id, access_hash: 42n, first_name: first, bot };
          const bytes = encodeForLayer(l198, user);
          const back = new BinaryReader(bytes).tgReadObject() as Api.User;
          expect(back.id.toString()).toBe(id.toString());
          expect(back.firstName ?? undefined).toBe(first);
          expect(Boolean(back.bot)).toBe(bot);
          expect(l198.decode(bytes)).toMatchObject({ _: 'user', id, bot });
        },
      ),
      { numRuns: 50 },
    );
  });

  it('serializes a newest-layer config for layer 198 so that GramJS reads it', () => {
    const newest = registry.forLayer(registry.newestLayer);
    expect(newest.entry('config')).toBeDefined();
    const config = {
      _: 'config',
      date: 1,
      expires: 2,
      test_mode: true,
      this_dc: 2,
      dc_options: [{ _: 'dcOption', id: 2, ip_address: '127.0.0.2', port: 443 }],
      dc_txt_domain_name: '',
      me_url_prefix: 'x',
      reactions_default: { _: 'reactionEmoji', emoticon: '👍' },
    };
    const back = new BinaryReader(encodeForLayer(l198, config)).tgReadObject() as Api.Config;
    expect(back.thisDc).toBe(2);
    expect(back.dcOptions[0]!.ipAddress).toBe('127.0.0.2');
  });
});

describe('hostile input', () => {
  it('throws TlDecodeError for truncation, huge vectors, unknown ids and deep nesting', () => {
    const good = Buffer.from(new Api.help.GetConfig().getBytes());
    expect(() => l198.decode(good.subarray(0, 2))).toThrow(TlDecodeError);
    expect(() => l198.decode(randomBytes(4).fill(0xab))).toThrow(TlDecodeError);
    // messages.getMessages with a Vector<InputMessage> claiming 2^30 elements
    const id = l198.entry('messages.getMessages')!.id;
    const huge = Buffer.alloc(16);
    huge.writeUInt32LE(id, 0);
    huge.writeUInt32LE(0x1cb5c415, 4);
    huge.writeUInt32LE(2 ** 30, 8);
    expect(() => l198.decode(huge)).toThrow(TlDecodeError);
    // invokeWithoutUpdates nested 100 times
    const wrap = l198.entry('invokeWithoutUpdates')!.id;
    const deep = Buffer.alloc(4 * 101);
    for (let i = 0; i < 100; i++) deep.writeUInt32LE(wrap, i * 4);
    deep.writeUInt32LE(Buffer.from(new Api.help.GetConfig().getBytes()).readUInt32LE(0), 400);
    expect(() => l198.decode(deep)).toThrow(TlDecodeError);
  });
});
