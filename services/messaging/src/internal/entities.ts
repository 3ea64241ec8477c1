/**
 * The rules for what a message's text carries besides the text: its formatting entities and the
 * message it replies to. `checkEntities` is pure; `checkedEntities` and `replyTarget` add what
 * needs the box or the directory.
 *
 * Offsets and lengths are in UTF-16 code units, as TL defines them, which is what a JS string's
 * indices count.
 */
import { errors } from '../../../shared/src';
import {
  MessageEntity_Type,
  type Message,
  type MessageEntity,
  type MessageOrigin,
  type ReplyQuote,
} from '../../../shared/src/gen/tern/common/v1/message';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type { BoxMessage } from '../storage/boxes';

/** Entities per message (Telegram's limit). */
export const MAX_ENTITIES = 100;
/** A text URL's length, and a pre block's language's. */
const MAX_URL = 2048;
const MAX_LANGUAGE = 64;

const KNOWN = new Set(
  Object.values(MessageEntity_Type).filter(
    (t): t is MessageEntity_Type =>
      typeof t === 'number' && t !== MessageEntity_Type.UNSPECIFIED && t !== MessageEntity_Type.UNRECOGNIZED,
  ),
);

/**
 * A text URL as stored: http(s) and tg links; a bare host ("example.com/x") gets http://, as
 * Telegram does. undefined when it is not such a URL.
 */
export function normalizeUrl(raw: string): string | undefined {
  const url = raw.trim();
  if (!url || url.length > MAX_URL || /\s/.test(url)) return undefined;
  const withScheme = /^[a-z][a-z0-9+.-]*:/i.test(url) ? url : `http://${url}`;
  let parsed: URL;
  try {
    parsed = new URL(withScheme);
  } catch {
    return undefined;
  }
  const scheme = parsed.protocol.toLowerCase();
  if (scheme === 'http:' || scheme === 'https:')
    return parsed.hostname.includes('.') ? withScheme : undefined;
  if (scheme === 'tg:') return withScheme;
  return undefined;
}

/**
 * The entities of `text` as stored, or the Telegram error: ENTITY_BOUNDS_INVALID for a negative
 * offset or length or a span past the text's end; MESSAGE_ENTITY_INVALID for an unknown type, a
 * text URL that is not an http(s)/tg URL, a mention of user 0; ENTITIES_TOO_LONG past
 * MAX_ENTITIES. Empty spans are dropped; fields of other types are cleared.
 */
export function checkEntities(text: string, entities: readonly MessageEntity[]): MessageEntity[] {
  if (entities.length > MAX_ENTITIES) throw errors.badRequest('ENTITIES_TOO_LONG');
  const out: MessageEntity[] = [];
  for (const e of entities) {
    if (!KNOWN.has(e.type)) throw errors.badRequest('MESSAGE_ENTITY_INVALID');
    if (
      !Number.isInteger(e.offset) ||
      !Number.isInteger(e.length) ||
      e.offset < 0 ||
      e.length < 0 ||
      e.offset + e.length > text.length
    )
      throw errors.badRequest('ENTITY_BOUNDS_INVALID');
    if (e.length === 0) continue;
    const entity: MessageEntity = {
      type: e.type,
      offset: e.offset,
      length: e.length,
      url: '',
      userId: 0n,
      language: '',
    };
    switch (e.type) {
      case MessageEntity_Type.TEXT_URL: {
        const url = normalizeUrl(e.url);
        if (!url) throw errors.badRequest('MESSAGE_ENTITY_INVALID');
        entity.url = url;
        break;
      }
      case MessageEntity_Type.MENTION_NAME:
        if (e.userId <= 0n) throw errors.badRequest('MESSAGE_ENTITY_INVALID');
        entity.userId = e.userId;
        break;
      case MessageEntity_Type.PRE:
        if (e.language.length > MAX_LANGUAGE) throw errors.badRequest('MESSAGE_ENTITY_INVALID');
        entity.language = e.language;
        break;
      default:
        break;
    }
    out.push(entity);
  }
  return out;
}

/** The users the mention-name entities name. */
export const mentionedUserIds = (entities: readonly MessageEntity[]): bigint[] => [
  ...new Set(entities.filter((e) => e.type === MessageEntity_Type.MENTION_NAME).map((e) => e.userId)),
];

/**
 * checkEntities, plus: every mentioned user is one the sender can see (`users` is
 * BoxCore.users: profiles as the viewer sees them, unknown ids absent). MESSAGE_ENTITY_INVALID
 * otherwise. The proto carries no access hash for a mention, so visibility is the check.
 */
export async function checkedEntities(
  sender: bigint,
  text: string,
  entities: readonly MessageEntity[],
  users: (viewer: bigint, ids: bigint[]) => Promise<User[]>,
): Promise<MessageEntity[]> {
  const checked = checkEntities(text, entities);
  const ids = mentionedUserIds(checked);
  if (ids.length > 0) {
    const found = new Set((await users(sender, ids)).filter((u) => !u.deleted).map((u) => u.id));
    if (ids.some((id) => !found.has(id))) throw errors.badRequest('MESSAGE_ENTITY_INVALID');
  }
  return checked;
}

/**
 * The message `id` of `owner`'s box that a new message in dialog `peerKey` replies to, or
 * REPLY_MESSAGE_ID_INVALID when there is no such message in that dialog. `get` is Boxes.get.
 */
export async function replyTarget(
  owner: bigint,
  peerKey: string,
  id: number,
  get: (owner: bigint, ids: number[]) => Promise<BoxMessage[]>,
): Promise<BoxMessage> {
  if (!Number.isInteger(id) || id <= 0) throw errors.badRequest('REPLY_MESSAGE_ID_INVALID');
  const [m] = await get(owner, [id]);
  if (!m || m.peer !== peerKey) throw errors.badRequest('REPLY_MESSAGE_ID_INVALID');
  return m;
}

/** The origin of a copy in `owner`'s box: its own, or (for the author's copy) the owner and its id. */
/** A quote's length limit (appConfig's quote_length_max on Telegram). */
export const MAX_QUOTE = 1024;

/**
 * A reply's quote, checked against the replied-to message: its text must occur in that message's
 * text (at `offset` when the client gave one that matches, else at its first occurrence, which
 * becomes the offset), and its entities are checked like a message's. QUOTE_TEXT_INVALID otherwise.
 */
export async function checkedQuote(
  sender: bigint,
  quote: ReplyQuote,
  target: Pick<Message, 'message'>,
  users: (viewer: bigint, ids: bigint[]) => Promise<User[]>,
): Promise<ReplyQuote> {
  const { text } = quote;
  if (!text.trim() || text.length > MAX_QUOTE) throw errors.badRequest('QUOTE_TEXT_INVALID');
  const source = target.message;
  const given = Number.isInteger(quote.offset) && quote.offset >= 0 ? quote.offset : -1;
  const offset = given >= 0 && source.startsWith(text, given) ? given : source.indexOf(text);
  if (offset < 0) throw errors.badRequest('QUOTE_TEXT_INVALID');
  return { text, offset, entities: await checkedEntities(sender, text, quote.entities, users) };
}

export const originOf = (owner: bigint, m: Pick<Message, 'id' | 'origin'>): MessageOrigin =>
  m.origin ?? { authorUserId: owner, authorMessageId: m.id };

/** Same entities (for MESSAGE_NOT_MODIFIED); JSON cannot compare them, user ids are bigints. */
export function sameEntities(a: readonly MessageEntity[], b: readonly MessageEntity[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => {
      const y = b[i]!;
      return (
        x.type === y.type &&
        x.offset === y.offset &&
        x.length === y.length &&
        x.url === y.url &&
        x.userId === y.userId &&
        x.language === y.language
      );
    })
  );
}
