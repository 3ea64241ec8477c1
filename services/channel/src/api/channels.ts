/**
 * Channels themselves: creation, reading, membership (join, leave, invite, invite links), admins
 * and bans, title, username, toggles, deletion, participants lists and the admin log.
 *
 * Every change of a participant is decided and written at the channel's home DC, on its owner, in
 * the channel's queue (core.changeParticipant); then the member's home DC is told
 * (RecordMembership), which updates the member's dialog list and the gateways' subscriptions.
 */
import { errors, requireUser, unary, type AsyncService } from '../../../shared/src';
import {
  ChannelParticipant,
  ChannelParticipant_Role,
  GetParticipantsRequest_Filter,
  type AdminLogEvent,
  type BannedRights,
  type ChannelServiceServer,
  type ExportChannelInviteResponse,
  type InputChannel,
} from '../../../shared/src/gen/tern/channel/v1/channel';
import type { Channel } from '../../../shared/src/gen/tern/common/v1/chat';
import { Photo } from '../../../shared/src/gen/tern/common/v1/media';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import { Message } from '../../../shared/src/gen/tern/common/v1/message';
import type { Update } from '../../../shared/src/gen/tern/common/v1/update';
import {
  ALL_RIGHTS,
  MAX_ABOUT,
  MAX_CHANNELS_PER_USER,
  MAX_INVITE_USERS,
  MAX_PARTICIPANTS_PAGE,
  NO_BANS,
  SLOWMODE_VALUES,
  checkTitle,
  emptyRights,
  exceedsRights,
  hasRight,
  isAdmin,
  isMember,
  noBans,
  participantView,
  requireRight,
  rightsOf,
} from '../internal/rights';
import {
  bareInviteHash,
  channelDc,
  channelIdCandidate,
  createKey,
  newAccessHash,
  migrationRandomId,
  newInviteHash,
} from '../storage/ids';
import type { ChannelRow, InviteRow, ParticipantRow } from '../storage/store';
import { channelPeer, inputPeerUserId, inputUserId, userPeer, type Access, type ChannelCore } from './core';

type Handlers = Pick<
  AsyncService<ChannelServiceServer>,
  | 'createChannel'
  | 'getChannels'
  | 'getFullChannel'
  | 'joinChannel'
  | 'leaveChannel'
  | 'inviteToChannel'
  | 'editAdmin'
  | 'editBanned'
  | 'editChannelTitle'
  | 'editChannelPhoto'
  | 'checkChannelUsername'
  | 'updateChannelUsername'
  | 'deleteChannel'
  | 'getParticipants'
  | 'getParticipant'
  | 'toggleSignatures'
  | 'toggleSlowMode'
  | 'getAdminLog'
  | 'exportChannelInvite'
  | 'checkChannelInvite'
  | 'importChannelInvite'
  | 'migrateChat'
>;

/** Candidate ids tried before createChannel gives up (a collision needs a 29-bit hash clash). */
const CREATE_ATTEMPTS = 8;
/** Members read at most for channelParticipantsSearch (a scan of the recent list, by name). */
const SEARCH_SCAN = 2000;
const ADMIN_LOG_MAX = 100;

/** The permanent-link form of an invite hash. */
export const inviteLink = (hash: string): string => `https://t.me/+${hash}`;

export function channelHandlers(core: ChannelCore): Handlers {
  const { d } = core;

  /** Fails unless the caller may still join another channel (at the caller's home DC). */
  async function checkChannelCount(userId: bigint, home: number, name = 'CHANNELS_TOO_MUCH'): Promise<void> {
    if ((await core.members.count(userId, home)) >= MAX_CHANNELS_PER_USER) throw errors.badRequest(name);
  }

  /** The Updates answering a membership change of the caller: updateChannel with the channel. */
  async function channelUpdates(a: Access, me: ParticipantRow | undefined, more: Update[] = []) {
    const row = (await d.store.channel(a.row.id)) ?? a.row;
    return core.updates([core.updateChannel(row.id), ...more], [core.view(row, me)], []);
  }

  /**
   * Publishes a service message that changed the channel's look (title, photo) to its readers, and
   * answers the caller with it and the channel as it is now.
   */
  async function announceEdit(
    ctx: RequestContext,
    a: Access,
    row: ChannelRow,
    posted: { pts: number; message: Message },
  ) {
    const update: Update = {
      pts: posted.pts,
      ptsCount: 1,
      kind: { $case: 'newChannelMessage', value: { message: posted.message } },
    };
    const users = await core.usersFor(a.viewer, [posted.message]);
    await d.publisher.channelUpdate(
      row.id,
      {
        ...update,
        kind: { $case: 'newChannelMessage', value: { message: core.present(posted.message, 0n) } },
      },
      { users, channels: [core.neutralView(row)] },
      ctx.authKeyId,
    );
    return core.updates(
      [
        core.updateChannel(row.id),
        {
          ...update,
          kind: { $case: 'newChannelMessage', value: { message: core.present(posted.message, a.viewer) } },
        },
      ],
      [core.view(row, a.me)],
      users,
    );
  }

  /** Joins the caller as a plain member (joinChannel, importChatInvite). */
  async function join(ctx: RequestContext, a: Access, inviterId: bigint, invite?: InviteRow) {
    const home = ctx.dcId || d.dcId;
    await checkChannelCount(a.viewer, home);
    const written = await d.writer.run(a.row.id, async (tx) => {
      const prev = await d.store.participant(a.row.id, a.viewer);
      if (isMember(prev)) return undefined;
      if (prev?.p.role === ChannelParticipant_Role.BANNED) throw errors.badRequest('USER_BANNED_IN_CHANNEL');
      if (invite) {
        // Checked again in the queue: the usage limit is counted here, one join at a time.
        const fresh = await d.store.invite(invite.hash);
        if (!fresh || inviteExpired(fresh, core.now())) throw errors.badRequest('INVITE_HASH_EXPIRED');
      }
      const p = ChannelParticipant.create({
        userId: a.viewer,
        role: ChannelParticipant_Role.MEMBER,
        date: core.now(),
        inviterId,
      });
      const extra = invite ? [d.store.inviteStmt({ ...invite, usage: invite.usage + 1 })] : [];
      return core.changeParticipant(
        tx,
        prev,
        { userId: a.viewer, p },
        { actor: a.viewer, action: { $case: 'participantJoined', value: p } },
        extra,
      );
    });
    const me = written ?? (await d.store.participant(a.row.id, a.viewer));
    if (written) {
      const row = (await d.store.channel(a.row.id)) ?? a.row;
      await core.recordMembership(home, row, written, ctx.authKeyId);
    }
    return channelUpdates(a, me);
  }

  /** Sets the participant `target` to `next` (role and rights) and tells the target's home DC. */
  async function setParticipant(
    ctx: RequestContext,
    a: Access,
    target: bigint,
    decide: (
      prev: ParticipantRow | undefined,
      me: ParticipantRow | undefined,
    ) => ChannelParticipant | undefined,
    log: (p: ChannelParticipant) => NonNullable<AdminLogEvent['action']>,
  ) {
    const written = await d.writer.run(a.row.id, async (tx) => {
      const [prev, me] = await Promise.all([
        d.store.participant(a.row.id, target),
        d.store.participant(a.row.id, a.viewer),
      ]);
      const next = decide(prev, me);
      if (!next) return { prev, row: undefined };
      const row = await core.changeParticipant(
        tx,
        prev,
        { userId: target, p: next },
        { actor: a.viewer, action: log(next) },
      );
      return { prev, row };
    });
    if (written.row) {
      const row = (await d.store.channel(a.row.id)) ?? a.row;
      const homes = await core.homesOf(ctx, [target]);
      await core.recordMembership(
        homes.get(target),
        row,
        written.row,
        target === a.viewer ? ctx.authKeyId : 0n,
      );
    }
    return written.row;
  }

  function inviteExpired(i: InviteRow, now: number): boolean {
    return (
      i.revoked || (i.expireDate > 0 && i.expireDate <= now) || (i.usageLimit > 0 && i.usage >= i.usageLimit)
    );
  }

  async function inviteOf(hash: string): Promise<{ invite: InviteRow; row: ChannelRow }> {
    const h = bareInviteHash(hash);
    const invite = await d.store.invite(h);
    if (!invite) throw errors.badRequest('INVITE_HASH_INVALID');
    const row = await d.store.channel(invite.channelId);
    if (!row || row.deleted || inviteExpired(invite, core.now()))
      throw errors.badRequest('INVITE_HASH_EXPIRED');
    return { invite, row };
  }

  const inviteAnswer = (i: InviteRow): ExportChannelInviteResponse => ({
    link: inviteLink(i.hash),
    hash: i.hash,
    adminId: i.adminId,
    date: i.date,
    expireDate: i.expireDate,
    usageLimit: i.usageLimit,
    usage: i.usage,
    permanent: i.permanent,
    revoked: i.revoked,
    title: i.title,
  });

  /** Reads channels of this DC for the caller (unknown, inaccessible ones left out). */
  async function localChannels(viewer: bigint, inputs: InputChannel[]): Promise<Channel[]> {
    const rows = await d.store.channels(inputs.map((i) => i.channelId));
    const mine = await Promise.all(
      inputs.map(async (i) => {
        const row = rows.get(i.channelId);
        if (!row) return undefined;
        const me = await d.store.participant(row.id, viewer);
        if (!me && i.accessHash !== row.accessHash && row.username === '') return undefined;
        return core.view(row, me);
      }),
    );
    return mine.filter((c): c is Channel => c !== undefined);
  }

  /** What a new channel starts as (createChannel, migrateChat). */
  interface NewChannel {
    title: string;
    about: string;
    megagroup: boolean;
    /** With the creator, identifies the call: a retry finds the channel its first attempt made. */
    randomId: bigint;
    /** The action of message 1. */
    first: NonNullable<NonNullable<Message['action']>['kind']>;
    migratedFrom?: { chatId: bigint; maxId: number };
  }

  /**
   * Makes a channel owned by this DC with its creator and message 1, and tells the creator's home
   * DC. Idempotent: a retry (same creator and randomId) lands on the same channel.
   */
  async function create(ctx: RequestContext, creator: bigint, spec: NewChannel) {
    const key = createKey(creator, spec.randomId);
    const now = core.now();
    let row: ChannelRow | undefined;
    let retry = false;
    for (let attempt = 0; attempt < CREATE_ATTEMPTS && !row; attempt++) {
      const candidate: ChannelRow = {
        id: channelIdCandidate(creator, spec.randomId, d.dcId, attempt),
        accessHash: newAccessHash(),
        megagroup: spec.megagroup,
        title: spec.title,
        about: spec.about,
        username: '',
        creatorId: creator,
        date: now,
        signatures: false,
        slowmodeSeconds: 0,
        pinnedMsgId: 0,
        participantsCount: 1,
        adminsCount: 1,
        kickedCount: 0,
        bannedCount: 0,
        deleted: false,
        migratedFromChatId: spec.migratedFrom?.chatId ?? 0n,
        migratedFromMaxId: spec.migratedFrom?.maxId ?? 0,
        logFloor: 0,
        invites: new Map(),
        createKey: key,
        readOutboxMaxId: 0,
      };
      const got = await d.store.create(candidate);
      if (got.createKey === key) {
        row = got;
        retry = got !== candidate;
      }
    }
    if (!row) throw errors.internal(new Error('no free channel id'));
    // Nobody else knows the id yet, so the first writes need no owner: the creator, message 1
    // and the log's first row, in one batch. A retry rewrites them only if nothing followed.
    const creatorRow: ParticipantRow = {
      userId: creator,
      p: ChannelParticipant.create({
        userId: creator,
        role: ChannelParticipant_Role.CREATOR,
        date: row.date,
        adminRights: ALL_RIGHTS,
      }),
      version: BigInt(row.date) * 1_000_000n,
      recentKey: BigInt(row.date) * 1_000_000n,
    };
    const first = serviceMessage(row, creator, 1, row.date, spec.first);
    const newMessage: Update = {
      pts: 1,
      ptsCount: 1,
      kind: { $case: 'newChannelMessage', value: { message: first } },
    };
    if (!retry || (await d.store.headHint(row.id)).pts === 0) {
      await d.store.db.batch(
        [
          ...d.store.participantStmts(row.id, undefined, creatorRow),
          d.store.logStmt(
            row.id,
            {
              pts: 1,
              ptsCount: 1,
              type: 'new',
              update: {
                ...newMessage,
                kind: { $case: 'newChannelMessage', value: { message: Message.create({ id: 1 }) } },
              },
              topId: 1,
              date: row.date,
            },
            0n,
          ),
          d.store.headStmt(row.id, { pts: 1, topId: 1 }),
          d.store.messageStmt(row.id, first, creator),
        ],
        { prepare: true, logged: true },
      );
    }
    await core.recordMembership(ctx.dcId || d.dcId, row, creatorRow, ctx.authKeyId);
    const channel = core.view(row, creatorRow);
    const users = await d.profiles.users(creator, [creator]);
    const updates = core.updates(
      [
        core.updateChannel(row.id),
        {
          ...newMessage,
          kind: { $case: 'newChannelMessage', value: { message: core.present(first, creator) } },
        },
      ],
      [channel],
      users,
    );
    return { row, creatorRow, channel, updates };
  }

  return {
    async createChannel(req) {
      const creator = requireUser(req.context);
      const title = checkTitle(req.title);
      if (req.about.length > MAX_ABOUT) throw errors.badRequest('CHAT_ABOUT_TOO_LONG');
      const made = await create(req.context!, creator, {
        title,
        about: req.about,
        megagroup: req.megagroup && !req.broadcast,
        randomId: req.randomId,
        first: { $case: 'channelCreate', value: { title } },
      });
      return { updates: made.updates, channel: made.channel };
    },

    async migrateChat(req) {
      // The messaging service of the chat's owner checks the creator again when it closes the chat
      // (MarkChatMigrated); here the gateway has read the members as the creator sees them.
      const creator = requireUser(req.context);
      if (req.memberIds[0] !== creator) throw errors.badRequest('CHAT_ADMIN_REQUIRED');
      const made = await create(req.context!, creator, {
        title: checkTitle(req.title),
        about: '',
        megagroup: true,
        randomId: migrationRandomId(req.chatId),
        first: { $case: 'channelMigrateFrom', value: { title: req.title, chatId: req.chatId } },
        migratedFrom: { chatId: req.chatId, maxId: req.migratedFromMaxId },
      });
      // Every other member joins as invited by the creator, on the channel's writer (this DC's
      // channel service routes the call to the owner replica); one whose home is unknown (deleted)
      // or who is at the channel limit is left out.
      const others = [...new Set(req.memberIds.slice(1))].filter((u) => u !== creator);
      if (others.length > 0) {
        const home = d.channelOf.forDc(d.dcId);
        await unary(home.inviteToChannel.bind(home), {
          context: req.context,
          channel: { channelId: made.row.id, accessHash: made.row.accessHash },
          users: others.map((userId) => ({
            kind: { $case: 'user' as const, value: { userId, accessHash: 0n } },
          })),
          migration: true,
        });
      }
      const row = (await d.store.channel(made.row.id)) ?? made.row;
      const channel = core.view(row, made.creatorRow);
      return { updates: { ...made.updates, channels: [channel] }, channel };
    },

    async getChannels(req) {
      const viewer = requireUser(req.context);
      const byDc = new Map<number, InputChannel[]>();
      for (const c of req.channels)
        byDc.set(channelDc(c.channelId), [...(byDc.get(channelDc(c.channelId)) ?? []), c]);
      const parts = await Promise.all(
        [...byDc].map(async ([dc, list]) => {
          if (dc === d.dcId) return localChannels(viewer, list);
          if (!d.dcIds.includes(dc)) return [];
          const c = d.channelOf.forDc(dc);
          return (await unary(c.getChannels.bind(c), { context: req.context, channels: list })).channels;
        }),
      );
      const found = new Map(parts.flat().map((c) => [c.id, c]));
      return {
        channels: req.channels.flatMap((c) => (found.has(c.channelId) ? [found.get(c.channelId)!] : [])),
      };
    },

    async getFullChannel(req, call) {
      const a = await core.access(req.context, req.channel, { read: true });
      void call;
      const head = await d.writer.head(a.row.id);
      const read = await readStateOf(core, req.context!, a);
      const admin = isAdmin(a.me);
      return {
        fullChat: {
          id: a.row.id,
          about: a.row.about,
          participantsCount: a.row.participantsCount,
          adminsCount: a.row.adminsCount,
          readInboxMaxId: read,
          readOutboxMaxId: a.row.readOutboxMaxId,
          unreadCount: Math.max(0, head.topId - read),
          pts: head.pts,
          pinnedMsgId: a.row.pinnedMsgId,
          slowmodeSeconds: a.row.slowmodeSeconds,
          kickedCount: admin ? a.row.kickedCount : 0,
          bannedCount: admin ? a.row.bannedCount : 0,
          migratedFromChatId: a.row.migratedFromChatId,
          migratedFromMaxId: a.row.migratedFromMaxId,
          exportedInviteLink: a.row.invites.has(a.viewer) ? inviteLink(a.row.invites.get(a.viewer)!) : '',
        },
        channels: [core.view(a.row, a.me)],
        users: await d.profiles.users(a.viewer, [a.viewer]),
      };
    },

    async joinChannel(req) {
      const a = await core.access(req.context, req.channel, { banned: true });
      if (a.me?.p.role === ChannelParticipant_Role.BANNED) throw errors.badRequest('USER_BANNED_IN_CHANNEL');
      if (isMember(a.me)) {
        // A retry of a join whose membership notice failed: send it again (idempotent by version).
        await core.recordMembership(req.context!.dcId || d.dcId, a.row, a.me!, req.context!.authKeyId);
        return { updates: await channelUpdates(a, a.me) };
      }
      // A private channel is joined by invite link only (importChatInvite).
      if (a.row.username === '') throw errors.badRequest('CHANNEL_PRIVATE');
      return { updates: await join(req.context!, a, 0n) };
    },

    async leaveChannel(req) {
      const a = await core.access(req.context, req.channel);
      if (!isMember(a.me)) throw errors.badRequest('USER_NOT_PARTICIPANT');
      const written = await setParticipant(
        req.context!,
        a,
        a.viewer,
        (prev) =>
          isMember(prev)
            ? ChannelParticipant.create({
                userId: a.viewer,
                role: ChannelParticipant_Role.LEFT,
                date: core.now(),
              })
            : undefined,
        (p) => ({ $case: 'participantLeft', value: p }),
      );
      return { updates: await channelUpdates(a, written ?? a.me) };
    },

    async inviteToChannel(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      if (!a.row.megagroup || !isMember(a.me)) requireRight(a.me, 'inviteUsers');
      const ids = [...new Set(req.users.map((u) => inputUserId(a.viewer, u)))];
      if (ids.length === 0) throw errors.badRequest('USERS_TOO_FEW');
      if (ids.length > MAX_INVITE_USERS) throw errors.badRequest('USERS_TOO_MUCH');
      const homes = await core.homesOf(req.context, ids);
      const missing = ids.filter((id) => !homes.has(id));
      if (missing.length === ids.length) throw errors.badRequest('USER_ID_INVALID');
      const mayUnban = hasRight(a.me, 'banUsers');
      const added: bigint[] = [];
      for (const id of ids.filter((id) => homes.has(id))) {
        const prev = await d.store.participant(a.row.id, id);
        if (isMember(prev)) {
          if (ids.length === 1) throw errors.badRequest('USER_ALREADY_PARTICIPANT');
          continue;
        }
        if (prev?.p.role === ChannelParticipant_Role.BANNED && !mayUnban)
          throw errors.badRequest('USER_KICKED');
        if (req.migration) {
          if ((await core.members.count(id, homes.get(id)!)) >= MAX_CHANNELS_PER_USER) continue;
        } else await checkChannelCount(id, homes.get(id)!, 'USER_CHANNELS_TOO_MUCH');
        await setParticipant(
          req.context!,
          a,
          id,
          (p) =>
            isMember(p)
              ? undefined
              : ChannelParticipant.create({
                  userId: id,
                  role: ChannelParticipant_Role.MEMBER,
                  date: core.now(),
                  inviterId: a.viewer,
                }),
          (p) => ({ $case: 'participantInvited', value: p }),
        );
        added.push(id);
      }
      // A supergroup shows "X added Y" to everyone, as Telegram does; a broadcast channel does not.
      // The invitees' gateways follow the channel from the membership notice sent above, so the
      // service message usually reaches them live too; if it beats their subscription, it is in
      // their history and their next getChannelDifference.
      if (a.row.megagroup && added.length > 0 && !req.migration) {
        const posted = await d.writer.run(a.row.id, (tx) =>
          tx.post({
            senderId: a.viewer,
            date: core.now(),
            build: (id) =>
              serviceMessage(a.row, a.viewer, id, core.now(), {
                $case: 'chatAddUser',
                value: { userIds: added },
              }),
            extra: [],
          }),
        );
        const users = await core.usersFor(a.viewer, [posted.message]);
        const newMessage = (viewer: bigint): Update => ({
          pts: posted.pts,
          ptsCount: 1,
          kind: { $case: 'newChannelMessage', value: { message: core.present(posted.message, viewer) } },
        });
        await d.publisher.channelUpdate(
          a.row.id,
          newMessage(0n),
          { users, channels: [core.neutralView(a.row)] },
          req.context!.authKeyId,
        );
        return {
          updates: core.updates([newMessage(a.viewer)], [core.view(a.row, a.me)], users),
          missingInvitees: missing,
        };
      }
      return { updates: await channelUpdates(a, a.me), missingInvitees: missing };
    },

    async editAdmin(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      requireRight(a.me, 'addAdmins');
      const target = inputUserId(a.viewer, req.user);
      const granted = { ...rightsOf(undefined), ...req.adminRights };
      const demote = emptyRights(req.adminRights);
      if (a.me?.p.role !== ChannelParticipant_Role.CREATOR && exceedsRights(rightsOf(a.me), granted))
        throw errors.badRequest('RIGHT_FORBIDDEN');
      if (req.rank.length > 16) throw errors.badRequest('ADMIN_RANK_INVALID');
      await setParticipant(
        req.context!,
        a,
        target,
        (prev, me) => {
          if (!isMember(prev)) throw errors.badRequest('USER_NOT_PARTICIPANT');
          if (prev!.p.role === ChannelParticipant_Role.CREATOR) throw errors.badRequest('USER_CREATOR');
          const meCreator = me?.p.role === ChannelParticipant_Role.CREATOR;
          if (prev!.p.role === ChannelParticipant_Role.ADMIN && !meCreator && prev!.p.actorId !== a.viewer)
            throw errors.badRequest('CHAT_ADMIN_REQUIRED');
          if (demote && prev!.p.role !== ChannelParticipant_Role.ADMIN)
            throw errors.badRequest('USER_NOT_ADMIN');
          return ChannelParticipant.create({
            ...prev!.p,
            role: demote ? ChannelParticipant_Role.MEMBER : ChannelParticipant_Role.ADMIN,
            ...(demote ? { adminRights: undefined, rank: '' } : { adminRights: granted, rank: req.rank }),
            bannedRights: undefined,
            actorId: a.viewer,
          });
        },
        (p) => ({ $case: 'participantAdminChanged', value: p }),
      );
      return { updates: await channelUpdates(a, a.me) };
    },

    async editBanned(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      requireRight(a.me, 'banUsers');
      const target = inputPeerUserId(a.viewer, req.participant);
      if (target === a.viewer) throw errors.badRequest('USER_ADMIN_INVALID');
      const rights: BannedRights = { ...NO_BANS, ...req.bannedRights };
      const written = await setParticipant(
        req.context!,
        a,
        target,
        (prev, me) => {
          if (prev?.p.role === ChannelParticipant_Role.CREATOR) throw errors.badRequest('USER_ADMIN_INVALID');
          if (
            prev?.p.role === ChannelParticipant_Role.ADMIN &&
            me?.p.role !== ChannelParticipant_Role.CREATOR
          )
            throw errors.badRequest('USER_ADMIN_INVALID');
          const base = { ...(prev?.p ?? ChannelParticipant.create({ userId: target })), actorId: a.viewer };
          if (rights.viewMessages)
            return ChannelParticipant.create({
              ...base,
              role: ChannelParticipant_Role.BANNED,
              adminRights: undefined,
              bannedRights: rights,
              date: core.now(),
            });
          if (noBans(rights)) {
            if (prev?.p.role === ChannelParticipant_Role.BANNED)
              return ChannelParticipant.create({
                ...base,
                role: ChannelParticipant_Role.LEFT,
                bannedRights: undefined,
              });
            if (prev?.p.role === ChannelParticipant_Role.RESTRICTED)
              return ChannelParticipant.create({
                ...base,
                role: ChannelParticipant_Role.MEMBER,
                bannedRights: undefined,
              });
            if (!isMember(prev)) throw errors.badRequest('USER_NOT_PARTICIPANT');
            return undefined;
          }
          if (!isMember(prev)) throw errors.badRequest('USER_NOT_PARTICIPANT');
          return ChannelParticipant.create({
            ...base,
            role: ChannelParticipant_Role.RESTRICTED,
            adminRights: undefined,
            bannedRights: rights,
          });
        },
        (p) => ({ $case: 'participantBannedChanged', value: p }),
      );
      void written;
      return { updates: await channelUpdates(a, a.me) };
    },

    async editChannelTitle(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      requireRight(a.me, 'changeInfo');
      const title = checkTitle(req.title);
      if (title === a.row.title) throw errors.badRequest('CHAT_NOT_MODIFIED');
      const posted = await d.writer.run(a.row.id, (tx) =>
        tx.post({
          senderId: a.viewer,
          date: core.now(),
          build: (id) =>
            serviceMessage(a.row, a.viewer, id, core.now(), { $case: 'chatEditTitle', value: { title } }),
          extra: [
            d.store.channelUpdate(a.row.id, { title }),
            core.adminLog(a.row.id, a.viewer, { $case: 'changedTitle', value: title }),
          ],
        }),
      );
      return { updates: await announceEdit(req.context!, a, { ...a.row, title }, posted) };
    },

    /**
     * channels.editPhoto. The right is checked before the picture is decoded, so a member without
     * it costs media nothing; the photo is made (and granted to the channel's readers) before the
     * service message is written, so no member sees a photo they cannot download.
     */
    async editChannelPhoto(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      requireRight(a.me, 'changeInfo');
      let photo: Photo | undefined;
      if (!req.remove) {
        if (!req.file) throw errors.badRequest('PHOTO_FILE_MISSING');
        photo = await d.chatPhoto(req.context!, req.file, a.row.id);
        if (a.row.photo?.id === photo.id) throw errors.badRequest('CHAT_NOT_MODIFIED');
      } else if (!a.row.photo) throw errors.badRequest('CHAT_NOT_MODIFIED');
      const action: NonNullable<NonNullable<Message['action']>['kind']> = photo
        ? { $case: 'chatEditPhoto', value: photo }
        : { $case: 'chatDeletePhoto', value: true };
      const posted = await d.writer.run(a.row.id, (tx) =>
        tx.post({
          senderId: a.viewer,
          date: core.now(),
          build: (id) => serviceMessage(a.row, a.viewer, id, core.now(), action),
          extra: [
            d.store.channelUpdate(a.row.id, {
              photo: photo ? Buffer.from(Photo.encode(photo).finish()) : null,
            }),
            core.adminLog(a.row.id, a.viewer, {
              $case: 'changedPhoto',
              value: { prevPhoto: a.row.photo, newPhoto: photo },
            }),
          ],
        }),
      );
      return { updates: await announceEdit(req.context!, a, { ...a.row, photo }, posted) };
    },

    async checkChannelUsername(req) {
      requireUser(req.context);
      if (req.channel && req.channel.channelId > 0n) {
        // Asked about an existing channel: only its admins may ask (as Telegram).
        const a = await core.access(req.context, req.channel, { member: true });
        requireRight(a.me, 'changeInfo');
        if (a.row.username.toLowerCase() === req.username.toLowerCase()) return { available: true };
      }
      try {
        await d.setChannelUsername({
          context: req.context!,
          channelId: req.channel?.channelId ?? 0n,
          username: req.username,
          previous: '',
          checkOnly: true,
        });
        return { available: true };
      } catch (err) {
        if ((err as { details?: string }).details?.includes('USERNAME_OCCUPIED')) return { available: false };
        throw err;
      }
    },

    async updateChannelUsername(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      if (a.me?.p.role !== ChannelParticipant_Role.CREATOR) requireRight(a.me, 'changeInfo');
      const username = req.username.trim();
      if (username === a.row.username) throw errors.badRequest('USERNAME_NOT_MODIFIED');
      await d.writer.run(a.row.id, async (tx) => {
        const row = (await d.store.channel(a.row.id))!;
        // The global name first: a name auth refuses never reaches the channel row.
        await d.setChannelUsername({
          context: req.context!,
          channelId: row.id,
          username,
          previous: row.username,
          checkOnly: false,
        });
        await tx.write([
          d.store.channelUpdate(row.id, { username }),
          core.adminLog(row.id, a.viewer, { $case: 'changedUsername', value: username }),
        ]);
      });
      const row = { ...a.row, username };
      await d.publisher.channelUpdate(row.id, core.updateChannel(row.id), {
        users: [],
        channels: [core.neutralView(row)],
      });
      return {};
    },

    async deleteChannel(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      if (a.me?.p.role !== ChannelParticipant_Role.CREATOR) throw errors.badRequest('CHAT_ADMIN_REQUIRED');
      await d.writer.run(a.row.id, (tx) => tx.write([d.store.channelUpdate(a.row.id, { deleted: true })]));
      if (a.row.username !== '')
        await d
          .setChannelUsername({
            context: req.context!,
            channelId: a.row.id,
            username: '',
            previous: a.row.username,
            checkOnly: false,
          })
          .catch(() => undefined);
      const row = { ...a.row, deleted: true };
      // Members learn it live (updateChannel on the channel's subject) and from their dialog lists
      // (a deleted channel's top is left out); nothing is written per member.
      await d.publisher.channelUpdate(row.id, core.updateChannel(row.id), {
        users: [],
        channels: [core.neutralView(row)],
      });
      return { updates: core.updates([core.updateChannel(row.id)], [core.view(row, a.me)], []) };
    },

    async getParticipants(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      if (!a.row.megagroup && !isAdmin(a.me)) throw errors.badRequest('CHAT_ADMIN_REQUIRED');
      const limit = Math.min(Math.max(req.limit || 100, 1), MAX_PARTICIPANTS_PAGE);
      const offset = Math.max(req.offset, 0);
      let ids: bigint[];
      let count: number;
      switch (req.filter) {
        case GetParticipantsRequest_Filter.ADMINS:
          ids = await d.store.indexed(a.row.id, 'admins', offset, limit);
          count = a.row.adminsCount;
          break;
        case GetParticipantsRequest_Filter.KICKED:
          ids = await d.store.indexed(a.row.id, 'kicked', offset, limit);
          count = a.row.kickedCount;
          break;
        case GetParticipantsRequest_Filter.BANNED:
          ids = await d.store.indexed(a.row.id, 'banned', offset, limit);
          count = a.row.bannedCount;
          break;
        case GetParticipantsRequest_Filter.SEARCH: {
          const q = req.q.trim().toLowerCase();
          const scan = await d.store.recent(a.row.id, 0, SEARCH_SCAN);
          const users = await d.profiles.users(a.viewer, scan);
          const hit = users
            .filter((u) => `${u.firstName} ${u.lastName} ${u.username}`.toLowerCase().includes(q))
            .map((u) => u.id);
          const order = new Map(scan.map((id, i) => [id, i]));
          hit.sort((x, y) => order.get(x)! - order.get(y)!);
          ids = hit.slice(offset, offset + limit);
          count = hit.length;
          break;
        }
        default:
          ids = await d.store.recent(a.row.id, offset, limit);
          count = a.row.participantsCount;
      }
      const rows = await d.store.participants(a.row.id, ids);
      const participants = ids.flatMap((id) =>
        rows.has(id) ? [participantView(rows.get(id)!, a.viewer)] : [],
      );
      const userIds = participants.flatMap((p) => [
        p.userId,
        ...(p.inviterId ? [p.inviterId] : []),
        ...(p.actorId ? [p.actorId] : []),
      ]);
      return {
        count,
        participants,
        users: await d.profiles.users(a.viewer, userIds),
        notModified: false,
      };
    },

    async getParticipant(req) {
      const a = await core.access(req.context, req.channel, { read: true });
      const target = inputPeerUserId(a.viewer, req.participant);
      const p = await d.store.participant(a.row.id, target);
      if (!p || p.p.role === ChannelParticipant_Role.LEFT) throw errors.badRequest('USER_NOT_PARTICIPANT');
      if (p.p.role === ChannelParticipant_Role.BANNED && !isAdmin(a.me) && target !== a.viewer)
        throw errors.badRequest('USER_NOT_PARTICIPANT');
      const view = participantView(p, a.viewer);
      return {
        participant: view,
        users: await d.profiles.users(a.viewer, [target, view.inviterId, view.actorId]),
        channels: [core.view(a.row, a.me)],
      };
    },

    async toggleSignatures(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      if (a.row.megagroup) throw errors.badRequest('CHANNEL_INVALID');
      requireRight(a.me, 'changeInfo');
      if (a.row.signatures === req.enabled) throw errors.badRequest('CHAT_NOT_MODIFIED');
      await d.writer.run(a.row.id, (tx) =>
        tx.write([
          d.store.channelUpdate(a.row.id, { signatures: req.enabled }),
          core.adminLog(a.row.id, a.viewer, { $case: 'signaturesToggled', value: req.enabled }),
        ]),
      );
      return { updates: await changed(a, { ...a.row, signatures: req.enabled }) };
    },

    async toggleSlowMode(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      if (!a.row.megagroup) throw errors.badRequest('CHANNEL_INVALID');
      requireRight(a.me, 'banUsers');
      if (!SLOWMODE_VALUES.includes(req.seconds)) throw errors.badRequest('SECONDS_INVALID');
      if (a.row.slowmodeSeconds === req.seconds) throw errors.badRequest('CHAT_NOT_MODIFIED');
      await d.writer.run(a.row.id, (tx) =>
        tx.write([
          d.store.channelUpdate(a.row.id, { slowmode_seconds: req.seconds }),
          core.adminLog(a.row.id, a.viewer, { $case: 'slowModeSeconds', value: req.seconds }),
        ]),
      );
      return { updates: await changed(a, { ...a.row, slowmodeSeconds: req.seconds }) };
    },

    async getAdminLog(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      if (!isAdmin(a.me)) throw errors.badRequest('CHAT_ADMIN_REQUIRED');
      const limit = Math.min(Math.max(req.limit || ADMIN_LOG_MAX, 1), ADMIN_LOG_MAX);
      const events = await d.store.adminLog(a.row.id, req.maxId, req.minId, limit);
      const q = req.q.trim().toLowerCase();
      const kept = q
        ? events.filter((e) =>
            JSON.stringify(e.action ?? {}, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))
              .toLowerCase()
              .includes(q),
          )
        : events;
      const userIds = kept.flatMap((e) => {
        const v = e.action?.value;
        return [
          e.userId,
          ...(v && typeof v === 'object' && 'userId' in v && typeof v.userId === 'bigint' ? [v.userId] : []),
        ];
      });
      return {
        events: kept,
        users: await d.profiles.users(a.viewer, userIds),
        channels: [core.view(a.row, a.me)],
      };
    },

    async exportChannelInvite(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      requireRight(a.me, 'inviteUsers');
      const now = core.now();
      const permanent = req.expireDate === 0 && req.usageLimit === 0 && req.title === '';
      return d.writer.run(a.row.id, async (tx) => {
        const row = (await d.store.channel(a.row.id))!;
        const existing = permanent ? row.invites.get(a.viewer) : undefined;
        if (existing && !req.legacyRevokePermanent) {
          const i = await d.store.invite(existing);
          if (i && !i.revoked) return inviteAnswer(i);
        }
        const invite: InviteRow = {
          hash: newInviteHash(d.dcId),
          channelId: row.id,
          adminId: a.viewer,
          date: now,
          expireDate: req.expireDate,
          usageLimit: req.usageLimit,
          usage: 0,
          permanent,
          revoked: false,
          title: req.title,
        };
        const stmts = [d.store.inviteStmt(invite)];
        if (permanent) {
          stmts.push(d.store.permanentInvite(row.id, a.viewer, invite.hash));
          if (existing) {
            const old = await d.store.invite(existing);
            if (old) stmts.push(d.store.inviteStmt({ ...old, revoked: true }));
          }
        }
        await tx.write(stmts);
        return inviteAnswer(invite);
      });
    },

    async checkChannelInvite(req) {
      const viewer = requireUser(req.context);
      const { row } = await inviteOf(req.hash);
      const me = await d.store.participant(row.id, viewer);
      if (isMember(me))
        return {
          already: core.view(row, me),
          title: '',
          about: '',
          broadcast: false,
          megagroup: false,
          public: false,
          participantsCount: 0,
          participants: [],
        };
      const recent = await d.store.recent(row.id, 0, 5);
      return {
        title: row.title,
        about: row.about,
        broadcast: !row.megagroup,
        megagroup: row.megagroup,
        public: row.username !== '',
        participantsCount: row.participantsCount,
        participants: row.megagroup ? await d.profiles.users(viewer, recent) : [],
      };
    },

    async importChannelInvite(req) {
      const viewer = requireUser(req.context);
      const { invite, row } = await inviteOf(req.hash);
      const me = await d.store.participant(row.id, viewer);
      if (isMember(me)) throw errors.badRequest('USER_ALREADY_PARTICIPANT');
      if (me?.p.role === ChannelParticipant_Role.BANNED) throw errors.badRequest('USER_BANNED_IN_CHANNEL');
      return { updates: await join(req.context!, { viewer, row, me }, invite.adminId, invite) };
    },
  };

  /** Publishes updateChannel for a changed channel row and answers the caller with it. */
  async function changed(a: Access, row: ChannelRow) {
    await d.publisher.channelUpdate(row.id, core.updateChannel(row.id), {
      users: [],
      channels: [core.neutralView(row)],
    });
    return core.updates([core.updateChannel(row.id)], [core.view(row, a.me)], []);
  }
}

/** A service message of the channel (title change, pin...). */
export function serviceMessage(
  row: ChannelRow,
  actor: bigint,
  id: number,
  date: number,
  action: NonNullable<NonNullable<Message['action']>['kind']>,
  replyToMsgId = 0,
): Message {
  return {
    id,
    peer: channelPeer(row.id),
    ...(row.megagroup ? { from: userPeer(actor) } : {}),
    out: false,
    date,
    message: '',
    entities: [],
    replyToMsgId,
    editDate: 0,
    action: { kind: action },
    mentioned: false,
    mediaUnread: false,
    silent: false,
    post: !row.megagroup,
    origin: { authorUserId: actor, authorMessageId: id },
    views: 0,
    postAuthor: '',
    pinned: false,
  };
}

/**
 * The caller's read_inbox_max_id for a channel: kept at the caller's home DC (the DC whose gateway
 * took the call), read there; 0 when the caller is no member.
 */
export async function readStateOf(core: ChannelCore, ctx: RequestContext, a: Access): Promise<number> {
  const { d } = core;
  if (!isMember(a.me)) return 0;
  const home = ctx.dcId || d.dcId;
  if (home === d.dcId) return (await d.store.membership(a.viewer, a.row.id))?.readInboxMaxId ?? 0;
  const c = d.channelOf.forDc(home);
  const res = await unary(c.getChannelDialogs.bind(c), {
    context: ctx,
    offsetDate: 0,
    limit: 1,
    only: [{ channelId: a.row.id, accessHash: a.row.accessHash }],
  });
  return res.dialogs[0]?.readInboxMaxId ?? 0;
}
