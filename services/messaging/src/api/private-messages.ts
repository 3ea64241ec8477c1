/**
 * Private chats over the update log: messages.sendMessage, getHistory, readHistory,
 * updates.getState / getDifference, and DeliverToBox (the recipient's DC storing its copy).
 *
 * A private message is stored twice, each copy in its owner's home DC: the sender's copy here
 * (sendMessage), the recipient's by the recipient's DC (DeliverToBox, local or over gRPC). Each
 * copy appends to its owner's log and is announced on that DC's NATS for live delivery.
 */
import { createHash } from 'node:crypto';
import { errors, unary, type AsyncService, type DcClients } from '../../../shared/src';
import type { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import { Message } from '../../../shared/src/gen/tern/common/v1/message';
import type { InputPeer } from '../../../shared/src/gen/tern/common/v1/peer';
import type { Update } from '../../../shared/src/gen/tern/common/v1/update';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type {
  DeliverToBoxRequest,
  DeliverToBoxResponse,
  MessagingServiceClient,
  MessagingServiceServer,
} from '../../../shared/src/gen/tern/messaging/v1/messaging';
import type { UpdatePublisher } from '../producers/updates';
import { NEW_MESSAGE, type BoxMessage, type Boxes } from '../storage/boxes';
import type { Dialogs } from '../storage/dialogs';
import type { LogEntry, UpdateLog } from '../storage/update-log';

export interface PrivateDeps {
  dcId: number;
  log: UpdateLog;
  boxes: Boxes;
  dialogs: Dialogs;
  publisher: UpdatePublisher;
  /** This DC's auth service (directory, profiles). */
  auth: AuthServiceClient;
  authOf: DcClients<AuthServiceClient>;
  messagingOf: DcClients<MessagingServiceClient>;
}

type Handlers = Pick<
  AsyncService<MessagingServiceServer>,
  'sendMessage' | 'getHistory' | 'getState' | 'getDifference' | 'deliverToBox'
>;

const MAX_TEXT = 4096;
/** Updates getDifference returns at once; more → differenceSlice. */
const DIFFERENCE_LIMIT = 1000;
/** A client this far behind refetches its dialogs instead (differenceTooLong). */
const TOO_LONG = 100_000;
const HISTORY_MAX = 100;

const peerKey = (userId: bigint) => `u${userId}`;
const now = () => Math.floor(Date.now() / 1000);

/** The idempotency key of a delivery in the owner's box: one per (actor, op). */
function deliveryKey(actor: bigint, opId: bigint): bigint {
  const h = createHash('sha256').update(`${actor}:${opId}`).digest();
  return h.readBigInt64LE(0);
}

/** A stored copy, as its owner sees it. */
function messageOf(m: BoxMessage): Message {
  return { ...Message.decode(m.body), id: m.id };
}

export function privateHandlers(d: PrivateDeps): Handlers {
  const loggedIn = (ctx: RequestContext | undefined) => {
    const userId = ctx?.userId ?? 0n;
    if (userId === 0n) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
    return userId;
  };

  /** Home DCs of users, from the directory. */
  async function homes(ids: bigint[]): Promise<Map<bigint, number>> {
    const res = await unary(d.auth.lookupUserDc.bind(d.auth), { userIds: ids });
    return new Map(res.entries.map((e) => [e.userId, e.homeDcId]));
  }

  /** The caller's box lives in its home DC: USER_MIGRATE_X elsewhere. */
  async function ownBox(ctx: RequestContext | undefined): Promise<bigint> {
    const userId = loggedIn(ctx);
    const home = (await homes([userId])).get(userId);
    if (home === undefined) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
    if (home !== d.dcId) throw errors.migrate('USER', home);
    return userId;
  }

  /** Profiles of `ids` as `viewer` sees them, from each user's home DC. */
  async function users(viewer: bigint, ids: bigint[]): Promise<User[]> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return [];
    const byDc = new Map<number, bigint[]>();
    for (const [id, dc] of await homes(unique)) byDc.set(dc, [...(byDc.get(dc) ?? []), id]);
    const out: User[] = [];
    for (const [dc, list] of byDc) {
      const auth = d.authOf.forDc(dc);
      const res = await unary(auth.getProfiles.bind(auth), { viewerId: viewer, userIds: list });
      out.push(...res.profiles.flatMap((p) => (p.user ? [p.user] : [])));
    }
    return out;
  }

  /** The other user of a private chat, access hash checked; PEER_ID_INVALID otherwise. */
  async function privatePeer(viewer: bigint, peer: InputPeer | undefined): Promise<User> {
    if (peer?.kind?.$case === 'self') return (await users(viewer, [viewer]))[0]!;
    if (peer?.kind?.$case !== 'user') throw errors.badRequest('PEER_ID_INVALID');
    const { userId, accessHash } = peer.kind.value;
    const found = (await users(viewer, [userId]))[0];
    if (!found || (userId !== viewer && found.accessHash !== accessHash))
      throw errors.badRequest('PEER_ID_INVALID');
    return found;
  }

  /** Stores a new message in `owner`'s box, records the dialog and announces it. */
  async function store(
    owner: bigint,
    m: Message,
    randomId: bigint,
    excludeAuthKeyId: bigint,
    mentioned: User[],
  ): Promise<{ message: Message; update: Update; duplicate: boolean }> {
    const peer = m.peer?.kind?.$case === 'userId' ? peerKey(m.peer.kind.value) : '';
    const stored = await d.boxes.storeNew(owner, {
      peer,
      out: m.out,
      body: Buffer.from(Message.encode({ ...m, id: 0 }).finish()),
      randomId,
    });
    const message: Message = { ...m, id: stored.id, date: stored.date || m.date };
    const update: Update = {
      pts: stored.pts,
      ptsCount: stored.ptsCount,
      kind: { $case: 'newMessage', value: { message } },
    };
    if (!stored.duplicate) {
      await d.dialogs.onNewMessage(owner, peer, stored.id, message.date, !m.out);
      await d.publisher.userUpdate(owner, update, mentioned, excludeAuthKeyId);
    }
    return { message, update, duplicate: stored.duplicate };
  }

  async function deliver(req: DeliverToBoxRequest, toDc: number): Promise<DeliverToBoxResponse> {
    if (toDc === d.dcId) return deliverHere(req);
    const target = d.messagingOf.forDc(toDc);
    return unary(target.deliverToBox.bind(target), req, { deadlineMs: 15_000 });
  }

  async function deliverHere(req: DeliverToBoxRequest): Promise<DeliverToBoxResponse> {
    if (req.op?.$case !== 'newMessage') throw errors.badRequest('OPERATION_NOT_SUPPORTED');
    const owner = req.ownerUserId;
    const home = (await homes([owner])).get(owner);
    if (home !== d.dcId) throw errors.migrate('USER', home ?? d.dcId);
    const m = req.op.value.message!;
    const mentioned = await users(owner, [req.actorUserId]);
    const r = await store(owner, m, deliveryKey(req.actorUserId, req.opId), 0n, mentioned);
    return {
      messageId: r.message.id,
      pts: r.update.pts,
      ptsCount: r.update.ptsCount,
      duplicate: r.duplicate,
    };
  }

  /** Log entries → what getDifference returns. */
  function fromLog(entries: LogEntry[]): { messages: Message[]; others: Update[] } {
    const messages: Message[] = [];
    for (const e of entries)
      if (e.type === NEW_MESSAGE) messages.push({ ...Message.decode(e.payload), id: e.maxMessageId });
    return { messages, others: [] };
  }

  return {
    async sendMessage(req) {
      const sender = await ownBox(req.context);
      const text = req.message;
      if (!text.trim()) throw errors.badRequest('MESSAGE_EMPTY');
      if (text.length > MAX_TEXT) throw errors.badRequest('MESSAGE_TOO_LONG');
      if (req.media) throw errors.badRequest('MEDIA_INVALID');
      const recipient = await privatePeer(sender, req.peer);
      const date = now();
      const base: Omit<Message, 'peer' | 'out'> = {
        id: 0,
        from: { kind: { $case: 'userId', value: sender } },
        date,
        message: text,
        entities: req.entities,
        replyToMsgId: 0,
        editDate: 0,
        mentioned: false,
        mediaUnread: false,
        silent: req.silent,
        post: false,
      };
      const mine = await store(
        sender,
        { ...base, peer: { kind: { $case: 'userId', value: recipient.id } }, out: true },
        req.randomId,
        req.context!.authKeyId,
        [recipient],
      );
      // Always delivered (idempotent per random_id), so a retry completes a send cut off after the
      // sender's copy was stored.
      if (recipient.id !== sender)
        await deliver(
          {
            ownerUserId: recipient.id,
            actorUserId: sender,
            opId: req.randomId,
            originDcId: d.dcId,
            op: {
              $case: 'newMessage',
              value: {
                message: {
                  ...base,
                  date: mine.message.date,
                  peer: { kind: { $case: 'userId', value: sender } },
                  out: false,
                },
              },
            },
          },
          recipient.dcId,
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
          users: [recipient],
          chats: [],
          channels: [],
          date: mine.message.date,
          seq: 0,
        },
      };
    },

    async deliverToBox(req) {
      return deliverHere(req);
    },

    async getHistory(req) {
      const userId = await ownBox(req.context);
      const other = await privatePeer(userId, req.peer);
      const w = req.window;
      const limit = Math.min(Math.max(w?.limit ?? 20, 1), HISTORY_MAX);
      const ids = await d.boxes.dialogIds(userId, peerKey(other.id), w?.offsetId ?? 0, limit);
      const messages = (
        await d.boxes.get(
          userId,
          ids.map((i) => i.id),
        )
      ).map(messageOf);
      return {
        page: {
          messages,
          count: messages.length,
          users: other.id === userId ? [other] : [other, ...(await users(userId, [userId]))],
          chats: [],
          channels: [],
          pts: 0,
          notModified: false,
        },
      };
    },

    async getState(req) {
      const userId = await ownBox(req.context);
      const [pts, unread] = await Promise.all([d.log.state(userId), d.dialogs.totalUnread(userId)]);
      return { state: { pts, qts: 0, date: now(), seq: 0, unreadCount: unread } };
    },

    async getDifference(req) {
      const userId = await ownBox(req.context);
      const head = await d.log.state(userId);
      if (req.pts >= head) return { result: { $case: 'empty', value: { date: now(), seq: 0 } } };
      if (head - req.pts > TOO_LONG) return { result: { $case: 'tooLong', value: { pts: head } } };
      const limit = Math.min(req.ptsTotalLimit > 0 ? req.ptsTotalLimit : DIFFERENCE_LIMIT, DIFFERENCE_LIMIT);
      const page = await d.log.difference(userId, req.pts, limit);
      const { messages, others } = fromLog(page.updates);
      const peers = messages
        .flatMap((m) => [m.peer, m.from])
        .flatMap((p) => (p?.kind?.$case === 'userId' ? [p.kind.value] : []));
      const unread = await d.dialogs.totalUnread(userId);
      const value = {
        newMessages: messages,
        otherUpdates: others,
        users: await users(userId, [...peers, userId]),
        chats: [],
        channels: [],
        state: { pts: page.pts, qts: 0, date: now(), seq: 0, unreadCount: unread },
      };
      return { result: page.more ? { $case: 'slice', value } : { $case: 'difference', value } };
    },
  };
}
