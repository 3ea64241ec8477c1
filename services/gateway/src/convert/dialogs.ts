/**
 * Dialogs and pages of messages: proto (tern.common.v1) → layer-neutral TL objects.
 */
import type { Dialog } from '../../../shared/src/gen/tern/common/v1/chat';
import type { MessagesPage } from '../../../shared/src/gen/tern/common/v1/message';
import type { TlObject } from '../mtproto/tl-types';
import { tlChats } from './chats';
import { tlPeer } from './peers';
import { tlMessage, tlUsers } from './updates';

export function tlDialog(d: Dialog): TlObject {
  return {
    _: 'dialog',
    pinned: d.pinned,
    peer: tlPeer(d.peer),
    top_message: d.topMessage,
    read_inbox_max_id: d.readInboxMaxId,
    read_outbox_max_id: d.readOutboxMaxId,
    unread_count: d.unreadCount,
    unread_mentions_count: d.unreadMentionsCount,
    unread_reactions_count: 0,
    notify_settings: { _: 'peerNotifySettings' },
  };
}

/** messages.messages, or messages.messagesSlice when the page is not everything. */
export function tlMessages(page: MessagesPage | undefined): TlObject {
  const body = {
    messages: (page?.messages ?? []).map(tlMessage),
    chats: tlChats(page?.chats ?? []),
    users: tlUsers(page?.users ?? []),
  };
  const count = page?.count ?? 0;
  return count > body.messages.length
    ? { _: 'messages.messagesSlice', count, ...body }
    : { _: 'messages.messages', ...body };
}
