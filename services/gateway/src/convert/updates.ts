/**
 * Messages and updates: proto (tern.common.v1) → layer-neutral TL objects. The codec writes them in
 * each client's layer.
 */
import type { Message, MessageEntity } from '../../../shared/src/gen/tern/common/v1/message';
import {
  MessageEntity_Type,
  SendMessageAction_Kind,
  type SendMessageAction,
} from '../../../shared/src/gen/tern/common/v1/message';
import type { Update, Updates, UpdatesState } from '../../../shared/src/gen/tern/common/v1/update';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type { UserUpdateEvent } from '../../../shared/src/gen/tern/events/v1/events';
import type { TlObject } from '../mtproto/tl-types';
import { tlAction, tlChats } from './chats';
import { tlUser, tlUserStatus } from './users';
import { tlMessageMedia } from './media';
import { tlPeer } from './peers';

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

/** A stored message as its box owner sees it (TL message, or messageService for an action). */
export function tlMessage(m: Message): TlObject {
  if (m.action)
    return {
      _: 'messageService',
      out: m.out,
      mentioned: m.mentioned,
      media_unread: m.mediaUnread,
      silent: m.silent,
      id: m.id,
      from_id: m.from ? tlPeer(m.from) : undefined,
      peer_id: tlPeer(m.peer),
      date: m.date,
      action: tlAction(m.action),
    };
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
    fwd_from: m.fwdFrom
      ? {
          _: 'messageFwdHeader',
          from_id: m.fwdFrom.from ? tlPeer(m.fwdFrom.from) : undefined,
          from_name: m.fwdFrom.fromName || undefined,
          date: m.fwdFrom.date,
        }
      : undefined,
    date: m.date,
    message: m.message,
    media: tlMessageMedia(m.media),
    entities: tlEntities(m.entities),
    edit_date: m.editDate || undefined,
  };
}

const TYPING: Record<SendMessageAction_Kind, string> = {
  [SendMessageAction_Kind.UNSPECIFIED]: 'sendMessageTypingAction',
  [SendMessageAction_Kind.TYPING]: 'sendMessageTypingAction',
  [SendMessageAction_Kind.CANCEL]: 'sendMessageCancelAction',
  [SendMessageAction_Kind.RECORD_VIDEO]: 'sendMessageRecordVideoAction',
  [SendMessageAction_Kind.UPLOAD_VIDEO]: 'sendMessageUploadVideoAction',
  [SendMessageAction_Kind.RECORD_AUDIO]: 'sendMessageRecordAudioAction',
  [SendMessageAction_Kind.UPLOAD_AUDIO]: 'sendMessageUploadAudioAction',
  [SendMessageAction_Kind.UPLOAD_PHOTO]: 'sendMessageUploadPhotoAction',
  [SendMessageAction_Kind.UPLOAD_DOCUMENT]: 'sendMessageUploadDocumentAction',
  [SendMessageAction_Kind.CHOOSE_STICKER]: 'sendMessageChooseStickerAction',
  [SendMessageAction_Kind.UNRECOGNIZED]: 'sendMessageTypingAction',
};

/** A typing action (the upload kinds carry their progress). */
export function tlTypingAction(a: SendMessageAction | undefined): TlObject {
  // An action this gateway does not know (a newer proto) shows as plain typing.
  const name = TYPING[a?.kind ?? SendMessageAction_Kind.TYPING] ?? TYPING[SendMessageAction_Kind.TYPING];
  return name.startsWith('sendMessageUpload') ? { _: name, progress: a?.progress ?? 0 } : { _: name };
}

/** TL SendMessageAction → proto (unknown actions count as typing). */
export function typingActionOf(tl: TlObject | undefined): SendMessageAction {
  const found = Object.entries(TYPING).find(([, name]) => name === tl?._);
  const kind = found ? (Number(found[0]) as SendMessageAction_Kind) : SendMessageAction_Kind.TYPING;
  return { kind, progress: Number(tl?.progress ?? 0) };
}

/** One update of a user's log (the kinds private chats produce). */
export function tlUpdate(u: Update): TlObject | undefined {
  const k = u.kind;
  switch (k?.$case) {
    case 'newMessage':
    case 'editMessage':
      // An update without its message has nothing to show: skipped, not an INTERNAL answer.
      if (!k.value.message) return undefined;
      return {
        _: k.$case === 'newMessage' ? 'updateNewMessage' : 'updateEditMessage',
        message: tlMessage(k.value.message),
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
    case 'userStatus':
      return { _: 'updateUserStatus', user_id: k.value.userId, status: tlUserStatus(k.value.status) };
    case 'userTyping':
      return { _: 'updateUserTyping', user_id: k.value.userId, action: tlTypingAction(k.value.action) };
    case 'chatUserTyping':
      if (k.value.chat?.kind?.$case !== 'chatId') return undefined;
      return {
        _: 'updateChatUserTyping',
        chat_id: k.value.chat.kind.value,
        from_id: tlPeer(k.value.from),
        action: tlTypingAction(k.value.action),
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
 * What a session is sent live for one event: updateShortMessage for a plain private message and
 * updateShortChatMessage for plain text in a basic group (what Telegram sends, and what clients
 * expect without users or chats vectors), otherwise `updates` with the users and chats the update
 * mentions.
 */
export function tlLiveUpdates(e: UserUpdateEvent): TlObject | undefined {
  const u = e.update;
  if (!u) return undefined;
  const k = u.kind;
  if (k?.$case === 'newMessage') {
    const m = k.value.message;
    if (!m) return undefined;
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
    // The same for plain text in a basic group: the client knows the chat from its dialogs.
    if (
      m.peer?.kind?.$case === 'chatId' &&
      m.from?.kind?.$case === 'userId' &&
      !m.media &&
      !m.fwdFrom &&
      !m.action
    )
      return {
        _: 'updateShortChatMessage',
        out: m.out,
        mentioned: m.mentioned,
        media_unread: m.mediaUnread,
        silent: m.silent,
        id: m.id,
        from_id: m.from.kind.value,
        chat_id: m.peer.kind.value,
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
  return {
    _: 'updates',
    updates: [update],
    users: e.users.map(tlUser),
    chats: tlChats(e.chats),
    date: e.date,
    seq: 0,
  };
}

/** Users for a `users` vector, without duplicates. */
export function tlUsers(users: readonly User[]): TlObject[] {
  const seen = new Set<bigint>();
  return users.filter((u) => !seen.has(u.id) && seen.add(u.id)).map(tlUser);
}

/** A proto Updates batch (a mutating call's result) as TL `updates`. */
export function tlUpdates(u: Updates | undefined): TlObject {
  return {
    _: 'updates',
    updates: (u?.updates ?? []).map(tlUpdate).filter((x) => x !== undefined),
    users: tlUsers(u?.users ?? []),
    chats: tlChats(u?.chats ?? []),
    date: u?.date ?? Math.floor(Date.now() / 1000),
    seq: 0,
  };
}

/** A box's sync position as TL updates.state. */
export const tlState = (s: UpdatesState | undefined): TlObject => ({
  _: 'updates.state',
  pts: s?.pts ?? 0,
  qts: s?.qts ?? 0,
  date: s?.date ?? Math.floor(Date.now() / 1000),
  seq: s?.seq ?? 0,
  unread_count: s?.unreadCount ?? 0,
});
