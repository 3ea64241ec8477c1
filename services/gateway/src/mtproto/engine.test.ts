/**
 * The encrypted layer's rules, driven packet by packet against the engine (pure: an in-memory key
 * store and a recording connection stand in for the auth service and the socket).
 */
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { deflateSync, gzipSync } from 'node:zlib';
import pino from 'pino';
import { loadTlRuntime } from '../tl-runtime';
import { loadTlRegistry } from '../tl/registry';
import { igeDecrypt, igeEncrypt } from './crypto/aes-ige';
import { authKeyId, messageAesKeyIv, messageKey } from './crypto/message-keys';
import { serverRsaKey } from './crypto/rsa';
import type { KeyStore } from './auth-keys';
import { MtprotoEngine } from './engine';
import type { ApiHandler } from './invocation';
import { errors } from '../../../shared/src';
import { BadMsg } from './msg-id';
import type { TlObject } from './tl-types';
import type { TransportConnection } from './transport/connection';
import { buildContainer, parseContainer, tlBytes } from './wire';

const tl = loadTlRuntime();
const rsa = serverRsaKey(
  createPrivateKey(
    generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }),
  ),
);
const authKey = randomBytes(256);
const keyIdBytes = authKeyId(authKey);
const keyId = keyIdBytes.readBigInt64LE(0);
const destroyed = new Set<bigint>();
const keys: KeyStore = {
  load: (id) =>
    Promise.resolve(
      id === keyId && !destroyed.has(id) ? { key: authKey, temporary: false, expiresAt: 0 } : undefined,
    ),
  save: () => Promise.resolve('created'),
  saveLayer: () => Promise.resolve(),
  destroy: (id) => {
    const existed = id === keyId && !destroyed.has(id);
    destroyed.add(id);
    return Promise.resolve(existed);
  },
};

function fakeConnection() {
  const sent: Buffer[] = [];
  const state = { closed: false, failed: undefined as number | undefined, acks: [] as number[] };
  const conn = {
    id: Math.floor(Math.random() * 1e9),
    remoteAddress: '127.0.0.9',
    send: (b: Buffer) => void sent.push(b),
    sendQuickAck: (t: number) => void state.acks.push(t),
    fail: (code: number) => void ((state.failed = code), (state.closed = true)),
    close: () => void (state.closed = true),
  } as unknown as TransportConnection;
  return { conn, sent, state };
}

/** A client of one session, written from the spec for the test. */
class TestClient {
  salt = 0n;
  private seq = 0;
  private lastMsgId = 0n;
  readonly sessionId = randomBytes(8).readBigInt64LE();
  /** The next msg_id; with an offset, a deliberately wrong one that does not move the clock. */
  nextMsgId(offsetSeconds = 0): bigint {
    let id =
      (BigInt(Math.floor(Date.now() / 1000) + offsetSeconds) << 32n) |
      (BigInt(Math.floor(Math.random() * 2 ** 30)) << 2n);
    if (offsetSeconds !== 0) return id;
    if (id <= this.lastMsgId) id = this.lastMsgId + 4n;
    this.lastMsgId = id;
    return id;
  }
  seqNo(content: boolean): number {
    return content ? this.seq++ * 2 + 1 : this.seq * 2;
  }
  packet(
    body: Buffer,
    opts: { msgId?: bigint; seqNo?: number; content?: boolean; salt?: bigint } = {},
  ): { packet: Buffer; msgId: bigint } {
    const msgId = opts.msgId ?? this.nextMsgId();
    const head = Buffer.alloc(32);
    head.writeBigInt64LE(opts.salt ?? this.salt, 0);
    head.writeBigInt64LE(this.sessionId, 8);
    head.writeBigInt64LE(msgId, 16);
    head.writeUInt32LE(opts.seqNo ?? this.seqNo(opts.content ?? true), 24);
    head.writeUInt32LE(body.length, 28);
    let pad = 16 - ((32 + body.length) % 16);
    if (pad < 12) pad += 16;
    const plain = Buffer.concat([head, body, randomBytes(pad)]);
    const msgKey = messageKey(authKey, plain, 'client');
    const { key, iv } = messageAesKeyIv(authKey, msgKey, 'client');
    return { packet: Buffer.concat([keyIdBytes, msgKey, igeEncrypt(plain, key, iv)]), msgId };
  }
}

/** Decrypts what the server sent and flattens containers into TL objects (rpc_result kept raw). */
function received(sent: Buffer[]): Array<{ obj: TlObject; raw: Buffer }> {
  const out: Array<{ obj: TlObject; raw: Buffer }> = [];
  for (const packet of sent) {
    const msgKey = packet.subarray(8, 24);
    const { key, iv } = messageAesKeyIv(authKey, msgKey, 'server');
    const plain = igeDecrypt(packet.subarray(24), key, iv);
    expect(messageKey(authKey, plain, 'server').equals(msgKey)).toBe(true);
    const body = plain.subarray(32, 32 + plain.readUInt32LE(28));
    const bodies = body.readUInt32LE(0) === 0x73f1f8dc ? parseContainer(body).map((m) => m.body) : [body];
    for (const b of bodies)
      out.push({
        raw: b,
        obj:
          b.readUInt32LE(0) === 0xf35c6d01
            ? { _: 'rpc_result', req_msg_id: b.readBigInt64LE(4) }
            : tl.isService(b.readUInt32LE(0))
              ? tl.decodeService(b)
              : tl.decodeApi(tl.newestLayer, b),
      });
  }
  return out;
}

const settle = () => new Promise((r) => setTimeout(r, 30));

const nearestDcApi: ApiHandler = (call) =>
  call._ === 'help.getNearestDc'
    ? Promise.resolve({ _: 'nearestDc', country: '', this_dc: 1, nearest_dc: 1 })
    : Promise.reject(new Error('boom'));

function setup(api: ApiHandler = nearestDcApi) {
  const engine = new MtprotoEngine({
    rsa,
    tl,
    keys,
    api,
    dcId: 1,
    log: pino({ level: 'silent' }),
  });
  const { conn, sent, state } = fakeConnection();
  return { engine, conn, sent, state, client: new TestClient() };
}

async function handshakeSalt(t: ReturnType<typeof setup>): Promise<bigint> {
  t.engine.onPacket(t.conn, t.client.packet(tl.encodeService({ _: 'ping', ping_id: 1n })).packet, false);
  await settle();
  const bad = received(t.sent).find((m) => m.obj._ === 'bad_server_salt');
  t.sent.length = 0;
  return bad!.obj.new_server_salt as bigint;
}

describe('MTProto engine', () => {
  it('creates a session, corrects the salt with bad_server_salt, then answers ping with pong', async () => {
    const t = setup();
    t.engine.onPacket(t.conn, t.client.packet(tl.encodeService({ _: 'ping', ping_id: 7n })).packet, true);
    await settle();
    const first = received(t.sent).map((m) => m.obj);
    expect(first.map((o) => o._)).toEqual(['new_session_created', 'bad_server_salt']);
    expect(first[1]!.error_code).toBe(BadMsg.BAD_SERVER_SALT);
    expect(t.state.acks).toHaveLength(1);
    t.client.salt = first[1]!.new_server_salt as bigint;
    t.sent.length = 0;
    const { msgId } = t.client.packet(Buffer.alloc(0));
    t.engine.onPacket(t.conn, t.client.packet(tl.encodeService({ _: 'ping', ping_id: 8n })).packet, false);
    await settle();
    const pong = received(t.sent).find((m) => m.obj._ === 'pong')!.obj;
    expect(pong.ping_id).toBe(8n);
    expect(pong.msg_id).toBeGreaterThan(msgId);
  });

  it.each([
    ['msg_id not divisible by 4', (c: TestClient) => c.nextMsgId() + 1n, BadMsg.MSG_ID_BAD_LOW_BITS],
    ['msg_id from 10 minutes ago', (c: TestClient) => c.nextMsgId(-600), BadMsg.MSG_ID_TOO_LOW],
    ['msg_id 2 minutes in the future', (c: TestClient) => c.nextMsgId(120), BadMsg.MSG_ID_TOO_HIGH],
  ])('answers %s with bad_msg_notification %s', async (_what, makeId, code) => {
    const t = setup();
    t.client.salt = await handshakeSalt(t);
    t.engine.onPacket(
      t.conn,
      t.client.packet(tl.encodeService({ _: 'ping', ping_id: 1n }), { msgId: makeId(t.client) }).packet,
      false,
    );
    await settle();
    expect(received(t.sent).find((m) => m.obj._ === 'bad_msg_notification')?.obj.error_code).toBe(code);
  });

  it('checks seqno parity: a request with an even seqno gets code 35', async () => {
    const t = setup();
    t.client.salt = await handshakeSalt(t);
    t.engine.onPacket(
      t.conn,
      t.client.packet(tl.encodeService({ _: 'get_future_salts', num: 1 }), { seqNo: 4 }).packet,
      false,
    );
    await settle();
    expect(received(t.sent).find((m) => m.obj._ === 'bad_msg_notification')?.obj.error_code).toBe(
      BadMsg.SEQNO_EXPECTED_ODD,
    );
  });

  it('answers a ping whatever its seqno parity (a first ping may be even), as Telegram does', async () => {
    const t = setup();
    t.client.salt = await handshakeSalt(t);
    t.engine.onPacket(
      t.conn,
      t.client.packet(tl.encodeService({ _: 'ping', ping_id: 5n }), { seqNo: 0 }).packet,
      false,
    );
    t.engine.onPacket(
      t.conn,
      t.client.packet(tl.encodeService({ _: 'ping_delay_disconnect', ping_id: 6n, disconnect_delay: 75 }), {
        seqNo: 2,
      }).packet,
      false,
    );
    await settle();
    const got = received(t.sent).map((m) => m.obj);
    expect(got.filter((o) => o._ === 'pong').map((o) => o.ping_id)).toEqual([5n, 6n]);
    expect(got.some((o) => o._ === 'bad_msg_notification')).toBe(false);
  });

  it('drops a replayed message', async () => {
    const t = setup();
    t.client.salt = await handshakeSalt(t);
    const { packet } = t.client.packet(tl.encodeService({ _: 'ping', ping_id: 3n }));
    t.engine.onPacket(t.conn, packet, false);
    t.engine.onPacket(t.conn, packet, false);
    await settle();
    expect(received(t.sent).filter((m) => m.obj._ === 'pong')).toHaveLength(1);
  });

  it('handles a container with a gzip_packed API call and answers with rpc_result; unknown failures become rpc_error', async () => {
    const t = setup();
    t.client.salt = await handshakeSalt(t);
    const l = tl.newestLayer;
    const call = Buffer.concat([
      Buffer.from([0x0d, 0x0d, 0x9b, 0xda]),
      Buffer.from(new Int32Array([l]).buffer),
      tl.encodeService({ _: 'ping', ping_id: 0n }).subarray(0, 0),
    ]);
    const getNearest = Buffer.alloc(4);
    getNearest.writeUInt32LE(0x1fb33026);
    const withLayer = Buffer.concat([call, getNearest]);
    const gz = Buffer.concat([Buffer.from([0xa1, 0xcf, 0x72, 0x30]), tlBytes(gzipSync(withLayer))]);
    const getConfig = Buffer.alloc(4);
    getConfig.writeUInt32LE(0xc4f9186b);
    const a = { msgId: t.client.nextMsgId(), seqNo: t.client.seqNo(true), body: gz };
    const b = { msgId: t.client.nextMsgId(), seqNo: t.client.seqNo(true), body: getConfig };
    t.engine.onPacket(t.conn, t.client.packet(buildContainer([a, b]), { content: false }).packet, false);
    await settle();
    const results = received(t.sent).filter((m) => m.obj._ === 'rpc_result');
    expect(results.map((r) => r.obj.req_msg_id).sort()).toEqual([a.msgId, b.msgId].sort());
    const failed = results.find((r) => r.obj.req_msg_id === b.msgId)!.raw.subarray(12);
    expect(tl.decodeService(failed)).toMatchObject({
      _: 'rpc_error',
      error_code: 500,
      error_message: 'INTERNAL',
    });
    const ok = results.find((r) => r.obj.req_msg_id === a.msgId)!.raw.subarray(12);
    expect(tl.decodeApi(l, ok)).toMatchObject({ _: 'nearestDc', this_dc: 1 });
  });

  it('sends a file part in a packet of its own, written from its bytes kept apart', async () => {
    const bytes = randomBytes(64 * 1024);
    const t = setup((call) =>
      call._ === 'upload.getFile'
        ? Promise.resolve({ _: 'upload.file', type: { _: 'storage.filePartial' }, mtime: 7, bytes })
        : Promise.reject(new Error('boom')),
    );
    t.client.salt = await handshakeSalt(t);
    const l = tl.newestLayer;
    const getFile = loadTlRegistry()
      .forLayer(l)
      .encode({
        _: 'upload.getFile',
        location: {
          _: 'inputDocumentFileLocation',
          id: 1n,
          access_hash: 2n,
          file_reference: Buffer.alloc(0),
          thumb_size: '',
        },
        offset: 0n,
        limit: bytes.length,
      });
    const asked = [t.client.packet(getFile), t.client.packet(getFile)];
    for (const { packet } of asked) t.engine.onPacket(t.conn, packet, false);
    await settle();
    // Unacknowledged, the two answers are sent again when the session comes back on a new
    // connection, each in a packet of its own rather than together in a container (a copy more,
    // and a packet of several MiB).
    const second = fakeConnection();
    const hello = t.client.packet(tl.encodeService({ _: 'msgs_ack', msg_ids: [] }), { content: false });
    t.engine.onPacket(second.conn, hello.packet, false);
    await settle();
    for (const sent of [t.sent, second.sent]) {
      const each = sent.map((p) => received([p]));
      const withAnswer = each.filter((r) => r.some((m) => m.obj._ === 'rpc_result'));
      expect(withAnswer.map((r) => r.map((m) => m.obj._))).toEqual([['rpc_result'], ['rpc_result']]);
      expect(withAnswer.map((r) => r[0]!.raw.readBigInt64LE(4)).sort()).toEqual(
        asked.map((a) => a.msgId).sort(),
      );
      for (const r of withAnswer)
        expect(tl.decodeApi(l, r[0]!.raw.subarray(12))).toMatchObject({ _: 'upload.file', mtime: 7, bytes });
    }
    // A re-sent message keeps its msg_id: the client drops it if it had it already.
    const serverIds = (sent: Buffer[]) =>
      sent
        .filter((p) => received([p])[0]!.obj._ === 'rpc_result')
        .map((p) => {
          const { key, iv } = messageAesKeyIv(authKey, p.subarray(8, 24), 'server');
          return igeDecrypt(p.subarray(24), key, iv).readBigInt64LE(16);
        })
        .sort();
    expect(serverIds(second.sent)).toEqual(serverIds(t.sent));
  });

  it('answers get_future_salts, msgs_state_req and destroy_session', async () => {
    const t = setup();
    t.client.salt = await handshakeSalt(t);
    t.engine.onPacket(
      t.conn,
      t.client.packet(tl.encodeService({ _: 'get_future_salts', num: 3 })).packet,
      false,
    );
    const known = t.client.packet(tl.encodeService({ _: 'ping', ping_id: 1n }));
    t.engine.onPacket(t.conn, known.packet, false);
    t.engine.onPacket(
      t.conn,
      t.client.packet(
        tl.encodeService({ _: 'msgs_state_req', msg_ids: [known.msgId, t.client.nextMsgId(600)] }),
      ).packet,
      false,
    );
    t.engine.onPacket(
      t.conn,
      t.client.packet(tl.encodeService({ _: 'destroy_session', session_id: 12345n })).packet,
      false,
    );
    await settle();
    const got = received(t.sent);
    const salts = got.find((m) => m.obj._ === 'future_salts')!.obj;
    expect(salts.salts as unknown[]).toHaveLength(3);
    expect((salts.salts as Array<{ salt: bigint }>)[0]!.salt).toBe(t.client.salt);
    expect([...(got.find((m) => m.obj._ === 'msgs_state_info')!.obj.info as Buffer)]).toEqual([4, 3]);
    const destroyed = got
      .filter((m) => m.obj._ === 'rpc_result')
      .map((m) => tl.decodeService(m.raw.subarray(12)));
    expect(destroyed).toContainEqual({ _: 'destroy_session_none', session_id: 12345n });
  });

  it('re-sends unacknowledged answers when the session comes back on a new connection', async () => {
    const t = setup();
    t.client.salt = await handshakeSalt(t);
    t.engine.onPacket(t.conn, t.client.packet(tl.encodeService({ _: 'ping', ping_id: 42n })).packet, false);
    await settle();
    const second = fakeConnection();
    t.engine.onPacket(
      second.conn,
      t.client.packet(tl.encodeService({ _: 'msgs_ack', msg_ids: [] }), { content: false }).packet,
      false,
    );
    await settle();
    expect(
      received(second.sent)
        .filter((m) => m.obj._ === 'pong')
        .map((m) => m.obj.ping_id),
    ).toEqual([42n]);
  });

  it('refuses an unknown auth key with -404 and closes on a forged msg_key', async () => {
    const t = setup();
    const unknown = Buffer.concat([randomBytes(8), randomBytes(16), randomBytes(48)]);
    t.engine.onPacket(t.conn, unknown, false);
    await settle();
    expect(t.state.failed).toBe(-404);
    const u = setup();
    const { packet } = u.client.packet(tl.encodeService({ _: 'ping', ping_id: 1n }));
    packet[30] = packet[30]! ^ 0xff;
    u.engine.onPacket(u.conn, packet, false);
    await settle();
    expect(u.state.closed).toBe(true);
    expect(u.sent).toHaveLength(0);
  });

  it('starts a call wrapped in invokeAfterMsg only after the call it names was answered', async () => {
    const events: string[] = [];
    let n = 0;
    const t = setup(async () => {
      const me = ++n;
      events.push(`start ${me}`);
      if (me === 1) await new Promise((r) => setTimeout(r, 80));
      events.push(`end ${me}`);
      return { _: 'nearestDc', country: '', this_dc: 1, nearest_dc: 1 };
    });
    t.client.salt = await handshakeSalt(t);
    const getNearest = Buffer.alloc(4);
    getNearest.writeUInt32LE(0x1fb33026);
    const first = { msgId: t.client.nextMsgId(), seqNo: t.client.seqNo(true), body: getNearest };
    const after = Buffer.alloc(12);
    after.writeUInt32LE(0xcb9f372d, 0);
    after.writeBigInt64LE(first.msgId, 4);
    const second = {
      msgId: t.client.nextMsgId(),
      seqNo: t.client.seqNo(true),
      body: Buffer.concat([after, getNearest]),
    };
    t.engine.onPacket(
      t.conn,
      t.client.packet(buildContainer([first, second]), { content: false }).packet,
      false,
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
    const answered = received(t.sent).filter((m) => m.obj._ === 'rpc_result');
    expect(answered.map((r) => r.obj.req_msg_id)).toEqual([first.msgId, second.msgId]);
  });

  it('answers destroy_auth_key with destroy_auth_key_ok, then treats the key as unknown (-404)', async () => {
    const t = setup();
    t.client.salt = await handshakeSalt(t);
    t.engine.onPacket(t.conn, t.client.packet(tl.encodeService({ _: 'destroy_auth_key' })).packet, false);
    await settle();
    expect(received(t.sent).map((m) => m.obj._)).toContain('destroy_auth_key_ok');
    const { packet } = t.client.packet(tl.encodeService({ _: 'ping', ping_id: 2n }));
    t.engine.onPacket(t.conn, packet, false);
    await settle();
    expect(t.state.failed).toBe(-404);
    destroyed.clear();
  });

  it('accepts gzip_packed holding a zlib stream (as mtcute sends it)', async () => {
    const t = setup();
    t.client.salt = await handshakeSalt(t);
    const getNearest = Buffer.alloc(4);
    getNearest.writeUInt32LE(0x1fb33026);
    const packed = Buffer.concat([Buffer.from([0xa1, 0xcf, 0x72, 0x30]), tlBytes(deflateSync(getNearest))]);
    t.engine.onPacket(t.conn, t.client.packet(packed).packet, false);
    await settle();
    const results = received(t.sent).filter((m) => m.obj._ === 'rpc_result');
    expect(results).toHaveLength(1);
    expect(tl.decodeApi(tl.newestLayer, results[0]!.raw.subarray(12))).toMatchObject({ _: 'nearestDc' });
  });

  it('pushes live updates to the sessions of a logged-in user, in their layer, and not after logout', async () => {
    let user = 42n;
    const t = setup((_call, ctx) => {
      ctx.authKey.userId = user;
      return Promise.resolve({ _: 'nearestDc', country: '', this_dc: 1, nearest_dc: 1 });
    });
    t.client.salt = await handshakeSalt(t);
    const getNearest = Buffer.alloc(4);
    getNearest.writeUInt32LE(0x1fb33026);
    t.engine.onPacket(t.conn, t.client.packet(getNearest).packet, false);
    await settle();
    t.sent.length = 0;
    const push = () =>
      t.engine.pushToUser(42n, 0n, (layer) => tl.encodeObject(layer, { _: 'updatesTooLong' }));
    expect(push()).toBe(1);
    expect(t.engine.pushToUser(43n, 0n, (layer) => tl.encodeObject(layer, { _: 'updatesTooLong' }))).toBe(0);
    await settle();
    expect(received(t.sent).map((m) => m.obj._)).toContain('updatesTooLong');

    user = 0n; // logged out: the next call tells the engine
    t.engine.onPacket(t.conn, t.client.packet(getNearest).packet, false);
    await settle();
    expect(push()).toBe(0);
  });
  it('writes a TernError as the rpc_error it names, and refuses a layer older than every served one', async () => {
    const t = setup(() => Promise.reject(errors.unauthorized('AUTH_KEY_UNREGISTERED')));
    t.client.salt = await handshakeSalt(t);
    const getNearest = Buffer.alloc(4);
    getNearest.writeUInt32LE(0x1fb33026);
    const tooOld = Buffer.alloc(8);
    tooOld.writeUInt32LE(0xda9b0d0d, 0);
    tooOld.writeInt32LE(1, 4);
    const plain = t.client.packet(getNearest);
    const old = t.client.packet(Buffer.concat([tooOld, getNearest]));
    t.engine.onPacket(t.conn, plain.packet, false);
    t.engine.onPacket(t.conn, old.packet, false);
    await settle();
    const answers = received(t.sent).filter((m) => m.obj._ === 'rpc_result');
    const body = (msgId: bigint) => answers.find((r) => r.obj.req_msg_id === msgId)!.raw.subarray(12);
    expect(body(plain.msgId)).toEqual(
      tl.encodeService({ _: 'rpc_error', error_code: 401, error_message: 'AUTH_KEY_UNREGISTERED' }),
    );
    expect(body(old.msgId)).toEqual(
      tl.encodeService({ _: 'rpc_error', error_code: 400, error_message: 'CONNECTION_LAYER_INVALID' }),
    );
  });

  describe('messages that cannot be taken apart', () => {
    const gzipPacked = (inner: Buffer, pack: (b: Buffer) => Buffer = gzipSync) =>
      Buffer.concat([Buffer.from([0xa1, 0xcf, 0x72, 0x30]), tlBytes(pack(inner))]);
    const getNearest = Buffer.from([0x26, 0x30, 0xb3, 0x1f]);
    /** upload.saveFilePart#b304a621 file_id:long file_part:int bytes:bytes = Bool */
    const saveFilePart = (part: number, bytes: Buffer) => {
      const head = Buffer.alloc(16);
      head.writeUInt32LE(0xb304a621, 0);
      head.writeBigInt64LE(77n, 4);
      head.writeInt32LE(part, 12);
      return Buffer.concat([head, tlBytes(bytes)]);
    };
    const uploadApi: ApiHandler = (call) =>
      call._ === 'upload.saveFilePart'
        ? Promise.resolve((call.bytes as Buffer).length === 512 * 1024)
        : nearestDcApi(call, undefined as never);
    const answersTo = (t: ReturnType<typeof setup>) => {
      const all = received(t.sent);
      return {
        badMsg: all.filter((m) => m.obj._ === 'bad_msg_notification'),
        results: all.filter((m) => m.obj._ === 'rpc_result'),
        result: (msgId: bigint) =>
          all.find((m) => m.obj._ === 'rpc_result' && m.obj.req_msg_id === msgId)?.raw.subarray(12),
      };
    };

    it('answers an undecodable service message with bad_msg_notification 64 and keeps the connection', async () => {
      const t = setup();
      t.client.salt = await handshakeSalt(t);
      // msgs_ack whose vector is not a vector (the fuzz crasher engine/crash-undecodable-service-message).
      const brokenAck = Buffer.alloc(12);
      brokenAck.writeUInt32LE(0x62d6b459, 0);
      brokenAck.writeUInt32LE(0x2b416769, 4);
      const bad = t.client.packet(brokenAck, { content: false });
      t.engine.onPacket(t.conn, bad.packet, false);
      t.engine.onPacket(t.conn, t.client.packet(getNearest).packet, false);
      await settle();
      const a = answersTo(t);
      expect(a.badMsg.map((m) => [m.obj.bad_msg_id, m.obj.error_code])).toEqual([
        [bad.msgId, BadMsg.BAD_CONTAINER],
      ]);
      expect(a.results).toHaveLength(1);
      expect(t.state.closed).toBe(false);
    });

    it('refuses gzip_packed inside gzip_packed for that message alone; the container’s other messages are answered', async () => {
      const t = setup();
      t.client.salt = await handshakeSalt(t);
      const brokenAck = Buffer.from([0x59, 0xb4, 0xd6, 0x62, 0, 0, 0, 0]);
      const msgs = [
        gzipPacked(gzipPacked(getNearest)),
        brokenAck,
        gzipPacked(getNearest),
        gzipPacked(Buffer.from('not gzip at all')).fill(7, 8),
        getNearest,
      ].map((body, i) => ({ msgId: t.client.nextMsgId(), seqNo: t.client.seqNo(i !== 1), body }));
      t.engine.onPacket(t.conn, t.client.packet(buildContainer(msgs), { content: false }).packet, false);
      await settle();
      const a = answersTo(t);
      expect(a.badMsg.map((m) => m.obj.bad_msg_id).sort()).toEqual(
        [msgs[0]!.msgId, msgs[1]!.msgId, msgs[3]!.msgId].sort(),
      );
      expect(a.badMsg.every((m) => m.obj.error_code === BadMsg.BAD_CONTAINER)).toBe(true);
      for (const ok of [msgs[2]!, msgs[4]!])
        expect(tl.decodeApi(tl.newestLayer, a.result(ok.msgId)!)).toMatchObject({ _: 'nearestDc' });
      expect(t.state.closed).toBe(false);
    });

    it('accepts gzip_packed → container → gzip_packed, the most a client packs', async () => {
      const t = setup();
      t.client.salt = await handshakeSalt(t);
      const inner = {
        msgId: t.client.nextMsgId(),
        seqNo: t.client.seqNo(true),
        body: gzipPacked(getNearest),
      };
      const container = buildContainer([inner]);
      t.engine.onPacket(t.conn, t.client.packet(gzipPacked(container), { content: false }).packet, false);
      await settle();
      expect(tl.decodeApi(tl.newestLayer, answersTo(t).result(inner.msgId)!)).toMatchObject({
        _: 'nearestDc',
      });
    });

    it('does not count plain 512 KiB upload parts against any budget, and lets a container of packed ones through', async () => {
      const t = setup(uploadApi);
      t.client.salt = await handshakeSalt(t);
      // Plain (random, as media is): one 512 KiB part per packet, the largest request there is.
      const plain = [0, 1].map((n) => t.client.packet(saveFilePart(n, randomBytes(512 * 1024))));
      for (const p of plain) t.engine.onPacket(t.conn, p.packet, false);
      // Compressible parts, gzip_packed as GramJS packs whatever shrinks, many in one container:
      // 60 parts (a session runs at most 64 calls at once) inflate to 30 MiB, under the budget.
      const packed = Array.from({ length: 60 }, (_, n) => ({
        msgId: t.client.nextMsgId(),
        seqNo: t.client.seqNo(true),
        body: gzipPacked(saveFilePart(n, Buffer.alloc(512 * 1024, n))),
      }));
      t.engine.onPacket(t.conn, t.client.packet(buildContainer(packed), { content: false }).packet, false);
      await settle();
      const a = answersTo(t);
      expect(a.badMsg).toEqual([]);
      const boolTrue = Buffer.from([0xb5, 0x75, 0x72, 0x99]);
      for (const m of [...plain, ...packed]) expect(a.result(m.msgId)).toEqual(boolTrue);
    });

    it('stops inflating once a packet’s gzip_packed messages reach its budget', async () => {
      const t = setup();
      t.client.salt = await handshakeSalt(t);
      // Each inflates to 15 MiB of zeros (under the 16 MiB a message may), 5 of them over 64 MiB.
      const bomb = gzipPacked(Buffer.alloc(15 * 1024 * 1024));
      const msgs = Array.from({ length: 5 }, () => ({
        msgId: t.client.nextMsgId(),
        seqNo: t.client.seqNo(true),
        body: bomb,
      }));
      t.engine.onPacket(t.conn, t.client.packet(buildContainer(msgs), { content: false }).packet, false);
      await settle();
      const a = answersTo(t);
      expect(a.results).toHaveLength(4); // zeros are no method: INPUT_METHOD_INVALID
      expect(a.badMsg.map((m) => m.obj.bad_msg_id)).toEqual([msgs[4]!.msgId]);
      expect(t.state.closed).toBe(false);
    });
  });
});
