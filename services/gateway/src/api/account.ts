/**
 * The account and its devices: auth.logOut, auth.resetAuthorizations, account.getAuthorizations /
 * resetAuthorization, account.updateProfile / checkUsername / updateUsername, users.getFullUser,
 * contacts.resolveUsername, account.updateStatus. Translation only; the auth service decides (the
 * messaging service for status).
 */
import { unary } from '../../../shared/src';
import type { ActiveSession } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { CallContext } from '../mtproto/engine';
import type { TlObject } from '../mtproto/tl-types';
import type { AuthDeps } from './auth';
import { requestContext } from './context';
import { inputUser, text, tlUser } from './convert';
import type { MessagingDeps } from './messages';

export async function logOut(_call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  await unary(d.auth.logOut.bind(d.auth), { context });
  ctx.authKey.userId = 0n;
  return { _: 'auth.loggedOut' };
}

export async function resetAuthorizations(_call: TlObject, ctx: CallContext, d: AuthDeps): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  await unary(d.auth.resetAuthorizations.bind(d.auth), { context });
  return true;
}

function tlAuthorization(a: ActiveSession): TlObject {
  const c = a.client;
  return {
    _: 'authorization',
    current: a.current,
    hash: a.hash,
    device_model: c?.deviceModel ?? '',
    platform: '',
    system_version: c?.systemVersion ?? '',
    api_id: c?.apiId ?? 0,
    app_name: '',
    app_version: c?.appVersion ?? '',
    date_created: a.dateCreated,
    date_active: a.dateActive,
    ip: a.ip,
    country: a.country,
    region: '',
  };
}

export async function getAuthorizations(_call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.getAuthorizations.bind(d.auth), { context });
  return {
    _: 'account.authorizations',
    authorization_ttl_days: 180,
    authorizations: res.authorizations.map(tlAuthorization),
  };
}

export async function resetAuthorization(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  await unary(d.auth.resetAuthorization.bind(d.auth), { context, hash: call.hash as bigint });
  return true;
}

/** Absent optional TL strings stay unset (unchanged); present ones are passed as typed. */
const optional = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export async function updateProfile(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.updateProfile.bind(d.auth), {
    context,
    firstName: optional(call.first_name),
    lastName: optional(call.last_name),
    about: optional(call.about),
  });
  return tlUser(res.user!);
}

export async function checkUsername(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  return (await unary(d.auth.checkUsername.bind(d.auth), { context, username: text(call.username) }))
    .available;
}

export async function updateUsername(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.updateUsername.bind(d.auth), { context, username: text(call.username) });
  return tlUser(res.user!);
}

export async function getFullUser(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.getFullUser.bind(d.auth), { context, user: inputUser(call.id as TlObject) });
  const user = res.user!;
  return {
    _: 'users.userFull',
    full_user: {
      _: 'userFull',
      id: user.id,
      about: res.about || undefined,
      settings: { _: 'peerSettings' },
      notify_settings: { _: 'peerNotifySettings' },
      common_chats_count: 0,
    },
    chats: [],
    users: [tlUser(user)],
  };
}

export async function resolveUsername(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.resolveUsername.bind(d.auth), { context, username: text(call.username) });
  return {
    _: 'contacts.resolvedPeer',
    peer: { _: 'peerUser', user_id: res.user!.id },
    chats: [],
    users: [tlUser(res.user!)],
  };
}

/**
 * account.updateStatus: presence lives with the messaging service of the user's home DC, which
 * also tells the user's contacts (updateUserStatus).
 */
export async function updateStatus(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  await unary(d.messaging.updateStatus.bind(d.messaging), { context, offline: call.offline === true });
  return true;
}
