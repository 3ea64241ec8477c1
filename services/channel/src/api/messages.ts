/**
 * A channel's messages: posting, editing, deleting, pinning, reading pages of history, searching,
 * view counts and the channel difference. Each post is one batch of a constant number of
 * statements (channel-writer.ts) and one ChannelUpdateEvent, whatever the number of members.
 */
import { errors, TelegramErrorCode, TernError, type AsyncService } from '../../../shared/src';
import type { ChannelServiceServer } from '../../../shared/src/gen/tern/channel/v1/channel';
import type { MessageMedia } from '../../../shared/src/gen/tern/common/v1/media';
import {
  Message,
  MessagesFilter,
  type HistoryWindow,
  type MessagesPage,
} from '../../../shared/src/gen/tern/common/v1/message';
import type { Update } from '../../../shared/src/gen/tern/common/v1/update';
import { activeBans, hasRight, isAdmin, isMember, slowmodeWait } from '../internal/rights';
import type { LogRow } from '../storage/store';
import { readStateOf, serviceMessage } from './channels';
import { authorOf, channelPeer, userPeer, type Access, type ChannelCore } from './core';

type Handlers = Pick<
  AsyncService<ChannelServiceServer>,
  | 'sendChannelMessage'
  | 'getChannelHistory'
  | 'getChannelMessages'
  | 'editChannelMessage'
  | 'deleteChannelMessages'
  | 'searchChannel'
  | 'getMessagesViews'
  | 'updateChannelPinnedMessage'
  | 'getChannelDifference'
>;

export const HISTORY_MAX = 100;
const GET_MESSAGES_MAX = 200;
const DELETE_MAX = 100;
const MESSAGE_MAX = 4096;
/** Messages one search reads at most (a bounded scan, not an index; the client pages on). */
const SEARCH_SCAN = 2000;
/** getChannelDifference: events per answer for users (Telegram's bound). */
export const DIFFERENCE_MAX = 100;
/**
 * A gap larger than this answers channelDifferenceTooLong (the client reloads the dialog): Telegram's
 * usual window. Set by TERN_CHANNEL_DIFFERENCE_WINDOW (the local stack uses a small one so its tests
 * reach the tooLong path in seconds).
 */
export const TOO_LONG_GAP = 100_000;
/** Seconds a client waits before polling a channel again. */
const DIFFERENCE_TIMEOUT = 30;
/** Slow mode: the last post per (channel, member), kept by the owner. */
const MAX_SLOWMODE_ENTRIES = 100_000;

const clamp = (v: number | undefined, max: number, fallback: number): number =>
  Math.min(Math.max(v || fallback, 1), max);

/** Does a message match a search filter? */
function matchesFilter(m: Message, filter: MessagesFilter): boolean {
  const k = m.media?.kind;
  const mime = k?.$case === 'document' ? k.value.mimeType : '';
  switch (filter) {
    case MessagesFilter.PHOTOS:
      return k?.$case === 'photo';
    case MessagesFilter.VIDEO:
      return mime.startsWith('video/');
    case MessagesFilter.PHOTO_VIDEO:
      return k?.$case === 'photo' || mime.startsWith('video/');
    case MessagesFilter.DOCUMENT:
      return k?.$case === 'document';
    case MessagesFilter.URL:
      return m.entities.some((e) => e.url !== '') || /https?:\/\//.test(m.message);
    case MessagesFilter.VOICE:
      return mime === 'audio/ogg';
    case MessagesFilter.MUSIC:
      return mime.startsWith('audio/') && mime !== 'audio/ogg';
    case MessagesFilter.MENTIONS:
      return m.mentioned;
    case MessagesFilter.PINNED:
      return m.pinned;
    default:
      return true;
  }
}

export function messageHandlers(core: ChannelCore, differenceWindow = TOO_LONG_GAP): Handlers {
  const { d } = core;
  const lastPost = new Map<string, number>();

  /**
   * When the caller last posted in a slow-mode supergroup: this replica's memory (it owns the
   * channel's writes), else the table a post records it in (after a restart or a takeover).
   */
  async function lastPostOf(a: Access): Promise<number> {
    const key = `${a.row.id}:${a.viewer}`;
    const known = lastPost.get(key);
    if (known !== undefined) return known;
    const stored = await d.store.lastPost(a.row.id, a.viewer);
    remember(key, stored);
    return stored;
  }

  function remember(key: string, date: number): void {
    lastPost.set(key, date);
    if (lastPost.size > MAX_SLOWMODE_ENTRIES) lastPost.delete(lastPost.keys().next().value!);
  }

  /** May the caller post here now? CHAT_ADMIN_REQUIRED, CHAT_WRITE_FORBIDDEN, USER_BANNED_IN_CHANNEL... */
  async function checkPost(a: Access, media: boolean): Promise<void> {
    if (!a.row.megagroup) {
      if (!hasRight(a.me, 'postMessages')) throw errors.badRequest('CHAT_ADMIN_REQUIRED');
      return;
    }
    if (!isMember(a.me)) throw errors.forbidden('CHAT_WRITE_FORBIDDEN');
    if (isAdmin(a.me)) return;
    const bans = activeBans(a.me, core.now());
    if (bans?.sendMessages) throw errors.badRequest('USER_BANNED_IN_CHANNEL');
    if (media && bans?.sendMedia) throw errors.forbidden('CHAT_SEND_MEDIA_FORBIDDEN');
    if (a.row.slowmodeSeconds <= 0) return;
    const wait = slowmodeWait(a.row.slowmodeSeconds, await lastPostOf(a), core.now());
    if (wait > 0) throw slowmode(wait);
  }

  /** The messages as the viewer sees them, with view counts of broadcast posts. */
  async function present(a: Access, messages: Message[]): Promise<Message[]> {
    const views = a.row.megagroup
      ? undefined
      : await d.store.views(
          a.row.id,
          messages.map((m) => m.id),
        );
    return messages.map((m) => core.present(m, a.viewer, views));
  }

  async function page(a: Access, messages: Message[], count: number): Promise<MessagesPage> {
    const shown = await present(a, messages);
    const head = await d.writer.head(a.row.id);
    return {
      messages: shown,
      count,
      users: await core.usersFor(a.viewer, shown, [a.viewer]),
      chats: [],
      channels: [core.view(a.row, a.me)],
      pts: head.pts,
      notModified: false,
    };
  }

  /** The messages a history window selects, newest first (as messaging's history.ts). */
  async function windowMessages(a: Access, w: HistoryWindow | undefined, topId: number): Promise<Message[]> {
    const id = a.row.id;
    const limit = clamp(w?.limit, HISTORY_MAX, 20);
    const addOffset = Math.max(Math.min(w?.addOffset ?? 0, HISTORY_MAX), -HISTORY_MAX);
    let start = w?.offsetId ?? 0; // exclusive; 0 = after the newest
    if (start === 0 && (w?.offsetDate ?? 0) > 0) {
      const recent = await d.store.messagesBelow(id, topId, 0, SEARCH_SCAN);
      const older = recent.find((m) => m.date < w!.offsetDate);
      start = older ? older.id + 1 : 1;
    }
    const ceiling = (w?.maxId ?? 0) > 0 ? Math.min(w!.maxId - 1, topId) : topId;
    const floor = Math.max(w?.minId ?? 0, 0);
    const high = Math.min(start > 0 ? start - 1 : topId, ceiling);
    if (addOffset >= 0)
      return (await d.store.messagesBelow(id, high, floor, addOffset + limit)).slice(addOffset);
    const newer = (
      await d.store.messagesAbove(id, Math.max(high, floor), ceiling, Math.min(-addOffset, limit))
    ).reverse();
    const older = await d.store.messagesBelow(id, high, floor, limit - newer.length);
    return [...newer, ...older];
  }

  /** Publishes one log event to the channel's subscribers. */
  async function announce(a: Access, update: Update, messages: Message[], excludeAuthKeyId: bigint) {
    const users = await core.usersFor(a.viewer, messages);
    // Every member sees the same event: no `out`, no stored author of an anonymous post.
    const k = update.kind;
    const shown: Update =
      k?.$case === 'newChannelMessage' || k?.$case === 'editChannelMessage'
        ? { ...update, kind: { ...k, value: { message: core.present(k.value.message!, 0n) } } }
        : update;
    await d.publisher.channelUpdate(
      a.row.id,
      shown,
      { users, channels: [core.neutralView(a.row)] },
      excludeAuthKeyId,
    );
    return users;
  }

  return {
    async sendChannelMessage(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      await checkPost(a, req.media !== undefined);
      const text = req.message;
      if (text.trim() === '' && !req.media) throw errors.badRequest('MESSAGE_EMPTY');
      if (text.length > MESSAGE_MAX) throw errors.badRequest('MESSAGE_TOO_LONG');
      // Media first (a network call to the file's DC), outside the channel's queue.
      let media: MessageMedia | undefined;
      if (req.media) {
        const earlier = await d.store.randomId(a.row.id, a.viewer, req.randomId);
        if (!earlier) {
          media = await d.attach(req.context!, req.media);
          // One grant for the channel, whatever its size: members who join later can fetch it too.
          await d.grant(req.context!, media, a.row.id);
        }
      }
      const date = core.now();
      const posted = await d.writer.run(a.row.id, (tx) =>
        tx.post({
          senderId: a.viewer,
          randomId: req.randomId,
          date,
          build: (id) => ({
            id,
            peer: channelPeer(a.row.id),
            ...(a.row.megagroup ? { from: userPeer(a.viewer) } : {}),
            out: false,
            date,
            message: text,
            entities: req.entities,
            ...(media ? { media } : {}),
            replyToMsgId: req.replyToMsgId > 0 && req.replyToMsgId <= tx.topId ? req.replyToMsgId : 0,
            editDate: 0,
            ...(req.fwdFrom ? { fwdFrom: req.fwdFrom } : {}),
            mentioned: false,
            mediaUnread: false,
            silent: req.silent,
            post: !a.row.megagroup,
            origin: { authorUserId: a.viewer, authorMessageId: id },
            views: 0,
            postAuthor: !a.row.megagroup && a.row.signatures ? req.postAuthor : '',
            pinned: false,
          }),
        }),
      );
      if (a.row.megagroup && a.row.slowmodeSeconds > 0 && !posted.duplicate && !isAdmin(a.me)) {
        remember(`${a.row.id}:${a.viewer}`, date);
        await d.store.recordPost(a.row.id, a.viewer, date, a.row.slowmodeSeconds);
      }
      const update: Update = {
        pts: posted.pts,
        ptsCount: 1,
        kind: { $case: 'newChannelMessage', value: { message: posted.message } },
      };
      const users = posted.duplicate
        ? await core.usersFor(a.viewer, [posted.message])
        : await announce(a, update, [posted.message], req.context!.authKeyId);
      // One work item for the push fan-out (consumers/push-fanout.ts), nothing per member here.
      if (!posted.duplicate) await d.push?.posted(a.row.id, posted.message, a.viewer, users);
      const mine = core.present(posted.message, a.viewer);
      return {
        updates: core.updates(
          [
            {
              pts: 0,
              ptsCount: 0,
              kind: { $case: 'messageId', value: { id: mine.id, randomId: req.randomId } },
            },
            { ...update, kind: { $case: 'newChannelMessage', value: { message: mine } } },
          ],
          [core.view(a.row, a.me)],
          users,
        ),
        message: mine,
      };
    },

    async getChannelHistory(req) {
      const a = await core.access(req.context, req.channel, { read: true });
      const head = await d.writer.head(a.row.id);
      const messages = await windowMessages(a, req.window, head.topId);
      return { page: await page(a, messages, head.topId) };
    },

    async getChannelMessages(req) {
      const a = await core.access(req.context, req.channel, { read: true });
      if (req.ids.length > GET_MESSAGES_MAX) throw errors.badRequest('LIMIT_INVALID');
      const found = new Map((await d.store.messages(a.row.id, req.ids)).map((m) => [m.id, m]));
      const shown = await present(a, [...found.values()]);
      const byId = new Map(shown.map((m) => [m.id, m]));
      const messages = req.ids.map((id) => byId.get(id) ?? Message.create({ id }));
      const head = await d.writer.head(a.row.id);
      return {
        page: {
          messages,
          count: messages.length,
          users: await core.usersFor(a.viewer, shown, [a.viewer]),
          chats: [],
          channels: [core.view(a.row, a.me)],
          pts: head.pts,
          notModified: false,
        },
      };
    },

    async editChannelMessage(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      const result = await d.writer.run(a.row.id, async (tx) => {
        const [m] = await d.store.messages(a.row.id, [req.id]);
        if (!m || m.action) throw errors.badRequest('MESSAGE_ID_INVALID');
        const author = authorOf(m);
        const mayEditOthers = !a.row.megagroup && hasRight(a.me, 'editMessages');
        if (author !== a.viewer && !mayEditOthers) throw errors.forbidden('MESSAGE_AUTHOR_REQUIRED');
        const text = req.hasMessage ? req.message : m.message;
        if (text.length > MESSAGE_MAX) throw errors.badRequest('MESSAGE_TOO_LONG');
        if (text.trim() === '' && !m.media) throw errors.badRequest('MESSAGE_EMPTY');
        const entities = req.hasMessage ? req.entities : m.entities;
        if (text === m.message && JSON.stringify(entities, big) === JSON.stringify(m.entities, big))
          throw errors.badRequest('MESSAGE_NOT_MODIFIED');
        const edited: Message = { ...m, message: text, entities, editDate: core.now() };
        const pts = await tx.append({
          ptsCount: 1,
          type: 'edit',
          build: (p) => ({
            pts: p,
            ptsCount: 1,
            kind: { $case: 'editChannelMessage', value: { message: Message.create({ id: m.id }) } },
          }),
          extra: [
            d.store.messageStmt(a.row.id, edited, author),
            ...(author !== a.viewer
              ? [core.adminLog(a.row.id, a.viewer, { $case: 'messageEdited', value: edited })]
              : []),
          ],
        });
        return { edited, pts };
      });
      const update: Update = {
        pts: result.pts,
        ptsCount: 1,
        kind: { $case: 'editChannelMessage', value: { message: result.edited } },
      };
      const users = await announce(a, update, [result.edited], req.context!.authKeyId);
      return {
        updates: core.updates(
          [
            {
              ...update,
              kind: {
                $case: 'editChannelMessage',
                value: { message: core.present(result.edited, a.viewer) },
              },
            },
          ],
          [core.view(a.row, a.me)],
          users,
        ),
      };
    },

    async deleteChannelMessages(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      const ids = [...new Set(req.ids.filter((id) => id > 0))];
      if (ids.length > DELETE_MAX) throw errors.badRequest('LIMIT_INVALID');
      const mayDeleteAny = hasRight(a.me, 'deleteMessages');
      const result = await d.writer.run(a.row.id, async (tx) => {
        const found = await d.store.messages(a.row.id, ids);
        if (found.some((m) => authorOf(m) !== a.viewer && !mayDeleteAny))
          throw errors.forbidden('MESSAGE_DELETE_FORBIDDEN');
        if (found.length === 0) return { pts: tx.pts, count: 0, gone: [] as number[] };
        const gone = found.map((m) => m.id);
        const pts = await tx.append({
          ptsCount: gone.length,
          type: 'delete',
          build: (p) => ({
            pts: p,
            ptsCount: gone.length,
            kind: { $case: 'deleteChannelMessages', value: { channelId: a.row.id, messages: gone } },
          }),
          extra: [
            ...gone.map((id) => d.store.deleteMessageStmt(a.row.id, id)),
            ...found
              .filter((m) => authorOf(m) !== a.viewer)
              .map((m) => core.adminLog(a.row.id, a.viewer, { $case: 'messageDeleted', value: m })),
          ],
        });
        return { pts, count: gone.length, gone };
      });
      if (result.count > 0)
        await announce(
          a,
          {
            pts: result.pts,
            ptsCount: result.count,
            kind: { $case: 'deleteChannelMessages', value: { channelId: a.row.id, messages: result.gone } },
          },
          [],
          req.context!.authKeyId,
        );
      return { affected: { pts: result.pts, ptsCount: result.count } };
    },

    async searchChannel(req) {
      const a = await core.access(req.context, req.channel, { read: true });
      const head = await d.writer.head(a.row.id);
      const w = req.window;
      const limit = clamp(w?.limit, HISTORY_MAX, 20);
      const high = (w?.offsetId ?? 0) > 0 ? w!.offsetId - 1 : head.topId;
      const scanned = await d.store.messagesBelow(
        a.row.id,
        Math.min(high, w?.maxId ? w.maxId - 1 : high),
        w?.minId ?? 0,
        SEARCH_SCAN,
      );
      const q = req.q.trim().toLowerCase();
      const from = req.fromId?.kind;
      const fromId =
        from?.$case === 'self' ? a.viewer : from?.$case === 'user' ? from.value.userId : undefined;
      const hits = scanned.filter(
        (m) =>
          !m.action &&
          (q === '' || m.message.toLowerCase().includes(q)) &&
          (fromId === undefined || (m.from?.kind?.$case === 'userId' && m.from.kind.value === fromId)) &&
          (req.minDate <= 0 || m.date >= req.minDate) &&
          (req.maxDate <= 0 || m.date <= req.maxDate) &&
          matchesFilter(m, req.filter ?? MessagesFilter.UNSPECIFIED),
      );
      const off = Math.max(w?.addOffset ?? 0, 0);
      return { page: await page(a, hits.slice(off, off + limit), hits.length) };
    },

    async getMessagesViews(req) {
      const a = await core.access(req.context, req.channel, { read: true });
      if (req.ids.length > GET_MESSAGES_MAX) throw errors.badRequest('LIMIT_INVALID');
      if (req.increment) await d.store.countViews(a.row.id, a.viewer, req.ids);
      const views = await d.store.views(a.row.id, req.ids);
      return {
        views: req.ids.map((id) => Math.max(1, views.get(id) ?? 0)),
        users: [],
        channels: [core.view(a.row, a.me)],
      };
    },

    async updateChannelPinnedMessage(req) {
      const a = await core.access(req.context, req.channel, { member: true });
      // Pinning is an admin right (members' default pin permission is not modelled).
      if (!hasRight(a.me, 'pinMessages')) throw errors.badRequest('CHAT_ADMIN_REQUIRED');
      const out = await d.writer.run(a.row.id, async (tx) => {
        const [m] = await d.store.messages(a.row.id, [req.id]);
        if (!m) throw errors.badRequest('MESSAGE_ID_INVALID');
        const pin = !req.unpin;
        const row = (await d.store.channel(a.row.id))!;
        const edited: Message = { ...m, pinned: pin };
        const pinnedMsgId = pin ? m.id : row.pinnedMsgId === m.id ? 0 : row.pinnedMsgId;
        const events: { update: Update; messages: Message[] }[] = [];
        const pinned: Update['kind'] = {
          $case: 'pinnedChannelMessages',
          value: { channelId: a.row.id, messages: [m.id], pinned: pin },
        };
        // updatePinnedChannelMessages (channel pts); the stored message keeps its `pinned` flag.
        const pinPts = await tx.append({
          ptsCount: 1,
          type: 'pin',
          build: (p) => ({ pts: p, ptsCount: 1, kind: pinned }),
          extra: [
            d.store.messageStmt(a.row.id, edited, authorOf(m)),
            d.store.channelUpdate(a.row.id, { pinned_msg_id: pinnedMsgId }),
            ...(pin ? [core.adminLog(a.row.id, a.viewer, { $case: 'messagePinned', value: edited })] : []),
          ],
        });
        events.push({ update: { pts: pinPts, ptsCount: 1, kind: pinned }, messages: [] });
        if (pin && !req.silent) {
          const posted = await tx.post({
            senderId: a.viewer,
            date: core.now(),
            build: (id) =>
              serviceMessage(a.row, a.viewer, id, core.now(), { $case: 'pinMessage', value: true }, m.id),
          });
          events.push({
            update: {
              pts: posted.pts,
              ptsCount: 1,
              kind: { $case: 'newChannelMessage', value: { message: posted.message } },
            },
            messages: [posted.message],
          });
        }
        return events;
      });
      const users = [];
      for (const e of out) users.push(...(await announce(a, e.update, e.messages, req.context!.authKeyId)));
      const mine = out.map((e) => {
        const k = e.update.kind;
        if (k?.$case === 'newChannelMessage')
          return {
            ...e.update,
            kind: { ...k, value: { message: core.present(k.value.message!, a.viewer) } },
          };
        if (k?.$case === 'editChannelMessage')
          return {
            ...e.update,
            kind: { ...k, value: { message: core.present(k.value.message!, a.viewer) } },
          };
        return e.update;
      });
      return { updates: core.updates(mine, [core.view(a.row, a.me)], users) };
    },

    async getChannelDifference(req) {
      const a = await core.access(req.context, req.channel, { read: true });
      const head = await d.writer.head(a.row.id);
      if (req.pts <= 0 || req.pts > head.pts) throw errors.badRequest('PERSISTENT_TIMESTAMP_INVALID');
      if (req.pts === head.pts)
        return {
          result: { $case: 'empty', value: { pts: head.pts, final: true, timeout: DIFFERENCE_TIMEOUT } },
        };
      const limit = clamp(req.limit, DIFFERENCE_MAX, DIFFERENCE_MAX);
      if (head.pts - req.pts > differenceWindow || req.pts < a.row.logFloor) {
        // Too far behind: the client drops what it has and takes the latest page and the dialog.
        const latest = await d.store.messagesBelow(a.row.id, head.topId, 0, limit);
        const shown = await present(a, latest);
        const read = await readStateOf(core, req.context!, a);
        return {
          result: {
            $case: 'tooLong',
            value: {
              dialog: {
                peer: channelPeer(a.row.id),
                topMessage: latest[0]?.id ?? 0,
                readInboxMaxId: read,
                readOutboxMaxId: a.row.readOutboxMaxId,
                unreadCount: Math.max(0, head.topId - read),
                unreadMentionsCount: 0,
                pts: head.pts,
                pinned: false,
                folderId: 0,
              },
              messages: shown,
              channels: [core.view(a.row, a.me)],
              users: await core.usersFor(a.viewer, shown, [a.viewer]),
              timeout: DIFFERENCE_TIMEOUT,
            },
          },
        };
      }
      const rows = await d.store.logAfter(a.row.id, req.pts, limit);
      const { newMessages, otherUpdates } = await replay(a, rows);
      const pts = rows.at(-1)?.pts ?? req.pts;
      const shown = await present(a, newMessages);
      const others = otherUpdates.map((u) => {
        const k = u.kind;
        if (k?.$case === 'editChannelMessage')
          return { ...u, kind: { ...k, value: { message: core.present(k.value.message!, a.viewer) } } };
        return u;
      });
      const mentioned = others.flatMap((u) =>
        u.kind?.$case === 'editChannelMessage' ? [u.kind.value.message!] : [],
      );
      return {
        result: {
          $case: 'difference',
          value: {
            pts,
            final: pts >= head.pts,
            timeout: DIFFERENCE_TIMEOUT,
            newMessages: shown,
            otherUpdates: others,
            channels: [core.view(a.row, a.me)],
            users: await core.usersFor(a.viewer, [...shown, ...mentioned], [a.viewer]),
          },
        },
      };
    },
  };

  /**
   * The log rows as a client applies them: new messages as they are now (a message deleted since
   * is left out: its deletion follows in the log), edits with the current text, the rest as logged.
   */
  async function replay(
    a: Access,
    rows: LogRow[],
  ): Promise<{ newMessages: Message[]; otherUpdates: Update[] }> {
    const ids = rows.flatMap((r) => {
      const k = r.update.kind;
      if (k?.$case === 'newChannelMessage' || k?.$case === 'editChannelMessage')
        return [k.value.message?.id ?? 0];
      return [];
    });
    const current = new Map((await d.store.messages(a.row.id, ids)).map((m) => [m.id, m]));
    const newMessages: Message[] = [];
    const otherUpdates: Update[] = [];
    for (const r of rows) {
      const k = r.update.kind;
      if (k?.$case === 'newChannelMessage') {
        const m = current.get(k.value.message?.id ?? 0);
        if (m) newMessages.push(m);
      } else if (k?.$case === 'editChannelMessage') {
        const m = current.get(k.value.message?.id ?? 0);
        if (m)
          otherUpdates.push({
            pts: r.pts,
            ptsCount: r.ptsCount,
            kind: { $case: 'editChannelMessage', value: { message: m } },
          });
      } else otherUpdates.push({ ...r.update, pts: r.pts, ptsCount: r.ptsCount });
    }
    return { newMessages, otherUpdates };
  }
}

/** SLOWMODE_WAIT_X (Telegram answers it with 420, like a flood wait). */
const slowmode = (seconds: number): TernError =>
  new TernError(`SLOWMODE_WAIT_${Math.max(1, Math.ceil(seconds))}`, TelegramErrorCode.FLOOD);

/** JSON of bigints (entity comparison). */
const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);
