/**
 * The channel store (this DC's keyspace, migrations/dc/0001_channels.cql): reads of every channel
 * table, and the statements the channel's one writer (channel-writer.ts) commits. Nothing here
 * decides rights or allocates pts; a statement built here is written only through the writer, in
 * the channel's queue and under its fence, except the rows of brand-new channels (createChannel)
 * and the member-side tables (channel_memberships), which belong to users, not to a channel.
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';
import {
  AdminLogEvent,
  ChannelParticipant,
  ChannelParticipant_Role,
} from '../../../shared/src/gen/tern/channel/v1/channel';
import { Channel } from '../../../shared/src/gen/tern/common/v1/chat';
import { Photo } from '../../../shared/src/gen/tern/common/v1/media';
import { Message } from '../../../shared/src/gen/tern/common/v1/message';
import { Update } from '../../../shared/src/gen/tern/common/v1/update';
import { logBucket, messageBucket, participantBucket } from './ids';

/** One CQL statement of a batch. */
export interface Stmt {
  query: string;
  params: unknown[];
}

/** A channels row. */
export interface ChannelRow {
  id: bigint;
  accessHash: bigint;
  megagroup: boolean;
  title: string;
  about: string;
  username: string;
  creatorId: bigint;
  date: number;
  signatures: boolean;
  slowmodeSeconds: number;
  pinnedMsgId: number;
  participantsCount: number;
  adminsCount: number;
  kickedCount: number;
  bannedCount: number;
  deleted: boolean;
  migratedFromChatId: bigint;
  migratedFromMaxId: number;
  /** Log rows below this pts may be gone (getChannelDifference answers tooLong). */
  logFloor: number;
  /** admin → hash of their permanent invite link. */
  invites: Map<bigint, string>;
  createKey: bigint;
  /** The chat photo (channels.editPhoto); undefined = none. */
  photo?: Photo;
  /** Supergroups: the highest message id any member has read (0 for broadcast channels). */
  readOutboxMaxId: number;
}

/** A participant row (current, left or banned). */
export interface ParticipantRow {
  userId: bigint;
  p: ChannelParticipant;
  version: bigint;
  /** Key in channel_recent while a member; 0 otherwise. */
  recentKey: bigint;
}

/** One row of the channel's log. */
export interface LogRow {
  pts: number;
  ptsCount: number;
  type: string;
  update: Update;
  topId: number;
  date: number;
}

/** The log's end and the highest message id allocated. */
export interface Head {
  pts: number;
  topId: number;
}

/** A stored invite link. */
export interface InviteRow {
  hash: string;
  channelId: bigint;
  adminId: bigint;
  date: number;
  expireDate: number;
  usageLimit: number;
  usage: number;
  permanent: boolean;
  revoked: boolean;
  title: string;
}

/** A channel_memberships row (the member's home DC). */
export interface MembershipRow {
  userId: bigint;
  channelId: bigint;
  dcId: number;
  member: boolean;
  version: bigint;
  readInboxMaxId: number;
  pinned: boolean;
  muteUntil: number;
  joinedDate: number;
  channel: Channel | undefined;
}

/** Roles that are members (may read, counted in participants_count). */
export const MEMBER_ROLES = new Set([
  ChannelParticipant_Role.MEMBER,
  ChannelParticipant_Role.CREATOR,
  ChannelParticipant_Role.ADMIN,
  ChannelParticipant_Role.RESTRICTED,
]);

/** The columns a new channel row is written with (the photo comes later, channels.editPhoto). */
const CHANNEL_COLUMNS =
  'channel_id, access_hash, megagroup, title, about, username, creator_id, date, signatures, slowmode_seconds, pinned_msg_id, participants_count, admins_count, kicked_count, banned_count, deleted, migrated_from_chat_id, migrated_from_max_id, log_floor, invites, create_key';
/** The columns a channel row is read with. */
const CHANNEL_READ_COLUMNS = `${CHANNEL_COLUMNS}, photo, read_outbox_max_id`;

type Row = { get(name: string): unknown };

function toChannel(r: Row): ChannelRow {
  const invites = new Map<bigint, string>();
  const raw = r.get('invites') as Record<string, string> | Map<unknown, string> | null;
  if (raw instanceof Map) for (const [k, v] of raw) invites.set(fromLong(k), v);
  else if (raw) for (const [k, v] of Object.entries(raw)) invites.set(BigInt(k), v);
  const int = (n: string) => (r.get(n) as number | null) ?? 0;
  return {
    id: fromLong(r.get('channel_id')),
    accessHash: fromLong(r.get('access_hash')),
    megagroup: r.get('megagroup') === true,
    title: (r.get('title') as string | null) ?? '',
    about: (r.get('about') as string | null) ?? '',
    username: (r.get('username') as string | null) ?? '',
    creatorId: fromLong(r.get('creator_id')),
    date: int('date'),
    signatures: r.get('signatures') === true,
    slowmodeSeconds: int('slowmode_seconds'),
    pinnedMsgId: int('pinned_msg_id'),
    participantsCount: int('participants_count'),
    adminsCount: int('admins_count'),
    kickedCount: int('kicked_count'),
    bannedCount: int('banned_count'),
    deleted: r.get('deleted') === true,
    migratedFromChatId: fromLong(r.get('migrated_from_chat_id')),
    migratedFromMaxId: int('migrated_from_max_id'),
    logFloor: int('log_floor'),
    invites,
    createKey: fromLong(r.get('create_key')),
    photo: photoOf(r.get('photo') as Buffer | null),
    readOutboxMaxId: int('read_outbox_max_id'),
  };
}

/** The stored chat photo (a tern.common.v1.Photo), undefined for none or an empty value. */
function photoOf(body: Buffer | null): Photo | undefined {
  return body && body.length > 0 ? Photo.decode(body) : undefined;
}

function toParticipant(r: Row): ParticipantRow {
  const body = r.get('body') as Buffer | null;
  return {
    userId: fromLong(r.get('user_id')),
    p: body
      ? ChannelParticipant.decode(body)
      : ChannelParticipant.create({ userId: fromLong(r.get('user_id')) }),
    version: fromLong(r.get('version')),
    recentKey: fromLong(r.get('recent_key')),
  };
}

function toMembership(r: Row): MembershipRow {
  const ch = r.get('channel') as Buffer | null;
  return {
    userId: fromLong(r.get('user_id')),
    channelId: fromLong(r.get('channel_id')),
    dcId: (r.get('dc_id') as number | null) ?? 0,
    member: r.get('member') === true,
    version: fromLong(r.get('version')),
    readInboxMaxId: (r.get('read_inbox_max_id') as number | null) ?? 0,
    pinned: r.get('pinned') === true,
    muteUntil: (r.get('mute_until') as number | null) ?? 0,
    joinedDate: (r.get('joined_date') as number | null) ?? 0,
    channel: ch ? Channel.decode(ch) : undefined,
  };
}

function toInvite(r: Row): InviteRow {
  const int = (n: string) => (r.get(n) as number | null) ?? 0;
  return {
    hash: r.get('hash') as string,
    channelId: fromLong(r.get('channel_id')),
    adminId: fromLong(r.get('admin_id')),
    date: int('date'),
    expireDate: int('expire_date'),
    usageLimit: int('usage_limit'),
    usage: int('usage'),
    permanent: r.get('permanent') === true,
    revoked: r.get('revoked') === true,
    title: (r.get('title') as string | null) ?? '',
  };
}

const enc = (m: { finish(): Uint8Array }): Buffer => Buffer.from(m.finish());

/** The index kinds a participant belongs to (channel_participant_index). */
export function indexKinds(p: ChannelParticipant): string[] {
  switch (p.role) {
    case ChannelParticipant_Role.CREATOR:
    case ChannelParticipant_Role.ADMIN:
      return ['admins'];
    case ChannelParticipant_Role.BANNED:
      return ['kicked'];
    case ChannelParticipant_Role.RESTRICTED:
      return ['banned'];
    default:
      return [];
  }
}

export class ChannelStore {
  constructor(readonly db: Client) {}

  private async rows(query: string, params: unknown[]): Promise<Row[]> {
    return (await this.db.execute(query, params, { prepare: true })).rows;
  }

  // ---- channels -------------------------------------------------------------------------------

  /**
   * Writes a new channel if its id is free; returns the row now under the id (this one, or the one
   * an earlier attempt of the same call or another channel wrote).
   */
  async create(row: ChannelRow): Promise<ChannelRow> {
    const rs = await this.db.execute(
      `INSERT INTO channels (${CHANNEL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS`,
      [
        toLong(row.id),
        toLong(row.accessHash),
        row.megagroup,
        row.title,
        row.about,
        row.username,
        toLong(row.creatorId),
        row.date,
        row.signatures,
        row.slowmodeSeconds,
        row.pinnedMsgId,
        row.participantsCount,
        row.adminsCount,
        row.kickedCount,
        row.bannedCount,
        row.deleted,
        toLong(row.migratedFromChatId),
        row.migratedFromMaxId,
        row.logFloor,
        null,
        toLong(row.createKey),
      ],
      { prepare: true },
    );
    const first = rs.first();
    return first.get('[applied]') === true ? row : toChannel(first);
  }

  async channel(id: bigint): Promise<ChannelRow | undefined> {
    const [r] = await this.rows(`SELECT ${CHANNEL_READ_COLUMNS} FROM channels WHERE channel_id = ?`, [
      toLong(id),
    ]);
    return r ? toChannel(r) : undefined;
  }

  async channels(ids: bigint[]): Promise<Map<bigint, ChannelRow>> {
    const out = new Map<bigint, ChannelRow>();
    await Promise.all(
      [...new Set(ids)].map(async (id) => {
        const c = await this.channel(id);
        if (c) out.set(id, c);
      }),
    );
    return out;
  }

  /** Sets some columns of a channels row (counters, title, flags...). */
  channelUpdate(id: bigint, set: Record<string, unknown>): Stmt {
    const cols = Object.keys(set);
    return {
      query: `UPDATE channels SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE channel_id = ?`,
      params: [...cols.map((c) => set[c]), toLong(id)],
    };
  }

  /**
   * Raises the channel's read_outbox_max_id to `maxId`. The cell's write timestamp is the id, so
   * of any writes in any order the highest id stays, with no read and no lightweight transaction.
   */
  async raiseReadOutbox(id: bigint, maxId: number): Promise<void> {
    await this.db.execute(
      'UPDATE channels USING TIMESTAMP ? SET read_outbox_max_id = ? WHERE channel_id = ?',
      [toLong(BigInt(maxId)), maxId, toLong(id)],
      { prepare: true },
    );
  }

  /** Records `admin`'s permanent invite link on the channel row. */
  permanentInvite(id: bigint, admin: bigint, hash: string): Stmt {
    return {
      query: 'UPDATE channels SET invites[?] = ? WHERE channel_id = ?',
      params: [toLong(admin), hash, toLong(id)],
    };
  }

  // ---- log and heads --------------------------------------------------------------------------

  /** The head hint (0s for a channel never written). */
  async headHint(id: bigint): Promise<Head> {
    const [r] = await this.rows('SELECT pts, top_id FROM channel_heads WHERE channel_id = ?', [toLong(id)]);
    return { pts: (r?.get('pts') as number | null) ?? 0, topId: (r?.get('top_id') as number | null) ?? 0 };
  }

  /** The true end of the log: the hint, then the log read forward from it. */
  async head(id: bigint): Promise<Head> {
    const head = await this.headHint(id);
    for (;;) {
      const rows = await this.logAfter(id, head.pts, 500);
      if (rows.length === 0) return head;
      const last = rows.at(-1)!;
      head.pts = last.pts;
      head.topId = Math.max(head.topId, last.topId);
    }
  }

  /** The head hint statement, written with the pts as its timestamp (the highest pts wins). */
  headStmt(id: bigint, head: Head): Stmt {
    return {
      query: 'UPDATE channel_heads USING TIMESTAMP ? SET pts = ?, top_id = ? WHERE channel_id = ?',
      params: [toLong(BigInt(head.pts)), head.pts, head.topId, toLong(id)],
    };
  }

  logStmt(id: bigint, row: LogRow, epoch: bigint): Stmt {
    return {
      query: `INSERT INTO channel_log (channel_id, bucket, pts, pts_count, type, payload, top_id, date, epoch)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      params: [
        toLong(id),
        logBucket(row.pts),
        row.pts,
        row.ptsCount,
        row.type,
        enc(Update.encode(row.update)),
        row.topId,
        row.date,
        toLong(epoch),
      ],
    };
  }

  /**
   * Up to `limit` log rows with pts > `after`, in pts order, across buckets. Rows are keyed by
   * their end pts; the log has no gaps, so an empty bucket after `after` ends the walk.
   */
  async logAfter(id: bigint, after: number, limit: number): Promise<LogRow[]> {
    const out: LogRow[] = [];
    let end = after;
    let bucket = logBucket(end + 1);
    while (out.length < limit) {
      const rows = await this.rows(
        `SELECT pts, pts_count, type, payload, top_id, date FROM channel_log
          WHERE channel_id = ? AND bucket = ? AND pts > ? LIMIT ?`,
        [toLong(id), bucket, end, limit - out.length],
      );
      for (const r of rows) {
        const payload = r.get('payload') as Buffer | null;
        out.push({
          pts: r.get('pts') as number,
          ptsCount: r.get('pts_count') as number,
          type: r.get('type') as string,
          update: payload ? Update.decode(payload) : Update.create(),
          topId: (r.get('top_id') as number | null) ?? 0,
          date: (r.get('date') as number | null) ?? 0,
        });
        end = r.get('pts') as number;
      }
      if (rows.length === 0) {
        // The bucket holds nothing after `end`: the next one may still (the chain crossed over).
        const next = await this.rows(
          'SELECT pts FROM channel_log WHERE channel_id = ? AND bucket = ? LIMIT 1',
          [toLong(id), bucket + 1],
        );
        if (next.length === 0) break;
        bucket++;
        continue;
      }
      bucket = logBucket(end + 1);
    }
    return out;
  }

  // ---- messages -------------------------------------------------------------------------------

  messageStmt(id: bigint, m: Message, fromId: bigint): Stmt {
    return {
      query:
        'INSERT INTO channel_messages (channel_id, bucket, id, date, from_id, body) VALUES (?, ?, ?, ?, ?, ?)',
      params: [toLong(id), messageBucket(m.id), m.id, m.date, toLong(fromId), enc(Message.encode(m))],
    };
  }

  deleteMessageStmt(id: bigint, msgId: number): Stmt {
    return {
      query: 'DELETE FROM channel_messages WHERE channel_id = ? AND bucket = ? AND id = ?',
      params: [toLong(id), messageBucket(msgId), msgId],
    };
  }

  /** Messages by id (absent ones are left out), in the order asked. */
  async messages(id: bigint, ids: number[]): Promise<Message[]> {
    const byBucket = new Map<number, number[]>();
    for (const m of new Set(ids.filter((x) => x > 0))) {
      const b = messageBucket(m);
      byBucket.set(b, [...(byBucket.get(b) ?? []), m]);
    }
    const found = new Map<number, Message>();
    await Promise.all(
      [...byBucket].map(async ([bucket, list]) => {
        const rows = await this.rows(
          'SELECT id, body FROM channel_messages WHERE channel_id = ? AND bucket = ? AND id IN ?',
          [toLong(id), bucket, list],
        );
        for (const r of rows) found.set(r.get('id') as number, Message.decode(r.get('body') as Buffer));
      }),
    );
    return ids.flatMap((m) => {
      const x = found.get(m);
      return x ? [x] : [];
    });
  }

  /**
   * Up to `limit` messages with low < id <= high, newest first, reading buckets downward from
   * high's. Empty buckets (a span of deleted messages) are passed over, down to low.
   */
  async messagesBelow(id: bigint, high: number, low: number, limit: number): Promise<Message[]> {
    const out: Message[] = [];
    if (high <= low || limit <= 0) return out;
    for (let bucket = messageBucket(high); bucket >= messageBucket(low + 1) && out.length < limit; bucket--) {
      const rows = await this.rows(
        `SELECT body FROM channel_messages WHERE channel_id = ? AND bucket = ? AND id <= ? AND id > ? LIMIT ?`,
        [toLong(id), bucket, high, low, limit - out.length],
      );
      for (const r of rows) out.push(Message.decode(r.get('body') as Buffer));
    }
    return out;
  }

  /** Up to `limit` messages with low < id <= high, OLDEST first (reading upward from low). */
  async messagesAbove(id: bigint, low: number, high: number, limit: number): Promise<Message[]> {
    const out: Message[] = [];
    if (high <= low || limit <= 0) return out;
    for (let bucket = messageBucket(low + 1); bucket <= messageBucket(high) && out.length < limit; bucket++) {
      const rows = await this.rows(
        `SELECT body FROM channel_messages WHERE channel_id = ? AND bucket = ? AND id > ? AND id <= ?
          ORDER BY id ASC LIMIT ?`,
        [toLong(id), bucket, low, high, limit - out.length],
      );
      for (const r of rows) out.push(Message.decode(r.get('body') as Buffer));
    }
    return out;
  }

  // ---- random ids -----------------------------------------------------------------------------

  randomIdStmt(id: bigint, sender: bigint, randomId: bigint, msgId: number, pts: number, date: number): Stmt {
    return {
      query: `INSERT INTO channel_random_ids (channel_id, sender_id, random_id, message_id, pts, date)
              VALUES (?, ?, ?, ?, ?, ?)`,
      params: [toLong(id), toLong(sender), toLong(randomId), msgId, pts, date],
    };
  }

  async randomId(
    id: bigint,
    sender: bigint,
    randomId: bigint,
  ): Promise<{ messageId: number; pts: number; date: number } | undefined> {
    const [r] = await this.rows(
      'SELECT message_id, pts, date FROM channel_random_ids WHERE channel_id = ? AND sender_id = ? AND random_id = ?',
      [toLong(id), toLong(sender), toLong(randomId)],
    );
    if (!r) return undefined;
    return {
      messageId: r.get('message_id') as number,
      pts: r.get('pts') as number,
      date: r.get('date') as number,
    };
  }

  // ---- participants ---------------------------------------------------------------------------

  async participant(id: bigint, userId: bigint): Promise<ParticipantRow | undefined> {
    const [r] = await this.rows(
      'SELECT user_id, body, version, recent_key FROM channel_participants WHERE channel_id = ? AND bucket = ? AND user_id = ?',
      [toLong(id), participantBucket(userId), toLong(userId)],
    );
    return r ? toParticipant(r) : undefined;
  }

  async participants(id: bigint, userIds: bigint[]): Promise<Map<bigint, ParticipantRow>> {
    const out = new Map<bigint, ParticipantRow>();
    await Promise.all(
      [...new Set(userIds)].map(async (u) => {
        const p = await this.participant(id, u);
        if (p) out.set(u, p);
      }),
    );
    return out;
  }

  /**
   * The statements that move a participant from `prev` to `next`: its row and the small indexes
   * (admins / kicked / banned, recent members).
   */
  participantStmts(id: bigint, prev: ParticipantRow | undefined, next: ParticipantRow): Stmt[] {
    const c = toLong(id);
    const u = toLong(next.userId);
    const out: Stmt[] = [
      {
        query: `INSERT INTO channel_participants (channel_id, bucket, user_id, role, body, version, recent_key)
                VALUES (?, ?, ?, ?, ?, ?, ?)`,
        params: [
          c,
          participantBucket(next.userId),
          u,
          next.p.role,
          enc(ChannelParticipant.encode(next.p)),
          toLong(next.version),
          toLong(next.recentKey),
        ],
      },
    ];
    const before = prev ? indexKinds(prev.p) : [];
    const after = indexKinds(next.p);
    for (const k of before.filter((k) => !after.includes(k)))
      out.push({
        query: 'DELETE FROM channel_participant_index WHERE channel_id = ? AND kind = ? AND user_id = ?',
        params: [c, k, u],
      });
    for (const k of after)
      out.push({
        query: 'INSERT INTO channel_participant_index (channel_id, kind, user_id, date) VALUES (?, ?, ?, ?)',
        params: [c, k, u, next.p.date],
      });
    if (prev && prev.recentKey !== 0n && prev.recentKey !== next.recentKey)
      out.push({
        query: 'DELETE FROM channel_recent WHERE channel_id = ? AND recent_key = ?',
        params: [c, toLong(prev.recentKey)],
      });
    if (next.recentKey !== 0n && prev?.recentKey !== next.recentKey)
      out.push({
        query: 'INSERT INTO channel_recent (channel_id, recent_key, user_id) VALUES (?, ?, ?)',
        params: [c, toLong(next.recentKey), u],
      });
    return out;
  }

  /** Users of one index kind, in user id order, `offset` skipped. */
  async indexed(id: bigint, kind: string, offset: number, limit: number): Promise<bigint[]> {
    const rows = await this.rows(
      'SELECT user_id FROM channel_participant_index WHERE channel_id = ? AND kind = ? LIMIT ?',
      [toLong(id), kind, offset + limit],
    );
    return rows.slice(offset).map((r) => fromLong(r.get('user_id')));
  }

  /** Current members, newest join first, `offset` skipped. */
  async recent(id: bigint, offset: number, limit: number): Promise<bigint[]> {
    const rows = await this.rows('SELECT user_id FROM channel_recent WHERE channel_id = ? LIMIT ?', [
      toLong(id),
      offset + limit,
    ]);
    return rows.slice(offset).map((r) => fromLong(r.get('user_id')));
  }

  /** The newest recent_key handed out (0 for none): the writer continues above it. */
  async lastRecentKey(id: bigint): Promise<bigint> {
    const [r] = await this.rows('SELECT recent_key FROM channel_recent WHERE channel_id = ? LIMIT 1', [
      toLong(id),
    ]);
    return r ? fromLong(r.get('recent_key')) : 0n;
  }

  // ---- invites --------------------------------------------------------------------------------

  inviteStmt(i: InviteRow): Stmt {
    return {
      query: `INSERT INTO channel_invites (hash, channel_id, admin_id, date, expire_date, usage_limit, usage, permanent, revoked, title)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      params: [
        i.hash,
        toLong(i.channelId),
        toLong(i.adminId),
        i.date,
        i.expireDate,
        i.usageLimit,
        i.usage,
        i.permanent,
        i.revoked,
        i.title,
      ],
    };
  }

  async invite(hash: string): Promise<InviteRow | undefined> {
    const [r] = await this.rows(
      'SELECT hash, channel_id, admin_id, date, expire_date, usage_limit, usage, permanent, revoked, title FROM channel_invites WHERE hash = ?',
      [hash],
    );
    return r ? toInvite(r) : undefined;
  }

  // ---- slow mode ------------------------------------------------------------------------------

  /** When `userId` last posted in slow-mode channel `id` (0: not within the slow mode window). */
  async lastPost(id: bigint, userId: bigint): Promise<number> {
    const [r] = await this.rows(
      'SELECT last_post FROM channel_slowmode WHERE channel_id = ? AND user_id = ?',
      [toLong(id), toLong(userId)],
    );
    return (r?.get('last_post') as number | null) ?? 0;
  }

  /** Records a post in a slow-mode channel; the row lasts as long as the wait it imposes. */
  async recordPost(id: bigint, userId: bigint, date: number, seconds: number): Promise<void> {
    await this.db.execute(
      'INSERT INTO channel_slowmode (channel_id, user_id, last_post) VALUES (?, ?, ?) USING TTL ?',
      [toLong(id), toLong(userId), date, Math.max(1, seconds)],
      { prepare: true },
    );
  }

  // ---- admin log ------------------------------------------------------------------------------

  adminLogStmt(id: bigint, e: AdminLogEvent): Stmt {
    return {
      query: 'INSERT INTO channel_admin_log (channel_id, event_id, body) VALUES (?, ?, ?)',
      params: [toLong(id), toLong(e.id), enc(AdminLogEvent.encode(e))],
    };
  }

  /** Admin log events with min_id < id < max_id (0 = unbounded), newest first. */
  async adminLog(id: bigint, maxId: bigint, minId: bigint, limit: number): Promise<AdminLogEvent[]> {
    const rows = await this.rows(
      'SELECT body FROM channel_admin_log WHERE channel_id = ? AND event_id < ? AND event_id > ? LIMIT ?',
      [toLong(id), toLong(maxId > 0n ? maxId : 1n << 62n), toLong(minId), limit],
    );
    return rows.map((r) => AdminLogEvent.decode(r.get('body') as Buffer));
  }

  // ---- views ----------------------------------------------------------------------------------

  async views(id: bigint, ids: number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    await Promise.all(
      [...new Set(ids)].map(async (m) => {
        const [r] = await this.rows(
          'SELECT views FROM channel_views WHERE channel_id = ? AND bucket = ? AND id = ?',
          [toLong(id), messageBucket(m), m],
        );
        out.set(m, r ? Number(fromLong(r.get('views'))) : 0);
      }),
    );
    return out;
  }

  /** Counts `viewer`'s view of each message once; returns the ids that were new for the viewer. */
  async countViews(id: bigint, viewer: bigint, ids: number[]): Promise<void> {
    await Promise.all(
      [...new Set(ids)].map(async (m) => {
        const seen = await this.rows(
          'SELECT user_id FROM channel_viewers WHERE channel_id = ? AND id = ? AND user_id = ?',
          [toLong(id), m, toLong(viewer)],
        );
        if (seen.length > 0) return;
        await this.db.execute(
          'INSERT INTO channel_viewers (channel_id, id, user_id) VALUES (?, ?, ?)',
          [toLong(id), m, toLong(viewer)],
          { prepare: true },
        );
        await this.db.execute(
          'UPDATE channel_views SET views = views + 1 WHERE channel_id = ? AND bucket = ? AND id = ?',
          [toLong(id), messageBucket(m), m],
          { prepare: true },
        );
      }),
    );
  }

  // ---- memberships (member's home DC) ---------------------------------------------------------

  async membership(userId: bigint, channelId: bigint): Promise<MembershipRow | undefined> {
    const [r] = await this.rows(
      `SELECT user_id, channel_id, dc_id, member, version, read_inbox_max_id, pinned, mute_until, joined_date, channel
         FROM channel_memberships WHERE user_id = ? AND channel_id = ?`,
      [toLong(userId), toLong(channelId)],
    );
    return r ? toMembership(r) : undefined;
  }

  /** Every membership row of the user (current and former). */
  async memberships(userId: bigint): Promise<MembershipRow[]> {
    const rs = await this.db.execute(
      `SELECT user_id, channel_id, dc_id, member, version, read_inbox_max_id, pinned, mute_until, joined_date, channel
         FROM channel_memberships WHERE user_id = ?`,
      [toLong(userId)],
      { prepare: true, fetchSize: 1000 },
    );
    const out: MembershipRow[] = [];
    // The result set pages on by itself when iterated asynchronously (500 channels at most).
    for await (const r of rs) out.push(toMembership(r));
    return out;
  }

  /**
   * Records a membership change unless a newer (or the same) version was recorded already.
   * Returns whether it was applied (the caller then tells the user's sessions).
   *
   * No lightweight transaction: the version columns (member, version, dc_id, channel,
   * joined_date) are written with `USING TIMESTAMP version`. A participant version is microseconds
   * since the epoch, strictly increasing per participant at the channel's home DC (core.ts
   * nextVersion), so Cassandra's last-write-wins per cell keeps the highest version's values
   * whatever order two notices arrive in, even when they cross (a direct call and a queued replay,
   * or an old and a new owner replica): the check the two LWTs made is what the storage does by
   * itself. The read before the write only decides the answer: an older or repeated notice is
   * neither written nor announced. Two notices racing through that read are both written (the
   * higher version wins the cells) and both announced; each announcement carries the channel as
   * its version saw it, and the next one or GetUserChannels settles the sessions' view.
   * The member's own columns (read_inbox_max_id, pinned, mute_until) are never written here except
   * as defaults at timestamp 0, which any real write of them outlives: a re-join keeps the read
   * marker, as the IF NOT EXISTS insert did.
   */
  async recordMembership(m: {
    userId: bigint;
    channelId: bigint;
    dcId: number;
    member: boolean;
    version: bigint;
    channel: Channel;
    date: number;
  }): Promise<boolean> {
    const [before] = await this.rows(
      'SELECT version FROM channel_memberships WHERE user_id = ? AND channel_id = ?',
      [toLong(m.userId), toLong(m.channelId)],
    );
    if (before && fromLong(before.get('version')) >= m.version) return false;
    const key = [toLong(m.userId), toLong(m.channelId)];
    const cols = ['dc_id', 'member', 'version', 'channel', ...(m.member ? ['joined_date'] : [])];
    const values = [m.dcId, m.member, toLong(m.version), enc(Channel.encode(m.channel))];
    if (m.member) values.push(m.date);
    const stmts = [
      {
        query: `INSERT INTO channel_memberships (user_id, channel_id, ${cols.join(', ')})
                VALUES (?, ?, ${cols.map(() => '?').join(', ')}) USING TIMESTAMP ?`,
        params: [...key, ...values, toLong(m.version)],
      },
    ];
    if (!before)
      stmts.push({
        query: `INSERT INTO channel_memberships (user_id, channel_id, read_inbox_max_id, pinned, mute_until)
                VALUES (?, ?, 0, false, 0) USING TIMESTAMP 0`,
        params: key,
      });
    // One partition: an unlogged batch is applied atomically.
    await this.db.batch(stmts, { prepare: true, logged: false });
    return true;
  }

  /** Moves the member's read marker forward (never back). */
  async setRead(userId: bigint, channelId: bigint, maxId: number, expected: number): Promise<boolean> {
    const rs = await this.db.execute(
      'UPDATE channel_memberships SET read_inbox_max_id = ? WHERE user_id = ? AND channel_id = ? IF read_inbox_max_id = ?',
      [maxId, toLong(userId), toLong(channelId), expected],
      { prepare: true },
    );
    return rs.first().get('[applied]') === true;
  }
}
