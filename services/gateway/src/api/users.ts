/**
 * users.*: getUsers, getFullUser. Translation only; the auth service of this DC reads profiles
 * (from each user's home DC) as the caller may see them.
 */
import { unary } from '../../../shared/src';
import type { InputUser } from '../../../shared/src/gen/tern/common/v1/peer';
import type { CallContext } from '../mtproto/invocation';
import type { TlObject } from '../mtproto/tl-types';
import { inputUser, tlUser } from '../convert/users';
import { requestContext, type AuthDeps } from './context';

/** users.getUsers: the result is a plain Vector<User>, written by the codec from an array. */
export async function getUsers(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject[]> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const users = ((call.id as TlObject[] | undefined) ?? [])
    .map(inputUser)
    .filter((u): u is InputUser => u !== undefined);
  const res = await unary(d.auth.getUsers.bind(d.auth), { context, users });
  return res.users.map(tlUser);
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
