/**
 * Creating an authorization key (MTProto "Creating an Authorization Key"), server side, for one
 * connection: req_pq_multi/req_pq → resPQ; req_DH_params → server_DH_params_ok;
 * set_client_DH_params → dh_gen_ok / dh_gen_retry / dh_gen_fail. Permanent and temporary keys
 * (p_q_inner_data_temp*). Every check the spec lists; a failed check ends the exchange (the
 * connection is closed by the caller) without telling which check failed.
 */
import { sha1 } from './crypto/hash';
import { randomBytes } from 'node:crypto';
import { igeDecrypt, igeEncrypt } from './crypto/aes-ige';
import {
  DH_G,
  DH_PRIME,
  bigintFromBytes,
  bigintToBytes,
  inSafeRange,
  dhSharedKey,
  newDhSecret,
  newPq,
} from './crypto/dh';
import { decryptInnerData, type ServerRsaKey } from './crypto/rsa';
import type { TlObject } from './tl-types';

export class HandshakeError extends Error {
  override readonly name = 'HandshakeError';
}

/** A finished exchange: the new key and what the client asked for it. */
export interface NewAuthKey {
  authKey: Buffer;
  authKeyId: bigint;
  /** Temporary keys (PFS) expire; permanent ones have expiresAt 0. */
  temporary: boolean;
  expiresAt: number;
  /** The DC the client meant (from p_q_inner_data_dc); negative for test/media DCs. */
  dc: number | undefined;
  /** The first server salt: new_nonce[0..8) ⊕ server_nonce[0..8). */
  firstSalt: bigint;
}

/** What the handshake needs from outside: the RSA key, the TL codec, and key storage. */
export interface HandshakeDeps {
  rsa: ServerRsaKey;
  decode(body: Buffer): TlObject;
  encode(obj: TlObject): Buffer;
  /**
   * Stores the key; resolves 'created', or 'exists' when the id is already taken (then the client
   * is told dh_gen_retry and tries another g_b).
   */
  saveKey(key: NewAuthKey): Promise<'created' | 'exists'>;
  /** This DC's id, checked against p_q_inner_data_dc's dc. */
  dcId: number;
}

/** Longest lifetime a temporary key may ask for (a day; clients use ~1 day or less). */
const MAX_TEMP_KEY_SECONDS = 24 * 60 * 60 * 2;
/** How many dh_gen_retry answers one exchange may get before it fails. */
const MAX_RETRIES = 5;

type Stage =
  | { at: 'start' }
  | { at: 'pq'; nonce: Buffer; serverNonce: Buffer; p: bigint; q: bigint; pq: bigint }
  | {
      at: 'dh';
      nonce: Buffer;
      serverNonce: Buffer;
      newNonce: Buffer;
      a: bigint;
      temporary: boolean;
      expiresIn: number;
      dc: number | undefined;
      retries: number;
      lastKeyAuxHash?: Buffer;
    }
  | { at: 'done' };

const asBuf = (v: unknown, len: number, what: string): Buffer => {
  if (!Buffer.isBuffer(v) || v.length !== len) throw new HandshakeError(`${what} malformed`);
  return v;
};

export class Handshake {
  private stage: Stage = { at: 'start' };

  constructor(private readonly deps: HandshakeDeps) {}

  get finished(): boolean {
    return this.stage.at === 'done';
  }

  /** Handles one unencrypted message body; returns the answer body. */
  async handle(body: Buffer): Promise<Buffer> {
    const req = this.deps.decode(body);
    switch (req._) {
      case 'req_pq_multi':
      case 'req_pq':
        return this.deps.encode(this.onReqPq(req));
      case 'req_DH_params':
        return this.deps.encode(this.onReqDhParams(req));
      case 'set_client_DH_params':
        return this.deps.encode(await this.onSetClientDhParams(req));
      default:
        throw new HandshakeError(`unexpected ${req._} during key exchange`);
    }
  }

  private onReqPq(req: TlObject): TlObject {
    // A client may restart the exchange on the same connection; anything further along is dropped.
    const nonce = asBuf(req.nonce, 16, 'nonce');
    const serverNonce = randomBytes(16);
    const { p, q, pq } = newPq();
    this.stage = { at: 'pq', nonce, serverNonce, p, q, pq };
    return {
      _: 'resPQ',
      nonce,
      server_nonce: serverNonce,
      pq: bigintToBytes(pq),
      server_public_key_fingerprints: [this.deps.rsa.fingerprint],
    };
  }

  private onReqDhParams(req: TlObject): TlObject {
    const s = this.stage;
    if (s.at !== 'pq') throw new HandshakeError('req_DH_params out of order');
    if (
      !asBuf(req.nonce, 16, 'nonce').equals(s.nonce) ||
      !asBuf(req.server_nonce, 16, 'server_nonce').equals(s.serverNonce)
    )
      throw new HandshakeError('nonce mismatch');
    if (req.public_key_fingerprint !== this.deps.rsa.fingerprint)
      throw new HandshakeError('unknown RSA key fingerprint');
    const encrypted = req.encrypted_data;
    if (!Buffer.isBuffer(encrypted)) throw new HandshakeError('encrypted_data malformed');
    const innerBytes = decryptInnerData(this.deps.rsa, encrypted);
    if (!innerBytes) throw new HandshakeError('encrypted_data does not decrypt');
    const inner = this.deps.decode(innerBytes);
    if (
      !['p_q_inner_data', 'p_q_inner_data_dc', 'p_q_inner_data_temp', 'p_q_inner_data_temp_dc'].includes(
        inner._,
      )
    )
      throw new HandshakeError(`unexpected ${inner._}`);
    if (
      !asBuf(inner.nonce, 16, 'inner nonce').equals(s.nonce) ||
      !asBuf(inner.server_nonce, 16, 'inner server_nonce').equals(s.serverNonce)
    )
      throw new HandshakeError('inner nonce mismatch');
    const p = bigintFromBytes(asBytes(req.p)),
      q = bigintFromBytes(asBytes(req.q));
    if (
      p !== s.p ||
      q !== s.q ||
      bigintFromBytes(asBytes(inner.p)) !== s.p ||
      bigintFromBytes(asBytes(inner.q)) !== s.q ||
      bigintFromBytes(asBytes(inner.pq)) !== s.pq
    )
      throw new HandshakeError('p, q do not match pq');
    const newNonce = asBuf(inner.new_nonce, 32, 'new_nonce');
    const temporary = inner._ === 'p_q_inner_data_temp' || inner._ === 'p_q_inner_data_temp_dc';
    const expiresIn = temporary ? Number(inner.expires_in) : 0;
    if (temporary && !(expiresIn > 0 && expiresIn <= MAX_TEMP_KEY_SECONDS))
      throw new HandshakeError('expires_in out of range');
    const dc = typeof inner.dc === 'number' ? inner.dc : undefined;
    if (dc !== undefined && Math.abs(dc) % 10000 !== this.deps.dcId)
      throw new HandshakeError(`key exchange for DC ${dc} reached DC ${this.deps.dcId}`);

    const { a, gA } = newDhSecret();
    const answer = this.deps.encode({
      _: 'server_DH_inner_data',
      nonce: s.nonce,
      server_nonce: s.serverNonce,
      g: DH_G,
      dh_prime: bigintToBytes(DH_PRIME, 256),
      g_a: bigintToBytes(gA, 256),
      server_time: Math.floor(Date.now() / 1000),
    });
    const withHash = Buffer.concat([sha1(answer), answer]);
    const padded = Buffer.concat([withHash, randomBytes((16 - (withHash.length % 16)) % 16)]);
    const { key, iv } = tmpAesKeyIv(newNonce, s.serverNonce);
    this.stage = {
      at: 'dh',
      nonce: s.nonce,
      serverNonce: s.serverNonce,
      newNonce,
      a,
      temporary,
      expiresIn,
      dc,
      retries: 0,
    };
    return {
      _: 'server_DH_params_ok',
      nonce: s.nonce,
      server_nonce: s.serverNonce,
      encrypted_answer: igeEncrypt(padded, key, iv),
    };
  }

  private async onSetClientDhParams(req: TlObject): Promise<TlObject> {
    const s = this.stage;
    if (s.at !== 'dh') throw new HandshakeError('set_client_DH_params out of order');
    if (
      !asBuf(req.nonce, 16, 'nonce').equals(s.nonce) ||
      !asBuf(req.server_nonce, 16, 'server_nonce').equals(s.serverNonce)
    )
      throw new HandshakeError('nonce mismatch');
    const encrypted = req.encrypted_data;
    if (!Buffer.isBuffer(encrypted) || encrypted.length % 16 !== 0 || encrypted.length < 32)
      throw new HandshakeError('encrypted_data malformed');
    const { key, iv } = tmpAesKeyIv(s.newNonce, s.serverNonce);
    const plain = igeDecrypt(encrypted, key, iv);
    const hash = plain.subarray(0, 20);
    const inner = this.deps.decode(plain.subarray(20));
    if (inner._ !== 'client_DH_inner_data') throw new HandshakeError(`unexpected ${inner._}`);
    const innerLength = this.deps.encode(inner).length;
    if (!sha1(plain.subarray(20, 20 + innerLength)).equals(hash))
      throw new HandshakeError('client_DH_inner_data hash mismatch');
    if (
      !asBuf(inner.nonce, 16, 'nonce').equals(s.nonce) ||
      !asBuf(inner.server_nonce, 16, 'server_nonce').equals(s.serverNonce)
    )
      throw new HandshakeError('inner nonce mismatch');
    // retry_id is 0 on the first attempt, then the auth_key_aux_hash of the key we refused.
    const retryId = BigInt.asUintN(64, BigInt(inner.retry_id as bigint));
    const expectedRetry = s.lastKeyAuxHash ? s.lastKeyAuxHash.readBigUInt64LE(0) : 0n;
    if (retryId !== expectedRetry) throw new HandshakeError('retry_id mismatch');
    const gB = bigintFromBytes(asBytes(inner.g_b));
    if (!inSafeRange(gB)) throw new HandshakeError('g_b out of range');

    const authKey = dhSharedKey(gB, s.a);
    const keyHash = sha1(authKey);
    const auxHash = keyHash.subarray(0, 8);
    const authKeyId = keyHash.readBigInt64LE(12);
    const nonceHash = (n: number) => sha1(s.newNonce, Buffer.from([n]), auxHash).subarray(4, 20);
    const firstSalt = s.newNonce.readBigInt64LE(0) ^ s.serverNonce.readBigInt64LE(0);
    const result = await this.deps.saveKey({
      authKey,
      authKeyId,
      temporary: s.temporary,
      expiresAt: s.temporary ? Math.floor(Date.now() / 1000) + s.expiresIn : 0,
      dc: s.dc,
      firstSalt,
    });
    if (result === 'exists') {
      // An auth_key_id collision: the client must pick another b (dh_gen_retry).
      if (++s.retries > MAX_RETRIES) {
        this.stage = { at: 'done' };
        return {
          _: 'dh_gen_fail',
          nonce: s.nonce,
          server_nonce: s.serverNonce,
          new_nonce_hash3: nonceHash(3),
        };
      }
      s.lastKeyAuxHash = Buffer.from(auxHash);
      return {
        _: 'dh_gen_retry',
        nonce: s.nonce,
        server_nonce: s.serverNonce,
        new_nonce_hash2: nonceHash(2),
      };
    }
    this.stage = { at: 'done' };
    return { _: 'dh_gen_ok', nonce: s.nonce, server_nonce: s.serverNonce, new_nonce_hash1: nonceHash(1) };
  }
}

function asBytes(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  throw new HandshakeError('bytes field malformed');
}

/** tmp_aes_key / tmp_aes_iv from new_nonce and server_nonce (the spec's SHA1 recipe). */
function tmpAesKeyIv(newNonce: Buffer, serverNonce: Buffer): { key: Buffer; iv: Buffer } {
  const a = sha1(newNonce, serverNonce);
  const b = sha1(serverNonce, newNonce);
  const c = sha1(newNonce, newNonce);
  return {
    key: Buffer.concat([a, b.subarray(0, 12)]),
    iv: Buffer.concat([b.subarray(12, 20), c, newNonce.subarray(0, 4)]),
  };
}
