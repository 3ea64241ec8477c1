/**
 * Channels and supergroups between TL and proto: the InputChannel a client names, and the
 * channel, channelFull, rights and participants it is shown (layer-neutral TL objects shaped like
 * the newest layer; the codec writes them in each client's layer). Messages and updates of
 * channels are in updates.ts, which imports this file (never the other way round).
 */
import { errors, groupHomeDc } from '../../../shared/src';
import {
  ChannelParticipant_Role,
  GetParticipantsRequest_Filter,
  type BannedRights,
  type ChannelParticipant,
  type InputChannel,
} from '../../../shared/src/gen/tern/channel/v1/channel';
import type {
  AdminRights,
  Channel,
  ChannelBannedRights,
  ChannelFull,
  Chat,
} from '../../../shared/src/gen/tern/common/v1/chat';
import type { TlObject } from '../mtproto/tl-types';
import { tlChats } from './chats';
import { tlChatPhoto, tlPhoto } from './media';
import { tlPeerNotifySettings } from './notify-settings';

/** The DC whose channel service owns `channelId` (`(n << 10) | dc`, shared/src/peers/group-ids.ts). */
export const channelHomeDc = (channelId: bigint): number => groupHomeDc(channelId);

/**
 * TL InputChannel → proto. `inputPeerChannel` is read as `inputChannel` (the codec already does
 * that where the schema expects InputChannel; handlers that take an InputPeer call this too).
 * Anything else (inputChannelEmpty, inputChannelFromMessage, a malformed value) is
 * CHANNEL_INVALID, as Telegram answers.
 */
export function inputChannel(v: unknown): InputChannel {
  const c = v as TlObject | undefined;
  // Ids are ints in layers before 133, so they arrive as numbers there.
  const id = typeof c?.channel_id === 'number' ? BigInt(c.channel_id) : c?.channel_id;
  if ((c?._ === 'inputChannel' || c?._ === 'inputPeerChannel') && typeof id === 'bigint' && id > 0n)
    return { channelId: id, accessHash: typeof c.access_hash === 'bigint' ? c.access_hash : 0n };
  throw errors.badRequest('CHANNEL_INVALID');
}

/** The InputChannel an InputPeer names, or undefined when the peer is not a channel. */
export function channelOfPeer(v: unknown): InputChannel | undefined {
  const p = v as TlObject | undefined;
  return p?._ === 'inputPeerChannel' || p?._ === 'inputChannel' ? inputChannel(p) : undefined;
}

/** TL chatAdminRights (flag-only fields: false ones are left out by the codec). */
export function tlAdminRights(r: AdminRights): TlObject {
  return {
    _: 'chatAdminRights',
    change_info: r.changeInfo,
    post_messages: r.postMessages,
    edit_messages: r.editMessages,
    delete_messages: r.deleteMessages,
    ban_users: r.banUsers,
    invite_users: r.inviteUsers,
    pin_messages: r.pinMessages,
    add_admins: r.addAdmins,
    anonymous: r.anonymous,
    manage_call: r.manageCall,
    other: r.other,
  };
}

/** TL chatAdminRights → proto (channels.editAdmin); a missing object demotes. */
export function adminRightsOf(v: unknown): AdminRights {
  const r = (v ?? {}) as TlObject;
  return {
    changeInfo: r.change_info === true,
    postMessages: r.post_messages === true,
    editMessages: r.edit_messages === true,
    deleteMessages: r.delete_messages === true,
    banUsers: r.ban_users === true,
    inviteUsers: r.invite_users === true,
    pinMessages: r.pin_messages === true,
    addAdmins: r.add_admins === true,
    anonymous: r.anonymous === true,
    manageCall: r.manage_call === true,
    other: r.other === true,
  };
}

/** TL chatBannedRights of a participant (channels.editBanned's full set). */
export function tlBannedRights(r: BannedRights | ChannelBannedRights): TlObject {
  const full = r as Partial<BannedRights>;
  return {
    _: 'chatBannedRights',
    view_messages: r.viewMessages,
    send_messages: r.sendMessages,
    send_media: r.sendMedia,
    send_stickers: full.sendStickers ?? false,
    send_gifs: full.sendGifs ?? false,
    embed_links: full.embedLinks ?? false,
    send_polls: full.sendPolls ?? false,
    change_info: full.changeInfo ?? false,
    invite_users: full.inviteUsers ?? false,
    pin_messages: full.pinMessages ?? false,
    until_date: r.untilDate,
  };
}

/** TL chatBannedRights → proto (channels.editBanned). */
export function bannedRightsOf(v: unknown): BannedRights {
  const r = (v ?? {}) as TlObject;
  return {
    viewMessages: r.view_messages === true,
    sendMessages: r.send_messages === true,
    sendMedia: r.send_media === true,
    sendStickers: r.send_stickers === true,
    sendGifs: r.send_gifs === true,
    embedLinks: r.embed_links === true,
    sendPolls: r.send_polls === true,
    changeInfo: r.change_info === true,
    inviteUsers: r.invite_users === true,
    pinMessages: r.pin_messages === true,
    untilDate: Number(r.until_date ?? 0),
  };
}

/**
 * A channel as its viewer sees it. A deleted channel (or one the viewer was banned from, which
 * the service reports the same way) is channelForbidden, which keeps the title so the client can
 * still name the dialog. `access_hash` is always sent: without it no client can name the channel
 * in its next call (a `min` channel would need the message it came with).
 */
export function tlChannel(c: Channel): TlObject {
  if (c.forbidden)
    return {
      _: 'channelForbidden',
      broadcast: c.broadcast,
      megagroup: c.megagroup,
      id: c.id,
      access_hash: c.accessHash,
      title: c.title,
      until_date: c.bannedRights?.untilDate || undefined,
    };
  return {
    _: 'channel',
    creator: c.creator,
    left: c.left,
    broadcast: c.broadcast,
    megagroup: c.megagroup,
    signatures: c.signatures,
    // Telegram sets it when a slow mode is on; the seconds are in channelFull.
    slowmode_enabled: c.slowmodeSeconds > 0,
    id: c.id,
    access_hash: c.accessHash,
    title: c.title,
    username: c.username || undefined,
    photo: tlChatPhoto(c.photo),
    date: c.date,
    admin_rights: c.adminRights ? tlAdminRights(c.adminRights) : undefined,
    banned_rights: c.bannedRights ? tlBannedRights(c.bannedRights) : undefined,
    // Sent only to those who may see it (the service leaves it 0 otherwise), as Telegram does.
    participants_count: c.participantsCount || undefined,
  };
}

/**
 * A channel as every member may be shown it: a channel event is published once for all members,
 * so its Channel cannot be right for each viewer (creator, left, rights). Sent as Telegram sends
 * such shared copies, `min`, which clients apply without replacing what they know of their own
 * standing (they refetch that on updateChannel).
 */
export function tlMinChannel(c: Channel): TlObject {
  const shared = tlChannel({
    ...c,
    creator: false,
    left: false,
    adminRights: undefined,
    bannedRights: undefined,
  });
  return shared._ === 'channel' ? { ...shared, min: true } : shared;
}

/** Channels for a `chats` vector, without duplicates. */
export function tlChannels(channels: readonly Channel[]): TlObject[] {
  const seen = new Set<bigint>();
  return channels.filter((c) => !seen.has(c.id) && seen.add(c.id)).map(tlChannel);
}

/** A TL `chats` vector: basic groups and channels (the TL Chat type has both). */
export function tlChatsAndChannels(chats: readonly Chat[], channels: readonly Channel[]): TlObject[] {
  return [...tlChats(chats), ...tlChannels(channels)];
}

/**
 * TL channelFull. `can_view_participants` follows what Telegram allows: every member of a
 * supergroup, and only admins of a broadcast channel. The exported invite is left out unless an
 * admin exported one (chatInviteExported needs the admin and date, which ChannelFull does not
 * carry, so only the link is shown, with the viewer's id and the channel's pts-free defaults).
 */
export function tlChannelFull(full: ChannelFull, channel: Channel | undefined): TlObject {
  const admin = channel?.creator === true || channel?.adminRights !== undefined;
  const member = channel !== undefined && !channel.left && !channel.forbidden;
  return {
    _: 'channelFull',
    can_view_participants: member && (channel?.megagroup === true || admin),
    can_set_username: channel?.creator === true,
    can_delete_channel: channel?.creator === true,
    id: full.id,
    about: full.about,
    participants_count: full.participantsCount || undefined,
    admins_count: full.adminsCount || undefined,
    kicked_count: admin ? full.kickedCount : undefined,
    banned_count: admin ? full.bannedCount : undefined,
    read_inbox_max_id: full.readInboxMaxId,
    read_outbox_max_id: full.readOutboxMaxId,
    unread_count: full.unreadCount,
    chat_photo: channel?.photo && !channel.forbidden ? tlPhoto(channel.photo) : { _: 'photoEmpty', id: 0n },
    notify_settings: tlPeerNotifySettings(full.notifySettings),
    bot_info: [],
    migrated_from_chat_id: full.migratedFromChatId || undefined,
    migrated_from_max_id: full.migratedFromChatId ? full.migratedFromMaxId : undefined,
    pinned_msg_id: full.pinnedMsgId || undefined,
    slowmode_seconds: full.slowmodeSeconds || undefined,
    pts: full.pts,
  };
}

/** A participant as the caller sees it (TL ChannelParticipant). */
export function tlChannelParticipant(p: ChannelParticipant): TlObject {
  switch (p.role) {
    case ChannelParticipant_Role.CREATOR:
      return {
        _: 'channelParticipantCreator',
        user_id: p.userId,
        admin_rights: tlAdminRights(p.adminRights ?? adminRightsOf({})),
        rank: p.rank || undefined,
      };
    case ChannelParticipant_Role.ADMIN:
      return {
        _: 'channelParticipantAdmin',
        self: p.isSelf,
        user_id: p.userId,
        // Telegram sends inviter_id only with `self`.
        inviter_id: p.isSelf && p.inviterId ? p.inviterId : undefined,
        promoted_by: p.actorId,
        date: p.date,
        admin_rights: tlAdminRights(p.adminRights ?? adminRightsOf({})),
        rank: p.rank || undefined,
      };
    case ChannelParticipant_Role.RESTRICTED:
    case ChannelParticipant_Role.BANNED:
      return {
        _: 'channelParticipantBanned',
        left: p.role === ChannelParticipant_Role.BANNED,
        peer: { _: 'peerUser', user_id: p.userId },
        kicked_by: p.actorId,
        date: p.date,
        banned_rights: tlBannedRights(p.bannedRights ?? bannedRightsOf({})),
      };
    case ChannelParticipant_Role.LEFT:
      return { _: 'channelParticipantLeft', peer: { _: 'peerUser', user_id: p.userId } };
    default:
      // The caller's own row says who invited them (channelParticipantSelf), as Telegram shows it.
      if (p.isSelf)
        return { _: 'channelParticipantSelf', user_id: p.userId, inviter_id: p.inviterId, date: p.date };
      return { _: 'channelParticipant', user_id: p.userId, date: p.date };
  }
}

/**
 * TL ChannelParticipantsFilter → the service's filter and its name query; `none` when the answer
 * is empty whatever the channel holds (bots: Tern has none).
 */
export function participantsFilterOf(v: unknown): {
  filter: GetParticipantsRequest_Filter;
  q: string;
  none?: true;
} {
  const f = v as TlObject | undefined;
  const q = typeof f?.q === 'string' ? f.q : '';
  switch (f?._) {
    case 'channelParticipantsAdmins':
      return { filter: GetParticipantsRequest_Filter.ADMINS, q };
    case 'channelParticipantsKicked':
      return { filter: GetParticipantsRequest_Filter.KICKED, q };
    case 'channelParticipantsBanned':
      return { filter: GetParticipantsRequest_Filter.BANNED, q };
    case 'channelParticipantsSearch':
    case 'channelParticipantsContacts':
    case 'channelParticipantsMentions':
      // Contacts and mentions are answered as a name search (Tern keeps no per-viewer index).
      return { filter: q ? GetParticipantsRequest_Filter.SEARCH : GetParticipantsRequest_Filter.RECENT, q };
    case 'channelParticipantsBots':
      return { filter: GetParticipantsRequest_Filter.RECENT, q: '', none: true };
    default:
      return { filter: GetParticipantsRequest_Filter.RECENT, q: '' };
  }
}
