/**
 * The deployment's RSA key as MTProto uses it: its fingerprint (how clients name the key they
 * encrypted with) and the decryption of req_DH_params' encrypted_data, in both encodings
 * clients send: RSA_PAD (current clients) and the legacy SHA1-prefixed one.
 */
import { sha1, sha256 } from './hash';
import { constants, createPublicKey, privateDecrypt, type KeyObject } from 'node:crypto';
import { igeDecrypt } from './aes-ige';
import { bigintFromBytes } from './dh';
import { tlBytes } from '../wire';

/** A server RSA key with what the handshake needs of it. */
export interface ServerRsaKey {
  readonly privateKey: KeyObject;
  /** The fingerprint as a signed 64-bit integer, as TL `long` carries it. */
  readonly fingerprint: bigint;
  readonly modulus: bigint;
  /** PKCS#1 PEM of the public half (what client builds embed). */
  readonly publicPem: string;
}

/** The key's fingerprint: the low 64 bits of SHA1 over TL-serialized n and e. */
export function rsaFingerprint(publicKey: KeyObject): bigint {
  const jwk = publicKey.export({ format: 'jwk' });
  const n = Buffer.from(jwk.n ?? '', 'base64url');
  const e = Buffer.from(jwk.e ?? '', 'base64url');
  return sha1(tlBytes(n), tlBytes(e)).readBigInt64LE(12);
}

export function serverRsaKey(privateKey: KeyObject): ServerRsaKey {
  const pub = createPublicKey(privateKey);
  const n = Buffer.from(pub.export({ format: 'jwk' }).n ?? '', 'base64url');
  return {
    privateKey,
    fingerprint: rsaFingerprint(pub),
    modulus: bigintFromBytes(n),
    publicPem: pub.export({ type: 'pkcs1', format: 'pem' }).toString(),
  };
}

/** Raw RSA decryption of a 256-byte block; undefined when the block is not below the modulus. */
function rsaRaw(key: ServerRsaKey, block: Buffer): Buffer | undefined {
  if (block.length !== 256 || bigintFromBytes(block) >= key.modulus) return undefined;
  return privateDecrypt({ key: key.privateKey, padding: constants.RSA_NO_PADDING }, block);
}

/**
 * Decrypts encrypted_data of req_DH_params. Returns the inner data's bytes (with trailing
 * padding: TL decoding stops at the end of the object) or undefined when neither encoding's
 * checks pass.
 */
export function decryptInnerData(key: ServerRsaKey, encrypted: Buffer): Buffer | undefined {
  const raw = rsaRaw(key, encrypted);
  if (!raw) return undefined;
  return fromRsaPad(raw) ?? fromLegacy(raw);
}

/**
 * RSA_PAD: key_aes_encrypted = temp_key_xor(32) ‖ aes_encrypted(224);
 * temp_key = temp_key_xor ⊕ SHA256(aes_encrypted);
 * aes_encrypted = AES-IGE(reverse(data_with_padding)(192) ‖ SHA256(temp_key ‖ data_with_padding), temp_key, iv=0).
 */
function fromRsaPad(raw: Buffer): Buffer | undefined {
  const tempKeyXor = raw.subarray(0, 32);
  const aesEncrypted = raw.subarray(32);
  const h = sha256(aesEncrypted);
  const tempKey = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) tempKey[i] = tempKeyXor[i]! ^ h[i]!;
  const dataWithHash = igeDecrypt(aesEncrypted, tempKey, Buffer.alloc(32));
  const dataWithPadding = Buffer.from(dataWithHash.subarray(0, 192)).reverse();
  const hash = dataWithHash.subarray(192);
  return sha256(tempKey, dataWithPadding).equals(hash) ? dataWithPadding : undefined;
}

/** Legacy: RSA(SHA1(data) ‖ data ‖ random padding), 255 bytes, so the top byte is zero. */
function fromLegacy(raw: Buffer): Buffer | undefined {
  if (raw[0] !== 0) return undefined;
  const hash = raw.subarray(1, 21);
  const rest = raw.subarray(21);
  // The data's length is not sent: p_q_inner_data variants are at most ~100 bytes; the hash
  // covers exactly the TL object, so try the lengths a TL object can have (multiples of 4).
  for (let len = 4; len <= rest.length; len += 4) {
    if (sha1(rest.subarray(0, len)).equals(hash)) return Buffer.from(rest.subarray(0, len));
  }
  return undefined;
}
