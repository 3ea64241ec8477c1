/**
 * The auth service's login state in its DC's keyspace: phone codes in flight, user profiles of
 * users whose home is this DC, and which user each auth key is logged in as.
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';

export interface PhoneCode {
  hash: string;
  phone: string;
  authKeyId: bigint;
  code: string;
  expiresAt: number;
  attempts: number;
  verified: boolean;
}

export interface UserProfile {
  userId: bigint;
  accessHash: bigint;
  phone: string;
  firstName: string;
  lastName: string;
  username: string;
}

export class LoginStore {
  constructor(private readonly db: Client) {}

  async saveCode(c: PhoneCode, ttlSeconds: number): Promise<void> {
    await this.db.execute(
      'INSERT INTO phone_codes (phone_code_hash, phone, auth_key_id, code, expires_at, attempts, verified) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?',
      [c.hash, c.phone, toLong(c.authKeyId), c.code, c.expiresAt, c.attempts, c.verified, ttlSeconds],
      { prepare: true },
    );
  }

  async code(hash: string): Promise<PhoneCode | undefined> {
    const row = (
      await this.db.execute('SELECT * FROM phone_codes WHERE phone_code_hash = ?', [hash], { prepare: true })
    ).first();
    if (!row) return undefined;
    return {
      hash,
      phone: row.get('phone') as string,
      authKeyId: fromLong(row.get('auth_key_id')),
      code: row.get('code') as string,
      expiresAt: row.get('expires_at') as number,
      attempts: row.get('attempts') as number,
      verified: (row.get('verified') as boolean | null) ?? false,
    };
  }

  /** Counts a failed attempt (keeping the row's expiry); returns the new count. */
  async failedAttempt(c: PhoneCode, nowSeconds: number): Promise<number> {
    const next = c.attempts + 1;
    await this.saveCode({ ...c, attempts: next }, Math.max(1, c.expiresAt - nowSeconds));
    return next;
  }

  async deleteCode(hash: string): Promise<void> {
    await this.db.execute('DELETE FROM phone_codes WHERE phone_code_hash = ?', [hash], { prepare: true });
  }

  async saveProfile(p: UserProfile): Promise<void> {
    await this.db.execute(
      'INSERT INTO users (user_id, access_hash, phone, first_name, last_name, username, created_at) VALUES (?, ?, ?, ?, ?, ?, toTimestamp(now()))',
      [toLong(p.userId), toLong(p.accessHash), p.phone, p.firstName, p.lastName, p.username],
      { prepare: true },
    );
  }

  async profile(userId: bigint): Promise<UserProfile | undefined> {
    const row = (
      await this.db.execute('SELECT * FROM users WHERE user_id = ?', [toLong(userId)], { prepare: true })
    ).first();
    if (!row) return undefined;
    return {
      userId,
      accessHash: fromLong(row.get('access_hash')),
      phone: (row.get('phone') as string | null) ?? '',
      firstName: (row.get('first_name') as string | null) ?? '',
      lastName: (row.get('last_name') as string | null) ?? '',
      username: (row.get('username') as string | null) ?? '',
    };
  }

  async bindKey(
    authKeyId: bigint,
    userId: bigint,
    client: { apiId: number; deviceModel: string; systemVersion: string; appVersion: string },
    clientIp: string,
  ): Promise<void> {
    await this.db.execute(
      'INSERT INTO auth_key_users (auth_key_id, user_id, api_id, device_model, system_version, app_version, client_ip, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, toTimestamp(now()))',
      [
        toLong(authKeyId),
        toLong(userId),
        client.apiId,
        client.deviceModel,
        client.systemVersion,
        client.appVersion,
        clientIp,
      ],
      { prepare: true },
    );
  }

  async keyUser(authKeyId: bigint): Promise<bigint> {
    const row = (
      await this.db.execute('SELECT user_id FROM auth_key_users WHERE auth_key_id = ?', [toLong(authKeyId)], {
        prepare: true,
      })
    ).first();
    return row ? fromLong(row.get('user_id')) : 0n;
  }
}
