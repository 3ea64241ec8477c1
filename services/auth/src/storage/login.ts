/**
 * The auth service's login state in its DC's keyspace: phone codes in flight, user profiles of
 * users whose home is this DC (logins are in authorizations.ts).
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';
import { UserProfilePhoto } from '../../../shared/src/gen/tern/common/v1/user';

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
  about: string;
  /** Set while MoveUser copies the user to that DC: writes here are refused meanwhile. */
  movingTo?: number;
  /** The current profile photo (a copy of the first of profile_photos); unset without one. */
  photo?: UserProfilePhoto;
}

/** How long a code lives unless the deployment says otherwise (TERN_AUTH_CODE_TTL_SECONDS). */
export const DEFAULT_CODE_TTL_SECONDS = 300;

export class LoginStore {
  /**
   * @param codeTtlSeconds the deployment's code lifetime: no code is kept, or accepted, longer
   *   than this after it is saved, whatever lifetime the caller asks for (the login handlers ask
   *   for the protocol's 5 minutes; a deployment may shorten it, the local stack does for tests).
   */
  constructor(
    private readonly db: Client,
    private readonly codeTtlSeconds = DEFAULT_CODE_TTL_SECONDS,
  ) {}

  /**
   * Saves a code for `ttlSeconds` (a new code's full lifetime, or what an existing one has left),
   * capped at the deployment's code lifetime: both the row's TTL and the `expiresAt` the handlers
   * check, so an expired code is PHONE_CODE_EXPIRED even before Cassandra drops the row.
   */
  async saveCode(c: PhoneCode, ttlSeconds: number): Promise<void> {
    const now = Math.floor(Date.now() / 1000);
    const ttl = Math.max(1, Math.min(ttlSeconds, this.codeTtlSeconds));
    const expiresAt = Math.min(c.expiresAt, now + ttl);
    await this.db.execute(
      'INSERT INTO phone_codes (phone_code_hash, phone, auth_key_id, code, expires_at, attempts, verified) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?',
      [c.hash, c.phone, toLong(c.authKeyId), c.code, expiresAt, c.attempts, c.verified, ttl],
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

  /** Records a code sent to `phone` (auth.sendCode / resendCode) for the flood limit. */
  async recordCodeRequest(phone: string): Promise<void> {
    await this.db.execute('INSERT INTO code_requests (phone, requested_at) VALUES (?, now())', [phone], {
      prepare: true,
    });
  }

  /** Unix seconds of the codes sent to `phone` in the last hour (rows expire after it), oldest first. */
  async recentCodeRequests(phone: string): Promise<number[]> {
    const rs = await this.db.execute(
      'SELECT toUnixTimestamp(requested_at) AS at FROM code_requests WHERE phone = ?',
      [phone],
      { prepare: true },
    );
    return rs.rows.map((r) => Math.floor(Number(r.get('at')) / 1000)).sort((a, b) => a - b);
  }

  async deleteCode(hash: string): Promise<void> {
    await this.db.execute('DELETE FROM phone_codes WHERE phone_code_hash = ?', [hash], { prepare: true });
  }

  async saveProfile(p: UserProfile): Promise<void> {
    await this.db.execute(
      'INSERT INTO users (user_id, access_hash, phone, first_name, last_name, username, about, moving_to, current_photo, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, null, ?, toTimestamp(now()))',
      [
        toLong(p.userId),
        toLong(p.accessHash),
        p.phone,
        p.firstName,
        p.lastName,
        p.username,
        p.about,
        p.photo ? Buffer.from(UserProfilePhoto.encode(p.photo).finish()) : null,
      ],
      { prepare: true },
    );
  }

  /**
   * Changes profile fields, unless a move of the user is under way (a lightweight transaction, so
   * a write cannot slip in after MoveUser froze and copied the row). Returns false when refused.
   */
  async updateProfile(
    userId: bigint,
    change: Partial<Pick<UserProfile, 'firstName' | 'lastName' | 'about' | 'username'>>,
  ): Promise<boolean> {
    const columns: Record<string, string | undefined> = {
      first_name: change.firstName,
      last_name: change.lastName,
      about: change.about,
      username: change.username,
    };
    const set = Object.entries(columns).filter(([, v]) => v !== undefined);
    if (set.length === 0) return true;
    const rs = await this.db.execute(
      `UPDATE users SET ${set.map(([c]) => `${c} = ?`).join(', ')} WHERE user_id = ? IF phone != null AND moving_to = null`,
      [...set.map(([, v]) => v), toLong(userId)],
      { prepare: true },
    );
    return rs.first().get('[applied]') === true;
  }

  /**
   * Shows `photo` as the user's current profile photo (none when undefined), unless a move is under
   * way, like updateProfile. Returns false when refused.
   */
  async setCurrentPhoto(userId: bigint, photo: UserProfilePhoto | undefined): Promise<boolean> {
    const rs = await this.db.execute(
      'UPDATE users SET current_photo = ? WHERE user_id = ? IF phone != null AND moving_to = null',
      [photo ? Buffer.from(UserProfilePhoto.encode(photo).finish()) : null, toLong(userId)],
      { prepare: true },
    );
    return rs.first().get('[applied]') === true;
  }

  /** Marks the user as being moved (MoveUser's freeze step); false when the row is gone. */
  async freeze(userId: bigint, targetDc: number): Promise<boolean> {
    const rs = await this.db.execute(
      'UPDATE users SET moving_to = ? WHERE user_id = ? IF EXISTS',
      [targetDc, toLong(userId)],
      {
        prepare: true,
      },
    );
    return rs.first().get('[applied]') === true;
  }

  /** Deletes the profile (MoveUser's cleanup step, on the DC the user left). */
  async deleteProfile(userId: bigint): Promise<void> {
    await this.db.execute('DELETE FROM users WHERE user_id = ?', [toLong(userId)], { prepare: true });
  }

  async profile(userId: bigint): Promise<UserProfile | undefined> {
    const row = (
      await this.db.execute('SELECT * FROM users WHERE user_id = ?', [toLong(userId)], { prepare: true })
    ).first();
    if (!row) return undefined;
    const photo = row.get('current_photo') as Buffer | null;
    return {
      userId,
      accessHash: fromLong(row.get('access_hash')),
      phone: (row.get('phone') as string | null) ?? '',
      firstName: (row.get('first_name') as string | null) ?? '',
      lastName: (row.get('last_name') as string | null) ?? '',
      username: (row.get('username') as string | null) ?? '',
      about: (row.get('about') as string | null) ?? '',
      movingTo: (row.get('moving_to') as number | null) ?? undefined,
      ...(photo ? { photo: UserProfilePhoto.decode(photo) } : {}),
    };
  }
}
