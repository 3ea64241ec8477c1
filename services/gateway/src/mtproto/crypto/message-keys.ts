/**
 * MTProto 2.0 message keys: msg_key from the auth key and the padded plaintext, and the
 * AES-256-IGE key and IV derived from (auth_key, msg_key). `x` is 0 for messages from the client
 * and 8 for messages from the server.
 */
import { sha1, sha256 } from './hash';

export type Direction = 'client' | 'server';
const offset = (from: Direction) => (from === 'client' ? 0 : 8);

/** msg_key_large = SHA256(auth_key[88+x .. 120+x] ‖ plaintext_with_padding). */
export function messageKeyLarge(authKey: Buffer, paddedPlaintext: Buffer, from: Direction): Buffer {
  const x = offset(from);
  return sha256(authKey.subarray(88 + x, 120 + x), paddedPlaintext);
}

/** msg_key = the middle 128 bits of msg_key_large. */
export function messageKey(authKey: Buffer, paddedPlaintext: Buffer, from: Direction): Buffer {
  return messageKeyLarge(authKey, paddedPlaintext, from).subarray(8, 24);
}

/** The AES-256-IGE key and IV for a message with `msgKey` sent by `from`. */
export function messageAesKeyIv(
  authKey: Buffer,
  msgKey: Buffer,
  from: Direction,
): { key: Buffer; iv: Buffer } {
  const x = offset(from);
  const a = sha256(msgKey, authKey.subarray(x, x + 36));
  const b = sha256(authKey.subarray(40 + x, 76 + x), msgKey);
  return {
    key: Buffer.concat([a.subarray(0, 8), b.subarray(8, 24), a.subarray(24, 32)]),
    iv: Buffer.concat([b.subarray(0, 8), a.subarray(8, 24), b.subarray(24, 32)]),
  };
}

/** auth_key_id: the low 64 bits of SHA1(auth_key), as the 8 bytes that prefix encrypted messages. */
export function authKeyId(authKey: Buffer): Buffer {
  return sha1(authKey).subarray(12, 20);
}

/** Quick-ack token of a client packet: the first 32 bits of its msg_key_large, top bit set. */
export function quickAckToken(msgKeyLarge: Buffer): number {
  return (msgKeyLarge.readUInt32LE(0) | 0x80000000) >>> 0;
}
