/**
 * Pure rules of channels: how a channel and a participant look to a viewer, who may do what, and
 * Telegram's limits. No I/O: handlers read the rows, these decide.
 */
import { errors } from '../../../shared/src';
import {
  ChannelParticipant,
  ChannelParticipant_Role,
  type BannedRights,
} from '../../../shared/src/gen/tern/channel/v1/channel';
import type { AdminRights, Channel } from '../../../shared/src/gen/tern/common/v1/chat';
import { channelDc } from '../storage/ids';
import { MEMBER_ROLES, type ChannelRow, type ParticipantRow } from '../storage/store';

/** Channels one user may be a member of (Telegram: CHANNELS_TOO_MUCH beyond). */
export const MAX_CHANNELS_PER_USER = 500;
/** Title length (CHAT_TITLE_EMPTY / CHAT_TITLE_TOO_LONG). */
export const MAX_TITLE = 128;
export const MAX_ABOUT = 255;
/** Slow mode values Telegram accepts (0 = off). */
export const SLOWMODE_VALUES = [0, 10, 30, 60, 300, 900, 3600];
/** channels.getParticipants page size bound. */
export const MAX_PARTICIPANTS_PAGE = 200;
/** Users one inviteToChannel adds at most (Telegram's limit per call). */
export const MAX_INVITE_USERS = 200;

/** Every admin right: what the creator holds. */
export const ALL_RIGHTS: AdminRights = {
  changeInfo: true,
  postMessages: true,
  editMessages: true,
  deleteMessages: true,
  banUsers: true,
  inviteUsers: true,
  pinMessages: true,
  addAdmins: true,
  anonymous: false,
  manageCall: true,
  other: true,
};

export const NO_RIGHTS: AdminRights = {
  changeInfo: false,
  postMessages: false,
  editMessages: false,
  deleteMessages: false,
  banUsers: false,
  inviteUsers: false,
  pinMessages: false,
  addAdmins: false,
  anonymous: false,
  manageCall: false,
  other: false,
};

export const NO_BANS: BannedRights = {
  viewMessages: false,
  sendMessages: false,
  sendMedia: false,
  sendStickers: false,
  sendGifs: false,
  embedLinks: false,
  sendPolls: false,
  changeInfo: false,
  inviteUsers: false,
  pinMessages: false,
  untilDate: 0,
};

export type Right = keyof AdminRights;

/** Is the participant a current member (reads, counts)? */
export const isMember = (p: ParticipantRow | undefined): boolean => !!p && MEMBER_ROLES.has(p.p.role);

/** Is it the creator or an admin? */
export const isAdmin = (p: ParticipantRow | undefined): boolean =>
  p?.p.role === ChannelParticipant_Role.CREATOR || p?.p.role === ChannelParticipant_Role.ADMIN;

/** The admin rights the participant holds (all for the creator, none for non-admins). */
export function rightsOf(p: ParticipantRow | undefined): AdminRights {
  if (p?.p.role === ChannelParticipant_Role.CREATOR) return ALL_RIGHTS;
  if (p?.p.role === ChannelParticipant_Role.ADMIN) return { ...NO_RIGHTS, ...p.p.adminRights };
  return NO_RIGHTS;
}

export const hasRight = (p: ParticipantRow | undefined, right: Right): boolean => rightsOf(p)[right];

/** CHAT_ADMIN_REQUIRED unless the participant holds `right`. */
export function requireRight(p: ParticipantRow | undefined, right: Right): void {
  if (!hasRight(p, right)) throw errors.badRequest('CHAT_ADMIN_REQUIRED');
}

/** Restrictions in force now (an expired restriction is none). */
export function activeBans(p: ParticipantRow | undefined, now: number): BannedRights | undefined {
  const b = p?.p.bannedRights;
  if (!b) return undefined;
  if (b.untilDate > 0 && b.untilDate <= now) return undefined;
  return b;
}

/** Are all restrictions off? */
export function noBans(b: BannedRights | undefined): boolean {
  if (!b) return true;
  return !(
    b.viewMessages ||
    b.sendMessages ||
    b.sendMedia ||
    b.sendStickers ||
    b.sendGifs ||
    b.embedLinks ||
    b.sendPolls ||
    b.changeInfo ||
    b.inviteUsers ||
    b.pinMessages
  );
}

/** Does `granted` give anything `granter` lacks (RIGHT_FORBIDDEN)? The creator lacks nothing. */
export function exceedsRights(granter: AdminRights, granted: AdminRights): boolean {
  return (Object.keys(granted) as Right[]).some((k) => granted[k] && !granter[k] && k !== 'anonymous');
}

/** No right at all (a demotion). */
export const emptyRights = (r: AdminRights | undefined): boolean =>
  !r || (Object.keys(r) as Right[]).every((k) => !r[k]);

/**
 * The channel as `viewer` sees it. `p` is the viewer's participant row (undefined: never a
 * participant). Without a viewer (events to every online member) the viewer-relative fields are
 * those of a plain member.
 */
export function channelView(
  row: ChannelRow,
  p: ParticipantRow | undefined,
  now: number,
  viewer = true,
): Channel {
  const member = viewer ? isMember(p) : true;
  const bans = viewer ? activeBans(p, now) : undefined;
  return {
    id: row.id,
    accessHash: row.accessHash,
    title: row.title,
    username: row.username,
    date: row.date,
    broadcast: !row.megagroup,
    megagroup: row.megagroup,
    creator: viewer && p?.p.role === ChannelParticipant_Role.CREATOR,
    left: !member,
    ...(viewer && isAdmin(p) ? { adminRights: rightsOf(p) } : {}),
    participantsCount: row.participantsCount,
    dcId: channelDc(row.id),
    signatures: row.signatures,
    slowmodeSeconds: row.slowmodeSeconds,
    ...(bans && !noBans(bans)
      ? {
          bannedRights: {
            viewMessages: bans.viewMessages,
            sendMessages: bans.sendMessages,
            sendMedia: bans.sendMedia,
            untilDate: bans.untilDate,
          },
        }
      : {}),
    forbidden: row.deleted || (viewer && p?.p.role === ChannelParticipant_Role.BANNED),
    migratedFromChatId: row.migratedFromChatId,
    // A deleted channel, or one the viewer is banned from, shows no photo (channelForbidden).
    ...(row.photo && !row.deleted ? { photo: row.photo } : {}),
  };
}

/** A participant as `viewer` sees it. */
export function participantView(p: ParticipantRow, viewer: bigint): ChannelParticipant {
  return ChannelParticipant.create({ ...p.p, userId: p.userId, isSelf: p.userId === viewer });
}

/** A participant row for a user who never was one (ROLE_LEFT, version 0). */
export function absent(userId: bigint): ParticipantRow {
  return {
    userId,
    p: ChannelParticipant.create({ userId, role: ChannelParticipant_Role.LEFT }),
    version: 0n,
    recentKey: 0n,
  };
}

/** Title checks of createChannel and editTitle. */
export function checkTitle(title: string): string {
  const t = title.trim();
  if (t.length === 0) throw errors.badRequest('CHAT_TITLE_EMPTY');
  if (t.length > MAX_TITLE) throw errors.badRequest('CHAT_TITLE_TOO_LONG');
  return t;
}

/** SLOWMODE_WAIT_X: seconds left before the member may post again (0 = may post). */
export function slowmodeWait(slowmodeSeconds: number, lastPostDate: number, now: number): number {
  if (slowmodeSeconds <= 0 || lastPostDate <= 0) return 0;
  return Math.max(0, lastPostDate + slowmodeSeconds - now);
}

/** Is the caller's InputChannel hash acceptable for this channel? */
export function hashMatches(row: ChannelRow, hash: bigint): boolean {
  return hash === row.accessHash;
}
