/**
 * Two-step verification state in the DC keyspace of the user's home DC (migration 0008): the
 * password itself (users.password, next to the profile it moves with), the SRP exchanges handed
 * out by account.getPassword (password_srp), the tries (password_checks) and the logins waiting
 * for a password (password_pending_logins).
 */
import { types, type Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';
import { UserPassword } from '../../../shared/src/gen/tern/auth/v1/auth';

/** The server half of one SRP exchange (account.getPassword's srp_id). */
export interface SrpExchange {
  srpId: bigint;
  userId: bigint;
  b: Buffer;
  B: Buffer;
  /** UserPassword.version of the password B was made for. */
  passwordVersion: Buffer;
}

/** Encodes a password for users.password (null: none). */
export function encodePassword(p: UserPassword | undefined): Buffer | null {
  return p ? Buffer.from(UserPassword.encode(p).finish()) : null;
}

/** Decodes users.password. */
export function decodePassword(raw: Buffer | null | undefined): UserPassword | undefined {
  return raw && raw.length > 0 ? UserPassword.decode(raw) : undefined;
}

export class PasswordStore {
  constructor(private readonly db: Client) {}

  /** The user's password, undefined when it has none (or the profile row is gone). */
  async password(userId: bigint): Promise<UserPassword | undefined> {
    const row = (
      await this.db.execute('SELECT password FROM users WHERE user_id = ?', [toLong(userId)], {
        prepare: true,
      })
    ).first();
    return decodePassword(row?.get('password') as Buffer | null | undefined);
  }

  /**
   * Replaces the password (`next` undefined removes it) if it still is `expected` (the one the
   * caller proved, or none) and no move of the user is under way: one lightweight transaction on
   * the profile row, so two changes proven against the same password cannot both apply and no
   * change lands after MoveUser copied the row. Returns false when refused.
   */
  async replace(
    userId: bigint,
    expected: UserPassword | undefined,
    next: UserPassword | undefined,
  ): Promise<boolean> {
    const old = encodePassword(expected);
    // The literal null (not a bound one) for "none": the condition then reads unambiguously.
    const condition = old ? 'password = ?' : 'password = null';
    const rs = await this.db.execute(
      `UPDATE users SET password = ? WHERE user_id = ? IF phone != null AND moving_to = null AND ${condition}`,
      old ? [encodePassword(next), toLong(userId), old] : [encodePassword(next), toLong(userId)],
      { prepare: true },
    );
    return rs.first().get('[applied]') === true;
  }

  /** Keeps the server half of an SRP exchange for `ttlSeconds`. */
  async saveExchange(e: SrpExchange, ttlSeconds: number): Promise<void> {
    await this.db.execute(
      'INSERT INTO password_srp (srp_id, user_id, b, srp_b, password_version) VALUES (?, ?, ?, ?, ?) USING TTL ?',
      [toLong(e.srpId), toLong(e.userId), e.b, e.B, e.passwordVersion, ttlSeconds],
      { prepare: true },
    );
  }

  /**
   * Takes an exchange for one check: it is deleted in a lightweight transaction and returned only
   * to the caller whose delete applied, so one srp_id (and with it one A and M1) is checked once,
   * however many times it is sent.
   */
  async takeExchange(srpId: bigint): Promise<SrpExchange | undefined> {
    const row = (
      await this.db.execute('SELECT * FROM password_srp WHERE srp_id = ?', [toLong(srpId)], { prepare: true })
    ).first();
    if (!row) return undefined;
    // A conditional delete tells only whether it applied (not what it deleted), so the row is read
    // first; its contents never change once written, only whether it is still there.
    const rs = await this.db.execute('DELETE FROM password_srp WHERE srp_id = ? IF EXISTS', [toLong(srpId)], {
      prepare: true,
    });
    if (rs.first().get('[applied]') !== true) return undefined;
    return {
      srpId,
      userId: fromLong(row.get('user_id')),
      b: row.get('b') as Buffer,
      B: row.get('srp_b') as Buffer,
      passwordVersion: row.get('password_version') as Buffer,
    };
  }

  /**
   * Records one password check of the user and returns the Unix seconds of the checks of the last
   * `windowSeconds` other than this one, oldest first ("record, then count", as
   * LoginStore.countCodeCheck: parallel checks each see every check that finished writing before
   * them). The caller takes the row back with {@link forgetCheck} when the check is refused or
   * right, so only wrong passwords keep counting.
   */
  async recordCheck(
    userId: bigint,
    windowSeconds: number,
  ): Promise<{ id: types.TimeUuid; others: number[] }> {
    const id = types.TimeUuid.now();
    await this.db.execute(
      'INSERT INTO password_checks (user_id, check_id) VALUES (?, ?) USING TTL ?',
      [toLong(userId), id, windowSeconds],
      { prepare: true },
    );
    const rs = await this.db.execute(
      'SELECT check_id FROM password_checks WHERE user_id = ?',
      [toLong(userId)],
      {
        prepare: true,
      },
    );
    const others = rs.rows
      .map((r) => r.get('check_id') as types.TimeUuid)
      .filter((at) => !at.equals(id))
      .map((at) => Math.floor(at.getDate().getTime() / 1000))
      .sort((a, b) => a - b);
    return { id, others };
  }

  /** Takes back a recorded check (refused, or right). */
  async forgetCheck(userId: bigint, id: types.TimeUuid): Promise<void> {
    await this.db.execute(
      'DELETE FROM password_checks WHERE user_id = ? AND check_id = ?',
      [toLong(userId), id],
      {
        prepare: true,
      },
    );
  }

  /** Records that the key's login waits for the user's password (for `ttlSeconds`). */
  async savePendingLogin(authKeyId: bigint, userId: bigint, ttlSeconds: number): Promise<void> {
    await this.db.execute(
      'INSERT INTO password_pending_logins (auth_key_id, user_id) VALUES (?, ?) USING TTL ?',
      [toLong(authKeyId), toLong(userId), ttlSeconds],
      { prepare: true },
    );
  }

  /** The user whose login waits for a password on this key, if any. */
  async pendingLogin(authKeyId: bigint): Promise<bigint | undefined> {
    const row = (
      await this.db.execute(
        'SELECT user_id FROM password_pending_logins WHERE auth_key_id = ?',
        [toLong(authKeyId)],
        {
          prepare: true,
        },
      )
    ).first();
    return row ? fromLong(row.get('user_id')) : undefined;
  }

  /** Ends a waiting login (the password was right, or the login was abandoned). */
  async deletePendingLogin(authKeyId: bigint): Promise<void> {
    await this.db.execute('DELETE FROM password_pending_logins WHERE auth_key_id = ?', [toLong(authKeyId)], {
      prepare: true,
    });
  }
}
