/**
 * The member side, served at the user's home DC: the user's channels (channel_memberships), their
 * read markers, the channel part of the dialog list, and what the channels' home DCs tell it
 * (RecordMembership) or are asked for (GetChannelTops).
 *
 * The dialog list never asks more than one call per DC: the memberships are read here, the tops
 * of each DC's channels in one GetChannelTops, and unread counts are top id − read_inbox_max_id.
 */
import { errors, requireUser, unary, type AsyncService } from '../../../shared/src';
import {
  ChannelParticipant_Role,
  type ChannelServiceServer,
  type ChannelTop,
  type GetChannelTopsRequest,
  type GetChannelTopsResponse,
} from '../../../shared/src/gen/tern/channel/v1/channel';
import type { Dialog } from '../../../shared/src/gen/tern/common/v1/chat';
import type { Message } from '../../../shared/src/gen/tern/common/v1/message';
import type { Update } from '../../../shared/src/gen/tern/common/v1/update';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import { isMember } from '../internal/rights';
import { channelDc } from '../storage/ids';
import type { MembershipRow } from '../storage/store';
import { channelPeer, type ChannelCore } from './core';

type Handlers = Pick<
  AsyncService<ChannelServiceServer>,
  | 'getChannelDialogs'
  | 'getUserChannels'
  | 'recordMembership'
  | 'getChannelTops'
  | 'readChannelHistory'
  | 'canReadChannel'
  | 'noteChannelRead'
>;

const DIALOGS_MAX = 100;
/** Attempts at moving a read marker that others move at the same time. */
const READ_ATTEMPTS = 5;

export function memberHandlers(core: ChannelCore): Handlers {
  const { d } = core;

  /** The tops of channels of this DC for `userId` (deleted and unknown channels left out). */
  async function localTops(req: GetChannelTopsRequest): Promise<GetChannelTopsResponse> {
    const ids = req.channelIds.filter((id) => channelDc(id) === d.dcId);
    const rows = await d.store.channels(ids);
    const tops = await Promise.all(
      ids.map(async (id): Promise<ChannelTop | undefined> => {
        const row = rows.get(id);
        if (!row || row.deleted) return undefined;
        const [head, me] = await Promise.all([d.store.headHint(id), d.store.participant(id, req.userId)]);
        let [top] = await d.store.messages(id, [head.topId]);
        // The newest message was deleted: the next one down.
        top ??= (await d.store.messagesBelow(id, head.topId, 0, 1))[0];
        return {
          channel: core.view(row, me),
          ...(top ? { topMessage: core.present(top, req.userId) } : {}),
          pts: head.pts,
          readOutboxMaxId: row.readOutboxMaxId,
        };
      }),
    );
    const found = tops.filter((t): t is ChannelTop => t !== undefined);
    const users = await core.usersFor(
      req.userId,
      found.flatMap((t) => (t.topMessage ? [t.topMessage] : [])),
    );
    return { tops: found, users };
  }

  /** Tops from every DC, one call per DC. */
  async function topsOf(userId: bigint, memberships: MembershipRow[]): Promise<GetChannelTopsResponse> {
    const byDc = new Map<number, bigint[]>();
    for (const m of memberships)
      byDc.set(channelDc(m.channelId), [...(byDc.get(channelDc(m.channelId)) ?? []), m.channelId]);
    const parts = await Promise.all(
      [...byDc].map(async ([dc, ids]) => {
        const req = { userId, channelIds: ids };
        if (dc === d.dcId) return localTops(req);
        if (!d.dcIds.includes(dc)) return { tops: [], users: [] };
        const c = d.channelOf.forDc(dc);
        return unary(c.getChannelTops.bind(c), req);
      }),
    );
    const users = new Map<bigint, User>();
    for (const p of parts) for (const u of p.users) users.set(u.id, u);
    return { tops: parts.flatMap((p) => p.tops), users: [...users.values()] };
  }

  /** Tells the channel's home DC that a member read up to `maxId` (NoteChannelRead). */
  async function noteRead(channelId: bigint, maxId: number): Promise<void> {
    const dc = channelDc(channelId);
    if (dc === d.dcId) return raiseReadOutbox(channelId, maxId);
    const c = d.channelOf.forDc(dc);
    await unary(c.noteChannelRead.bind(c), { channelId, maxId });
  }

  /**
   * At the channel's home DC (NoteChannelRead): raises a supergroup's read_outbox_max_id and, if
   * it rose, tells the members (updateReadChannelOutbox; their clients mark their own messages up
   * to it as read). Two readers racing may both announce: the update is idempotent.
   */
  async function raiseReadOutbox(channelId: bigint, maxId: number): Promise<void> {
    const row = await d.store.channel(channelId);
    if (!row || row.deleted || !row.megagroup || maxId <= row.readOutboxMaxId) return;
    await d.store.raiseReadOutbox(row.id, maxId);
    const update: Update = {
      pts: 0,
      ptsCount: 0,
      kind: { $case: 'readChannelOutbox', value: { channelId: row.id, maxId } },
    };
    await d.publisher.channelUpdate(row.id, update, { users: [], channels: [] });
  }

  /** The channel's top id and pts as its home DC says (for a read marker). */
  async function topOf(
    userId: bigint,
    channelId: bigint,
  ): Promise<{ topId: number; pts: number } | undefined> {
    const { tops } = await topsOf(userId, [{ channelId } as MembershipRow]);
    const t = tops[0];
    if (!t) return undefined;
    return { topId: t.topMessage?.id ?? 0, pts: t.pts };
  }

  return {
    async getChannelDialogs(req) {
      const viewer = requireUser(req.context);
      const only = new Set(req.only.map((c) => c.channelId));
      const memberships = (await d.store.memberships(viewer)).filter(
        (m) => m.member && (only.size === 0 || only.has(m.channelId)),
      );
      const { tops, users } = await topsOf(viewer, memberships);
      const byId = new Map(memberships.map((m) => [m.channelId, m]));
      const rows = tops
        .map((t) => ({ t, m: byId.get(t.channel!.id)!, date: t.topMessage?.date ?? t.channel!.date }))
        .filter((x) => x.m !== undefined)
        .sort((x, y) => y.date - x.date || Number(y.t.channel!.id - x.t.channel!.id));
      const bounded = req.offsetDate > 0 ? rows.filter((x) => x.date < req.offsetDate) : rows;
      const page = bounded.slice(0, Math.min(Math.max(req.limit || DIALOGS_MAX, 1), DIALOGS_MAX));
      const dialogs: Dialog[] = page.map(({ t, m }) => {
        const top = t.topMessage?.id ?? 0;
        return {
          peer: channelPeer(t.channel!.id),
          topMessage: top,
          readInboxMaxId: m.readInboxMaxId,
          readOutboxMaxId: t.readOutboxMaxId,
          unreadCount: Math.max(0, top - m.readInboxMaxId),
          unreadMentionsCount: 0,
          ...(m.muteUntil > 0 ? { notifySettings: { muteUntil: m.muteUntil } } : {}),
          pts: t.pts,
          pinned: m.pinned,
          folderId: 0,
        };
      });
      const messages: Message[] = page.flatMap(({ t }) => (t.topMessage ? [t.topMessage] : []));
      return {
        dialogs,
        messages,
        channels: page.map(({ t }) => t.channel!),
        users,
        count: rows.length,
      };
    },

    async getUserChannels(req) {
      const rows = await d.store.memberships(req.userId);
      return {
        channels: rows
          .filter((m) => m.member)
          .map((m) => ({ channelId: m.channelId, dcId: channelDc(m.channelId) })),
      };
    },

    async recordMembership(req) {
      await core.members.record(req);
      return {};
    },

    getChannelTops: (req) => localTops(req),

    /**
     * Whether a user may read a channel of this DC, for the media service deciding a download of
     * a file posted in it: a member not banned, or anyone not banned from a public channel.
     */
    async canReadChannel(req) {
      if (channelDc(req.channelId) !== d.dcId) throw errors.badRequest('CHANNEL_INVALID');
      const row = await d.store.channel(req.channelId);
      if (!row || row.deleted) return { readable: false };
      const p = await d.store.participant(row.id, req.userId);
      if (p?.p.role === ChannelParticipant_Role.BANNED) return { readable: false };
      return { readable: isMember(p) || row.username !== '' };
    },

    async noteChannelRead(req) {
      await raiseReadOutbox(req.channelId, req.maxId);
      return {};
    },

    async readChannelHistory(req) {
      const viewer = requireUser(req.context);
      const channelId = req.channel?.channelId ?? 0n;
      const m = await d.store.membership(viewer, channelId);
      if (!m?.member) throw errors.badRequest('CHANNEL_PRIVATE');
      const top = await topOf(viewer, channelId);
      if (!top) throw errors.badRequest('CHANNEL_PRIVATE');
      const target = Math.min(req.maxId > 0 ? req.maxId : top.topId, top.topId);
      // Before the member's own marker moves: a failure here is the caller's to retry, and the
      // retry tells the home DC again even though the marker no longer moves.
      if (m.channel?.megagroup && target > 0) await noteRead(channelId, target);
      let current = m.readInboxMaxId;
      for (let attempt = 0; attempt < READ_ATTEMPTS && target > current; attempt++) {
        if (await d.store.setRead(viewer, channelId, target, current)) {
          await d.publisher.userUpdate(
            viewer,
            {
              pts: 0,
              ptsCount: 0,
              kind: {
                $case: 'readChannelInbox',
                value: {
                  channelId,
                  maxId: target,
                  stillUnreadCount: Math.max(0, top.topId - target),
                  pts: top.pts,
                },
              },
            },
            { users: [], channels: m.channel ? [m.channel] : [] },
            req.context!.authKeyId,
          );
          return {};
        }
        current = (await d.store.membership(viewer, channelId))?.readInboxMaxId ?? current;
      }
      return {};
    },
  };
}
