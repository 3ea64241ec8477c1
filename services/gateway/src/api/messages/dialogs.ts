/**
 * The dialog list: messages.getDialogs, getPeerDialogs, toggleDialogPin. Translation only; the
 * messaging service of the caller's home DC owns the box, its channel service the caller's
 * channel memberships (merged here).
 */
import { errors, unary } from '../../../../shared/src';
import type { CallContext } from '../../mtproto/invocation';
import type { TlObject } from '../../mtproto/tl-types';
import { channelOfPeer, tlChatsAndChannels } from '../../convert/channels';
import { tlDialog } from '../../convert/dialogs';
import { inputPeer } from '../../convert/peers';
import { tlMessage, tlState, tlUsers } from '../../convert/updates';
import { peerKey } from '../../../../shared/src';
import { mergeDialogs, type DialogsPart } from '../channels/dialogs';
import type { DraftMessage } from '../../../../shared/src/gen/tern/common/v1/message';
import { requestContext, type ChannelDeps, type MessagingDeps } from '../context';

const num = (v: unknown): number => Number(v ?? 0);

/** Telegram's largest page of dialogs (and what a limit of 0 asks for). */
const MAX_DIALOGS = 100;

/**
 * messages.dialogs, or messages.dialogsSlice when the merged page is not everything; each dialog
 * with the caller's draft in it (`drafts`, by peerKey).
 */
function tlDialogs(p: DialogsPart, drafts: ReadonlyMap<string, DraftMessage> = new Map()): TlObject {
  const body = {
    dialogs: p.dialogs.map((x) => tlDialog(x, drafts.get(peerKey(x.peer)))),
    messages: p.messages.map(tlMessage),
    chats: tlChatsAndChannels(p.chats, p.channels),
    users: tlUsers(p.users),
  };
  return p.count > p.dialogs.length
    ? { _: 'messages.dialogsSlice', count: p.count, ...body }
    : { _: 'messages.dialogs', ...body };
}

/**
 * The box's dialogs (messaging) and the caller's channels (the channel service), asked at once
 * and merged by top message date (api/channels/dialogs.ts). Channels live in no folder, so a call
 * for another folder than the main list asks only the box.
 */
export async function getDialogs(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const limit = num(call.limit) > 0 ? Math.min(num(call.limit), MAX_DIALOGS) : MAX_DIALOGS;
  const offsetDate = num(call.offset_date);
  const excludePinned = call.exclude_pinned === true;
  const folder = call.folder_id === undefined ? 0 : num(call.folder_id);
  const [box, channels] = await Promise.all([
    unary(d.messaging.getDialogs.bind(d.messaging), {
      context,
      offsetDate,
      offsetId: num(call.offset_id),
      limit: num(call.limit),
      hash: 0n,
      excludePinned,
      ...(call.folder_id === undefined ? {} : { folderId: folder }),
    }),
    folder === 0
      ? unary(d.channel.getChannelDialogs.bind(d.channel), { context, offsetDate, limit, only: [] })
      : undefined,
  ]);
  const fromChannels: DialogsPart = channels
    ? {
        ...channels,
        dialogs: excludePinned ? channels.dialogs.filter((x) => !x.pinned) : channels.dialogs,
        chats: [],
      }
    : { dialogs: [], messages: [], users: [], chats: [], channels: [], count: 0 };
  const drafts = new Map(box.drafts.flatMap((x) => (x.draft ? [[peerKey(x.peer), x.draft] as const] : [])));
  return tlDialogs(mergeDialogs(box, fromChannels, limit), drafts);
}

/**
 * Channel peers are asked of the channel service (GetChannelDialogs with `only`), the others of
 * messaging; the sync state is the box's either way.
 */
export async function getPeerDialogs(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const peers = (call.peers as TlObject[]).map((p) => {
    if (p._ !== 'inputDialogPeer') throw errors.badRequest('PEER_ID_INVALID');
    return p.peer;
  });
  const only = peers.flatMap((p) => {
    const c = channelOfPeer(p);
    return c ? [c] : [];
  });
  const others = peers.filter((p) => !channelOfPeer(p)).map(inputPeer);
  const context = await requestContext(ctx, d.auth, d.dcId);
  const [box, channels] = await Promise.all([
    others.length > 0
      ? unary(d.messaging.getPeerDialogs.bind(d.messaging), { context, peers: others })
      : unary(d.messaging.getState.bind(d.messaging), { context }).then((r) => ({
          dialogs: [],
          messages: [],
          users: [],
          chats: [],
          state: r.state,
        })),
    only.length > 0
      ? unary(d.channel.getChannelDialogs.bind(d.channel), {
          context,
          offsetDate: 0,
          limit: only.length,
          only,
        })
      : undefined,
  ]);
  return {
    _: 'messages.peerDialogs',
    dialogs: [...box.dialogs.filter((x) => x.topMessage > 0), ...(channels?.dialogs ?? [])].map((x) =>
      tlDialog(x),
    ),
    messages: [...box.messages, ...(channels?.messages ?? [])].map(tlMessage),
    chats: tlChatsAndChannels(box.chats, channels?.channels ?? []),
    users: tlUsers([...box.users, ...(channels?.users ?? [])]),
    state: tlState(box.state),
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
