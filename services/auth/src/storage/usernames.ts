/**
 * usernames (global keyspace): one namespace for every DC. A name is claimed with a lightweight
 * transaction on its lower-cased form, so two DCs can never hand out the same name.
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';

export class UsernameStore {
  constructor(private readonly db: Client) {}

  /** Who holds `name` (any case) and since when (Unix ms), or undefined. */
  async owner(name: string): Promise<{ userId: bigint; since: number } | undefined> {
    const row = (
      await this.db.execute(
        'SELECT user_id, created_at FROM usernames WHERE username = ?',
        [name.toLowerCase()],
        {
          prepare: true,
        },
      )
    ).first();
    if (!row) return undefined;
    const since = row.get('created_at') as Date | null;
    return { userId: fromLong(row.get('user_id')), since: since?.getTime() ?? 0 };
  }

  /**
   * Claims `name` for `userId`. With `replacing`, takes it over from that (stale) owner. Returns
   * the owner after the attempt: `userId` when the claim holds.
   */
  async claim(name: string, userId: bigint, replacing?: bigint): Promise<bigint> {
    const key = name.toLowerCase();
    const rs =
      replacing === undefined
        ? await this.db.execute(
            'INSERT INTO usernames (username, user_id, created_at) VALUES (?, ?, toTimestamp(now())) IF NOT EXISTS',
            [key, toLong(userId)],
            { prepare: true },
          )
        : await this.db.execute(
            'UPDATE usernames SET user_id = ?, created_at = toTimestamp(now()) WHERE username = ? IF user_id = ?',
            [toLong(userId), key, toLong(replacing)],
            { prepare: true },
          );
    const row = rs.first();
    if (row.get('[applied]') === true) return userId;
    const current: unknown = row.get('user_id');
    return current === null || current === undefined
      ? ((await this.owner(name))?.userId ?? 0n)
      : fromLong(current);
  }

  /** Gives `name` up, if `userId` still holds it. */
  async release(name: string, userId: bigint): Promise<void> {
    await this.db.execute(
      'DELETE FROM usernames WHERE username = ? IF user_id = ?',
      [name.toLowerCase(), toLong(userId)],
      {
        prepare: true,
      },
    );
  }
}
