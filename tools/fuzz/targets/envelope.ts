/**
 * The encrypted envelope (envelope.ts, crypto/v1.ts) and the structures the session layer parses
 * by hand after decryption (wire.ts). decryptClientMessage and decryptV1 never throw: every bad
 * packet is the same `undefined` (the engine then closes the connection); wire.ts refuses with
 * WireError (the engine answers bad_msg_notification 64).
 *
 * envelope inputs, by byte 0:
 *   0  a ciphertext after the auth key id (random or a real packet mutated): must be refused
 *      unless it is a real message;
 *   1  a plaintext (salt, session, msg_id, seqno, length, body, padding) the target encrypts as a
 *      client would (msg_key over it, AES-256-IGE under the key's client half); byte 1 says how
 *      many stray bytes the padded intermediate transport appends. Checked against the spec: it is
 *      accepted exactly when the length is a multiple of 4 and the padding 12..1024 bytes, and
 *      then every field reads back;
 *   2  an MTProto 1.0 ciphertext (auth.bindTempAuthKey's encrypted_message): refused or valid;
 *   3  an MTProto 1.0 plaintext, encrypted as the spec says; accepted exactly when its padding is
 *      0..15 bytes.
 * Every input also goes through parseUnencrypted (the key exchange's envelope).
 */
import { createCipheriv, createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { decryptClientMessage, parseUnencrypted } from '../../../services/gateway/src/mtproto/envelope';
import {
  authKeyId,
  messageAesKeyIv,
  messageKey,
} from '../../../services/gateway/src/mtproto/crypto/message-keys';
import { decryptV1 } from '../../../services/gateway/src/mtproto/crypto/v1';
import {
  buildContainer,
  ID,
  MAX_CONTAINER_MESSAGES,
  MAX_UNPACKED_BYTES,
  packGzip,
  parseContainer,
  tlBytes,
  unpackGzip,
  WireError,
} from '../../../services/gateway/src/mtproto/wire';
import { loadTlRuntime } from '../../../services/gateway/src/tl-runtime';
import { Rng } from '../rng';
import { FuzzCheckFailed, type FuzzTarget, type TargetInstance } from '../types';

const sha = (alg: 'sha1' | 'sha256', ...parts: Buffer[]) => {
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** AES-256-IGE encryption written from the spec (the client side; Tern only decrypts here). */
export function igeEncryptRef(plain: Buffer, key: Buffer, iv: Buffer): Buffer {
  const ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  const out = Buffer.alloc(plain.length);
  let prevC = iv.subarray(0, 16);
  let prevP = iv.subarray(16, 32);
  for (let i = 0; i < plain.length; i += 16) {
    const p = plain.subarray(i, i + 16);
    const x = Buffer.alloc(16);
    for (let j = 0; j < 16; j++) x[j] = p[j]! ^ prevC[j]!;
    const y = ecb.update(x);
    for (let j = 0; j < 16; j++) out[i + j] = y[j]! ^ prevP[j]!;
    prevC = out.subarray(i, i + 16);
    prevP = p;
  }
  return out;
}

/** MTProto 1.0 key and IV (x = 0, client to server), from the spec. */
function v1KeyIv(authKey: Buffer, msgKey: Buffer): { key: Buffer; iv: Buffer } {
  const a = sha('sha1', msgKey, authKey.subarray(0, 32));
  const b = sha('sha1', authKey.subarray(32, 48), msgKey, authKey.subarray(48, 64));
  const c = sha('sha1', authKey.subarray(64, 96), msgKey);
  const d = sha('sha1', msgKey, authKey.subarray(96, 128));
  return {
    key: Buffer.concat([a.subarray(0, 8), b.subarray(8, 20), c.subarray(4, 16)]),
    iv: Buffer.concat([a.subarray(8, 20), b.subarray(0, 8), c.subarray(16, 20), d.subarray(0, 8)]),
  };
}

/** A plaintext of `body` with its header and `pad` bytes of padding. */
function plaintext(rng: Rng, body: Buffer, pad: number): Buffer {
  const head = rng.bytes(32);
  head.writeUInt32LE(body.length, 28);
  return Buffer.concat([head, body, rng.bytes(pad)]);
}

function mtproto2Pad(rng: Rng, bodyLength: number): number {
  let pad = 16 - ((32 + bodyLength) % 16);
  if (pad < 12) pad += 16;
  return pad + 16 * rng.int(rng.chance(0.1) ? 63 : 2);
}

export function envelopeTarget(): FuzzTarget {
  return {
    name: 'envelope',
    what: 'decryptClientMessage / decryptV1 / parseUnencrypted under a 2048-bit auth key made by the target: random and mutated ciphertexts, and client-encrypted random plaintexts checked against the spec; refusal: undefined',
    setup(o): TargetInstance {
      const rng = new Rng(o.seed, 10);
      const authKey = rng.bytes(256);
      const idBytes = authKeyId(authKey);
      const tl = loadTlRuntime();
      const bodies = [
        tl.encodeService({ _: 'ping', ping_id: 7n }),
        tl.encodeService({ _: 'msgs_ack', msg_ids: [1n, 2n, 3n] }),
        tl.encodeService({ _: 'get_future_salts', num: 3 }),
        Buffer.alloc(0),
        rng.bytes(1000),
      ];
      const encrypt2 = (plain: Buffer) => {
        const msgKey = messageKey(authKey, plain, 'client');
        const { key, iv } = messageAesKeyIv(authKey, msgKey, 'client');
        return Buffer.concat([msgKey, igeEncryptRef(plain, key, iv)]);
      };
      const encrypt1 = (plain: Buffer) => {
        const len = plain.length < 32 ? 0 : plain.readUInt32LE(28);
        const msgKey = sha('sha1', plain.subarray(0, Math.min(plain.length, 32 + len))).subarray(4, 20);
        const { key, iv } = v1KeyIv(authKey, msgKey);
        return Buffer.concat([msgKey, igeEncryptRef(plain, key, iv)]);
      };
      const generate = (r: Rng): Buffer => {
        const mode = r.int(4);
        const body = r.chance(0.5) ? r.pick(bodies) : r.bytes(4 * r.size(300));
        if (mode === 1)
          return Buffer.concat([
            Buffer.from([1, r.int(16)]),
            plaintext(r, body, mtproto2Pad(r, body.length)),
          ]);
        if (mode === 3)
          return Buffer.concat([Buffer.from([3]), plaintext(r, body, (16 - ((32 + body.length) % 16)) % 16)]);
        if (mode === 0 && r.chance(0.5))
          return Buffer.concat([Buffer.from([0]), encrypt2(plaintext(r, body, mtproto2Pad(r, body.length)))]);
        if (mode === 2 && r.chance(0.5))
          return Buffer.concat([
            Buffer.from([2]),
            encrypt1(plaintext(r, body, (16 - ((32 + body.length) % 16)) % 16)),
          ]);
        return Buffer.concat([Buffer.from([mode]), r.bytes(r.size(2048))]);
      };
      const seeds = Array.from({ length: 32 }, (_, i) => {
        const r = new Rng(o.seed, 100 + i);
        let s = generate(r);
        while (s[0] !== i % 4 || s.length < 40) s = generate(r);
        return s;
      });
      return {
        seeds,
        generate,
        run(input) {
          const mode = (input[0] ?? 0) & 3;
          const un = parseUnencrypted(input);
          if (un && 20 + un.body.length > input.length)
            throw new FuzzCheckFailed('unencrypted body past the packet');
          if (mode === 0 || mode === 2) {
            const packet = Buffer.concat([idBytes, input.subarray(1)]);
            const m =
              mode === 0 ? decryptClientMessage(packet, authKey) : decryptV1(authKey, idBytes, packet);
            return m ? `${mode}:accepted` : `${mode}:refused`;
          }
          // Client-encrypted plaintext: pad to whole AES blocks the way the input says.
          let plain = input.subarray(mode === 1 ? 2 : 1);
          if (plain.length < 32) plain = Buffer.concat([plain, Buffer.alloc(32 - plain.length)]);
          if (plain.length % 16 !== 0) plain = Buffer.concat([plain, Buffer.alloc(16 - (plain.length % 16))]);
          const len = plain.readUInt32LE(28);
          const pad = plain.length - 32 - len;
          if (mode === 1) {
            const stray = Buffer.alloc((input[1] ?? 0) & 15, 0xaa);
            const packet = Buffer.concat([idBytes, encrypt2(plain), stray]);
            const m = decryptClientMessage(packet, authKey);
            const valid = len % 4 === 0 && pad >= 12 && pad <= 1024;
            if (!!m !== valid)
              throw new FuzzCheckFailed(`length ${len}, padding ${pad}: ${m ? 'accepted' : 'refused'}`);
            if (m) {
              const large = sha('sha256', authKey.subarray(88, 120), plain);
              if (
                m.salt !== plain.readBigInt64LE(0) ||
                m.sessionId !== plain.readBigInt64LE(8) ||
                m.msgId !== plain.readBigInt64LE(16) ||
                m.seqNo !== plain.readUInt32LE(24) ||
                !m.body.equals(plain.subarray(32, 32 + len)) ||
                m.quickAckToken !== (large.readUInt32LE(0) | 0x80000000) >>> 0
              )
                throw new FuzzCheckFailed('a field of the decrypted message differs from the plaintext');
            }
            return `1:${valid}`;
          }
          const m = decryptV1(authKey, idBytes, Buffer.concat([idBytes, encrypt1(plain)]));
          const valid = len <= plain.length - 32 && pad <= 15;
          if (!!m !== valid)
            throw new FuzzCheckFailed(`v1 length ${len}, padding ${pad}: ${m ? 'accepted' : 'refused'}`);
          if (m && (!m.body.equals(plain.subarray(32, 32 + len)) || m.msgId !== plain.readBigInt64LE(16)))
            throw new FuzzCheckFailed('a field of the v1 message differs from the plaintext');
          return `3:${valid}`;
        },
        expected: () => false,
      };
    },
  };
}

export function wireTarget(): FuzzTarget {
  return {
    name: 'wire',
    what: 'parseContainer / unpackGzip on decrypted bodies (byte 0 picks which), rebuilt and compared; refusal: WireError',
    setup(o): TargetInstance {
      const rng = new Rng(o.seed, 11);
      const tl = loadTlRuntime();
      const ping = (id: bigint) => tl.encodeService({ _: 'ping', ping_id: id });
      const container = (r: Rng) =>
        buildContainer(
          Array.from({ length: r.size(8) }, (_, i) => ({
            msgId: r.bigint64() & ~3n,
            seqNo: 2 * i + 1,
            body: r.chance(0.7) ? ping(BigInt(i)) : r.bytes(4 * r.size(64)),
          })),
        );
      const generate = (r: Rng): Buffer => {
        const mode = r.int(2);
        if (mode === 0)
          return Buffer.concat([Buffer.from([0]), r.chance(0.8) ? container(r) : r.bytes(r.size(512))]);
        const inner = r.chance(0.5) ? container(r) : r.bytes(r.size(r.chance(1e-4) ? 1 << 20 : 4096));
        if (r.chance(0.1)) {
          // deflate with the zlib header, as mtcute sends it; or a stream cut short
          const packed = packGzip(inner);
          return Buffer.concat([
            Buffer.from([1]),
            r.bool() ? packed : packed.subarray(0, r.int(packed.length)),
          ]);
        }
        return Buffer.concat([Buffer.from([1]), packGzip(inner)]);
      };
      const seeds = [
        Buffer.concat([Buffer.from([0]), container(rng)]),
        Buffer.concat([Buffer.from([1]), packGzip(ping(1n))]),
        Buffer.concat([
          Buffer.from([1]),
          Buffer.from([0xa1, 0xcf, 0x72, 0x30]),
          tlBytes(gzipSync(container(rng))),
        ]),
        ...Array.from({ length: 13 }, () => generate(rng)),
      ];
      return {
        seeds,
        dictionary: [
          ID.msg_container,
          ID.gzip_packed,
          ID.rpc_result,
          MAX_CONTAINER_MESSAGES,
          MAX_CONTAINER_MESSAGES + 1,
        ],
        generate,
        run(input) {
          const body = input.subarray(1);
          if (((input[0] ?? 0) & 1) === 0) {
            const msgs = parseContainer(body);
            if (msgs.length > MAX_CONTAINER_MESSAGES) throw new FuzzCheckFailed('container over its limit');
            const rebuilt = buildContainer(msgs);
            if (!rebuilt.subarray(4).equals(body.subarray(4, rebuilt.length)))
              throw new FuzzCheckFailed('container rebuilt differs from what was parsed');
            return `container:${Math.min(msgs.length, 16)}`;
          }
          const out = unpackGzip(body);
          if (out.length > MAX_UNPACKED_BYTES) throw new FuzzCheckFailed(`unpacked ${out.length} bytes`);
          if (!unpackGzip(packGzip(out)).equals(out))
            throw new FuzzCheckFailed('gzip_packed round trip differs');
          return `gzip:${Math.min(Math.floor(Math.log2(out.length + 1)), 24)}`;
        },
        expected: (err) => err instanceof WireError,
      };
    },
  };
}
