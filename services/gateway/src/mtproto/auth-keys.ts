/**
 * Auth keys as the engine finds them: cached in the process's SessionStore, loaded from the DC's
 * auth service (the KeyStore) on a miss, saved there by the key exchange. The gateway keeps no
 * key of its own, so any replica of the DC can serve a client whose key another one made.
 */
import { authKeyId as computeAuthKeyId } from './crypto/message-keys';
import type { NewAuthKey } from './handshake';
import type { AuthKeyEntry, SessionStore } from './sessions';

/** Where auth keys live (the DC's auth service: ../backend/key-store.ts). */
export interface KeyStore {
  load(
    id: bigint,
  ): Promise<
    { key: Buffer; temporary: boolean; expiresAt: number; permAuthKeyId?: bigint; layer?: number } | undefined
  >;
  /** Keeps the layer a client announced on key `id`, for every later connection to any gateway. */
  saveLayer(id: bigint, layer: number): Promise<void>;
  save(key: NewAuthKey): Promise<'created' | 'exists'>;
  /** destroy_auth_key: forgets the key and its login; false when it was unknown. */
  destroy(id: bigint): Promise<boolean>;
}

/** How long the key exchange's first salt stays valid. */
const FIRST_SALT_VALID_MS = 30 * 60 * 1000;

export class AuthKeys {
  constructor(
    private readonly store: KeyStore,
    private readonly sessions: SessionStore,
  ) {}

  /** The key a packet names; undefined when unknown or a temporary key past its expiry. */
  async find(id: bigint): Promise<AuthKeyEntry | undefined> {
    let entry = this.sessions.getKey(id);
    if (!entry) {
      const stored = await this.store.load(id);
      if (!stored) return undefined;
      entry = {
        id,
        idBytes: computeAuthKeyId(stored.key),
        key: stored.key,
        temporary: stored.temporary,
        expiresAt: stored.expiresAt,
        permAuthKeyId: stored.permAuthKeyId,
        ...(stored.layer ? { layer: stored.layer } : {}),
      };
      this.sessions.putKey(entry);
    }
    if (entry.temporary && entry.expiresAt > 0 && entry.expiresAt < Date.now() / 1000) {
      this.sessions.dropKey(id);
      return undefined;
    }
    return entry;
  }

  /**
   * Stores a key the exchange made. A new one is cached at once with the exchange's first salt,
   * which the client uses before it has learnt a derived one.
   */
  async save(k: NewAuthKey): Promise<'created' | 'exists'> {
    const result = await this.store.save(k);
    if (result === 'created')
      this.sessions.putKey({
        id: k.authKeyId,
        idBytes: computeAuthKeyId(k.authKey),
        key: k.authKey,
        temporary: k.temporary,
        expiresAt: k.expiresAt,
        firstSalt: { salt: k.firstSalt, until: Date.now() + FIRST_SALT_VALID_MS },
      });
    return result;
  }

  /**
   * The client announced `layer` on `entry` (invokeWithLayer): kept at once for this process, and
   * stored when it changed, since clients announce it once per key and reconnect to any gateway.
   */
  async announceLayer(entry: AuthKeyEntry, layer: number): Promise<void> {
    if (entry.layer === layer) return;
    entry.layer = layer;
    await this.store.saveLayer(entry.id, layer);
  }

  /** destroy_auth_key: the auth service deletes the key and its login; false when it was unknown. */
  destroy(id: bigint): Promise<boolean> {
    return this.store.destroy(id);
  }

  /** Forgets a key here (destroyed, through this process or another). */
  drop(id: bigint): void {
    this.sessions.dropKey(id);
  }
}
