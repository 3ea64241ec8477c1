/**
 * chats (this DC's keyspace): the basic groups this DC owns — title, members, former members and
 * a version — one row per chat. Messages are not here: every member keeps its own copy in its own
 * box (boxes.ts), in its own home DC.
 *
 * Ids: a chat id is `(n << DC_BITS) | owner_dc`, so any DC finds the owner from the id alone with
 * no directory read (docs/decisions/0010-basic-group-ids.md). `n` is derived from the creator and
 * the createChat random_id and claimed with INSERT ... IF NOT EXISTS: a retry of the same call
 * lands on its own row, a collision with another chat moves on to the next candidate.
 *
 * Changes: every membership or title change rewrites the row under `IF version = old` (a
 * lightweight transaction), so concurrent changes serialize on the version and a change is
 * decided against exactly the members it replaces.
 */
import { createHash } from 'node:crypto';
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';
import { ChatFull, type ChatParticipant } from '../../../shared/src/gen/tern/common/v1/chat';
import { GROUP_ID_DC_BITS, groupHomeDc } from '../../../shared/src/peers/group-ids';

/** Low bits of a chat id that name the owning DC (the layout shared with channels). */
export const DC_BITS = GROUP_ID_DC_BITS;
/**
 * Bits of the per-DC part. 29 + 10 keeps ids below 2^39 ≈ 5.5·10^11: under 10^12, the bound
 * clients assume for basic-group ids (a marked chat id -id must not look like a channel's
 * -100… id, and TDLib rejects larger chat ids).
 */
export const SEQ_BITS = 29;

/** The DC that owns `chatId`. */
export const chatDc = (chatId: bigint): number => groupHomeDc(chatId);

/**
 * The `attempt`-th candidate id for a chat created by `creator` with `randomId` on DC `dc`.
 * Deterministic, so a retried createChat finds the row its first attempt wrote. Candidates whose
 * decimal form starts with "100" are skipped: GramJS reads the marked id -100… as a channel.
 */
export function chatIdCandidate(creator: bigint, randomId: bigint, dc: number, attempt: number): bigint {
  for (let salt = 0; ; salt++) {
    const h = createHash('sha256').update(`chat:${creator}:${randomId}:${attempt}:${salt}`).digest();
    const n = (h.readBigUInt64LE(0) % ((1n << BigInt(SEQ_BITS)) - 1n)) + 1n;
    const id = (n << BigInt(DC_BITS)) | BigInt(dc);
    if (!id.toString().startsWith('100')) return id;
  }
}

/** What identifies one createChat call: a retry carries the same key. */
export function createKey(creator: bigint, randomId: bigint): bigint {
  return createHash('sha256').update(`create:${creator}:${randomId}`).digest().readBigInt64LE(0);
}

export interface ChatRow {
  id: bigint;
  title: string;
  creatorId: bigint;
  /** Unix seconds of creation. */
  date: number;
  /** Bumped by every change (TL chat.version). */
  version: number;
  /** Current members, in the order they joined. */
  members: ChatParticipant[];
  /** Former members who left on their own. */
  left: bigint[];
  /** Former members who were removed. */
  kicked: bigint[];
  deactivated: boolean;
  /** The supergroup this chat became (messages.migrateChat); 0n when not migrated. */
  migratedToChannelId: bigint;
  migratedToAccessHash: bigint;
  createKey: bigint;
}

const COLUMNS =
  'chat_id, title, creator_id, date, version, members, left_ids, kicked_ids, deactivated, create_key, migrated_to_channel_id, migrated_to_access_hash';

function toRow(r: { get(name: string): unknown }): ChatRow {
  const members = r.get('members') as Buffer | null;
  const ids = (name: string) => ((r.get(name) as unknown[] | null) ?? []).map(fromLong);
  return {
    id: fromLong(r.get('chat_id')),
    title: (r.get('title') as string | null) ?? '',
    creatorId: fromLong(r.get('creator_id')),
    date: (r.get('date') as number | null) ?? 0,
    version: (r.get('version') as number | null) ?? 0,
    members: members ? ChatFull.decode(members).participants : [],
    left: ids('left_ids'),
    kicked: ids('kicked_ids'),
    deactivated: r.get('deactivated') === true,
    createKey: fromLong(r.get('create_key')),
    migratedToChannelId: fromLong(r.get('migrated_to_channel_id')),
    migratedToAccessHash: fromLong(r.get('migrated_to_access_hash')),
  };
}

const encodeMembers = (row: ChatRow): Buffer =>
  Buffer.from(
    ChatFull.encode({ id: row.id, about: '', participants: row.members, version: row.version }).finish(),
  );

export class Chats {
  constructor(private readonly db: Client) {}

  /**
   * Writes a new chat if its id is free. Returns the row now under that id: `row` itself, or
   * the one an earlier attempt (same createKey: a retry) or another chat (a collision) wrote.
   */
  async create(row: ChatRow): Promise<ChatRow> {
    const rs = await this.db.execute(
      `INSERT INTO chats (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
      [
        toLong(row.id),
        row.title,
        toLong(row.creatorId),
        row.date,
        row.version,
        encodeMembers(row),
        row.left.map(toLong),
        row.kicked.map(toLong),
        row.deactivated,
        toLong(row.createKey),
        toLong(row.migratedToChannelId),
        toLong(row.migratedToAccessHash),
      ],
      { prepare: true },
    );
    const first = rs.first();
    return first.get('[applied]') === true ? row : toRow(first);
  }

  async get(chatId: bigint): Promise<ChatRow | undefined> {
    const rs = await this.db.execute(`SELECT ${COLUMNS} FROM chats WHERE chat_id = ?`, [toLong(chatId)], {
      prepare: true,
    });
    const r = rs.first();
    return r ? toRow(r) : undefined;
  }

  async getMany(chatIds: bigint[]): Promise<ChatRow[]> {
    const unique = [...new Set(chatIds)];
    if (unique.length === 0) return [];
    const rs = await this.db.execute(
      `SELECT ${COLUMNS} FROM chats WHERE chat_id IN ?`,
      [unique.map(toLong)],
      {
        prepare: true,
      },
    );
    return rs.rows.map(toRow);
  }

  /**
   * Replaces title, membership and migration state with `next` if the stored version is still
   * `next.version - 1`. False when another change won (the caller rereads and decides again).
   */
  async replace(next: ChatRow): Promise<boolean> {
    const rs = await this.db.execute(
      `UPDATE chats SET title = ?, version = ?, members = ?, left_ids = ?, kicked_ids = ?, deactivated = ?,
          migrated_to_channel_id = ?, migrated_to_access_hash = ?
        WHERE chat_id = ? IF version = ?`,
      [
        next.title,
        next.version,
        encodeMembers(next),
        next.left.map(toLong),
        next.kicked.map(toLong),
        next.deactivated,
        toLong(next.migratedToChannelId),
        toLong(next.migratedToAccessHash),
        toLong(next.id),
        next.version - 1,
      ],
      { prepare: true },
    );
    return rs.first().get('[applied]') === true;
  }
}
