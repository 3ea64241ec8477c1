/**
 * exported_authorizations (this DC's keyspace): tokens of auth.exportAuthorization.
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';

export class ExportStore {
  constructor(private readonly db: Client) {}

  async save(
    token: Buffer,
    userId: bigint,
    sourceAuthKeyId: bigint,
    targetDc: number,
    expiresAt: number,
    ttlSeconds: number,
  ): Promise<void> {
    await this.db.execute(
      'INSERT INTO exported_authorizations (export_token, user_id, source_auth_key_id, target_dc, expires_at, used) VALUES (?, ?, ?, ?, ?, false) USING TTL ?',
      [token, toLong(userId), toLong(sourceAuthKeyId), targetDc, expiresAt, ttlSeconds],
      { prepare: true },
    );
  }

  /** Marks the token used, once: the first caller gets its row, everyone else undefined. */
  async consume(
    token: Buffer,
  ): Promise<{ userId: bigint; sourceAuthKeyId: bigint; targetDc: number; expiresAt: number } | undefined> {
    const rs = await this.db.execute(
      'UPDATE exported_authorizations SET used = true WHERE export_token = ? IF used = false',
      [token],
      { prepare: true },
    );
    if (rs.first().get('[applied]') !== true) return undefined;
    const row = (
      await this.db.execute(
        'SELECT user_id, source_auth_key_id, target_dc, expires_at FROM exported_authorizations WHERE export_token = ?',
        [token],
        { prepare: true },
      )
    ).first();
    return row
      ? {
          userId: fromLong(row.get('user_id')),
          sourceAuthKeyId: fromLong(row.get('source_auth_key_id')),
          targetDc: row.get('target_dc') as number,
          expiresAt: row.get('expires_at') as number,
        }
      : undefined;
  }
}
