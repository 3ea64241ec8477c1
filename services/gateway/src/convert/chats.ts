/**
 * Basic groups: proto (tern.common.v1) → layer-neutral TL objects (chat, chatFull, participants,
 * service message actions). No imports from updates.ts, which uses these for messages and
 * live updates.
 */
import type { Chat, ChatFull, ChatParticipant } from '../../../shared/src/gen/tern/common/v1/chat';
import type { MessageAction } from '../../../shared/src/gen/tern/common/v1/message';
import type { TlObject } from '../mtproto/tl-types';
import { tlPhoto } from './media';

/**
 * A chat as its viewer sees it. A removed member gets chatForbidden (what Telegram sends: the
 * client keeps the title and history but shows the group as closed); a member who left gets
 * `chat` with `left`.
 */
export function tlChat(c: Chat): TlObject {
  if (c.kicked) return { _: 'chatForbidden', id: c.id, title: c.title };
  return {
    _: 'chat',
    creator: c.creator,
    left: c.left,
    deactivated: c.deactivated,
    id: c.id,
    title: c.title,
    photo: { _: 'chatPhotoEmpty' },
    participants_count: c.participantsCount,
    date: c.date,
    version: c.version,
    ...(c.migratedToChannelId !== 0n
      ? {
          migrated_to: {
            _: 'inputChannel',
            channel_id: c.migratedToChannelId,
            access_hash: c.migratedToAccessHash,
          },
        }
      : {}),
  };
}

/** Chats for a `chats` vector, without duplicates. */
export function tlChats(chats: readonly Chat[]): TlObject[] {
  const seen = new Set<bigint>();
  return chats.filter((c) => !seen.has(c.id) && seen.add(c.id)).map(tlChat);
}

function tlParticipant(p: ChatParticipant): TlObject {
  if (p.creator) return { _: 'chatParticipantCreator', user_id: p.userId };
  return {
    _: p.admin ? 'chatParticipantAdmin' : 'chatParticipant',
    user_id: p.userId,
    inviter_id: p.inviterId,
    date: p.date,
  };
}

/** The member list; a former member is not shown it (chatParticipantsForbidden). */
export function tlChatParticipants(full: ChatFull, chat: Chat): TlObject {
  if (chat.left || chat.kicked) return { _: 'chatParticipantsForbidden', chat_id: full.id };
  return {
    _: 'chatParticipants',
    chat_id: full.id,
    participants: full.participants.map(tlParticipant),
    version: full.version,
  };
}

export function tlChatFull(full: ChatFull, chat: Chat): TlObject {
  return {
    _: 'chatFull',
    id: full.id,
    about: full.about,
    participants: tlChatParticipants(full, chat),
    notify_settings: { _: 'peerNotifySettings' },
  };
}

/**
 * What a service message records (basic groups and channels); messageActionEmpty for a kind this
 * gateway does not know (a newer proto).
 */
export function tlAction(a: MessageAction | undefined): TlObject {
  const k = a?.kind;
  switch (k?.$case) {
    case 'chatCreate':
      return { _: 'messageActionChatCreate', title: k.value.title, users: k.value.userIds };
    case 'chatEditTitle':
      return { _: 'messageActionChatEditTitle', title: k.value.title };
    case 'chatAddUser':
      return { _: 'messageActionChatAddUser', users: k.value.userIds };
    case 'chatDeleteUser':
      return { _: 'messageActionChatDeleteUser', user_id: k.value.userId };
    case 'channelCreate':
      return { _: 'messageActionChannelCreate', title: k.value.title };
    case 'chatJoinedByLink':
      return { _: 'messageActionChatJoinedByLink', inviter_id: k.value };
    case 'chatMigrateTo':
      return { _: 'messageActionChatMigrateTo', channel_id: k.value };
    case 'channelMigrateFrom':
      return { _: 'messageActionChannelMigrateFrom', title: k.value.title, chat_id: k.value.chatId };
    case 'pinMessage':
      // The pinned message is the one the service message replies to (reply_to).
      return { _: 'messageActionPinMessage' };
    case 'chatEditPhoto':
      return { _: 'messageActionChatEditPhoto', photo: tlPhoto(k.value) };
    case 'chatDeletePhoto':
      return { _: 'messageActionChatDeletePhoto' };
    default:
      return { _: 'messageActionEmpty' };
  }
}
