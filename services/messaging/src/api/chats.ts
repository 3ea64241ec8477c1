/**
 * Basic groups: messages.createChat, addChatUser, deleteChatUser (leave and kick), editChatTitle,
 * getChats, getFullChat, and messages.sendMessage to a group.
 *
 * Ownership. A chat belongs to the messaging service of its creator's home DC, which keeps its
 * title and members (storage/chats.ts); the owner DC is in the chat id's low bits, so any DC
 * routes a chat call without a directory read (docs/decisions/0010-basic-group-ids.md). A client
 * calls its own home DC; a chat call about a chat owned elsewhere is passed on to the owner with
 * the client's context unchanged. The owner recognizes such a call by `context.dc_id` naming
 * another DC and trusts its user (the calling DC checked the home); a call from its own gateway
 * is checked like any other (USER_MIGRATE_X outside the caller's home).
 *
 * Messages. Every member keeps its own copy in its own box, in its own home DC, like a private
 * message, so history, dialogs, unread counts and getDifference work unchanged. A member's message
 * is stored in the sender's box here, then the sender's DC reads the members from the owner DC and
 * delivers a copy to each member's home DC (DeliverToBox chat_message, idempotent per (sender,
 * random_id): a retried send completes a fan-out cut short and stores nothing twice). Membership
 * and title changes are decided at the owner DC, which then fans out a service message
 * (messageService) to every member, and to the member who left or was removed; its idempotency key
 * is derived from (chat, version), so the fan-out of one change can be repeated safely. Every copy
 * outside the author's box carries `origin` (the author's copy), for edits, deletions and read
 * receipts.
 *
 * Unreachable DCs. A delivery to a member's DC that does not answer is queued in this DC's outbox
 * and replayed until it does (consumers/outbox.ts), so the call succeeds. Any other failed
 * delivery fails the call after the changes made so far, and only a retry (a resend with the same
 * random_id; for a membership change, none) completes the fan-out.
 *
 * Not built: fwd_limit (new members see messages from their join on), revoke_history, admins
 * other than the creator, chat photos, migration to supergroups.
 */
import {
  errors,
  forEachLimited,
  requireUser,
  unary,
  type AsyncService,
  type DcClients,
  type UnaryMethod,
} from '../../../shared/src';
import type { Chat, ChatFull, ChatParticipant } from '../../../shared/src/gen/tern/common/v1/chat';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import type { Message, MessageAction } from '../../../shared/src/gen/tern/common/v1/message';
import type { InputUser, Peer } from '../../../shared/src/gen/tern/common/v1/peer';
import type { Updates } from '../../../shared/src/gen/tern/common/v1/update';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type {
  DeliverToBoxRequest,
  GetFullChatResponse,
  MessagingServiceClient,
  MessagingServiceServer,
  SendMessageRequest,
  SendMessageResponse,
} from '../../../shared/src/gen/tern/messaging/v1/messaging';
import { Chats, chatDc, chatIdCandidate, createKey, type ChatRow } from '../storage/chats';
import {
  deliveryKey,
  needsUsers,
  now,
  userPeer,
  usersOfMessage,
  type BoxCore,
  type ChatDirectory,
} from './core';
import type { ChatSendExtras } from './private-messages';

type Handlers = Pick<
  AsyncService<MessagingServiceServer>,
  | 'createChat'
  | 'addChatUser'
  | 'deleteChatUser'
  | 'editChatTitle'
  | 'markChatMigrated'
  | 'getChats'
  | 'getFullChat'
>;

export interface ChatModule {
  handlers: Handlers;
  /**
   * messages.sendMessage with a chat peer (the sender's box is this DC's); a forward's header and
   * the message's media (made once the members are known: they are granted the file) in `extras`.
   */
  send(req: SendMessageRequest, sender: bigint, extras?: ChatSendExtras): Promise<SendMessageResponse>;
}

/** Telegram's basic-group size limit (chat_size_max): larger groups are supergroups. */
export const MAX_MEMBERS = 200;
/** Telegram's chat title limit, in characters. */
export const MAX_TITLE = 128;
/** Candidate ids tried before createChat gives up (a collision is already one in 2^29). */
const CREATE_ATTEMPTS = 8;
/** Rereads of a chat whose version moved under a change before giving up. */
const CHANGE_ATTEMPTS = 20;
/** Deliveries of one fan-out in flight at once (up to MAX_MEMBERS - 1 in all). */
const FANOUT_CONCURRENCY = 16;

export const chatPeer = (id: bigint): Peer => ({ kind: { $case: 'chatId', value: id } });

/** The title as stored: trimmed; CHAT_TITLE_EMPTY or CHAT_TITLE_TOO_LONG otherwise. */
export function checkTitle(title: string): string {
  const t = title.trim();
  if (!t) throw errors.badRequest('CHAT_TITLE_EMPTY');
  if ([...t].length > MAX_TITLE) throw errors.badRequest('CHAT_TITLE_TOO_LONG');
  return t;
}

/** The idempotency key of the service message of change `version` of a chat. */
function serviceOpId(chatId: bigint, version: number): bigint {
  return deliveryKey(chatId, BigInt(version));
}

/** The chat as `viewer` sees it; undefined if the viewer never was a member. */
export function viewOf(row: ChatRow, viewer: bigint): Chat | undefined {
  const member = row.members.some((p) => p.userId === viewer);
  const left = row.left.includes(viewer);
  const kicked = row.kicked.includes(viewer);
  if (!member && !left && !kicked) return undefined;
  return {
    ...plainView(row),
    creator: row.creatorId === viewer,
    left: !member && left,
    kicked: !member && kicked,
  };
}

/** The chat without the viewer-relative flags (as a member who is not the creator sees it). */
function plainView(row: ChatRow): Chat {
  return {
    id: row.id,
    title: row.title,
    participantsCount: row.members.length,
    date: row.date,
    version: row.version,
    creator: false,
    left: false,
    kicked: false,
    deactivated: row.deactivated,
    migratedToChannelId: row.migratedToChannelId,
    migratedToAccessHash: row.migratedToAccessHash,
  };
}

/** What the chat directory reads with: this DC, its chat rows, and the other DCs' messaging services. */
export interface ChatDirectoryDeps {
  dcId: number;
  /** The rows of the chats owned here (this DC's keyspace). */
  store: Chats;
  messagingOf: DcClients<MessagingServiceClient>;
}

/**
 * The reads of basic groups: the ChatDirectory every module uses through BoxCore, and what the
 * chat module itself needs to route a call to a chat's owner DC.
 */
export interface ChatReads extends ChatDirectory {
  /** A call another DC's messaging service passed on for its client (see the header). */
  forwarded: (ctx: RequestContext | undefined) => boolean;
  /** The messaging service owning `chatId`; CHAT_ID_INVALID for a DC not in the topology. */
  ownerOf: (chatId: bigint) => MessagingServiceClient;
  /** Chats `ids` as `viewer` sees them: those owned here read here, the others from their owners. */
  read: (ctx: RequestContext, viewer: bigint, ids: bigint[]) => Promise<Chat[]>;
  /**
   * A chat's current members and its plain view, read at the owner for another service (no
   * viewer, no profiles): a forwarded getFullChat whose context has no user. Only a messaging
   * service can send one (a gateway's context always names its own DC), so no client reaches it.
   */
  membersOf: (chatId: bigint) => Promise<{ chat: Chat; participants: ChatParticipant[] }>;
}

/**
 * The chat directory of this DC. It needs nothing of BoxCore, so it is built first and passed
 * to boxCore (which resolves chat peers and group members with it) and to chatModule.
 */
export function chatDirectory(d: ChatDirectoryDeps): ChatReads {
  const { dcId, store } = d;
  const forwarded = (ctx: RequestContext | undefined): boolean => (ctx?.dcId ?? 0) !== dcId;

  function ownerOf(chatId: bigint): MessagingServiceClient {
    try {
      return d.messagingOf.forDc(chatDc(chatId));
    } catch {
      throw errors.badRequest('CHAT_ID_INVALID');
    }
  }

  /** A context for asking the owner DC on `viewer`'s behalf (not from a client request). */
  const contextFor = (viewer: bigint): RequestContext => ({
    authKeyId: 0n,
    sessionId: 0n,
    userId: viewer,
    dcId,
    layer: 0,
    clientIp: '',
    msgId: 0n,
  });

  async function read(ctx: RequestContext, viewer: bigint, ids: bigint[]): Promise<Chat[]> {
    const byDc = new Map<number, bigint[]>();
    for (const id of new Set(ids)) if (id > 0n) byDc.set(chatDc(id), [...(byDc.get(chatDc(id)) ?? []), id]);
    const parts = await Promise.all(
      [...byDc].map(async ([dc, list]) => {
        if (dc === dcId) return (await store.getMany(list)).flatMap((r) => viewOf(r, viewer) ?? []);
        // A forwarded call only asks about chats owned here: never pass it on again.
        if (forwarded(ctx)) return [];
        let owner: MessagingServiceClient;
        try {
          owner = ownerOf(list[0]!);
        } catch {
          return []; // unknown ids are absent
        }
        return (await unary(owner.getChats.bind(owner), { context: ctx, ids: list })).chats;
      }),
    );
    const byId = new Map(parts.flat().map((c) => [c.id, c]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async function membersOf(chatId: bigint): Promise<{ chat: Chat; participants: ChatParticipant[] }> {
    if (chatDc(chatId) === dcId) {
      const row = await store.get(chatId);
      if (!row) throw errors.badRequest('CHAT_ID_INVALID');
      return { chat: plainView(row), participants: row.members };
    }
    const owner = ownerOf(chatId);
    const res = await unary(owner.getFullChat.bind(owner), { context: contextFor(0n), chatId });
    return { chat: res.chats[0]!, participants: res.fullChat?.participants ?? [] };
  }

  return {
    forwarded,
    ownerOf,
    read,
    membersOf,
    chats: (viewer, ids) => read(contextFor(viewer), viewer, ids),
    members: async (chatId) => (await membersOf(chatId)).participants.map((p) => p.userId),
    async readable(viewer, chatId) {
      const [chat] = await read(contextFor(viewer), viewer, [chatId]);
      if (!chat) throw errors.badRequest('CHAT_ID_INVALID');
      return chat;
    },
  };
}

/**
 * Basic groups on `core`, with their rows in `store` (this DC's keyspace) and the reads of
 * `directory` (the chat directory `core` was built with).
 */
export function chatModule(core: BoxCore, store: Chats, directory: ChatReads): ChatModule {
  const { forwarded, ownerOf, membersOf, read: readChats } = directory;

  /** The calling user: trusted when forwarded, else it must be homed here. */
  const caller = (ctx: RequestContext | undefined): Promise<bigint> =>
    forwarded(ctx) ? Promise.resolve(requireUser(ctx)) : core.ownBox(ctx);

  /** A chat owned here that `viewer` is or was in; CHAT_ID_INVALID otherwise. */
  async function localChat(chatId: bigint, viewer: bigint): Promise<{ row: ChatRow; chat: Chat }> {
    const row = chatDc(chatId) === core.dcId ? await store.get(chatId) : undefined;
    const chat = row && viewOf(row, viewer);
    if (!row || !chat) throw errors.badRequest('CHAT_ID_INVALID');
    return { row, chat };
  }

  /** getFullChat at the owner: members and their profiles (none for a former member). */
  async function fullChat(chatId: bigint, viewer: bigint): Promise<GetFullChatResponse> {
    const { row, chat } = await localChat(chatId, viewer);
    const member = !chat.left && !chat.kicked;
    const participants = member ? row.members : [];
    const full: ChatFull = { id: row.id, about: '', participants, version: row.version };
    const ids = participants.flatMap((p) => (p.inviterId ? [p.userId, p.inviterId] : [p.userId]));
    return { fullChat: full, chats: [chat], users: await core.users(viewer, [viewer, ...ids]) };
  }

  /** Users named by `inputs`, access hashes checked; USER_ID_INVALID for any other. */
  async function resolveUsers(viewer: bigint, inputs: (InputUser | undefined)[]): Promise<bigint[]> {
    const ids = inputs.map((u) => {
      if (u?.kind?.$case === 'self') return viewer;
      if (u?.kind?.$case === 'user') return u.kind.value.userId;
      throw errors.badRequest('USER_ID_INVALID');
    });
    const found = new Map((await core.users(viewer, ids)).map((u) => [u.id, u]));
    inputs.forEach((u, i) => {
      const f = found.get(ids[i]!);
      const hashOk =
        u?.kind?.$case !== 'user' ||
        u.kind.value.userId === viewer ||
        f?.accessHash === u.kind.value.accessHash;
      if (!f || f.deleted || !hashOk) throw errors.badRequest('USER_ID_INVALID');
    });
    return ids;
  }

  /**
   * Delivers one DeliverToBox per target to the target's home DC, FANOUT_CONCURRENCY at a time.
   * Every delivery is attempted; the first failure is thrown afterwards (the caller's retry
   * repeats the deliveries, which are idempotent).
   */
  async function fanOut(targets: bigint[], build: (owner: bigint) => DeliverToBoxRequest): Promise<void> {
    const homes = await core.homes(targets);
    await forEachLimited(
      targets.filter((t) => homes.has(t)),
      FANOUT_CONCURRENCY,
      async (t) => {
        await core.deliver(build(t), homes.get(t)!);
      },
    );
  }

  /**
   * Records change `row.version` (already stored) as a service message in the box of every
   * member and of `removed`: first the actor's copy (the origin of the others, and the call's
   * result), then everyone else's.
   */
  async function announceChange(
    ctx: RequestContext,
    actor: bigint,
    row: ChatRow,
    action: MessageAction,
    removed: bigint[],
  ): Promise<Updates> {
    const base: Message = {
      id: 0,
      peer: chatPeer(row.id),
      from: userPeer(actor),
      out: false,
      date: now(),
      message: '',
      entities: [],
      replyToMsgId: 0,
      editDate: 0,
      action,
      mentioned: false,
      mediaUnread: false,
      silent: false,
      post: false,
      views: 0,
      postAuthor: '',
      pinned: false,
    };
    const opId = serviceOpId(row.id, row.version);
    const request = (owner: bigint, message: Message, exclude: bigint): DeliverToBoxRequest => ({
      ownerUserId: owner,
      actorUserId: actor,
      opId,
      originDcId: core.dcId,
      op: { $case: 'chatMessage', value: { message, chat: viewOf(row, owner), excludeAuthKeyId: exclude } },
    });
    const actorHome = (await core.homes([actor])).get(actor);
    if (actorHome === undefined) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
    const mine = await core.deliver(request(actor, { ...base, out: true }, ctx.authKeyId), actorHome);
    const others = [...new Set([...row.members.map((p) => p.userId), ...removed])].filter((u) => u !== actor);
    const origin = { authorUserId: actor, authorMessageId: mine.messageId };
    await fanOut(others, (owner) => request(owner, { ...base, origin }, 0n));
    const message: Message = { ...base, out: true, id: mine.messageId };
    return {
      updates: [
        { pts: mine.pts, ptsCount: mine.ptsCount, kind: { $case: 'newMessage', value: { message } } },
      ],
      users: await core.users(actor, usersOfMessage(message)),
      chats: [viewOf(row, actor)!],
      channels: [],
      date: base.date,
      seq: 0,
    };
  }

  /**
   * A membership or title change at the owner DC: `decide` sees the current row and returns the
   * next one (or throws the Telegram error); the row is replaced only if no other change came in
   * between (else decided again), then the change is announced.
   */
  async function change(
    ctx: RequestContext,
    actor: bigint,
    chatId: bigint,
    decide: (row: ChatRow) => Promise<{ next: ChatRow; action: MessageAction; removed?: bigint[] }>,
  ): Promise<Updates> {
    for (let i = 0; i < CHANGE_ATTEMPTS; i++) {
      const { row } = await localChat(chatId, actor);
      if (row.deactivated) throw errors.badRequest('CHAT_ID_INVALID');
      const d = await decide(row);
      if (await store.replace(d.next)) return announceChange(ctx, actor, d.next, d.action, d.removed ?? []);
    }
    throw errors.internal(new Error(`chat ${chatId} changed ${CHANGE_ATTEMPTS} times under one change`));
  }

  /**
   * A change of a chat owned by another DC, passed on there with the client's context (undefined
   * when the chat is owned here). A call already passed on once is never passed on again.
   */
  function atOwner<Req extends { chatId: bigint; context?: RequestContext }, Res>(
    req: Req,
    method: (owner: MessagingServiceClient) => UnaryMethod<Req, Res>,
  ): Promise<Res> | undefined {
    if (chatDc(req.chatId) === core.dcId) return undefined;
    if (forwarded(req.context)) throw errors.badRequest('CHAT_ID_INVALID');
    return unary(method(ownerOf(req.chatId)), req);
  }

  /** Only current members change a chat; a former member gets CHAT_WRITE_FORBIDDEN. */
  function requireMember(row: ChatRow, actor: bigint): void {
    if (!row.members.some((p) => p.userId === actor)) throw errors.forbidden('CHAT_WRITE_FORBIDDEN');
  }

  const without = (ids: bigint[], id: bigint) => ids.filter((x) => x !== id);

  core.onDeliver('chatMessage', async (req) => {
    if (req.op?.$case !== 'chatMessage' || !req.op.value.message)
      throw errors.badRequest('OPERATION_NOT_SUPPORTED');
    const owner = req.ownerUserId;
    const { message: sent, chat, excludeAuthKeyId, replyTo } = req.op.value;
    // The replied-to message as the owner's own copy (absent: deleted there, or never delivered).
    const replyToMsgId = replyTo
      ? ((await core.boxes.byOrigin(owner, [replyTo])).values().next().value ?? 0)
      : sent.replyToMsgId;
    const message: Message = { ...sent, replyToMsgId };
    // Plain text goes out as updateShortChatMessage, which needs no users vector.
    const mentioned: User[] = needsUsers(message) ? await core.users(owner, usersOfMessage(message)) : [];
    const r = await core.store(
      owner,
      message,
      deliveryKey(req.actorUserId, req.opId),
      excludeAuthKeyId,
      mentioned,
      chat ? [chat] : [],
    );
    return {
      messageId: r.message.id,
      pts: r.update.pts,
      ptsCount: r.update.ptsCount,
      duplicate: r.duplicate,
    };
  });

  const handlers: Handlers = {
    async createChat(req) {
      // Always owned by the creator's home DC: this one.
      const creator = await core.ownBox(req.context);
      const title = checkTitle(req.title);
      const invited = await resolveUsers(creator, req.users);
      const others = [...new Set(invited)].filter((u) => u !== creator);
      if (others.length === 0) throw errors.badRequest('USERS_TOO_FEW');
      if (others.length + 1 > MAX_MEMBERS) throw errors.badRequest('USERS_TOO_MUCH');
      const key = createKey(creator, req.randomId);
      const date = now();
      for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
        const candidate: ChatRow = {
          id: chatIdCandidate(creator, req.randomId, core.dcId, attempt),
          title,
          creatorId: creator,
          date,
          version: 1,
          members: [creator, ...others].map((userId) => ({
            userId,
            inviterId: userId === creator ? 0n : creator,
            date,
            admin: false,
            creator: userId === creator,
          })),
          left: [],
          kicked: [],
          deactivated: false,
          migratedToChannelId: 0n,
          migratedToAccessHash: 0n,
          createKey: key,
        };
        const row = await store.create(candidate);
        if (row.createKey !== key || row.creatorId !== creator) continue; // another chat's id
        // A retry finds the row of its first attempt, and repeats the (idempotent) fan-out.
        const action: MessageAction = {
          kind: {
            $case: 'chatCreate',
            value: { title: row.title, userIds: row.members.map((p) => p.userId) },
          },
        };
        const updates = await announceChange(req.context!, creator, { ...row, version: 1 }, action, []);
        return { updates, missingInvitees: [] };
      }
      throw errors.internal(new Error('no free chat id'));
    },

    async addChatUser(req) {
      const actor = await caller(req.context);
      const passed = atOwner(req, (o) => o.addChatUser.bind(o));
      if (passed) return passed;
      const [target] = await resolveUsers(actor, [req.user]);
      const updates = await change(req.context!, actor, req.chatId, (row) => {
        if (row.members.some((p) => p.userId === target)) throw errors.badRequest('USER_ALREADY_PARTICIPANT');
        // A member who left may come back on their own; a removed one must be added by a member.
        const rejoin = target === actor && row.left.includes(actor);
        if (!rejoin) requireMember(row, actor);
        if (row.members.length >= MAX_MEMBERS) throw errors.badRequest('USERS_TOO_MUCH');
        const next: ChatRow = {
          ...row,
          version: row.version + 1,
          members: [
            ...row.members,
            {
              userId: target!,
              inviterId: actor,
              date: now(),
              admin: false,
              creator: target === row.creatorId,
            },
          ],
          left: without(row.left, target!),
          kicked: without(row.kicked, target!),
        };
        return Promise.resolve({
          next,
          action: { kind: { $case: 'chatAddUser', value: { userIds: [target!] } } },
        });
      });
      return { updates, missingInvitees: [] };
    },

    async deleteChatUser(req) {
      const actor = await caller(req.context);
      const passed = atOwner(req, (o) => o.deleteChatUser.bind(o));
      if (passed) return passed;
      const [target] = await resolveUsers(actor, [req.user]);
      const updates = await change(req.context!, actor, req.chatId, (row) => {
        const member = row.members.find((p) => p.userId === target);
        if (target !== actor) requireMember(row, actor);
        if (!member) throw errors.badRequest('USER_NOT_PARTICIPANT');
        // Leaving is always allowed; removing someone else takes the creator or their inviter.
        if (target !== actor && actor !== row.creatorId && member.inviterId !== actor)
          throw errors.badRequest('CHAT_ADMIN_REQUIRED');
        const next: ChatRow = {
          ...row,
          version: row.version + 1,
          members: row.members.filter((p) => p.userId !== target),
          left: target === actor ? [...row.left, target] : row.left,
          kicked: target === actor ? row.kicked : [...row.kicked, target!],
        };
        return Promise.resolve({
          next,
          action: { kind: { $case: 'chatDeleteUser', value: { userId: target! } } },
          removed: [target!],
        });
      });
      return { updates };
    },

    async editChatTitle(req) {
      const actor = await caller(req.context);
      const passed = atOwner(req, (o) => o.editChatTitle.bind(o));
      if (passed) return passed;
      const title = checkTitle(req.title);
      const updates = await change(req.context!, actor, req.chatId, (row) => {
        requireMember(row, actor);
        if (row.title === title) throw errors.badRequest('CHAT_NOT_MODIFIED');
        return Promise.resolve({
          next: { ...row, version: row.version + 1, title },
          action: { kind: { $case: 'chatEditTitle', value: { title } } },
        });
      });
      return { updates };
    },

    async markChatMigrated(req) {
      const actor = await caller(req.context);
      const passed = atOwner(req, (o) => o.markChatMigrated.bind(o));
      if (passed) return passed;
      if (req.channelId === 0n) throw errors.badRequest('CHANNEL_INVALID');
      for (let i = 0; i < CHANGE_ATTEMPTS; i++) {
        const { row } = await localChat(req.chatId, actor);
        if (row.migratedToChannelId === req.channelId) return { updates: undefined }; // a retry
        if (row.deactivated) throw errors.badRequest('CHAT_ID_INVALID');
        if (row.creatorId !== actor || !row.members.some((p) => p.userId === actor))
          throw errors.badRequest('CHAT_ADMIN_REQUIRED');
        const next: ChatRow = {
          ...row,
          version: row.version + 1,
          deactivated: true,
          migratedToChannelId: req.channelId,
          migratedToAccessHash: req.channelAccessHash,
        };
        if (await store.replace(next)) {
          const action: MessageAction = { kind: { $case: 'chatMigrateTo', value: req.channelId } };
          return { updates: await announceChange(req.context!, actor, next, action, []) };
        }
      }
      throw errors.internal(
        new Error(`chat ${req.chatId} changed ${CHANGE_ATTEMPTS} times under a migration`),
      );
    },

    async getChats(req) {
      const viewer = await caller(req.context);
      return { chats: await readChats(req.context!, viewer, req.ids) };
    },

    async getFullChat(req) {
      if (forwarded(req.context) && (req.context?.userId ?? 0n) === 0n) {
        const { chat, participants } = await membersOf(req.chatId);
        return {
          fullChat: { id: chat.id, about: '', participants, version: chat.version },
          chats: [chat],
          users: [],
        };
      }
      const viewer = await caller(req.context);
      if (chatDc(req.chatId) === core.dcId) return fullChat(req.chatId, viewer);
      if (forwarded(req.context)) throw errors.badRequest('CHAT_ID_INVALID');
      const owner = ownerOf(req.chatId);
      return unary(owner.getFullChat.bind(owner), req);
    },
  };

  async function send(
    req: SendMessageRequest,
    sender: bigint,
    extras: ChatSendExtras = {},
  ): Promise<SendMessageResponse> {
    if (req.peer?.kind?.$case !== 'chat') throw errors.badRequest('PEER_ID_INVALID');
    const chatId = req.peer.kind.value.chatId;
    const ctx = req.context!;
    const { chat: plain, participants: members } = await membersOf(chatId);
    const me = members.find((p) => p.userId === sender);
    if (!me || plain.deactivated) {
      // A former member may still read, but not write; anyone else learns nothing.
      await directory.readable(sender, chatId);
      throw errors.forbidden('CHAT_WRITE_FORBIDDEN');
    }
    const chat: Chat = { ...plain, creator: me.creator };
    const { fwdFrom } = extras;
    const media = extras.media && (await extras.media(members.map((p) => p.userId)));
    const base: Message = {
      id: 0,
      peer: chatPeer(chatId),
      from: userPeer(sender),
      out: false,
      date: now(),
      message: req.message,
      entities: req.entities,
      replyToMsgId: 0,
      editDate: 0,
      mentioned: false,
      mediaUnread: false,
      silent: req.silent,
      post: false,
      views: 0,
      postAuthor: '',
      pinned: false,
      ...(fwdFrom ? { fwdFrom } : {}),
      ...(media ? { media } : {}),
      ...(extras.action ? { action: extras.action } : {}),
      ...(req.replyQuote ? { replyQuote: req.replyQuote } : {}),
    };
    // The reply was checked by the caller against the sender's box; every other member's box finds
    // its own copy of the replied-to message from its origin (extras.replyTo).
    const mine = await core.store(
      sender,
      { ...base, out: true, replyToMsgId: req.replyToMsgId },
      req.randomId,
      ctx.authKeyId,
      needsUsers(base) ? await core.users(sender, usersOfMessage(base)) : [],
      [chat],
    );
    const origin = { authorUserId: sender, authorMessageId: mine.message.id };
    // Always delivered (idempotent per random_id), so a retry completes a cut-off fan-out.
    await fanOut(
      members.map((p) => p.userId).filter((u) => u !== sender),
      (owner) => ({
        ownerUserId: owner,
        actorUserId: sender,
        opId: req.randomId,
        originDcId: core.dcId,
        op: {
          $case: 'chatMessage',
          value: {
            message: { ...base, date: mine.message.date, origin },
            chat: { ...plain, creator: members.some((p) => p.userId === owner && p.creator) },
            excludeAuthKeyId: 0n,
            ...(extras.replyTo ? { replyTo: extras.replyTo } : {}),
          },
        },
      }),
    );
    return {
      message: mine.message,
      updates: {
        updates: [
          {
            pts: 0,
            ptsCount: 0,
            kind: { $case: 'messageId', value: { id: mine.message.id, randomId: req.randomId } },
          },
          mine.update,
        ],
        users: [],
        chats: [chat],
        channels: [],
        date: mine.message.date,
        seq: 0,
      },
    };
  }

  return { handlers, send };
}
