/**
 * Messages and updates: proto (tern.common.v1) → layer-neutral TL objects. The codec writes them in
 * each client's layer.
 */
import type { Message, MessageEntity } from '../../../shared/src/gen/tern/common/v1/message';
import { MessageEntity_Type } from '../../../shared/src/gen/tern/common/v1/message';
import type { Peer } from '../../../shared/src/gen/tern/common/v1/peer';
import type { Update } from '../../../shared/src/gen/tern/common/v1/update';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type { UserUpdateEvent } from '../../../shared/src/gen/tern/events/v1/events';
import type { TlObject } from '../mtproto/tl-types';
import { tlUser } from './convert';

export function tlPeer(p: Peer | undefined): TlObject {
  switch (p?.kind?.$case) {
    case 'userId':
      return { _: 'peerUser', user_id: p.kind.value };
    case 'chatId':
      return { _: 'peerChat', chat_id: p.kind.value };
    case 'channelId':
      return { _: 'peerChannel', channel_id: p.kind.value };
    default:
      throw new Error('message without a peer');
  }
}

const ENTITY: Partial<Record<MessageEntity_Type, string>> = {
  [MessageEntity_Type.MENTION]: 'messageEntityMention',
  [MessageEntity_Type.HASHTAG]: 'messageEntityHashtag',
  [MessageEntity_Type.BOT_COMMAND]: 'messageEntityBotCommand',
  [MessageEntity_Type.URL]: 'messageEntityUrl',
  [MessageEntity_Type.EMAIL]: 'messageEntityEmail',
  [MessageEntity_Type.BOLD]: 'messageEntityBold',
  [MessageEntity_Type.ITALIC]: 'messageEntityItalic',
  [MessageEntity_Type.CODE]: 'messageEntityCode',
  [MessageEntity_Type.PRE]: 'messageEntityPre',
  [MessageEntity_Type.TEXT_URL]: 'messageEntityTextUrl',
  [MessageEntity_Type.MENTION_NAME]: 'messageEntityMentionName',
  [MessageEntity_Type.PHONE]: 'messageEntityPhone',
  [MessageEntity_Type.CASHTAG]: 'messageEntityCashtag',
  [MessageEntity_Type.UNDERLINE]: 'messageEntityUnderline',
  [MessageEntity_Type.STRIKE]: 'messageEntityStrike',
  [MessageEntity_Type.BLOCKQUOTE]: 'messageEntityBlockquote',
  [MessageEntity_Type.SPOILER]: 'messageEntitySpoiler',
};

export function tlEntities(entities: readonly MessageEntity[]): TlObject[] | undefined {
  const out = entities.flatMap((e): TlObject[] => {
    const name = ENTITY[e.type];
    if (!name) return [];
    return [
      {
        _: name,
        offset: e.offset,
        length: e.length,
        url: e.url || undefined,
        user_id: e.userId || undefined,
        language: name === 'messageEntityPre' ? e.language : undefined,
      },
    ];
  });
  return out.length > 0 ? out : undefined;
}

/** A stored message as its box owner sees it (TL message). */
export function tlMessage(m: Message): TlObject {
  return {
    _: 'message',
    out: m.out,
    mentioned: m.mentioned,
    media_unread: m.mediaUnread,
    silent: m.silent,
    id: m.id,
    from_id: m.from ? tlPeer(m.from) : undefined,
    peer_id: tlPeer(m.peer),
    reply_to: m.replyToMsgId ? { _: 'messageReplyHeader', reply_to_msg_id: m.replyToMsgId } : undefined,
    date: m.date,
    message: m.message,
    entities: tlEntities(m.entities),
    edit_date: m.editDate || undefined,
  };
}

/** One update of a user's log (the kinds private chats produce). */
export function tlUpdate(u: Update): TlObject | undefined {
  const k = u.kind;
  switch (k?.$case) {
    case 'newMessage':
    case 'editMessage':
      return {
        _: k.$case === 'newMessage' ? 'updateNewMessage' : 'updateEditMessage',
        message: tlMessage(k.value.message!),
        pts: u.pts,
        pts_count: u.ptsCount,
      };
    case 'deleteMessages':
      return { _: 'updateDeleteMessages', messages: k.value.messages, pts: u.pts, pts_count: u.ptsCount };
    case 'messageId':
      return { _: 'updateMessageID', id: k.value.id, random_id: k.value.randomId };
    case 'readHistoryInbox':
      return {
        _: 'updateReadHistoryInbox',
        peer: tlPeer(k.value.peer),
        max_id: k.value.maxId,
        still_unread_count: k.value.stillUnreadCount,
        pts: u.pts,
        pts_count: u.ptsCount,
      };
    case 'readHistoryOutbox':
      return {
        _: 'updateReadHistoryOutbox',
        peer: tlPeer(k.value.peer),
        max_id: k.value.maxId,
        pts: u.pts,
        pts_count: u.ptsCount,
      };
    default:
      return undefined;
  }
}

/**
 * What a session is sent live for one event: updateShortMessage for a plain private message (what
 * Telegram sends, and what clients expect without a users vector), otherwise `updates` with the
 * users the update mentions.
 */
export function tlLiveUpdates(e: UserUpdateEvent): TlObject | undefined {
  const u = e.update;
  if (!u) return undefined;
  const k = u.kind;
  if (k?.$case === 'newMessage') {
    const m = k.value.message!;
    if (m.peer?.kind?.$case === 'userId' && !m.media && !m.fwdFrom && !m.action)
      return {
        _: 'updateShortMessage',
        out: m.out,
        mentioned: m.mentioned,
        media_unread: m.mediaUnread,
        silent: m.silent,
        id: m.id,
        user_id: m.peer.kind.value,
        message: m.message,
        pts: u.pts,
        pts_count: u.ptsCount,
        date: m.date,
        entities: tlEntities(m.entities),
        reply_to: m.replyToMsgId ? { _: 'messageReplyHeader', reply_to_msg_id: m.replyToMsgId } : undefined,
      };
  }
  const update = tlUpdate(u);
  if (!update) return undefined;
  return { _: 'updates', updates: [update], users: e.users.map(tlUser), chats: [], date: e.date, seq: 0 };
}

/** Users for a `users` vector, without duplicates. */
export function tlUsers(users: readonly User[]): TlObject[] {
  const seen = new Set<bigint>();
  return users.filter((u) => !seen.has(u.id) && seen.add(u.id)).map(tlUser);
}
