/**
 * The dialog list is kept in two places: private chats and basic groups in the user's box
 * (messaging), channels in the user's channel memberships (the channel service). messages.getDialogs
 * asks both and merges the two pages here, newest top message first, as one list.
 */
import { peerKey } from '../../../../shared/src';
import type { Channel, Chat, Dialog } from '../../../../shared/src/gen/tern/common/v1/chat';
import type { Message } from '../../../../shared/src/gen/tern/common/v1/message';
import type { Peer } from '../../../../shared/src/gen/tern/common/v1/peer';
import type { User } from '../../../../shared/src/gen/tern/common/v1/user';

/** One source's page of dialogs with what they reference. */
export interface DialogsPart {
  dialogs: Dialog[];
  /** The top message of every dialog. */
  messages: Message[];
  users: User[];
  chats: Chat[];
  channels: Channel[];
  /** Total dialogs of the source (its page may be shorter). */
  count: number;
}

const messageKey = (peer: Peer | undefined, id: number): string => `${peerKey(peer)}:${id}`;

/**
 * Both pages as one, the way Telegram orders a dialog list: pinned dialogs first (in the order
 * each source gives them, the box's before the channels'), then by the date of the top message,
 * newest first; at most `limit` dialogs, with only the messages of those kept. A dialog both
 * sources name (a box that also lists its channels) is taken once, from the first page. The
 * count is the sum, so clients page on while either source has more.
 */
export function mergeDialogs(a: DialogsPart, b: DialogsPart, limit: number): DialogsPart {
  const messages = new Map<string, Message>();
  for (const m of [...a.messages, ...b.messages]) messages.set(messageKey(m.peer, m.id), m);
  const dateOf = (d: Dialog): number => messages.get(messageKey(d.peer, d.topMessage))?.date ?? 0;
  const seen = new Set<string>();
  const unique = (d: Dialog): boolean => {
    const k = peerKey(d.peer);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  };
  const all = [...a.dialogs, ...b.dialogs].filter(unique);
  const pinned = all.filter((d) => d.pinned);
  // Array.prototype.sort is stable: equal dates keep the box's order before the channels'.
  const rest = all.filter((d) => !d.pinned).sort((x, y) => dateOf(y) - dateOf(x));
  const dialogs = [...pinned, ...rest].slice(0, Math.max(0, limit));
  const kept = new Set(dialogs.map((d) => messageKey(d.peer, d.topMessage)));
  const duplicates = a.dialogs.length + b.dialogs.length - all.length;
  return {
    dialogs,
    messages: [...messages.values()].filter((m) => kept.has(messageKey(m.peer, m.id))),
    users: [...a.users, ...b.users],
    chats: [...a.chats, ...b.chats],
    channels: [...a.channels, ...b.channels],
    count: Math.max(a.count + b.count - duplicates, dialogs.length),
  };
}
