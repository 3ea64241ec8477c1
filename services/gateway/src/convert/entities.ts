/**
 * What a client sends with a message's text, TL → proto: its formatting (Vector<MessageEntity>)
 * and the message it replies to (InputReplyTo, or older layers' reply_to_msg_id). Translation
 * only: bounds, URLs, mentioned users and the reply target are checked by messaging
 * (services/messaging/src/internal/entities.ts), which owns those rules.
 */
import { errors } from '../../../shared/src';
import {
  MessageEntity_Type,
  type MessageEntity,
  type ReplyQuote,
} from '../../../shared/src/gen/tern/common/v1/message';
import type { TlObject } from '../mtproto/tl-types';
import { inputPeer } from './peers';

/** TL constructor → proto type, for the entities that carry no more than offset and length. */
const PLAIN: Readonly<Record<string, MessageEntity_Type>> = {
  messageEntityMention: MessageEntity_Type.MENTION,
  messageEntityHashtag: MessageEntity_Type.HASHTAG,
  messageEntityBotCommand: MessageEntity_Type.BOT_COMMAND,
  messageEntityUrl: MessageEntity_Type.URL,
  messageEntityEmail: MessageEntity_Type.EMAIL,
  messageEntityBold: MessageEntity_Type.BOLD,
  messageEntityItalic: MessageEntity_Type.ITALIC,
  messageEntityCode: MessageEntity_Type.CODE,
  messageEntityPhone: MessageEntity_Type.PHONE,
  messageEntityCashtag: MessageEntity_Type.CASHTAG,
  messageEntityUnderline: MessageEntity_Type.UNDERLINE,
  messageEntityStrike: MessageEntity_Type.STRIKE,
  messageEntityBlockquote: MessageEntity_Type.BLOCKQUOTE,
  messageEntitySpoiler: MessageEntity_Type.SPOILER,
};

/**
 * Entities Tern cannot store yet (the proto has no type for them). Dropped, not refused: clients
 * add them on their own (a custom emoji typed from the panel, a card number), and the text still
 * reads the same without them.
 */
const DROPPED = new Set(['messageEntityCustomEmoji', 'messageEntityBankCard', 'messageEntityUnknown']);

const int = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const long = (v: unknown): bigint => {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  return 0n;
};

/** The user an InputUser names; 0 for kinds Tern does not resolve (messaging refuses user 0). */
function mentionedUser(v: unknown, self: bigint): bigint {
  const u = v as TlObject | undefined;
  switch (u?._) {
    case 'inputUserSelf':
      return self;
    case 'inputUser':
    case 'inputUserFromMessage':
      return long(u.user_id);
    default:
      return 0n;
  }
}

/**
 * TL Vector<MessageEntity> → proto. `self` is the caller (inputUserSelf in a mention). An entity
 * the proto cannot name becomes TYPE_UNSPECIFIED (messaging answers MESSAGE_ENTITY_INVALID),
 * except the kinds in DROPPED.
 */
export function inputEntities(v: unknown, self: bigint): MessageEntity[] {
  if (!Array.isArray(v)) return [];
  return (v as TlObject[]).flatMap((e): MessageEntity[] => {
    const name = e?._;
    if (DROPPED.has(name)) return [];
    const base: MessageEntity = {
      type: MessageEntity_Type.UNSPECIFIED,
      offset: int(e?.offset),
      length: int(e?.length),
      url: '',
      userId: 0n,
      language: '',
    };
    const plain = PLAIN[name];
    if (plain !== undefined) return [{ ...base, type: plain }];
    switch (name) {
      case 'messageEntityPre':
        return [{ ...base, type: MessageEntity_Type.PRE, language: str(e.language) }];
      case 'messageEntityTextUrl':
        return [{ ...base, type: MessageEntity_Type.TEXT_URL, url: str(e.url) }];
      case 'messageEntityMentionName':
        return [{ ...base, type: MessageEntity_Type.MENTION_NAME, userId: long(e.user_id) }];
      case 'inputMessageEntityMentionName':
        return [{ ...base, type: MessageEntity_Type.MENTION_NAME, userId: mentionedUser(e.user_id, self) }];
      default:
        return [base];
    }
  });
}

/** Same InputPeer (by what it names, not its TL constructor). */
function samePeer(a: unknown, b: unknown): boolean {
  const key = (v: unknown): string => {
    const p = inputPeer(v);
    switch (p.kind?.$case) {
      case 'self':
        return 'self';
      case 'user':
        return `u${p.kind.value.userId}`;
      case 'chat':
        return `c${p.kind.value.chatId}`;
      default:
        return '';
    }
  };
  return key(a) === key(b);
}

/**
 * The id (in the caller's box, for the dialog `call.peer`) of the message a send replies to; 0 for
 * none. Reads the layer's `reply_to` (inputReplyToMessage) or older layers' `reply_to_msg_id`.
 * Replies to stories and other chats are refused (REPLY_MESSAGE_ID_INVALID); a quote is read by
 * `replyQuoteOf`.
 */
export function replyToMsgIdOf(call: TlObject): number {
  const r = call.reply_to as TlObject | undefined;
  if (!r) return int(call.reply_to_msg_id);
  if (r._ !== 'inputReplyToMessage') throw errors.badRequest('REPLY_MESSAGE_ID_INVALID');
  if (r.reply_to_peer_id !== undefined && !samePeer(r.reply_to_peer_id, call.peer))
    throw errors.badRequest('REPLY_MESSAGE_ID_INVALID');
  const id = int(r.reply_to_msg_id);
  if (id <= 0) throw errors.badRequest('REPLY_MESSAGE_ID_INVALID');
  return id;
}

/**
 * The quote of a reply (inputReplyToMessage's quote_text, quote_entities, quote_offset), for the
 * messaging service to check against the replied-to message; undefined without one.
 */
export function replyQuoteOf(call: TlObject, self: bigint): ReplyQuote | undefined {
  const r = call.reply_to as TlObject | undefined;
  if (r?._ !== 'inputReplyToMessage' || typeof r.quote_text !== 'string') return undefined;
  return {
    text: r.quote_text,
    entities: inputEntities(r.quote_entities, self),
    // Unset: the service finds the quote's first occurrence.
    offset: r.quote_offset === undefined ? -1 : int(r.quote_offset),
  };
}
