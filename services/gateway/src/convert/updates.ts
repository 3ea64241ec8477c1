/**
 * Messages and updates: proto (tern.common.v1) → layer-neutral TL objects. The codec writes them in
 * each client's layer.
 */
import type {
  DraftMessage,
  Message,
  MessageEntity,
  MessageFwdHeader,
} from '../../../shared/src/gen/tern/common/v1/message';
import {
  MessageEntity_Type,
  SendMessageAction_Kind,
  type SendMessageAction,
} from '../../../shared/src/gen/tern/common/v1/message';
import type { Update, Updates, UpdatesState } from '../../../shared/src/gen/tern/common/v1/update';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type { ChannelUpdateEvent, UserUpdateEvent } from '../../../shared/src/gen/tern/events/v1/events';
import type { TlObject } from '../mtproto/tl-types';
import { tlAction } from './chats';
import { tlChatsAndChannels, tlMinChannel } from './channels';
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

/** TL messageFwdHeader (a forward's origin; channel posts carry their id there). */
function tlFwdHeader(f: MessageFwdHeader): TlObject {
  return {
    _: 'messageFwdHeader',
    from_id: f.from ? tlPeer(f.from) : undefined,
    from_name: f.fromName || undefined,
    date: f.date,
    channel_post: f.channelPost || undefined,
  };
}

/** The author; a broadcast post never names one (Telegram shows the channel), whoever wrote it. */
const fromOf = (m: Message): TlObject | undefined => (m.from && !m.post ? tlPeer(m.from) : undefined);

/** messageReplyHeader of a reply (with its quote, if any); none when the message replies to nothing. */
const replyHeader = (m: Pick<Message, 'replyToMsgId' | 'replyQuote'>): TlObject | undefined => {
  if (!m.replyToMsgId) return undefined;
  const q = m.replyQuote;
  return q
    ? {
        _: 'messageReplyHeader',
        reply_to_msg_id: m.replyToMsgId,
        quote: true,
        quote_text: q.text,
        quote_entities: q.entities.length > 0 ? tlEntities(q.entities) : undefined,
        quote_offset: q.offset,
      }
    : { _: 'messageReplyHeader', reply_to_msg_id: m.replyToMsgId };
};

/**
 * A stored message as its box owner (or a channel's viewer) sees it: TL message, or
 * messageService for an action. Channel messages also carry `post` (a broadcast post, written
 * without `from_id`: its signature is `post_author`), `views`,
 * `post_author` and `pinned`. A message with neither peer nor date is messageEmpty.
 */
export function tlMessage(m: Message): TlObject {
  // A requested id that does not exist (channels.getMessages) comes back as only its id.
  if (!m.peer && m.date === 0) return { _: 'messageEmpty', id: m.id };
  if (m.action)
    return {
      _: 'messageService',
      out: m.out,
      mentioned: m.mentioned,
      media_unread: m.mediaUnread,
      silent: m.silent,
      post: m.post,
      id: m.id,
      from_id: fromOf(m),
      peer_id: tlPeer(m.peer),
      // messageActionPinMessage names the pinned message here.
      reply_to: replyHeader(m),
      date: m.date,
      action: tlAction(m.action),
    };
  const channel = m.peer?.kind?.$case === 'channelId';
  return {
    _: 'message',
    out: m.out,
    mentioned: m.mentioned,
    media_unread: m.mediaUnread,
    silent: m.silent,
    post: m.post,
    pinned: m.pinned,
    id: m.id,
    from_id: fromOf(m),
    peer_id: tlPeer(m.peer),
    fwd_from: m.fwdFrom ? tlFwdHeader(m.fwdFrom) : undefined,
    reply_to: replyHeader(m),
    date: m.date,
    message: m.message,
    media: tlMessageMedia(m.media),
    entities: tlEntities(m.entities),
    // Broadcast posts always show a count (Telegram's clients draw the eye icon from it).
    views: channel && (m.post || m.views > 0) ? m.views : undefined,
    edit_date: m.editDate || undefined,
    post_author: m.postAuthor || undefined,
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
      if (k.value.chat?.kind?.$case === 'channelId')
        return {
          _: 'updateChannelUserTyping',
          channel_id: k.value.chat.kind.value,
          from_id: tlPeer(k.value.from),
          action: tlTypingAction(k.value.action),
        };
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
    case 'newChannelMessage':
    case 'editChannelMessage':
      if (!k.value.message) return undefined;
      return {
        _: k.$case === 'newChannelMessage' ? 'updateNewChannelMessage' : 'updateEditChannelMessage',
        message: tlMessage(k.value.message),
        pts: u.pts,
        pts_count: u.ptsCount,
      };
    case 'deleteChannelMessages':
      return {
        _: 'updateDeleteChannelMessages',
        channel_id: k.value.channelId,
        messages: k.value.messages,
        pts: u.pts,
        pts_count: u.ptsCount,
      };
    case 'channel':
      return { _: 'updateChannel', channel_id: k.value.channelId };
    case 'channelTooLong':
      return { _: 'updateChannelTooLong', channel_id: k.value.channelId, pts: k.value.pts || undefined };
    case 'draftMessage':
      return { _: 'updateDraftMessage', peer: tlPeer(k.value.peer), draft: tlDraft(k.value.draft) };
    case 'pinnedMessages':
      return {
        _: 'updatePinnedMessages',
        pinned: k.value.pinned,
        peer: tlPeer(k.value.peer),
        messages: [...k.value.messages],
        pts: u.pts,
        pts_count: u.ptsCount,
      };
    case 'pinnedChannelMessages':
      return tlPinnedChannelMessages(k.value.channelId, k.value.messages, k.value.pinned, u.pts, u.ptsCount);
    case 'readChannelInbox':
      return {
        _: 'updateReadChannelInbox',
        channel_id: k.value.channelId,
        max_id: k.value.maxId,
        still_unread_count: k.value.stillUnreadCount,
        pts: k.value.pts,
      };
    case 'readChannelOutbox':
      return { _: 'updateReadChannelOutbox', channel_id: k.value.channelId, max_id: k.value.maxId };
    default:
      return undefined;
  }
}

/**
 * TL DraftMessage; draftMessageEmpty when cleared. The reply a draft keeps is written both ways
 * layers name it (reply_to_msg_id, then reply_to with an inputReplyToMessage): each layer's
 * encoder writes only the fields its own definition has.
 */
export function tlDraft(d: DraftMessage | undefined): TlObject {
  if (!d) return { _: 'draftMessageEmpty' };
  const reply = d.replyToMsgId > 0 ? d.replyToMsgId : undefined;
  return {
    _: 'draftMessage',
    no_webpage: d.noWebpage,
    reply_to_msg_id: reply,
    reply_to: reply ? { _: 'inputReplyToMessage', reply_to_msg_id: reply } : undefined,
    message: d.message,
    entities: tlEntities(d.entities),
    date: d.date,
  };
}

/** updatePinnedChannelMessages (channel pts): the `pinnedChannelMessages` variant of an Update. */
export function tlPinnedChannelMessages(
  channelId: bigint,
  ids: readonly number[],
  pinned: boolean,
  pts: number,
  ptsCount: number,
): TlObject {
  return {
    _: 'updatePinnedChannelMessages',
    pinned,
    channel_id: channelId,
    messages: [...ids],
    pts,
    pts_count: ptsCount,
  };
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
        reply_to: replyHeader(m),
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
        reply_to: replyHeader(m),
      };
  }
  const update = tlUpdate(u);
  if (!update) return undefined;
  return {
    _: 'updates',
    updates: [update],
    users: e.users.map(tlUser),
    // updateChannel on the user's subject (joins, leaves, bans) comes with the Channel it changed.
    chats: tlChatsAndChannels(e.chats, e.channels),
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
    chats: tlChatsAndChannels(u?.chats ?? [], u?.channels ?? []),
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

/**
 * What a member's sessions are sent for one event of a channel's sequence: `updates` with the
 * update and the users and channels it mentions (Telegram never shortens channel updates); the
 * channels as `min` copies (tlMinChannel: one event serves every member).
 */
export function tlChannelLiveUpdates(e: ChannelUpdateEvent): TlObject | undefined {
  const update = e.update && tlUpdate(e.update);
  if (!update) return undefined;
  return {
    _: 'updates',
    updates: [update],
    users: tlUsers(e.users),
    chats: [...new Map(e.channels.map((c) => [c.id, tlMinChannel(c)])).values()],
    date: e.date || Math.floor(Date.now() / 1000),
    seq: 0,
  };
}
