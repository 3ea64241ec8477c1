/**
 * The dialog list: messages.getDialogs, getPeerDialogs, toggleDialogPin. Translation only; the
 * messaging service of the caller's home DC owns the box.
 */
import { errors, unary } from '../../../../shared/src';
import type { CallContext } from '../../mtproto/invocation';
import type { TlObject } from '../../mtproto/tl-types';
import { tlChats } from '../../convert/chats';
import { tlDialog } from '../../convert/dialogs';
import { inputPeer } from '../../convert/peers';
import { tlMessage, tlState, tlUsers } from '../../convert/updates';
import { requestContext, type MessagingDeps } from '../context';

const num = (v: unknown): number => Number(v ?? 0);

export async function getDialogs(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const res = await unary(d.messaging.getDialogs.bind(d.messaging), {
    context: await requestContext(ctx, d.auth, d.dcId),
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
    context: await requestContext(ctx, d.auth, d.dcId),
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

export async function toggleDialogPin(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<boolean> {
  const p = call.peer as TlObject;
  if (p._ !== 'inputDialogPeer') throw errors.badRequest('PEER_ID_INVALID');
  await unary(d.messaging.toggleDialogPin.bind(d.messaging), {
    context: await requestContext(ctx, d.auth, d.dcId),
    peer: inputPeer(p.peer),
    pinned: call.pinned === true,
  });
  return true;
}
