/**
 * contacts.*: importContacts, getContacts, deleteContacts (the messaging service of the caller's
 * home DC keeps the list and decides; USER_MIGRATE_X elsewhere) and resolveUsername (the auth
 * service, which owns usernames; the channel service for a channel's). Translation only.
 */
import { errors, unary } from '../../../shared/src';
import type { InputUser } from '../../../shared/src/gen/tern/common/v1/peer';
import type { InputContact } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import type { CallContext } from '../mtproto/invocation';
import type { TlObject } from '../mtproto/tl-types';
import { tlUsers } from '../convert/updates';
import { inputUser, text, tlUser } from '../convert/users';
import { tlPeer } from '../convert/peers';
import { channelsById } from './channels/channels';
import { requestContext, type ChannelDeps, type MessagingDeps } from './context';

const inputContact = (c: TlObject): InputContact => ({
  clientId: c.client_id as bigint,
  phone: text(c.phone),
  firstName: text(c.first_name),
  lastName: text(c.last_name),
});

export async function importContacts(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const contacts = ((call.contacts as TlObject[] | undefined) ?? [])
    .filter((c) => c._ === 'inputPhoneContact')
    .map(inputContact);
  const res = await unary(d.messaging.importContacts.bind(d.messaging), { context, contacts });
  return {
    _: 'contacts.importedContacts',
    imported: res.imported.map((i) => ({ _: 'importedContact', user_id: i.userId, client_id: i.clientId })),
    popular_invites: [],
    retry_contacts: res.retryContacts,
    users: tlUsers(res.users),
  };
}

export async function getContacts(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.messaging.getContacts.bind(d.messaging), {
    context,
    hash: BigInt((call.hash as bigint | number | undefined) ?? 0),
  });
  if (res.notModified) return { _: 'contacts.contactsNotModified' };
  return {
    _: 'contacts.contacts',
    contacts: res.contacts.map((c) => ({ _: 'contact', user_id: c.userId, mutual: c.mutual })),
    saved_count: res.savedCount,
    users: tlUsers(res.users),
  };
}

export async function deleteContacts(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  // inputUserEmpty and kinds Tern does not resolve reach the service as an empty InputUser, which
  // it refuses (CONTACT_ID_INVALID) rather than skipping silently.
  const ids = ((call.id as TlObject[] | undefined) ?? []).map((u): InputUser => inputUser(u) ?? {});
  const res = await unary(d.messaging.deleteContacts.bind(d.messaging), { context, ids });
  const u = res.updates;
  return {
    _: 'updates',
    updates: [],
    users: tlUsers(u?.users ?? []),
    chats: [],
    date: u?.date ?? Math.floor(Date.now() / 1000),
    seq: 0,
  };
}

/**
 * Usernames are one namespace for users and channels (auth owns it). A channel's answer names
 * only its id; the channel itself, as the caller sees it, comes from the channel service.
 */
export async function resolveUsername(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.resolveUsername.bind(d.auth), { context, username: text(call.username) });
  if (res.peer?.kind?.$case === 'channelId') {
    const chats = await channelsById(ctx, d, [res.peer.kind.value]);
    if (chats.length === 0) throw errors.badRequest('USERNAME_NOT_OCCUPIED');
    return { _: 'contacts.resolvedPeer', peer: tlPeer(res.peer), chats, users: [] };
  }
  return {
    _: 'contacts.resolvedPeer',
    peer: { _: 'peerUser', user_id: res.user!.id },
    chats: [],
    users: [tlUser(res.user!)],
  };
}
