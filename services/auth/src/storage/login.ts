/**
 * The auth service's login state in its DC's keyspace: phone codes in flight, user profiles of
 * users whose home is this DC (logins are in authorizations.ts).
 */
import { types, type Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';
import { UserProfilePhoto } from '../../../shared/src/gen/tern/common/v1/user';
import type { UserPassword } from '../../../shared/src/gen/tern/auth/v1/auth';
import { decodePassword, encodePassword } from './passwords';

export interface PhoneCode {
  hash: string;
  phone: string;
  authKeyId: bigint;
  code: string;
  expiresAt: number;
  verified: boolean;
  /** The user id a signUp with this code claimed (so a retried signUp finishes that account). */
  pendingUserId?: bigint;
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
  /**
   * The two-step verification password (its SRP verifier), unset without one. Read with the
   * profile so a login needs one read; changed only through PasswordStore.replace.
   */
  password?: UserPassword;
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
      'INSERT INTO phone_codes (phone_code_hash, phone, auth_key_id, code, expires_at, verified, pending_user_id) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?',
      [
        c.hash,
        c.phone,
        toLong(c.authKeyId),
        c.code,
        expiresAt,
        c.verified,
        c.pendingUserId === undefined ? null : toLong(c.pendingUserId),
        ttl,
      ],
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
      verified: (row.get('verified') as boolean | null) ?? false,
      ...(row.get('pending_user_id') ? { pendingUserId: fromLong(row.get('pending_user_id')) } : {}),
    };
  }

  /**
   * Counts one check of a code and returns how many checks it has had, this one included. The row
   * is written before the count is read ("record, then count"), so parallel checks each see every
   * check that finished writing before them: of any burst, at most `limit` see a count ≤ `limit`.
   * Reads stop at `limit + 1` rows, which is all a caller needs to refuse.
   */
  async countCodeCheck(c: PhoneCode, nowSeconds: number, limit: number): Promise<number> {
    await this.db.execute(
      'INSERT INTO phone_code_checks (phone_code_hash, check_id) VALUES (?, now()) USING TTL ?',
      [c.hash, Math.max(1, c.expiresAt - nowSeconds)],
      { prepare: true },
    );
    const rs = await this.db.execute(
      'SELECT check_id FROM phone_code_checks WHERE phone_code_hash = ? LIMIT ?',
      [c.hash, limit + 1],
      { prepare: true },
    );
    return rs.rows.length;
  }

  /**
   * Remembers `userId` as the account a signUp with this code creates, unless an earlier or a
   * parallel try remembered one first (a lightweight transaction, once per sign-up). Returns the
   * id that holds the code now.
   */
  async claimPendingUser(c: PhoneCode, userId: bigint, nowSeconds: number): Promise<bigint> {
    const rs = await this.db.execute(
      'UPDATE phone_codes USING TTL ? SET pending_user_id = ? WHERE phone_code_hash = ? IF pending_user_id = null',
      [Math.max(1, c.expiresAt - nowSeconds), toLong(userId), c.hash],
      { prepare: true },
    );
    const row = rs.first();
    if (row.get('[applied]') === true) return userId;
    return fromLong(row.get('pending_user_id'));
  }

  /** Forgets the checks of a code (a resent code starts its tries again). */
  async resetCodeChecks(hash: string): Promise<void> {
    await this.db.execute('DELETE FROM phone_code_checks WHERE phone_code_hash = ?', [hash], {
      prepare: true,
    });
  }

  /**
   * Records a code request for `phone` (auth.sendCode / resendCode) and returns the Unix seconds of
   * the OTHER requests of the last hour, oldest first (rows expire after an hour). Recording first
   * makes parallel requests count each other (see countCodeCheck); a caller that refuses the
   * request takes its row back with {@link forgetCodeRequest}.
   */
  async recordCodeRequest(phone: string): Promise<{ id: types.TimeUuid; others: number[] }> {
    const id = types.TimeUuid.now();
    await this.db.execute('INSERT INTO code_requests (phone, requested_at) VALUES (?, ?)', [phone, id], {
      prepare: true,
    });
    const rs = await this.db.execute('SELECT requested_at FROM code_requests WHERE phone = ?', [phone], {
      prepare: true,
    });
    const others = rs.rows
      .map((r) => r.get('requested_at') as types.TimeUuid)
      .filter((at) => !at.equals(id))
      .map((at) => Math.floor(at.getDate().getTime() / 1000))
      .sort((a, b) => a - b);
    return { id, others };
  }

  /** Takes back a refused code request, so refusals do not lengthen the wait. */
  async forgetCodeRequest(phone: string, id: types.TimeUuid): Promise<void> {
    await this.db.execute('DELETE FROM code_requests WHERE phone = ? AND requested_at = ?', [phone, id], {
      prepare: true,
    });
  }

  async deleteCode(hash: string): Promise<void> {
    await this.db.execute('DELETE FROM phone_codes WHERE phone_code_hash = ?', [hash], { prepare: true });
  }

  /**
   * Writes a new user's profile unless one exists for `userId` (a retried signUp keeps the first
   * access hash). Returns the stored profile.
   */
  async createProfile(p: UserProfile): Promise<UserProfile> {
    const rs = await this.db.execute(
      'INSERT INTO users (user_id, access_hash, phone, first_name, last_name, username, about, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, toTimestamp(now())) IF NOT EXISTS',
      [toLong(p.userId), toLong(p.accessHash), p.phone, p.firstName, p.lastName, p.username, p.about],
      { prepare: true },
    );
    if (rs.first().get('[applied]') === true) return p;
    return (await this.profile(p.userId)) ?? p;
  }

  async saveProfile(p: UserProfile): Promise<void> {
    await this.db.execute(
      'INSERT INTO users (user_id, access_hash, phone, first_name, last_name, username, about, moving_to, current_photo, password, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, null, ?, ?, toTimestamp(now()))',
      [
        toLong(p.userId),
        toLong(p.accessHash),
        p.phone,
        p.firstName,
        p.lastName,
        p.username,
        p.about,
        p.photo ? Buffer.from(UserProfilePhoto.encode(p.photo).finish()) : null,
        // Written whole (null without one), so an import replaces what an abandoned move left.
        encodePassword(p.password),
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
    const password = decodePassword(row.get('password') as Buffer | null | undefined);
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
      ...(password ? { password } : {}),
    };
  }
}
