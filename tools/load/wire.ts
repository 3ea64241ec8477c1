/**
 * The client side of MTProto 2.0's encrypted envelope, the mirror of the gateway's envelope.ts
 * (which only decrypts client packets and encrypts server ones): encrypt what a client sends,
 * decrypt what a server sends. Built from the gateway's own key derivation and AES-256-IGE.
 */
import { igeDecrypt } from '../../services/gateway/src/mtproto/crypto/aes-ige';
import { encryptMessage } from '../../services/gateway/src/mtproto/envelope';
import { messageAesKeyIv, messageKeyLarge } from '../../services/gateway/src/mtproto/crypto/message-keys';

/** The header fields and body of one message in either direction. */
export interface PlainMessage {
  salt: bigint;
  sessionId: bigint;
  msgId: bigint;
  seqNo: number;
  body: Buffer;
}

/** Encrypts a client message under `authKey` (whose id is `authKeyIdBytes`). */
export function encryptClientMessage(authKey: Buffer, authKeyIdBytes: Buffer, m: PlainMessage): Buffer {
  return encryptMessage(authKey, authKeyIdBytes, m, 'client');
}

/**
 * Decrypts a server packet under `authKey`; undefined when it does not verify (wrong key id,
 * msg_key mismatch, bad length), which a client treats as a broken connection.
 */
export function decryptServerMessage(
  packet: Buffer,
  authKey: Buffer,
  authKeyIdBytes: Buffer,
): PlainMessage | undefined {
  if (packet.length < 8 + 16 + 32 || (packet.length - 24) % 16 !== 0) return undefined;
  if (!packet.subarray(0, 8).equals(authKeyIdBytes)) return undefined;
  const msgKey = packet.subarray(8, 24);
  const { key, iv } = messageAesKeyIv(authKey, msgKey, 'server');
  const plain = igeDecrypt(packet.subarray(24), key, iv);
  if (!messageKeyLarge(authKey, plain, 'server').subarray(8, 24).equals(msgKey)) return undefined;
  const len = plain.readUInt32LE(28);
  if (len % 4 !== 0 || 32 + len > plain.length) return undefined;
  return {
    salt: plain.readBigInt64LE(0),
    sessionId: plain.readBigInt64LE(8),
    msgId: plain.readBigInt64LE(16),
    seqNo: plain.readUInt32LE(24),
    body: plain.subarray(32, 32 + len),
  };
}

/** Client msg_ids: time-based, ≡ 0 mod 4, strictly increasing within one session. */
export class ClientMsgIds {
  private last = 0n;
  next(nowMs: number = Date.now()): bigint {
    const sec = BigInt(Math.floor(nowMs / 1000));
    const frac = BigInt(Math.floor(nowMs % 1000)) * 4294967n; // 2^32 / 1000
    let id = ((sec << 32n) | frac) & ~3n;
    if (id <= this.last) id = this.last + 4n;
    this.last = id;
    return id;
  }
}
