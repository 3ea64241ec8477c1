/**
 * Reading the caller's box: messages.getHistory, getMessages, search, getDialogs and
 * getPeerDialogs. Nothing here writes.
 */
import { errors, type AsyncService } from '../../../shared/src';
import type { Chat, Dialog as DialogProto } from '../../../shared/src/gen/tern/common/v1/chat';
import {
  MessagesFilter,
  type HistoryWindow,
  type Message,
  type MessagesPage,
} from '../../../shared/src/gen/tern/common/v1/message';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type { MessagingServiceServer } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import type { Dialog } from '../storage/dialogs';
import type { Pins } from '../storage/pins';
import { messageOf, now, peerOfKey, usersOfMessage, type BoxCore, type ResolvedPeer } from './core';

type Handlers = Pick<
  AsyncService<MessagingServiceServer>,
  'getHistory' | 'getMessages' | 'search' | 'getDialogs' | 'getPeerDialogs' | 'toggleDialogPin'
>;

export const HISTORY_MAX = 100;
const DIALOGS_MAX = 100;
/** Pinned dialogs per user (Telegram's default for the main folder). */
const PINNED_MAX = 5;
const GET_MESSAGES_MAX = 200;
/**
 * Messages one search call reads at most (newest first from its offset). Search is a scan of the
 * dialog, not an index: bounded so a query can never read a whole long history at once; the
 * client pages on with offset_id.
 */
const SEARCH_SCAN = 2000;

const clampLimit = (limit: number | undefined, max: number, fallback: number): number =>
  Math.min(Math.max(limit || fallback, 1), max);

export function historyHandlers(core: BoxCore, pins: Pins): Handlers {
  /** The users and chats a set of messages mentions (plus the viewer), minus those known. */
  async function entities(
    viewer: bigint,
    messages: Message[],
    known: { users: User[]; chats: Chat[] } = { users: [], chats: [] },
  ): Promise<{ users: User[]; chats: Chat[] }> {
    const haveUsers = new Set(known.users.map((u) => u.id));
    const haveChats = new Set(known.chats.map((c) => c.id));
    const userIds = [viewer, ...messages.flatMap(usersOfMessage)].filter((id) => !haveUsers.has(id));
    const chatIds = messages.flatMap((m) =>
      m.peer?.kind?.$case === 'chatId' && !haveChats.has(m.peer.kind.value) ? [m.peer.kind.value] : [],
    );
    const [users, chats] = await Promise.all([
      core.users(viewer, userIds),
      chatIds.length > 0 ? core.chatDirectory.chats(viewer, [...new Set(chatIds)]) : Promise.resolve([]),
    ]);
    return { users: [...known.users, ...users], chats: [...known.chats, ...chats] };
  }

  async function page(
    viewer: bigint,
    messages: Message[],
    count: number,
    dialog?: ResolvedPeer,
  ): Promise<MessagesPage> {
    const e = await entities(viewer, messages, dialog);
    return { messages, count, users: e.users, chats: e.chats, channels: [], pts: 0, notModified: false };
  }

  /**
   * The ids of one dialog a history window selects, newest first. offset_id (exclusive) or
   * offset_date picks where to start, add_offset moves that start (negative: towards newer
   * messages), max_id / min_id bound the ids (exclusive).
   */
  async function windowIds(viewer: bigint, key: string, w: HistoryWindow | undefined): Promise<number[]> {
    const limit = clampLimit(w?.limit, HISTORY_MAX, 20);
    const addOffset = Math.max(Math.min(w?.addOffset ?? 0, HISTORY_MAX), -HISTORY_MAX);
    let start = w?.offsetId ?? 0; // exclusive; 0 = after the newest
    if (start === 0 && (w?.offsetDate ?? 0) > 0) {
      // The first message older than offset_date: scan back from the newest (bounded).
      const recent = await core.boxes.idsBetween(viewer, key, 0, Number.MAX_SAFE_INTEGER, SEARCH_SCAN);
      const dated = await core.boxes.get(
        viewer,
        recent.map((r) => r.id),
      );
      const older = dated.find((m) => m.date < w!.offsetDate);
      start = older ? older.id + 1 : 1;
    }
    // max_id and min_id bound every read (both exclusive), so a page far back is still full.
    const ceiling = (w?.maxId ?? 0) > 0 ? w!.maxId - 1 : Number.MAX_SAFE_INTEGER;
    const floor = Math.max(w?.minId ?? 0, 0);
    const high = Math.min(start > 0 ? start - 1 : Number.MAX_SAFE_INTEGER, ceiling);
    if (addOffset >= 0)
      return (await core.boxes.idsBetween(viewer, key, floor, high, addOffset + limit))
        .map((r) => r.id)
        .slice(addOffset);
    // Newer messages first: the -addOffset nearest ones from the start up (read oldest first).
    const newer = (
      await core.boxes.idsAbove(viewer, key, Math.max(high, floor), ceiling, Math.min(-addOffset, limit))
    ).reverse();
    const older = (await core.boxes.idsBetween(viewer, key, floor, high, limit - newer.length)).map(
      (r) => r.id,
    );
    return [...newer, ...older];
  }

  async function dialogsOf(
    viewer: bigint,
    list: Dialog[],
  ): Promise<{ dialogs: DialogProto[]; messages: Message[]; users: User[]; chats: Chat[] }> {
    const messages = (
      await core.boxes.get(
        viewer,
        list.map((d) => d.topMessageId),
      )
    ).map(messageOf);
    const dialogs = list.map((d): DialogProto => ({
      peer: peerOfKey(d.peer),
      topMessage: d.topMessageId,
      readInboxMaxId: d.readInboxMaxId,
      readOutboxMaxId: d.readOutboxMaxId,
      unreadCount: d.unreadCount,
      unreadMentionsCount: 0,
      pts: 0,
      pinned: d.pinnedAt !== undefined,
      folderId: 0,
    }));
    const peers = list.map((d) => d.peer);
    const userIds = peers.filter((p) => p.startsWith('u')).map((p) => BigInt(p.slice(1)));
    const chatIds = peers.filter((p) => p.startsWith('c')).map((p) => BigInt(p.slice(1)));
    const e = await entities(viewer, messages, {
      users: await core.users(viewer, userIds),
      chats: chatIds.length > 0 ? await core.chatDirectory.chats(viewer, chatIds) : [],
    });
    return { dialogs, messages, ...e };
  }

  return {
    async getHistory(req) {
      const viewer = await core.ownBox(req.context);
      const dialog = await core.resolvePeer(viewer, req.peer);
      const [ids, counted] = await Promise.all([
        windowIds(viewer, dialog.key, req.window),
        core.dialogs.messageCount(viewer, dialog.key),
      ]);
      const messages = (await core.boxes.get(viewer, ids)).map(messageOf);
      // Never less than the page shows (dialogs from before the count began count from then on).
      return { page: await page(viewer, messages, Math.max(counted, messages.length), dialog) };
    },

    async getMessages(req) {
      const viewer = await core.ownBox(req.context);
      if (req.ids.length > GET_MESSAGES_MAX) throw errors.badRequest('LIMIT_INVALID');
      const messages = (await core.boxes.get(viewer, [...new Set(req.ids)])).map(messageOf);
      return { page: await page(viewer, messages, messages.length) };
    },

    async search(req) {
      const viewer = await core.ownBox(req.context);
      const q = req.q.trim().toLowerCase();
      if (req.filter === MessagesFilter.PINNED) {
        // The dialog's pin index, newest first (a pin is per dialog: no peer, no pins).
        if (!req.peer) return { page: await page(viewer, [], 0) };
        const dialog = await core.resolvePeer(viewer, req.peer);
        const limit = clampLimit(req.window?.limit, HISTORY_MAX, 20);
        const ids = await pins.of(viewer, dialog.key, limit, req.window?.offsetId ?? 0);
        const messages = (await core.boxes.get(viewer, ids))
          .filter((m) => m.peer === dialog.key)
          .map(messageOf)
          .filter((m) => m.pinned)
          .sort((a, b) => b.id - a.id);
        return { page: await page(viewer, messages, messages.length, dialog) };
      }
      // Only text search for now: media, links, voice and mentions are not indexed, so those
      // filters match nothing rather than everything.
      if (req.filter !== MessagesFilter.EMPTY && req.filter !== MessagesFilter.UNSPECIFIED)
        return { page: await page(viewer, [], 0) };
      const limit = clampLimit(req.window?.limit, HISTORY_MAX, 20);
      const offsetId = req.window?.offsetId ?? 0;
      const high = offsetId > 0 ? offsetId - 1 : Number.MAX_SAFE_INTEGER;
      const dialog = req.peer ? await core.resolvePeer(viewer, req.peer) : undefined;
      const candidates = dialog
        ? (
            await core.boxes.get(
              viewer,
              (await core.boxes.idsBetween(viewer, dialog.key, 0, high, SEARCH_SCAN)).map((r) => r.id),
            )
          ).map(messageOf)
        : (await core.boxes.page(viewer, offsetId, SEARCH_SCAN)).map(messageOf);
      const fromId = req.fromId?.kind?.$case === 'user' ? req.fromId.kind.value.userId : undefined;
      const found = candidates.filter(
        (m) =>
          !m.action &&
          (q === '' || m.message.toLowerCase().includes(q)) &&
          (fromId === undefined || (m.from?.kind?.$case === 'userId' && m.from.kind.value === fromId)) &&
          (req.minDate <= 0 || m.date >= req.minDate) &&
          (req.maxDate <= 0 || m.date <= req.maxDate),
      );
      const messages = found.slice(0, limit);
      return { page: await page(viewer, messages, found.length, dialog) };
    },

    async getDialogs(req) {
      const viewer = await core.ownBox(req.context);
      const limit = clampLimit(req.limit, DIALOGS_MAX, DIALOGS_MAX);
      // A dialog whose messages were all deleted has top message 0 and is not listed.
      const all = (await core.dialogs.list(viewer)).filter((d) => d.topMessageId > 0);
      // Pinned dialogs come first (newest pin first) on the first page only, as clients expect;
      // the offset pages walk the others by top message.
      const first = req.offsetId <= 0 && req.offsetDate <= 0;
      const showPinned = first && !req.excludePinned;
      const pinned = showPinned
        ? all.filter((d) => d.pinnedAt !== undefined).sort((a, b) => b.pinnedAt! - a.pinnedAt!)
        : [];
      const rest = all.filter(
        (d) =>
          !(showPinned && d.pinnedAt !== undefined) &&
          (req.offsetId > 0
            ? d.topMessageId < req.offsetId
            : req.offsetDate > 0
              ? d.topDate < req.offsetDate
              : true),
      );
      const r = await dialogsOf(viewer, [...pinned, ...rest].slice(0, limit));
      // Drafts are added by the drafts module (service.ts).
      return { ...r, channels: [], count: all.length, notModified: false, drafts: [] };
    },

    async toggleDialogPin(req) {
      const viewer = await core.ownBox(req.context);
      const dialog = await core.resolvePeer(viewer, req.peer);
      if (req.pinned) {
        const pinned = (await core.dialogs.list(viewer)).filter((d) => d.pinnedAt !== undefined);
        if (pinned.length >= PINNED_MAX && !pinned.some((d) => d.peer === dialog.key))
          throw errors.badRequest('PINNED_DIALOGS_TOO_MUCH');
      }
      if (!(await core.dialogs.setPinned(viewer, dialog.key, req.pinned)))
        throw errors.badRequest('PEER_HISTORY_EMPTY');
      return {};
    },

    async getPeerDialogs(req) {
      const viewer = await core.ownBox(req.context);
      if (req.peers.length > DIALOGS_MAX) throw errors.badRequest('LIMIT_INVALID');
      const list: Dialog[] = [];
      for (const p of req.peers) {
        const dialog = await core.resolvePeer(viewer, p);
        const found = await core.dialogs.get(viewer, dialog.key);
        list.push(
          found ?? {
            peer: dialog.key,
            topMessageId: 0,
            topDate: 0,
            readInboxMaxId: 0,
            readOutboxMaxId: 0,
            unreadCount: 0,
          },
        );
      }
      const [r, pts, unread] = await Promise.all([
        dialogsOf(viewer, list),
        core.pts(viewer),
        core.dialogs.totalUnread(viewer),
      ]);
      return { ...r, state: { pts, qts: 0, date: now(), seq: 0, unreadCount: unread } };
    },
  };
}
