/**
 * The global user directory (keyspace `<prefix>_global`): phone → user id → home DC. User ids are
 * unique across all DCs: a new id is claimed with a lightweight transaction before the phone is.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';

export interface DirectoryEntry {
  userId: bigint;
  phone: string;
  homeDc: number;
  /** Set while MoveUser moves the user to this DC. */
  movingTo?: number;
}

/** User ids are random below 2^40: unguessable in sequence, exact as JS numbers in every client. */
const ID_BITS = 40n;

export class Directory {
  constructor(private readonly db: Client) {}

  /**
   * The user with `phone`. users_by_id is the authority on the home DC (MoveUser switches it with
   * one lightweight transaction); users_by_phone's copy is a hint kept for operators.
   */
  async byPhone(phone: string): Promise<DirectoryEntry | undefined> {
    const row = (
      await this.db.execute('SELECT user_id FROM users_by_phone WHERE phone = ?', [phone], {
        prepare: true,
      })
    ).first();
    if (!row) return undefined;
    const entry = await this.byId(fromLong(row.get('user_id')));
    // A phone row without its id row is a sign-up that did not finish: treat it as absent.
    return entry?.phone === phone ? entry : undefined;
  }

  async byId(userId: bigint): Promise<DirectoryEntry | undefined> {
    const row = (
      await this.db.execute(
        'SELECT phone, home_dc, moving_to FROM users_by_id WHERE user_id = ?',
        [toLong(userId)],
        {
          prepare: true,
        },
      )
    ).first();
    if (!row) return undefined;
    const movingTo = row.get('moving_to') as number | null;
    return {
      userId,
      phone: row.get('phone') as string,
      homeDc: row.get('home_dc') as number,
      ...(movingTo === null ? {} : { movingTo }),
    };
  }

  /** MoveUser, step 1: records the move (one at a time per user). True when it holds. */
  async startMove(userId: bigint, from: number, to: number): Promise<boolean> {
    const rs = await this.db.execute(
      'UPDATE users_by_id SET moving_to = ? WHERE user_id = ? IF home_dc = ? AND moving_to = null',
      [to, toLong(userId), from],
      { prepare: true },
    );
    if (rs.first().get('[applied]') === true) return true;
    const now = await this.byId(userId);
    return now?.homeDc === from && now.movingTo === to; // already started by an earlier run
  }

  /** MoveUser, step 3: the atomic switch of the home DC. True when the user now lives in `to`. */
  async switchHome(userId: bigint, phone: string, from: number, to: number): Promise<boolean> {
    const rs = await this.db.execute(
      'UPDATE users_by_id SET home_dc = ?, moving_to = null WHERE user_id = ? IF home_dc = ? AND moving_to = ?',
      [to, toLong(userId), from, to],
      { prepare: true },
    );
    const switched = rs.first().get('[applied]') === true || (await this.byId(userId))?.homeDc === to;
    if (switched)
      await this.db.execute('UPDATE users_by_phone SET home_dc = ? WHERE phone = ?', [to, phone], {
        prepare: true,
      });
    return switched;
  }

  /**
   * Sign-up, step 1: claims a fresh user id for `phone` homed in `homeDc` (a lightweight
   * transaction: ids are unique across DCs). The phone is not taken yet: until {@link linkPhone},
   * byPhone does not see the id, so a sign-up that stops here blocks nothing.
   */
  async claimId(phone: string, homeDc: number): Promise<bigint> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const userId = (BigInt.asUintN(64, randomBytes(8).readBigUInt64LE()) % ((1n << ID_BITS) - 1n)) + 1n;
      const claimed = await this.db.execute(
        'INSERT INTO users_by_id (user_id, phone, home_dc, created_at) VALUES (?, ?, ?, toTimestamp(now())) IF NOT EXISTS',
        [toLong(userId), phone, homeDc],
        { prepare: true },
      );
      if (claimed.first().get('[applied]') === true) return userId;
    }
    throw new Error('could not allocate a user id');
  }

  /**
   * Sign-up, last step: gives `phone` to `userId` unless the phone already belongs to someone.
   * Returns the user id the phone belongs to now: `userId` when linked (also when an earlier try
   * of the same sign-up linked it), another id when the number is taken.
   */
  async linkPhone(phone: string, userId: bigint, homeDc: number): Promise<bigint> {
    const rs = await this.db.execute(
      'INSERT INTO users_by_phone (phone, user_id, home_dc, created_at) VALUES (?, ?, ?, toTimestamp(now())) IF NOT EXISTS',
      [phone, toLong(userId), homeDc],
      { prepare: true },
    );
    const row = rs.first();
    if (row.get('[applied]') === true) return userId;
    const holder = fromLong(row.get('user_id'));
    if (holder === userId || (await this.byId(holder))?.phone === phone) return holder;
    // The phone row points at an id that does not hold the phone (a sign-up that lost its id
    // before sign-ups linked the phone last): the number is free, take it over.
    const taken = await this.db.execute(
      'UPDATE users_by_phone SET user_id = ?, home_dc = ? WHERE phone = ? IF user_id = ?',
      [toLong(userId), homeDc, phone, toLong(holder)],
      { prepare: true },
    );
    return taken.first().get('[applied]') === true ? userId : this.linkPhone(phone, userId, homeDc);
  }

  /** Gives back an id claimed by a sign-up that lost the phone to another (claimId's row). */
  async releaseId(userId: bigint): Promise<void> {
    await this.db.execute('DELETE FROM users_by_id WHERE user_id = ? IF EXISTS', [toLong(userId)], {
      prepare: true,
    });
  }
}
