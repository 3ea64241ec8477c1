/**
 * Dialogs, pages of messages and channel differences: proto (tern.common.v1) → layer-neutral TL
 * objects.
 */
import { errors } from '../../../shared/src';
import type { GetChannelDifferenceResponse } from '../../../shared/src/gen/tern/channel/v1/channel';
import type { Dialog } from '../../../shared/src/gen/tern/common/v1/chat';
import type { DraftMessage, MessagesPage } from '../../../shared/src/gen/tern/common/v1/message';
import type { TlObject } from '../mtproto/tl-types';
import { tlChatsAndChannels } from './channels';
import { tlPeer } from './peers';
import { tlDraft, tlMessage, tlUpdate, tlUsers } from './updates';

/** A dialog; a channel's carries the channel pts the viewer has seen (clients start from it). */
/** A dialog, with the viewer's draft in it when there is one. */
export function tlDialog(d: Dialog, draft?: DraftMessage): TlObject {
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
    pts: d.peer?.kind?.$case === 'channelId' ? d.pts : undefined,
    ...(draft ? { draft: tlDraft(draft) } : {}),
  };
}

/** messages.messages, or messages.messagesSlice when the page is not everything. */
export function tlMessages(page: MessagesPage | undefined): TlObject {
  const body = {
    messages: (page?.messages ?? []).map(tlMessage),
    chats: tlChatsAndChannels(page?.chats ?? [], page?.channels ?? []),
    users: tlUsers(page?.users ?? []),
  };
  const count = page?.count ?? 0;
  return count > body.messages.length
    ? { _: 'messages.messagesSlice', count, ...body }
    : { _: 'messages.messages', ...body };
}

/**
 * messages.channelMessages: a page of one channel (history, search, getMessages), with the
 * channel pts it was read at, which clients keep as their channel state.
 */
export function tlChannelMessages(page: MessagesPage | undefined): TlObject {
  const messages = (page?.messages ?? []).map(tlMessage);
  return {
    _: 'messages.channelMessages',
    pts: page?.pts ?? 0,
    count: Math.max(page?.count ?? 0, messages.length),
    messages,
    topics: [],
    chats: tlChatsAndChannels(page?.chats ?? [], page?.channels ?? []),
    users: tlUsers(page?.users ?? []),
  };
}

/** updates.channelDifference* from the service's answer. */
export function tlChannelDifference(r: GetChannelDifferenceResponse): TlObject {
  const v = r.result;
  switch (v?.$case) {
    case 'empty':
      return {
        _: 'updates.channelDifferenceEmpty',
        final: v.value.final,
        pts: v.value.pts,
        timeout: v.value.timeout || undefined,
      };
    case 'difference':
      return {
        _: 'updates.channelDifference',
        final: v.value.final,
        pts: v.value.pts,
        timeout: v.value.timeout || undefined,
        new_messages: v.value.newMessages.map(tlMessage),
        other_updates: v.value.otherUpdates.map(tlUpdate).filter((u) => u !== undefined),
        chats: tlChatsAndChannels([], v.value.channels),
        users: tlUsers(v.value.users),
      };
    case 'tooLong': {
      const d = v.value.dialog;
      if (!d) throw errors.internal(new Error('channelDifferenceTooLong without its dialog'));
      return {
        _: 'updates.channelDifferenceTooLong',
        // The client must refetch: it is never told this is everything.
        final: true,
        timeout: v.value.timeout || undefined,
        dialog: tlDialog(d),
        messages: v.value.messages.map(tlMessage),
        chats: tlChatsAndChannels([], v.value.channels),
        users: tlUsers(v.value.users),
      };
    }
    default:
      throw errors.internal(new Error('empty GetChannelDifference result'));
  }
}
