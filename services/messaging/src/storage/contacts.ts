/**
 * contacts, contact_of, user_status (this DC's keyspace; schema migrations/dc/0004_contacts.cql).
 *
 * A contact relation is written twice: the owner's list (`contacts`, in the owner's home DC) and
 * the reverse index (`contact_of`, in the contact's home DC). Both copies of one change carry the
 * same write timestamp (the owner's clock when it changed the list), so an add and a delete racing
 * each other settle the same way in both DCs: the later change wins everywhere.
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';

export interface ContactRow {
  contactId: bigint;
  phone: string;
  firstName: string;
  lastName: string;
}

export interface StatusRow {
  /** Online until (Unix seconds); in the past (or 0) when offline. */
  onlineUntil: number;
  /** Last seen (Unix seconds); 0 if never. */
  wasOnline: number;
}

/** Cassandra write timestamps are microseconds. */
const micros = (atMs: number): bigint => BigInt(atMs) * 1000n;

/** Reads partitions of many users in groups, so one IN list stays small. */
const IN_GROUP = 50;

export class ContactStore {
  constructor(private readonly db: Client) {}

  /** `owner`'s whole list (bounded by the contact limit, one partition). */
  async list(owner: bigint): Promise<ContactRow[]> {
    const rs = await this.db.execute(
      'SELECT contact_id, phone, first_name, last_name FROM contacts WHERE owner_id = ?',
      [toLong(owner)],
      { prepare: true, fetchSize: 10_000 },
    );
    return rs.rows.map((r) => ({
      contactId: fromLong(r.get('contact_id')),
      phone: (r.get('phone') as string | null) ?? '',
      firstName: (r.get('first_name') as string | null) ?? '',
      lastName: (r.get('last_name') as string | null) ?? '',
    }));
  }

  /** Adds (or renames) contacts of `owner`, as of `atMs`. */
  async add(owner: bigint, rows: ContactRow[], atMs: number): Promise<void> {
    const o = toLong(owner);
    await Promise.all(
      rows.map((r) =>
        this.db.execute(
          'INSERT INTO contacts (owner_id, contact_id, phone, first_name, last_name) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?',
          [o, toLong(r.contactId), r.phone, r.firstName, r.lastName, toLong(micros(atMs))],
          { prepare: true },
        ),
      ),
    );
  }

  /** Removes contacts of `owner`, as of `atMs`. */
  async remove(owner: bigint, ids: bigint[], atMs: number): Promise<void> {
    const o = toLong(owner);
    await Promise.all(
      ids.map((id) =>
        this.db.execute(
          'DELETE FROM contacts USING TIMESTAMP ? WHERE owner_id = ? AND contact_id = ?',
          [toLong(micros(atMs)), o, toLong(id)],
          { prepare: true },
        ),
      ),
    );
  }

  /** The reverse index: `owner` has (`linked`) or no longer has each of `users` (homed here). */
  async link(owner: bigint, users: bigint[], linked: boolean, atMs: number): Promise<void> {
    const o = toLong(owner);
    const ts = toLong(micros(atMs));
    await Promise.all(
      users.map((u) =>
        linked
          ? this.db.execute(
              'INSERT INTO contact_of (user_id, owner_id) VALUES (?, ?) USING TIMESTAMP ?',
              [toLong(u), o, ts],
              { prepare: true },
            )
          : this.db.execute(
              'DELETE FROM contact_of USING TIMESTAMP ? WHERE user_id = ? AND owner_id = ?',
              [ts, toLong(u), o],
              { prepare: true },
            ),
      ),
    );
  }

  /** Which of `owners` have `contact` in their list (the owners' rows must be in this DC). */
  async ownersHaving(owners: bigint[], contact: bigint): Promise<Set<bigint>> {
    const out = new Set<bigint>();
    for (let i = 0; i < owners.length; i += IN_GROUP) {
      const rs = await this.db.execute(
        'SELECT owner_id FROM contacts WHERE owner_id IN ? AND contact_id = ?',
        [owners.slice(i, i + IN_GROUP).map(toLong), toLong(contact)],
        { prepare: true },
      );
      for (const r of rs.rows) out.add(fromLong(r.get('owner_id')));
    }
    return out;
  }

  /** Which of `users` (homed here) `owner` has in its contacts, from the reverse index. */
  async usersHadBy(users: bigint[], owner: bigint): Promise<Set<bigint>> {
    const out = new Set<bigint>();
    for (let i = 0; i < users.length; i += IN_GROUP) {
      const rs = await this.db.execute(
        'SELECT user_id FROM contact_of WHERE user_id IN ? AND owner_id = ?',
        [users.slice(i, i + IN_GROUP).map(toLong), toLong(owner)],
        { prepare: true },
      );
      for (const r of rs.rows) out.add(fromLong(r.get('user_id')));
    }
    return out;
  }

  /** The stored status of each of `users` that has one. */
  async statuses(users: bigint[]): Promise<Map<bigint, StatusRow>> {
    const out = new Map<bigint, StatusRow>();
    for (let i = 0; i < users.length; i += IN_GROUP) {
      const rs = await this.db.execute(
        'SELECT user_id, online_until, was_online FROM user_status WHERE user_id IN ?',
        [users.slice(i, i + IN_GROUP).map(toLong)],
        { prepare: true },
      );
      for (const r of rs.rows)
        out.set(fromLong(r.get('user_id')), {
          onlineUntil: (r.get('online_until') as number | null) ?? 0,
          wasOnline: (r.get('was_online') as number | null) ?? 0,
        });
    }
    return out;
  }

  async setStatus(user: bigint, s: StatusRow): Promise<void> {
    await this.db.execute(
      'INSERT INTO user_status (user_id, online_until, was_online) VALUES (?, ?, ?)',
      [toLong(user), s.onlineUntil, s.wasOnline],
      { prepare: true },
    );
  }
}
