/**
 * MTProto 1.0 message encryption, still used for one thing: the encrypted_message of
 * auth.bindTempAuthKey, which the client encrypts with its permanent key this way.
 * msg_key = SHA1(plaintext without padding)[4..20); keys from SHA1 over auth_key slices (x = 0).
 */
import { sha1 } from './hash';
import { igeDecrypt } from './aes-ige';

function keyIv(authKey: Buffer, msgKey: Buffer): { key: Buffer; iv: Buffer } {
  const a = sha1(msgKey, authKey.subarray(0, 32));
  const b = sha1(authKey.subarray(32, 48), msgKey, authKey.subarray(48, 64));
  const c = sha1(authKey.subarray(64, 96), msgKey);
  const d = sha1(msgKey, authKey.subarray(96, 128));
  return {
    key: Buffer.concat([a.subarray(0, 8), b.subarray(8, 20), c.subarray(4, 16)]),
    iv: Buffer.concat([a.subarray(8, 20), b.subarray(0, 8), c.subarray(16, 20), d.subarray(0, 8)]),
  };
}

/** A decrypted MTProto 1.0 message: its msg_id and body, or undefined when any check fails. */
export function decryptV1(
  authKey: Buffer,
  authKeyIdBytes: Buffer,
  packet: Buffer,
): { msgId: bigint; body: Buffer } | undefined {
  if (packet.length < 24 + 32 || (packet.length - 24) % 16 !== 0) return undefined;
  if (!packet.subarray(0, 8).equals(authKeyIdBytes)) return undefined;
  const msgKey = packet.subarray(8, 24);
  const { key, iv } = keyIv(authKey, msgKey);
  const plain = igeDecrypt(packet.subarray(24), key, iv);
  const len = plain.readUInt32LE(28);
  if (len > plain.length - 32 || plain.length - 32 - len > 15) return undefined;
  if (
    !sha1(plain.subarray(0, 32 + len))
      .subarray(4, 20)
      .equals(msgKey)
  )
    return undefined;
  return { msgId: plain.readBigInt64LE(16), body: plain.subarray(32, 32 + len) };
}
