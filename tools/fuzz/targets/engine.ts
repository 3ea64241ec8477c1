/**
 * The encrypted envelope end to end: the real MtprotoEngine (decryption, salt, msg_id and seqno
 * checks, containers, gzip_packed, service messages, API calls through invocation.ts, the outbox)
 * with a real auth key, an in-memory key store and an API that answers help.getNearestDc and
 * refuses everything else with 501. Every input is one encrypted message.
 *
 * Bad input must get the protocol's answer (bad_msg_notification, an rpc_error, a transport
 * error, or the connection closed on a decryption failure); a failure is any exception that
 * reaches the engine's last-resort handler ("packet failed; closing connection") or an API call
 * that fails with something other than the API's own refusal, and any server message that does
 * not decrypt and decode.
 *
 * Input: a 24-byte control header, then the message body (the TL the client sends).
 *   byte 0   bit 0-1: salt (3 = bytes 14..21, else the valid one)   bit 2: quick ack
 *            bit 3: msg_id from bytes 2..9 (else a fresh valid one)   bit 4: seqno from bytes 10..13
 *            bit 5: content-related (odd seqno) when the seqno is the target's
 *            bit 6: container inner msg_ids made valid                bit 7: session id from bytes 14..21
 *   byte 1   which of 4 sessions (when bit 7 is clear)
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { errors, TernError } from '../../../services/shared/src';
import { MtprotoEngine } from '../../../services/gateway/src/mtproto/engine';
import type { KeyStore } from '../../../services/gateway/src/mtproto/auth-keys';
import { igeDecrypt, igeEncrypt } from '../../../services/gateway/src/mtproto/crypto/aes-ige';
import {
  authKeyId,
  messageAesKeyIv,
  messageKey,
} from '../../../services/gateway/src/mtproto/crypto/message-keys';
import { serverRsaKey } from '../../../services/gateway/src/mtproto/crypto/rsa';
import type { ApiHandler } from '../../../services/gateway/src/mtproto/invocation';
import type { TlObject } from '../../../services/gateway/src/mtproto/tl-types';
import {
  TransportConnection,
  type ByteStream,
} from '../../../services/gateway/src/mtproto/transport/connection';
import { buildContainer, ID, parseContainer } from '../../../services/gateway/src/mtproto/wire';
import type { TlCodec } from '../../../services/gateway/src/tl/codec';
import { loadTlRuntime } from '../../../services/gateway/src/tl-runtime';
import { Rng } from '../rng';
import { firstFrame } from '../loop';
import { FuzzCheckFailed, FuzzEscape, type FuzzTarget, type TargetInstance } from '../types';
import { encodedSamples, gzipPacked, namesIn, tlMutator, tlRegistry } from './tl';

const HEADER = 24;
const SESSIONS = 4;

interface Warned {
  msg: string;
  err: unknown;
}

/** A fresh msg_id source: time-based, strictly increasing, divisible by 4. */
class MsgIds {
  private last = 0n;
  next(): bigint {
    let id = BigInt(Math.floor(Date.now() / 1000)) << 32n;
    if (id <= this.last) id = this.last + 4n;
    this.last = id;
    return id;
  }
}

export function engineTarget(): FuzzTarget {
  return {
    name: 'engine',
    what: 'MtprotoEngine.onPacket under a 2048-bit auth key made by the target: encrypted messages whose bodies are random and mutated TL (containers, gzip_packed, service messages, API calls); failure: the last-resort handler, an unexpected API error, an undecodable answer',
    async setup(o): Promise<TargetInstance> {
      const rng = new Rng(o.seed, 30);
      const reg = tlRegistry();
      const tl = loadTlRuntime(reg);
      const rsa = serverRsaKey(
        createPrivateKey(
          generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
            type: 'pkcs1',
            format: 'pem',
          }),
        ),
      );
      const authKey = rng.bytes(256);
      const idBytes = authKeyId(authKey);
      const keyId = idBytes.readBigInt64LE(0);
      const keys: KeyStore = {
        load: (id) =>
          Promise.resolve(id === keyId ? { key: authKey, temporary: false, expiresAt: 0 } : undefined),
        save: () => Promise.resolve('created'),
        saveLayer: () => Promise.resolve(),
        destroy: () => Promise.resolve(true),
      };
      const refusal = (call: TlObject) => errors.notImplemented(call._);
      const api: ApiHandler = (call) =>
        call._ === 'help.getNearestDc'
          ? Promise.resolve({ _: 'nearestDc', country: 'ZZ', this_dc: 1, nearest_dc: 1 })
          : Promise.reject(refusal(call));
      const warned: Warned[] = [];
      const log: Logger = pino({
        level: 'warn',
        hooks: {
          logMethod(args) {
            const [first, second] = args as unknown[];
            const err =
              typeof first === 'object' && first !== null ? (first as { err?: unknown }).err : undefined;
            warned.push({ msg: typeof second === 'string' ? second : String(first), err });
          },
        },
      });
      const engine = new MtprotoEngine({ rsa, tl, keys, api, dcId: 1, log });
      let written: Buffer[] = [];
      let conn: TransportConnection;
      let closed = true;
      const stream: ByteStream = {
        write: (d) => void written.push(d),
        pending: 0,
        close: () => undefined,
        remoteAddress: '192.0.2.7',
        remotePort: 40000,
      };
      const connection = (): TransportConnection => {
        if (!closed) return conn;
        closed = false;
        conn = new TransportConnection(
          stream,
          {
            onPacket: (c, p, q) => engine.onPacket(c, p, q),
            onClose: (c) => {
              closed = true;
              engine.onClose(c);
            },
          },
          true,
        );
        conn.receive(Buffer.alloc(4, 0xee)); // intermediate framing
        return conn;
      };
      const settle = () => new Promise<void>((r) => setImmediate(r));
      const sessionIds = Array.from({ length: SESSIONS }, () => rng.bigint64());
      const ids = new MsgIds();

      const encrypt = (salt: bigint, sessionId: bigint, msgId: bigint, seqNo: number, body: Buffer) => {
        const head = Buffer.alloc(32);
        head.writeBigInt64LE(salt, 0);
        head.writeBigInt64LE(sessionId, 8);
        head.writeBigInt64LE(msgId, 16);
        head.writeUInt32LE(seqNo >>> 0, 24);
        head.writeUInt32LE(body.length, 28);
        let pad = 16 - ((32 + body.length) % 16);
        if (pad < 12) pad += 16;
        const plain = Buffer.concat([head, body, Buffer.alloc(pad, 0x5a)]);
        const msgKey = messageKey(authKey, plain, 'client');
        const { key, iv } = messageAesKeyIv(authKey, msgKey, 'client');
        return Buffer.concat([idBytes, msgKey, igeEncrypt(plain, key, iv)]);
      };

      /** The server's messages in what was written: decrypted, checked, flattened. */
      const answers = (): TlObject[] => {
        const chunks = written;
        written = [];
        const out: TlObject[] = [];
        for (const chunk of chunks) {
          // One write is one frame (4-byte length, packet), a quick ack (top bit set) or an error.
          if (chunk.length === 4 && chunk.readUInt32LE(0) >= 0x80000000) continue;
          const len = chunk.readUInt32LE(0);
          const packet = chunk.subarray(4);
          if (len !== packet.length)
            throw new FuzzCheckFailed(`frame of ${len} bytes written as ${packet.length}`);
          if (len === 4) continue; // a transport error
          if (!packet.subarray(0, 8).equals(idBytes)) throw new FuzzCheckFailed('answer under another key');
          const msgKey = packet.subarray(8, 24);
          const { key, iv } = messageAesKeyIv(authKey, msgKey, 'server');
          const plain = igeDecrypt(packet.subarray(24), key, iv);
          if (!messageKey(authKey, plain, 'server').equals(msgKey))
            throw new FuzzCheckFailed('answer msg_key wrong');
          const n = plain.readUInt32LE(28);
          const pad = plain.length - 32 - n;
          if (n % 4 !== 0 || pad < 12 || pad > 1024)
            throw new FuzzCheckFailed(`answer length ${n}, padding ${pad}`);
          const body = plain.subarray(32, 32 + n);
          const bodies =
            body.readUInt32LE(0) === ID.msg_container ? parseContainer(body).map((m) => m.body) : [body];
          for (const b of bodies) {
            const id = b.readUInt32LE(0);
            if (id === ID.rpc_result) {
              const result = b.subarray(12);
              const rid = result.readUInt32LE(0);
              if (rid === ID.gzip_packed) out.push({ _: 'rpc_result(gzip)' });
              else if (tl.isService(rid)) out.push(tl.decodeService(result));
              else if (!reg.layers.some((l) => decodes(reg.forLayer(l), result)))
                throw new FuzzCheckFailed(`an rpc_result no layer decodes (0x${rid.toString(16)})`);
            } else if (id === ID.future_salts) out.push({ _: 'future_salts' });
            else out.push(tl.decodeService(b));
          }
        }
        return out;
      };

      /** Learns the valid salt the way a client does: from bad_server_salt. */
      const learnSalt = async (): Promise<bigint> => {
        engine.onPacket(
          connection(),
          encrypt(0n, sessionIds[0]!, ids.next(), 1, tl.encodeService({ _: 'ping', ping_id: 1n })),
          false,
        );
        await settle();
        const bad = answers().find((m) => m._ === 'bad_server_salt');
        if (!bad) throw new Error('the engine did not correct the salt');
        return bad.new_server_salt as bigint;
      };
      const salt = await learnSalt();

      const newest = reg.forLayer(tl.newestLayer);
      const ping = (id: bigint) => tl.encodeService({ _: 'ping', ping_id: id });
      const nearest = newest.encode({ _: 'help.getNearestDc' });
      const withLayer = (query: Buffer, layer = tl.newestLayer) =>
        newest.encode({
          _: 'invokeWithLayer',
          layer,
          query: newest.encode({
            _: 'initConnection',
            api_id: 6,
            device_model: 'fuzz',
            system_version: '1',
            app_version: '1',
            system_lang_code: 'en',
            lang_pack: '',
            lang_code: 'en',
            query,
          }),
        });
      const header = (flags: number) => {
        const h = rng.bytes(HEADER);
        h[0] = flags;
        return h;
      };
      const message = (flags: number, body: Buffer) => Buffer.concat([header(flags), body]);
      const inner = (body: Buffer, seqNo: number) => ({ msgId: 0n, seqNo, body });
      const bodies = [
        ping(5n),
        tl.encodeService({ _: 'ping_delay_disconnect', ping_id: 1n, disconnect_delay: 75 }),
        tl.encodeService({ _: 'msgs_ack', msg_ids: [1n, 2n] }),
        tl.encodeService({ _: 'get_future_salts', num: 5 }),
        tl.encodeService({ _: 'msgs_state_req', msg_ids: [4n, 8n] }),
        tl.encodeService({ _: 'msg_resend_req', msg_ids: [4n] }),
        tl.encodeService({ _: 'rpc_drop_answer', req_msg_id: 4n }),
        tl.encodeService({ _: 'destroy_session', session_id: 9n }),
        tl.encodeService({ _: 'http_wait', max_delay: 0, wait_after: 0, max_wait: 0 }),
        withLayer(nearest),
        withLayer(nearest, 145),
        nearest,
        gzipPacked(withLayer(nearest)),
        gzipPacked(ping(6n)),
        buildContainer([inner(ping(1n), 1), inner(withLayer(nearest), 3), inner(gzipPacked(nearest), 5)]),
        buildContainer([inner(tl.encodeService({ _: 'msgs_ack', msg_ids: [1n] }), 0), inner(ping(2n), 1)]),
        ...encodedSamples(
          newest,
          newest.schema.methods.map((m) => m.name),
          Math.ceil(o.poolSize / 4),
          o.seed,
        ),
      ];
      const seeds = bodies.map((b, i) => message(i % 2 === 0 ? 0x60 : 0x20, b));
      const mutateBody = tlMutator(newest);

      const seqNos = new Map<bigint, number>();
      return {
        seeds,
        dictionary: [
          ...tl.layers,
          ID.msg_container,
          ID.gzip_packed,
          ID.invokeWithLayer,
          ...reg.mtproto.schema.constructors.map((c) => c.id),
          ...reg.mtproto.schema.methods.map((m) => m.id),
        ],
        maxLength: 256 * 1024,
        generate: (r) => {
          const body = r.chance(0.7) ? r.pick(bodies) : r.bytes(4 * r.size(64));
          return Buffer.concat([
            Buffer.from([r.chance(0.9) ? r.int(256) & 0x67 : r.int(256)]),
            r.bytes(HEADER - 1),
            body,
          ]);
        },
        mutate: (r, input) => {
          if (input.length <= HEADER) return undefined;
          const body = mutateBody(r, input.subarray(HEADER));
          return body && Buffer.concat([input.subarray(0, HEADER), body]);
        },
        async run(input) {
          if (input.length < HEADER) return 'short';
          const flags = input[0]!;
          let body = input.subarray(HEADER);
          if (flags & 0x40 && body.length >= 8 && body.readUInt32LE(0) === ID.msg_container) {
            // Give the container's messages valid msg_ids (below the container's own).
            body = Buffer.from(body);
            for (let at = 8, n = 0; n < body.readUInt32LE(4) && at + 16 <= body.length; n++) {
              body.writeBigInt64LE(ids.next(), at);
              at += 16 + body.readUInt32LE(at + 12);
            }
          }
          const msgId = flags & 0x08 ? input.readBigInt64LE(2) : ids.next();
          const sessionId = flags & 0x80 ? input.readBigInt64LE(14) : sessionIds[input[1]! % SESSIONS]!;
          // The client's seqno: content messages count (odd), others repeat the count (even).
          const sent = seqNos.get(sessionId) ?? 0;
          if (flags & 0x20 && !(flags & 0x10)) seqNos.set(sessionId, sent + 1);
          if (seqNos.size > 1024) seqNos.clear();
          const seqNo = flags & 0x10 ? input.readUInt32LE(10) : flags & 0x20 ? sent * 2 + 1 : sent * 2;
          const s = (flags & 3) === 3 ? input.readBigInt64LE(14) : salt;
          const c = connection();
          written.length = 0;
          warned.length = 0;
          engine.onPacket(c, encrypt(s, sessionId, msgId, seqNo, body), (flags & 4) !== 0);
          await settle();
          for (const w of warned) {
            const e = w.err;
            if (
              w.msg === 'call failed' &&
              e instanceof TernError &&
              e.telegramName === 'METHOD_NOT_IMPLEMENTED'
            )
              continue;
            if (!(e instanceof Error)) throw new FuzzCheckFailed(`engine warned: ${w.msg}`);
            // One signature per place the error escaped from, whatever its message says.
            const where = firstFrame(e.stack ?? '', 'services/gateway/src/mtproto/');
            throw new FuzzEscape(
              `${e.name} → "${w.msg}" from ${where}`,
              `${e.name} reached "${w.msg}" (the client is disconnected or gets INTERNAL): ${e.message}`,
              e,
            );
          }
          const got = answers();
          return [...namesIn(got)].map((n) => `out:${n}`);
        },
        expected: () => false,
        invariant() {
          const size = engine.sessions.size;
          if (size.keys > 1 || size.sessions > 64)
            throw new FuzzCheckFailed(`session store holds ${size.keys} keys, ${size.sessions} sessions`);
        },
      };
    },
  };
}

function decodes(codec: TlCodec, b: Buffer): boolean {
  try {
    codec.decode(b);
    return true;
  } catch {
    return false;
  }
}
