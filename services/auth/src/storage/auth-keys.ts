/**
 * auth_keys table (this DC's keyspace): MTProto authorization keys.
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';

export interface StoredAuthKey {
  authKeyId: bigint;
  authKey: Buffer;
  temporary: boolean;
  /** Unix seconds; 0 for permanent keys. */
  expiresAt: number;
  permAuthKeyId: bigint;
}

export class AuthKeyStore {
  constructor(private readonly db: Client) {}

  /**
   * Inserts a key unless its id exists. Returns 'created', 'same' when the identical key
   * is already stored (a retried call), or 'conflict' when another key has this id.
   */
  async insert(key: StoredAuthKey, nowSeconds: number): Promise<'created' | 'same' | 'conflict'> {
    const ttl = key.temporary && key.expiresAt > nowSeconds ? key.expiresAt - nowSeconds : 0;
    const rs = await this.db.execute(
      `INSERT INTO auth_keys (auth_key_id, auth_key, temporary, expires_at, perm_auth_key_id, created_at)
       VALUES (?, ?, ?, ?, ?, toTimestamp(now())) IF NOT EXISTS USING TTL ?`,
      [toLong(key.authKeyId), key.authKey, key.temporary, key.expiresAt, toLong(key.permAuthKeyId), ttl],
    );
    const row = rs.first();
    if (row.get('[applied]') === true) return 'created';
    const existing = row.get('auth_key') as Buffer | null;
    return existing && existing.equals(key.authKey) ? 'same' : 'conflict';
  }

  /**
   * Binds temporary key `tempId` to permanent key `permId` (auth.bindTempAuthKey), keeping the
   * temporary row's remaining lifetime. 'bound' also when it was already bound to the same key;
   * 'conflict' when bound to another; 'missing' when the temporary key does not exist.
   */
  async bindTemp(
    tempId: bigint,
    permId: bigint,
    nowSeconds: number,
  ): Promise<'bound' | 'conflict' | 'missing'> {
    const temp = await this.get(tempId);
    if (!temp?.temporary) return 'missing';
    const ttl = Math.max(1, temp.expiresAt - nowSeconds);
    const rs = await this.db.execute(
      'UPDATE auth_keys USING TTL ? SET perm_auth_key_id = ? WHERE auth_key_id = ? IF perm_auth_key_id IN (0, ?)',
      [ttl, toLong(permId), toLong(tempId), toLong(permId)],
    );
    return rs.first().get('[applied]') === true ? 'bound' : 'conflict';
  }

  /** The key with `authKeyId`, or undefined. */
  async get(authKeyId: bigint): Promise<StoredAuthKey | undefined> {
    const rs = await this.db.execute(
      'SELECT auth_key_id, auth_key, temporary, expires_at, perm_auth_key_id FROM auth_keys WHERE auth_key_id = ?',
      [toLong(authKeyId)],
    );
    const row = rs.first();
    if (!row) return undefined;
    return {
      authKeyId: fromLong(row.get('auth_key_id')),
      authKey: row.get('auth_key') as Buffer,
      temporary: (row.get('temporary') as boolean | null) ?? false,
      expiresAt: (row.get('expires_at') as number | null) ?? 0,
      permAuthKeyId: fromLong(row.get('perm_auth_key_id')),
    };
  }

  /** Forgets the key (destroy_auth_key), and the layer kept with it. */
  async delete(authKeyId: bigint): Promise<void> {
    await this.db.execute('DELETE FROM auth_keys WHERE auth_key_id = ?', [toLong(authKeyId)], {
      prepare: true,
    });
    await this.db.execute('DELETE FROM auth_key_layers WHERE auth_key_id = ?', [toLong(authKeyId)], {
      prepare: true,
    });
  }

  /** The layer last announced on the key; 0 when none was. */
  async layer(authKeyId: bigint): Promise<number> {
    const row = (
      await this.db.execute('SELECT layer FROM auth_key_layers WHERE auth_key_id = ?', [toLong(authKeyId)], {
        prepare: true,
      })
    ).first();
    return (row?.get('layer') as number | null) ?? 0;
  }

  /** Keeps `layer` with the key; `ttlSeconds` > 0 for a temporary key (its remaining lifetime). */
  async setLayer(authKeyId: bigint, layer: number, ttlSeconds: number): Promise<void> {
    await this.db.execute(
      'INSERT INTO auth_key_layers (auth_key_id, layer) VALUES (?, ?) USING TTL ?',
      [toLong(authKeyId), layer, Math.max(0, ttlSeconds)],
      { prepare: true },
    );
  }
}
