/**
 * What every messaging handler module shares: who the caller is and where users live, profiles
 * for users vectors, basic groups as other modules see them (the chat directory, built by
 * chats.ts before the core and passed in), and the two ways a box changes — a stored message
 * (`store`) or any other update appended to the owner's log (`append`) — each announced for live
 * delivery. Handler modules (private-messages.ts, sync.ts, chats.ts, ...) are built on one BoxCore.
 *
 * DeliverToBox is the one door into a box from outside: each module registers the operations it
 * applies (`onDeliver`), and `deliver` routes an operation to the owner's home DC.
 */
import { createHash } from 'node:crypto';
import { errors, requireUser, unary, type DcClients } from '../../../shared/src';
import type { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { DirectoryCache, ProfileCache } from '../internal/directory-cache';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import {
  Message,
  MessageEntity_Type,
  type MessageOrigin,
} from '../../../shared/src/gen/tern/common/v1/message';
import type { Chat } from '../../../shared/src/gen/tern/common/v1/chat';
import type { InputPeer, Peer } from '../../../shared/src/gen/tern/common/v1/peer';
import { Update } from '../../../shared/src/gen/tern/common/v1/update';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type {
  DeliverToBoxRequest,
  DeliverToBoxResponse,
  MessagingServiceClient,
} from '../../../shared/src/gen/tern/messaging/v1/messaging';
import type { Outbox } from '../consumers/outbox';
import type { UpdatePublisher } from '../producers/updates';
import type { PushPublisher } from '../producers/push';
import { NEW_MESSAGE, type BoxMessage, type Boxes } from '../storage/boxes';
import type { BoxWriter } from '../storage/box-writer';
import type { Dialogs } from '../storage/dialogs';
import type { LogEntry, UpdateLog } from '../storage/update-log';

/**
 * While an operator moves a user to another DC, the user's box takes no writes (a write after
 * the copy would be deleted with the old box): the user's own calls answer FLOOD_WAIT with this
 * many seconds, which clients wait out and repeat, and deliveries from other users are queued by
 * their DC's outbox and replayed to the new home.
 */
const MOVE_WAIT_S = 2;

export interface CoreDeps {
  dcId: number;
  /** Reads of update logs (getDifference). */
  log: UpdateLog;
  /** Every write of a box owned here goes through it (one writer per box). */
  writer: BoxWriter;
  boxes: Boxes;
  dialogs: Dialogs;
  publisher: UpdatePublisher;
  /** This DC's auth service. */
  auth: AuthServiceClient;
  /** Where users live, cached and kept fresh by directory notices (internal/directory-cache.ts). */
  directory: Pick<DirectoryCache, 'entry' | 'homes'>;
  /** Profiles as viewers see them, cached the same way. */
  profiles: Pick<ProfileCache, 'profiles'>;
  authOf: DcClients<AuthServiceClient>;
  messagingOf: DcClients<MessagingServiceClient>;
  /** Cross-DC deliveries that survive an unreachable DC (consumers/outbox.ts). */
  outbox: Pick<Outbox, 'deliver'>;
  /** Basic groups (chats.ts `chatDirectory`). */
  chatDirectory: ChatDirectory;
  /** Push requests for new incoming messages; absent when the deployment has no push provider. */
  push?: PushPublisher;
  /**
   * A delivery to a box of this DC that another replica owns (routing.ts); absent with one
   * replica. Returns undefined when the box is owned here.
   */
  onOtherReplica?: (req: DeliverToBoxRequest) => Promise<DeliverToBoxResponse | undefined>;
}

/** The operations DeliverToBox carries (the `op` oneof cases). */
export type DeliveryOp = NonNullable<DeliverToBoxRequest['op']>['$case'];
export type DeliveryHandler = (req: DeliverToBoxRequest) => Promise<DeliverToBoxResponse>;

/**
 * The dialog key of a peer in a box ('u<user id>' or 'c<chat id>'; boxes hold no channels) and its
 * inverse: the shared peer keys.
 */
import { peerKey, peerOfKey } from '../../../shared/src';
export { peerKey, peerOfKey };

export const userPeer = (id: bigint): Peer => ({ kind: { $case: 'userId', value: id } });
export const now = (): number => Math.floor(Date.now() / 1000);

/** The idempotency key of a delivery in the owner's box: one per (actor, op). */
export function deliveryKey(actor: bigint, opId: bigint): bigint {
  const h = createHash('sha256').update(`${actor}:${opId}`).digest();
  return h.readBigInt64LE(0);
}

/** A stored copy, as its owner sees it. */
export function messageOf(m: BoxMessage): Message {
  return { ...Message.decode(m.body), id: m.id };
}

/** User ids a message mentions (peer, author, forwarded author, service action), for users vectors. */
export function usersOfMessage(m: Message): bigint[] {
  const ids: bigint[] = [];
  for (const p of [m.peer, m.from, m.fwdFrom?.from]) if (p?.kind?.$case === 'userId') ids.push(p.kind.value);
  const a = m.action?.kind;
  if (a?.$case === 'chatCreate') ids.push(...a.value.userIds);
  if (a?.$case === 'chatAddUser') ids.push(...a.value.userIds);
  if (a?.$case === 'chatDeleteUser') ids.push(a.value.userId);
  return [...ids, ...mentionedUsers(m)];
}

/** Users named by messageEntityMentionName in `m` (a client must find them in `users`). */
export const mentionedUsers = (m: Message): bigint[] =>
  m.entities.flatMap((e) => (e.type === MessageEntity_Type.MENTION_NAME && e.userId > 0n ? [e.userId] : []));

/**
 * Whether the live update of a group message needs a users vector: a plain text message goes out
 * as updateShortChatMessage (sender id only); anything naming other users or carrying media does not.
 */
export const needsUsers = (m: Message): boolean =>
  m.action !== undefined || m.fwdFrom !== undefined || m.media !== undefined || mentionedUsers(m).length > 0;

/** Basic groups as other modules see them (chats.ts `chatDirectory`). */
export interface ChatDirectory {
  /** The chats `ids` as `viewer` sees them; unknown ids are absent. */
  chats(viewer: bigint, ids: bigint[]): Promise<Chat[]>;
  /** The chat if `viewer` may read it (a member, or a former one); CHAT_ID_INVALID otherwise. */
  readable(viewer: bigint, chatId: bigint): Promise<Chat>;
  /**
   * The current members of a chat (user ids), for operations that reach every copy of a group
   * message: edits, revokes, read receipts, typing.
   */
  members(chatId: bigint): Promise<bigint[]>;
}

/** A dialog of the caller's box, resolved from an InputPeer. */
export interface ResolvedPeer {
  peer: Peer;
  /** The dialog key in the box (peerKey). */
  key: string;
  users: User[];
  chats: Chat[];
}

export interface StoreResult {
  message: Message;
  update: Update;
  duplicate: boolean;
}

export interface BoxCore extends Readonly<CoreDeps> {
  /** Home DCs of users, from the directory (unknown ids are absent). */
  homes(ids: bigint[]): Promise<Map<bigint, number>>;
  /** The current pts of `userId`'s box (from the owner's memory when it holds the box). */
  pts(userId: bigint): Promise<number>;
  /** The caller's box lives in its home DC: USER_MIGRATE_X elsewhere. */
  ownBox(ctx: RequestContext | undefined): Promise<bigint>;
  /** Profiles of `ids` as `viewer` sees them, from each user's home DC. */
  users(viewer: bigint, ids: bigint[]): Promise<User[]>;
  /** The other user of a private chat, access hash checked; PEER_ID_INVALID otherwise. */
  privatePeer(viewer: bigint, peer: InputPeer | undefined): Promise<User>;
  /** A user or chat dialog of `viewer`'s box: access hash or membership checked. */
  resolvePeer(viewer: bigint, peer: InputPeer | undefined): Promise<ResolvedPeer>;
  /**
   * The other users who hold a copy of the dialog's messages (the peer of a private chat, the
   * other members of a group), with their home DCs.
   */
  otherParties(viewer: bigint, peer: Peer): Promise<Map<bigint, number>>;
  /**
   * Stores a new message in `owner`'s box, records the dialog and announces it with the users
   * and chats it mentions (a group message: its chat as the owner sees it).
   */
  store(
    owner: bigint,
    m: Message,
    randomId: bigint,
    excludeAuthKeyId: bigint,
    mentioned: User[],
    chats?: Chat[],
  ): Promise<StoreResult>;
  /**
   * Appends a non-message update (`kind` with pts_count) to `owner`'s log and announces it.
   * The stored payload is the Update itself, so getDifference returns it as it was.
   */
  append(
    owner: bigint,
    type: string,
    kind: Update['kind'],
    ptsCount: number,
    excludeAuthKeyId: bigint,
    mentioned: User[],
    chats?: Chat[],
  ): Promise<Update>;
  /** The owner's copies of the messages `origins` name (absent ones are skipped). */
  copiesOf(owner: bigint, origins: MessageOrigin[]): Promise<BoxMessage[]>;
  /** Announces an update that is not in any log (typing, status): pts 0, at most once. */
  announce(owner: bigint, kind: Update['kind'], mentioned: User[]): Promise<void>;
  /** Applies an operation to a box in DC `toDc` (here, or over gRPC). */
  deliver(req: DeliverToBoxRequest, toDc: number): Promise<DeliverToBoxResponse>;
  /** Registers the handler of one DeliverToBox operation. */
  onDeliver(op: DeliveryOp, handler: DeliveryHandler): void;
  /** DeliverToBox here: checks the owner is homed here, then runs the registered handler. */
  deliverHere(req: DeliverToBoxRequest): Promise<DeliverToBoxResponse>;
  /** Log entries → getDifference's new messages and other updates. */
  fromLog(entries: LogEntry[]): { messages: Message[]; others: Update[] };
}

/** Home DCs of users, from the directory of `auth` (unknown ids are absent). */
export async function lookupHomes(auth: AuthServiceClient, ids: bigint[]): Promise<Map<bigint, number>> {
  if (ids.length === 0) return new Map();
  const res = await unary(auth.lookupUserDc.bind(auth), { userIds: ids });
  return new Map(res.entries.map((e) => [e.userId, e.homeDcId]));
}

export function boxCore(d: CoreDeps): BoxCore {
  const deliveries = new Map<DeliveryOp, DeliveryHandler>();

  const homes = (ids: bigint[]): Promise<Map<bigint, number>> => d.directory.homes(ids);
  const directoryEntry = (userId: bigint) => d.directory.entry(userId);
  const users = (viewer: bigint, ids: bigint[]): Promise<User[]> => d.profiles.profiles(viewer, ids);

  const core: BoxCore = {
    ...d,
    homes,
    users,

    async resolvePeer(viewer, peer) {
      if (peer?.kind?.$case === 'chat') {
        const chat = await d.chatDirectory.readable(viewer, peer.kind.value.chatId);
        const p: Peer = { kind: { $case: 'chatId', value: chat.id } };
        return { peer: p, key: peerKey(p), users: [], chats: [chat] };
      }
      const user = await core.privatePeer(viewer, peer);
      const p = userPeer(user.id);
      return { peer: p, key: peerKey(p), users: [user], chats: [] };
    },

    async ownBox(ctx) {
      const userId = requireUser(ctx);
      const entry = await directoryEntry(userId);
      if (!entry) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
      if (entry.homeDcId !== d.dcId) throw errors.migrate('USER', entry.homeDcId);
      if (entry.movingToDcId) throw errors.floodWait(MOVE_WAIT_S);
      return userId;
    },

    async privatePeer(viewer, peer) {
      if (peer?.kind?.$case === 'self') return (await users(viewer, [viewer]))[0]!;
      if (peer?.kind?.$case !== 'user') throw errors.badRequest('PEER_ID_INVALID');
      const { userId, accessHash } = peer.kind.value;
      const found = (await users(viewer, [userId]))[0];
      if (!found || (userId !== viewer && found.accessHash !== accessHash))
        throw errors.badRequest('PEER_ID_INVALID');
      return found;
    },

    async otherParties(viewer, peer) {
      const ids =
        peer.kind?.$case === 'chatId'
          ? await d.chatDirectory.members(peer.kind.value)
          : peer.kind?.$case === 'userId'
            ? [peer.kind.value]
            : [];
      return homes(ids.filter((id) => id !== viewer));
    },

    async pts(userId) {
      return (await d.writer.head(userId)).pts;
    },

    async store(owner, m, randomId, excludeAuthKeyId, mentioned, chats = []) {
      const peer = peerKey(m.peer);
      const stored = await d.writer.storeMessage(owner, {
        peer,
        out: m.out,
        body: Buffer.from(Message.encode({ ...m, id: 0 }).finish()),
        randomId,
        date: m.date || now(),
        ...(m.origin ? { origin: m.origin } : {}),
      });
      const message: Message = { ...m, id: stored.id, date: stored.date || m.date };
      const update: Update = {
        pts: stored.pts,
        ptsCount: stored.ptsCount,
        kind: { $case: 'newMessage', value: { message } },
      };
      if (!stored.duplicate) {
        if (m.out) await d.dialogs.countOutgoing(owner, peer);
        else await d.dialogs.countIncoming(owner, peer);
        await d.publisher.userUpdate(owner, update, mentioned, excludeAuthKeyId, chats);
        if (!m.out) await d.push?.incoming(owner, message, mentioned);
      }
      return { message, update, duplicate: stored.duplicate };
    },

    async append(owner, type, kind, ptsCount, excludeAuthKeyId, mentioned, chats = []) {
      const payload = Buffer.from(Update.encode({ pts: 0, ptsCount, kind }).finish());
      const a = await d.writer.append(owner, ptsCount, type, payload);
      const update: Update = { pts: a.pts, ptsCount: a.ptsCount, kind };
      await d.publisher.userUpdate(owner, update, mentioned, excludeAuthKeyId, chats);
      return update;
    },

    async copiesOf(owner, origins) {
      const ids = await d.boxes.byOrigin(owner, origins);
      return d.boxes.get(owner, [...new Set(ids.values())]);
    },

    async announce(owner, kind, mentioned) {
      await d.publisher.userUpdate(owner, { pts: 0, ptsCount: 0, kind }, mentioned, 0n);
    },

    async deliver(req, toDc) {
      if (toDc === d.dcId) return (await d.onOtherReplica?.(req)) ?? core.deliverHere(req);
      return d.outbox.deliver(req, toDc);
    },

    onDeliver(op, handler) {
      deliveries.set(op, handler);
    },

    async deliverHere(req) {
      const handler = req.op && deliveries.get(req.op.$case);
      if (!handler) throw errors.badRequest('OPERATION_NOT_SUPPORTED');
      const entry = await directoryEntry(req.ownerUserId);
      if (entry?.homeDcId !== d.dcId) throw errors.migrate('USER', entry?.homeDcId ?? d.dcId);
      // Later, not here: the sender's outbox keeps it and replays it to the new home.
      if (entry.movingToDcId) throw errors.floodWait(MOVE_WAIT_S);
      return handler(req);
    },

    fromLog(entries) {
      const messages: Message[] = [];
      const others: Update[] = [];
      for (const e of entries) {
        if (e.type === NEW_MESSAGE) messages.push({ ...Message.decode(e.payload), id: e.maxMessageId });
        else others.push({ ...Update.decode(e.payload), pts: e.pts, ptsCount: e.ptsCount });
      }
      return { messages, others };
    },
  };
  return core;
}
