import { SIBLING_CONSTRUCTORS, type TlObject } from './codec';
import { TlDecodeError } from './errors';
import { loadTlRegistry } from './registry';

const registry = loadTlRegistry();

/**
 * A request encoded the schema's way, then with one constructor id swapped for its sibling's:
 * the siblings share their layout (inputUser / inputPeerUser: user_id, access_hash), so the bytes
 * are what a client sending the sibling sends.
 */
function sent(layer: number, call: TlObject, schemaName: string, sentName: string): Buffer {
  const codec = registry.forLayer(layer);
  const bytes = codec.encode(call);
  const from = Buffer.alloc(4);
  from.writeUInt32LE(codec.byName(schemaName)!.id);
  const to = Buffer.alloc(4);
  to.writeUInt32LE(codec.byName(sentName)!.id);
  const at = bytes.indexOf(from, 4);
  expect(at).toBeGreaterThan(0);
  expect(bytes.indexOf(from, at + 1)).toBe(-1);
  to.copy(bytes, at);
  return bytes;
}

describe('sibling constructors are read as the type expected, as Telegram reads them', () => {
  const layers = [registry.layers[0]!, 198, registry.newestLayer];

  it.each(layers)('users.getUsers with inputPeerUser and inputPeerSelf (layer %i)', (layer) => {
    const codec = registry.forLayer(layer);
    const call = {
      _: 'users.getUsers',
      id: [{ _: 'inputUser', user_id: 5, access_hash: 7n }, { _: 'inputUserSelf' }],
    };
    const bytes = sent(layer, call, 'inputUser', 'inputPeerUser');
    const self = codec.byName('inputUserSelf')!.id;
    const at = bytes.lastIndexOf(Buffer.from(Uint32Array.of(self).buffer));
    bytes.writeUInt32LE(codec.byName('inputPeerSelf')!.id, at);
    const decoded = codec.decode(bytes);
    expect(decoded).toMatchObject({
      _: 'users.getUsers',
      id: [{ _: 'inputUser', access_hash: 7n }, { _: 'inputUserSelf' }],
    });
    expect(BigInt((decoded.id as TlObject[])[0]!.user_id as bigint)).toBe(5n);
  });

  it('messages.createChat with inputPeerUser members (newest layer)', () => {
    const layer = registry.newestLayer;
    const call = {
      _: 'messages.createChat',
      users: [{ _: 'inputUser', user_id: 9n, access_hash: 1n }],
      title: 'g',
    };
    const decoded = registry.forLayer(layer).decode(sent(layer, call, 'inputUser', 'inputPeerUser'));
    expect(decoded).toMatchObject({ users: [{ _: 'inputUser', user_id: 9n, access_hash: 1n }], title: 'g' });
  });

  it('inputPeerChannel where InputChannel is expected (channels.getChannels)', () => {
    const layer = registry.newestLayer;
    const call = { _: 'channels.getChannels', id: [{ _: 'inputChannel', channel_id: 3n, access_hash: 4n }] };
    const decoded = registry.forLayer(layer).decode(sent(layer, call, 'inputChannel', 'inputPeerChannel'));
    expect(decoded.id).toEqual([{ _: 'inputChannel', channel_id: 3n, access_hash: 4n }]);
  });

  it.each([
    ['inputUser', 'inputPeerUser', { _: 'inputPeerUser', user_id: 5n, access_hash: 6n }],
    ['inputUserSelf', 'inputPeerSelf', { _: 'inputPeerSelf' }],
    ['inputChannel', 'inputPeerChannel', { _: 'inputPeerChannel', channel_id: 5n, access_hash: 6n }],
  ])('%s where InputPeer is expected is read as %s', (sentName, schemaName, peer) => {
    const layer = registry.newestLayer;
    const call = { _: 'messages.getPeerSettings', peer };
    const decoded = registry.forLayer(layer).decode(sent(layer, call, schemaName, sentName));
    expect(decoded.peer).toEqual(peer);
  });

  it('stays strict everywhere else: other types, other constructors, methods', () => {
    const codec = registry.forLayer(registry.newestLayer);
    // inputPeerChat has no InputUser sibling
    const chat = { _: 'messages.getPeerSettings', peer: { _: 'inputPeerChat', chat_id: 1n } };
    const asUser = Buffer.concat([
      Buffer.from(Uint32Array.of(codec.byName('users.getUsers')!.id).buffer),
      Buffer.from(Uint32Array.of(0x1cb5c415, 1).buffer),
      codec.encode(chat.peer),
    ]);
    expect(() => codec.decode(asUser)).toThrow(/expected InputUser, got inputPeerChat/);
    // a Peer is not an InputPeer
    const peerUser = Buffer.concat([
      Buffer.from(Uint32Array.of(codec.byName('messages.getPeerSettings')!.id).buffer),
      codec.encode({ _: 'peerUser', user_id: 1n }),
    ]);
    expect(() => codec.decode(peerUser)).toThrow(TlDecodeError);
    // every sibling named exists, in the type it is listed under, in every held layer
    for (const layer of registry.layers) {
      const c = registry.forLayer(layer);
      for (const [type, map] of Object.entries(SIBLING_CONSTRUCTORS))
        for (const [from, to] of Object.entries(map)) {
          expect(c.byName(to)?.type).toBe(type);
          expect(c.byName(from)).toBeDefined();
        }
    }
  });
});
