/**
 * usernames (global keyspace): one namespace for every DC, shared by users and channels. A name is
 * claimed with a lightweight transaction on its lower-cased form, so two DCs can never hand out the
 * same name, and a user and a channel can never hold the same one. A row belongs either to a user
 * (`user_id`) or to a channel (`channel_id`, migration 0003), never both.
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';

/** Who holds a name: a user or a channel. */
export interface UsernameHolder {
  kind: 'user' | 'channel';
  id: bigint;
}

/** A holder and since when (Unix ms) it holds the name. */
export interface UsernameClaim extends UsernameHolder {
  since: number;
}

/** Whether `a` and `b` are the same user or the same channel. */
export function sameHolder(a: UsernameHolder | undefined, b: UsernameHolder | undefined): boolean {
  return a !== undefined && b !== undefined && a.kind === b.kind && a.id === b.id;
}

/** The holder a row names by its `user_id` and `channel_id` values; undefined for neither. */
export function holderOf(userId: unknown, channelId: unknown): UsernameHolder | undefined {
  if (userId !== null && userId !== undefined) return { kind: 'user', id: fromLong(userId) };
  if (channelId !== null && channelId !== undefined) return { kind: 'channel', id: fromLong(channelId) };
  return undefined;
}

/** The column that names a holder of `kind` (a constant: never built from input). */
const columnOf = (kind: UsernameHolder['kind']) => (kind === 'user' ? 'user_id' : 'channel_id');

export class UsernameStore {
  constructor(private readonly db: Client) {}

  /** Who holds `name` (any case) and since when, or undefined. */
  async owner(name: string): Promise<UsernameClaim | undefined> {
    const row = (
      await this.db.execute(
        'SELECT user_id, channel_id, created_at FROM usernames WHERE username = ?',
        [name.toLowerCase()],
        { prepare: true },
      )
    ).first();
    if (!row) return undefined;
    const holder = holderOf(row.get('user_id'), row.get('channel_id'));
    if (!holder) return undefined;
    const since = row.get('created_at') as Date | null;
    return { ...holder, since: since?.getTime() ?? 0 };
  }

  /**
   * Claims `name` for `holder`. With `replacingUser`, takes it over from that user (a stale claim:
   * see USERNAME_CLAIM_GRACE_MS); a channel's claim is never taken over. Returns the holder after
   * the attempt — `holder` when the claim holds — or undefined when nobody holds the name (it was
   * released meanwhile).
   */
  async claim(
    name: string,
    holder: UsernameHolder,
    replacingUser?: bigint,
  ): Promise<UsernameHolder | undefined> {
    const key = name.toLowerCase();
    const rs =
      replacingUser === undefined
        ? await this.db.execute(
            `INSERT INTO usernames (username, ${columnOf(holder.kind)}, created_at) VALUES (?, ?, toTimestamp(now())) IF NOT EXISTS`,
            [key, toLong(holder.id)],
            { prepare: true },
          )
        : await this.db.execute(
            'UPDATE usernames SET user_id = ?, channel_id = ?, created_at = toTimestamp(now()) WHERE username = ? IF user_id = ?',
            [
              holder.kind === 'user' ? toLong(holder.id) : null,
              holder.kind === 'channel' ? toLong(holder.id) : null,
              key,
              toLong(replacingUser),
            ],
            { prepare: true },
          );
    const row = rs.first();
    if (row.get('[applied]') === true) return holder;
    // A refused insert answers the row it found; a refused update only the column it tested.
    const current = holderOf(row.get('user_id'), row.get('channel_id'));
    if (current) return current;
    const found = await this.owner(name);
    return found && { kind: found.kind, id: found.id };
  }

  /** Gives `name` up, if `holder` still holds it. */
  async release(name: string, holder: UsernameHolder): Promise<void> {
    await this.db.execute(
      `DELETE FROM usernames WHERE username = ? IF ${columnOf(holder.kind)} = ?`,
      [name.toLowerCase(), toLong(holder.id)],
      { prepare: true },
    );
  }
}
