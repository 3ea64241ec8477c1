/**
 * Reading and changing what is in a box: messages.readHistory, editMessage, deleteMessages,
 * forwardMessages, setTyping, getDialogs, getPeerDialogs, getMessages, search. Translation only;
 * the messaging service of the caller's home DC owns the box.
 */
import { errors, unary } from '../../../shared/src';
import type { Dialog } from '../../../shared/src/gen/tern/common/v1/chat';
import { MessagesFilter, type MessagesPage } from '../../../shared/src/gen/tern/common/v1/message';
import type { CallContext } from '../mtproto/engine';
import type { TlObject } from '../mtproto/tl-types';
import { tlChats } from './chats-tl';
import { requestContext } from './context';
import { text } from './convert';
import { inputPeer, type MessagingDeps } from './messages';
import { tlMessage, tlPeer, tlState, tlUpdates, tlUsers, typingActionOf } from './updates-tl';

const num = (v: unknown): number => Number(v ?? 0);

function tlDialog(d: Dialog): TlObject {
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
function tlMessages(page: MessagesPage | undefined): TlObject {
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

async function context(ctx: CallContext, d: MessagingDeps) {
  const c = await requestContext(ctx, d.auth, d.dcId);
  if (c.userId === 0n) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
  return c;
}

export async function readHistory(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const res = await unary(d.messaging.readHistory.bind(d.messaging), {
    context: await context(ctx, d),
    peer: inputPeer(call.peer),
    maxId: num(call.max_id),
  });
  return {
    _: 'messages.affectedMessages',
    pts: res.affected?.pts ?? 0,
    pts_count: res.affected?.ptsCount ?? 0,
  };
}

export async function editMessage(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  if (call.media) throw errors.badRequest('MEDIA_INVALID');
  const res = await unary(d.messaging.editMessage.bind(d.messaging), {
    context: await context(ctx, d),
    peer: inputPeer(call.peer),
    id: num(call.id),
    ...(typeof call.message === 'string' ? { message: call.message } : {}),
    entities: [],
    noWebpage: call.no_webpage === true,
  });
  return tlUpdates(res.updates);
}

export async function deleteMessages(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const res = await unary(d.messaging.deleteMessages.bind(d.messaging), {
    context: await context(ctx, d),
    ids: (call.id as number[]).map(num),
    revoke: call.revoke === true,
  });
  return {
    _: 'messages.affectedMessages',
    pts: res.affected?.pts ?? 0,
    pts_count: res.affected?.ptsCount ?? 0,
  };
}

export async function forwardMessages(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const res = await unary(d.messaging.forwardMessages.bind(d.messaging), {
    context: await context(ctx, d),
    fromPeer: inputPeer(call.from_peer),
    ids: (call.id as number[]).map(num),
    randomIds: call.random_id as bigint[],
    toPeer: inputPeer(call.to_peer),
    silent: call.silent === true,
    dropAuthor: call.drop_author === true,
  });
  return tlUpdates(res.updates);
}

export async function setTyping(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<boolean> {
  await unary(d.messaging.setTyping.bind(d.messaging), {
    context: await context(ctx, d),
    peer: inputPeer(call.peer),
    action: typingActionOf(call.action as TlObject | undefined),
  });
  return true;
}

export async function getDialogs(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const res = await unary(d.messaging.getDialogs.bind(d.messaging), {
    context: await context(ctx, d),
    offsetDate: num(call.offset_date),
    offsetId: num(call.offset_id),
    limit: num(call.limit),
    hash: 0n,
    excludePinned: call.exclude_pinned === true,
  });
  const body = {
    dialogs: res.dialogs.map(tlDialog),
    messages: res.messages.map(tlMessage),
    chats: tlChats(res.chats),
    users: tlUsers(res.users),
  };
  return res.count > res.dialogs.length
    ? { _: 'messages.dialogsSlice', count: res.count, ...body }
    : { _: 'messages.dialogs', ...body };
}

export async function getPeerDialogs(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const peers = (call.peers as TlObject[]).map((p) => {
    if (p._ !== 'inputDialogPeer') throw errors.badRequest('PEER_ID_INVALID');
    return inputPeer(p.peer);
  });
  const res = await unary(d.messaging.getPeerDialogs.bind(d.messaging), {
    context: await context(ctx, d),
    peers,
  });
  return {
    _: 'messages.peerDialogs',
    dialogs: res.dialogs.filter((x) => x.topMessage > 0).map(tlDialog),
    messages: res.messages.map(tlMessage),
    chats: tlChats(res.chats),
    users: tlUsers(res.users),
    state: tlState(res.state),
  };
}

export async function getMessages(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  // inputMessageID names a message of the caller's box; replies and pins are not resolved yet.
  const ids = (call.id as TlObject[]).flatMap((m) => (m._ === 'inputMessageID' ? [num(m.id)] : []));
  const res = await unary(d.messaging.getMessages.bind(d.messaging), { context: await context(ctx, d), ids });
  return { ...tlMessages(res.page), _: 'messages.messages' };
}

const FILTERS: Record<string, MessagesFilter> = {
  inputMessagesFilterEmpty: MessagesFilter.EMPTY,
  inputMessagesFilterPhotos: MessagesFilter.PHOTOS,
  inputMessagesFilterVideo: MessagesFilter.VIDEO,
  inputMessagesFilterPhotoVideo: MessagesFilter.PHOTO_VIDEO,
  inputMessagesFilterDocument: MessagesFilter.DOCUMENT,
  inputMessagesFilterUrl: MessagesFilter.URL,
  inputMessagesFilterVoice: MessagesFilter.VOICE,
  inputMessagesFilterMusic: MessagesFilter.MUSIC,
  inputMessagesFilterMyMentions: MessagesFilter.MENTIONS,
};

export async function search(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const peer = call.peer as TlObject | undefined;
  const from = call.from_id as TlObject | undefined;
  const res = await unary(d.messaging.search.bind(d.messaging), {
    context: await context(ctx, d),
    ...(peer && peer._ !== 'inputPeerEmpty' ? { peer: inputPeer(peer) } : {}),
    q: text(call.q),
    filter: FILTERS[(call.filter as TlObject | undefined)?._ ?? ''] ?? MessagesFilter.EMPTY,
    ...(from ? { fromId: inputPeer(from) } : {}),
    minDate: num(call.min_date),
    maxDate: num(call.max_date),
    window: {
      offsetId: num(call.offset_id),
      offsetDate: 0,
      addOffset: num(call.add_offset),
      limit: num(call.limit),
      maxId: num(call.max_id),
      minId: num(call.min_id),
    },
    hash: 0n,
  });
  return tlMessages(res.page);
}

export async function toggleDialogPin(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<boolean> {
  const p = call.peer as TlObject;
  if (p._ !== 'inputDialogPeer') throw errors.badRequest('PEER_ID_INVALID');
  await unary(d.messaging.toggleDialogPin.bind(d.messaging), {
    context: await context(ctx, d),
    peer: inputPeer(p.peer),
    pinned: call.pinned === true,
  });
  return true;
}
