/**
 * MTProto packets on the wire, below TL: the unencrypted envelope of the key exchange and the
 * encrypted envelope of everything else (MTProto 2.0: msg_key over the padded plaintext,
 * AES-256-IGE with keys derived from auth_key and msg_key).
 */
import { randomFillSync } from 'node:crypto';
import { igeDecrypt, igeEncrypt } from './crypto/aes-ige';
import { messageAesKeyIv, messageKey, messageKeyLarge, quickAckToken } from './crypto/message-keys';

export const UNENCRYPTED_KEY_ID = 0n;

/** The first 8 bytes of every packet: 0 for unencrypted ones, else the auth key's id. */
export function packetAuthKeyId(packet: Buffer): bigint | undefined {
  return packet.length >= 8 ? packet.readBigInt64LE(0) : undefined;
}

export interface UnencryptedMessage {
  msgId: bigint;
  body: Buffer;
}

export function parseUnencrypted(packet: Buffer): UnencryptedMessage | undefined {
  if (packet.length < 20) return undefined;
  const len = packet.readUInt32LE(16);
  if (len > packet.length - 20) return undefined;
  return { msgId: packet.readBigInt64LE(8), body: packet.subarray(20, 20 + len) };
}

export function buildUnencrypted(msgId: bigint, body: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.writeBigInt64LE(msgId, 8);
  head.writeUInt32LE(body.length, 16);
  return Buffer.concat([head, body]);
}

/** A decrypted client message: the header fields and the TL body. */
export interface DecryptedMessage {
  salt: bigint;
  sessionId: bigint;
  msgId: bigint;
  seqNo: number;
  body: Buffer;
  /** What a quick ack of this packet carries. */
  quickAckToken: number;
}

/**
 * Decrypts a client packet under `authKey`. Every failure — short packet, length not a multiple of
 * 16, msg_key mismatch, bad inner length or padding — returns the same undefined, so that the
 * reaction cannot tell an attacker which check failed (security guidelines). msg_key is
 * verified over the whole plaintext before any field of it is used.
 */
export function decryptClientMessage(received: Buffer, authKey: Buffer): DecryptedMessage | undefined {
  // The padded intermediate transport appends 0..15 random bytes after the packet.
  const packet = received.subarray(0, 24 + Math.floor((received.length - 24) / 16) * 16);
  if (packet.length < 8 + 16 + 32) return undefined;
  const msgKey = packet.subarray(8, 24);
  const { key, iv } = messageAesKeyIv(authKey, msgKey, 'client');
  const plain = igeDecrypt(packet.subarray(24), key, iv);
  const large = messageKeyLarge(authKey, plain, 'client');
  if (!large.subarray(8, 24).equals(msgKey)) return undefined;
  const len = plain.readUInt32LE(28);
  const padding = plain.length - 32 - len;
  if (len % 4 !== 0 || padding < 12 || padding > 1024) return undefined;
  return {
    salt: plain.readBigInt64LE(0),
    sessionId: plain.readBigInt64LE(8),
    msgId: plain.readBigInt64LE(16),
    seqNo: plain.readUInt32LE(24),
    body: plain.subarray(32, 32 + len),
    quickAckToken: quickAckToken(large),
  };
}

/** The length of the 32 bytes before an MTProto 2.0 message body (the same in both directions). */
const PLAIN_HEAD = 32;

/**
 * Writes the 32 bytes before a message body at the start of `into`: salt, session id, msg_id,
 * seqno and the body's length.
 */
function writePlaintextHead(
  into: Buffer,
  m: { salt: bigint; sessionId: bigint; msgId: bigint; seqNo: number; body: Buffer },
): void {
  into.writeBigInt64LE(m.salt, 0);
  into.writeBigInt64LE(m.sessionId, 8);
  into.writeBigInt64LE(m.msgId, 16);
  into.writeUInt32LE(m.seqNo, 24);
  into.writeUInt32LE(m.body.length, 28);
}

/** Plaintexts up to this size are written into one buffer the process reuses (below). */
const REUSED_PLAINTEXT_MAX = 1024 * 1024 + 4096;
let reusedPlaintext = Buffer.alloc(0);

/**
 * Room for a plaintext of `n` bytes. The plaintext lives only while encryptMessage runs (it is
 * hashed for msg_key, then encrypted into the packet, both synchronously), so one buffer serves
 * every message: a download's 1 MiB answers would otherwise allocate 1 MiB each, and fresh
 * buffers outside the JavaScript heap are what makes V8 collect garbage more often.
 */
function plaintextBuffer(n: number): Buffer {
  if (n > REUSED_PLAINTEXT_MAX) return Buffer.allocUnsafe(n);
  if (reusedPlaintext.length < n) reusedPlaintext = Buffer.allocUnsafe(Math.max(n, 64 * 1024));
  return reusedPlaintext.subarray(0, n);
}

/**
 * Encrypts a message as `side` sends it (random padding of 12..1024 bytes, to a multiple of 16):
 * the gateway encrypts as the server; the load generator (tools/load) as a client. The body is
 * copied once, into the plaintext, and the ciphertext is written straight into the packet: a
 * download's 1 MiB answers pass through here.
 */
export function encryptMessage(
  authKey: Buffer,
  authKeyIdBytes: Buffer,
  m: { salt: bigint; sessionId: bigint; msgId: bigint; seqNo: number; body: Buffer },
  side: 'server' | 'client',
): Buffer {
  const unpadded = PLAIN_HEAD + m.body.length;
  let padding = 16 - (unpadded % 16);
  if (padding < 12) padding += 16;
  const plain = plaintextBuffer(unpadded + padding);
  writePlaintextHead(plain, m);
  m.body.copy(plain, PLAIN_HEAD);
  randomFillSync(plain, unpadded, padding);
  const msgKey = messageKey(authKey, plain, side);
  const { key, iv } = messageAesKeyIv(authKey, msgKey, side);
  const packet = Buffer.allocUnsafe(24 + plain.length);
  authKeyIdBytes.copy(packet, 0);
  msgKey.copy(packet, 8);
  igeEncrypt(plain, key, iv, packet.subarray(24));
  return packet;
}

/** Encrypts a server message: {@link encryptMessage} as the server. */
export function encryptServerMessage(
  authKey: Buffer,
  authKeyIdBytes: Buffer,
  m: { salt: bigint; sessionId: bigint; msgId: bigint; seqNo: number; body: Buffer },
): Buffer {
  return encryptMessage(authKey, authKeyIdBytes, m, 'server');
}
