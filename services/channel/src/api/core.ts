/**
 * What every handler module of the channel service shares: its dependencies, the access check of
 * a call about one channel, rendering for a viewer, participant changes with their counters and
 * admin log, and the membership notice to the member's home DC.
 *
 * A handler that reaches this code for a channel of this DC runs on the channel's owner replica
 * (routing.ts), so `writer.run` never waits for another replica.
 */
import { errors, requireUser, unary, type DcClients } from '../../../shared/src';
import {
  ChannelParticipant,
  ChannelParticipant_Role,
  type AdminLogEvent,
  type ChannelServiceClient,
  type InputChannel,
  type RecordMembershipRequest,
} from '../../../shared/src/gen/tern/channel/v1/channel';
import type { Channel } from '../../../shared/src/gen/tern/common/v1/chat';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import type {
  InputFile,
  InputMedia,
  MessageMedia,
  Photo,
} from '../../../shared/src/gen/tern/common/v1/media';
import { MessageEntity_Type, type Message } from '../../../shared/src/gen/tern/common/v1/message';
import type { InputPeer, InputUser, Peer } from '../../../shared/src/gen/tern/common/v1/peer';
import type { Update, Updates } from '../../../shared/src/gen/tern/common/v1/update';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type { Profiles } from '../internal/profiles';
import type { ChannelPushes } from '../producers/push';
import { channelView, isMember } from '../internal/rights';
import type { ChannelTx, ChannelWriter } from '../storage/channel-writer';
import { channelDc } from '../storage/ids';
import type { ChannelRow, ChannelStore, ParticipantRow, Stmt } from '../storage/store';

/** Where live events go (producers/updates.ts). */
export interface Publisher {
  channelUpdate(
    channelId: bigint,
    update: Update,
    entities: { users: User[]; channels: Channel[] },
    excludeAuthKeyId?: bigint,
  ): Promise<void>;
  userUpdate(
    userId: bigint,
    update: Update,
    entities: { users: User[]; channels: Channel[] },
    excludeAuthKeyId?: bigint,
  ): Promise<void>;
}

/** The global username space (auth SetChannelUsername of the username owner). */
export type SetChannelUsername = (req: {
  context: RequestContext;
  channelId: bigint;
  username: string;
  previous: string;
  checkOnly: boolean;
}) => Promise<void>;

/** Turns a client's InputMedia into stored media (media service of the file's DC). */
export type Attach = (ctx: RequestContext, input: InputMedia) => Promise<MessageMedia>;

/**
 * Lets whoever may read channel `channelId` download the file of stored media (media GrantAccess
 * at the file's DC, one row per channel; the media service asks CanReadChannel at download time).
 */
export type Grant = (ctx: RequestContext, media: MessageMedia, channelId: bigint) => Promise<void>;

/**
 * Makes a chat photo of channel `channelId` from the caller's upload (media UploadChatPhoto at the
 * DC that holds the upload, the caller's), which the channel's readers may download.
 */
export type MakeChatPhoto = (ctx: RequestContext, file: InputFile, channelId: bigint) => Promise<Photo>;

export interface CoreDeps {
  dcId: number;
  store: ChannelStore;
  writer: ChannelWriter;
  profiles: Profiles;
  publisher: Publisher;
  /** The channel service of another DC. */
  channelOf: DcClients<ChannelServiceClient> | { forDc(dc: number): ChannelServiceClient };
  /** DCs of the deployment. */
  dcIds: readonly number[];
  setChannelUsername: SetChannelUsername;
  attach: Attach;
  grant: Grant;
  chatPhoto: MakeChatPhoto;
  /**
   * Durable membership notices (consumers/memberships.ts), wired by service.ts with
   * `applyMembership`; absent, a notice is one direct attempt.
   */
  memberships?: { deliver(req: RecordMembershipRequest, home: number): Promise<unknown> };
  /** Push notifications of new posts (producers/push.ts); absent, posts notify nobody. */
  push?: ChannelPushes;
  /** Unix seconds now (tests move time). */
  now?: () => number;
}

/**
 * How long a direct membership notice to another DC may take before it is queued instead: a DC
 * that is down refuses the connection at once; this bounds a DC that hangs.
 */
export const MEMBERSHIP_DEADLINE_MS = 3_000;

/** The result of the access check of a call about one channel. */
export interface Access {
  viewer: bigint;
  row: ChannelRow;
  /** The viewer's participant row (undefined: never one). */
  me: ParticipantRow | undefined;
}

let lastVersion = 0n;
/** A participant version: increasing within the process and above any earlier owner's. */
export function nextVersion(prev: bigint): bigint {
  const micros = BigInt(Date.now()) * 1000n;
  lastVersion = [prev + 1n, micros, lastVersion + 1n].reduce((a, b) => (a > b ? a : b));
  return lastVersion;
}

export const channelPeer = (id: bigint): Peer => ({ kind: { $case: 'channelId', value: id } });
export const userPeer = (id: bigint): Peer => ({ kind: { $case: 'userId', value: id } });

/** The user an InputUser names (self = the caller). */
export function inputUserId(viewer: bigint, u: InputUser | undefined): bigint {
  const k = u?.kind;
  if (k?.$case === 'self') return viewer;
  if (k?.$case === 'user' && k.value.userId > 0n) return k.value.userId;
  throw errors.badRequest('USER_ID_INVALID');
}

/** The user an InputPeer names (channels.editBanned / getParticipant take InputPeer). */
export function inputPeerUserId(viewer: bigint, p: InputPeer | undefined): bigint {
  const k = p?.kind;
  if (k?.$case === 'self') return viewer;
  if (k?.$case === 'user' && k.value.userId > 0n) return k.value.userId;
  throw errors.badRequest('PARTICIPANT_ID_INVALID');
}

/** The users a message mentions (its author unless anonymous, a forward's origin, added users). */
export function usersOfMessage(m: Message): bigint[] {
  const out: bigint[] = [];
  if (m.from?.kind?.$case === 'userId') out.push(m.from.kind.value);
  if (m.fwdFrom?.from?.kind?.$case === 'userId') out.push(m.fwdFrom.from.kind.value);
  const a = m.action?.kind;
  if (a?.$case === 'chatAddUser') out.push(...a.value.userIds);
  if (a?.$case === 'chatDeleteUser') out.push(a.value.userId);
  // Users named by messageEntityMentionName: a client must find them in `users`.
  for (const e of m.entities)
    if (e.type === MessageEntity_Type.MENTION_NAME && e.userId > 0n) out.push(e.userId);
  return out;
}

/** The stored author of a channel message (posts by anyone, anonymous ones included). */
export const authorOf = (m: Message): bigint =>
  m.origin?.authorUserId ?? (m.from?.kind?.$case === 'userId' ? m.from.kind.value : 0n);

export function channelCore(d: CoreDeps) {
  const now = d.now ?? (() => Math.floor(Date.now() / 1000));

  /** The channel row, or CHANNEL_INVALID (unknown) / CHANNEL_PRIVATE (deleted). */
  async function channelRow(id: bigint): Promise<ChannelRow> {
    if (channelDc(id) !== d.dcId) throw errors.badRequest('CHANNEL_INVALID');
    const row = await d.store.channel(id);
    if (!row) throw errors.badRequest('CHANNEL_INVALID');
    if (row.deleted) throw errors.badRequest('CHANNEL_PRIVATE');
    return row;
  }

  /**
   * The access check of a call about one channel. The access hash must match unless the caller is
   * (or was) a participant; a banned user, or a non-member of a private channel when `read` is
   * asked, gets CHANNEL_PRIVATE (`banned`: the caller reports bans itself).
   */
  async function access(
    ctx: RequestContext | undefined,
    input: InputChannel | undefined,
    opts: { read?: boolean; member?: boolean; banned?: boolean } = {},
  ): Promise<Access> {
    const viewer = requireUser(ctx);
    if (!input || input.channelId <= 0n) throw errors.badRequest('CHANNEL_INVALID');
    const row = await channelRow(input.channelId);
    const me = await d.store.participant(row.id, viewer);
    if (!me && input.accessHash !== row.accessHash && row.username === '')
      throw errors.badRequest('CHANNEL_INVALID');
    if (me?.p.role === ChannelParticipant_Role.BANNED && !opts.banned)
      throw errors.badRequest('CHANNEL_PRIVATE');
    if (opts.member && !isMember(me)) throw errors.badRequest('CHANNEL_PRIVATE');
    if (opts.read && !isMember(me) && row.username === '') throw errors.badRequest('CHANNEL_PRIVATE');
    return { viewer, row, me };
  }

  /** The channel as the viewer sees it. */
  const view = (row: ChannelRow, me: ParticipantRow | undefined): Channel => channelView(row, me, now());
  /** The channel as every member sees it (events to all online members). */
  const neutralView = (row: ChannelRow): Channel => channelView(row, undefined, now(), false);

  /** A message as `viewer` sees it: `out` for its author; the stored origin is not shown. */
  function present(m: Message, viewer: bigint, views?: Map<number, number>): Message {
    const { origin: _origin, ...rest } = m;
    return {
      ...rest,
      out: authorOf(m) === viewer,
      ...(views?.has(m.id) ? { views: Math.max(1, views.get(m.id)!) } : {}),
    };
  }

  /** Users of `messages` plus `extra`, as `viewer` sees them. */
  function usersFor(viewer: bigint, messages: Message[], extra: bigint[] = []): Promise<User[]> {
    return d.profiles.users(viewer, [...extra, ...messages.flatMap(usersOfMessage)]);
  }

  const updates = (list: Update[], channels: Channel[], users: User[]): Updates => ({
    updates: list,
    users,
    chats: [],
    channels,
    date: now(),
    seq: 0,
  });

  const updateChannel = (id: bigint): Update => ({
    pts: 0,
    ptsCount: 0,
    kind: { $case: 'channel', value: { channelId: id } },
  });

  /**
   * Moves one participant from `prev` to `next` inside the channel's queue: the participant row,
   * its indexes, the channel's counters (read fresh: the queue makes read-modify-write safe) and
   * an admin log entry, in one batch. Returns the row as written (with its new version).
   */
  async function changeParticipant(
    tx: ChannelTx,
    prev: ParticipantRow | undefined,
    next: { userId: bigint; p: ChannelParticipant },
    log?: { actor: bigint; action: NonNullable<AdminLogEvent['action']> },
    extra: Stmt[] = [],
  ): Promise<ParticipantRow> {
    const row = (await d.store.channel(tx.channelId))!;
    const wasMember = isMember(prev);
    const isNowMember = MEMBER_SET.has(next.p.role);
    const recentKey = isNowMember ? (wasMember && prev ? prev.recentKey : await tx.nextRecentKey()) : 0n;
    const written: ParticipantRow = {
      userId: next.userId,
      p: ChannelParticipant.create({ ...next.p, userId: next.userId, isSelf: false }),
      version: nextVersion(prev?.version ?? 0n),
      recentKey,
    };
    const roleCount = (
      p: ParticipantRow | { p: ChannelParticipant } | undefined,
      role: ChannelParticipant_Role[],
    ) => (p && role.includes(p.p.role) ? 1 : 0);
    const admins = [ChannelParticipant_Role.CREATOR, ChannelParticipant_Role.ADMIN];
    const delta = (roles: ChannelParticipant_Role[]) => roleCount(written, roles) - roleCount(prev, roles);
    const counters = {
      participants_count: row.participantsCount + (isNowMember ? 1 : 0) - (wasMember ? 1 : 0),
      admins_count: row.adminsCount + delta(admins),
      kicked_count: row.kickedCount + delta([ChannelParticipant_Role.BANNED]),
      banned_count: row.bannedCount + delta([ChannelParticipant_Role.RESTRICTED]),
    };
    const stmts = [
      ...d.store.participantStmts(tx.channelId, prev, written),
      d.store.channelUpdate(tx.channelId, counters),
      ...extra,
    ];
    if (log)
      stmts.push(
        d.store.adminLogStmt(tx.channelId, {
          id: written.version,
          date: now(),
          userId: log.actor,
          action: log.action,
        }),
      );
    await tx.write(stmts);
    return written;
  }

  /** Writes an admin log entry (title, username, toggles, message events). */
  function adminLog(channelId: bigint, actor: bigint, action: NonNullable<AdminLogEvent['action']>): Stmt {
    return d.store.adminLogStmt(channelId, { id: nextVersion(0n), date: now(), userId: actor, action });
  }

  /** The home DC of each user (the caller's is the DC whose gateway took the call). */
  async function homesOf(ctx: RequestContext | undefined, ids: bigint[]): Promise<Map<bigint, number>> {
    const out = await d.profiles.homes(ids.filter((id) => id !== ctx?.userId));
    if (ctx?.userId && ids.includes(ctx.userId)) out.set(ctx.userId, ctx.dcId || d.dcId);
    return out;
  }

  /** Records a membership notice at DC `home` now: the local member side, or its RecordMembership. */
  async function applyMembership(req: RecordMembershipRequest, home: number): Promise<void> {
    if (home === d.dcId) await members.record(req);
    else {
      const c = d.channelOf.forDc(home);
      await unary(c.recordMembership.bind(c), req, { deadlineMs: MEMBERSHIP_DEADLINE_MS });
    }
  }

  /**
   * Tells the member's home DC that a membership changed (after the participant row was written:
   * the home DC's row decides, this copy follows). Through `d.memberships` when wired (service.ts):
   * tried at once, queued durably when the member's DC does not answer, so the change reaches it
   * when it is back while the caller's answer stays fast (consumers/memberships.ts). Without it
   * (in-process tests), one direct attempt whose failure the caller sees.
   */
  async function recordMembership(
    home: number | undefined,
    row: ChannelRow,
    p: ParticipantRow,
    excludeAuthKeyId: bigint,
  ): Promise<void> {
    if (home === undefined) return;
    const req: RecordMembershipRequest = {
      userId: p.userId,
      channelId: row.id,
      channel: view(row, p),
      member: isMember(p),
      version: p.version,
      excludeAuthKeyId,
    };
    if (d.memberships) await d.memberships.deliver(req, home);
    else await applyMembership(req, home);
  }

  /** The member-side part served at the user's home DC (RecordMembership's write and notice). */
  const members = {
    async record(req: RecordMembershipRequest): Promise<void> {
      if (!req.channel) throw errors.badRequest('CHANNEL_INVALID');
      const applied = await d.store.recordMembership({
        userId: req.userId,
        channelId: req.channelId,
        dcId: channelDc(req.channelId),
        member: req.member,
        version: req.version,
        channel: req.channel,
        date: now(),
      });
      if (applied)
        await d.publisher.userUpdate(
          req.userId,
          updateChannel(req.channelId),
          { users: [], channels: [req.channel] },
          req.excludeAuthKeyId,
        );
    },
    /** Channels the user is a member of now (CHANNELS_TOO_MUCH), read at the user's home DC. */
    async count(userId: bigint, home: number): Promise<number> {
      if (home === d.dcId) return (await d.store.memberships(userId)).filter((m) => m.member).length;
      const c = d.channelOf.forDc(home);
      return (await unary(c.getUserChannels.bind(c), { userId })).channels.length;
    },
  };

  return {
    d,
    now,
    channelRow,
    access,
    view,
    neutralView,
    present,
    usersFor,
    updates,
    updateChannel,
    changeParticipant,
    adminLog,
    homesOf,
    recordMembership,
    applyMembership,
    members,
  };
}

const MEMBER_SET = new Set([
  ChannelParticipant_Role.MEMBER,
  ChannelParticipant_Role.CREATOR,
  ChannelParticipant_Role.ADMIN,
  ChannelParticipant_Role.RESTRICTED,
]);

/** What the handler modules get. */
export type ChannelCore = ReturnType<typeof channelCore>;
