/**
 * Internal (proto) objects → layer-neutral TL objects, shaped like the newest layer; the codec
 * writes them in each client's layer.
 */
import type { SentCode } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type { TlObject } from '../mtproto/tl-types';

export function tlUser(u: User): TlObject {
  return {
    _: 'user',
    self: u.isSelf,
    contact: u.contact,
    mutual_contact: u.mutualContact,
    deleted: u.deleted,
    bot: u.bot,
    id: u.id,
    access_hash: u.accessHash,
    first_name: u.firstName || undefined,
    last_name: u.lastName || undefined,
    username: u.username || undefined,
    phone: u.phone || undefined,
    status: { _: 'userStatusRecently' },
  };
}

export function tlSentCode(s: SentCode): TlObject {
  return {
    _: 'auth.sentCode',
    type: { _: 'auth.sentCodeTypeSms', length: s.length },
    phone_code_hash: s.phoneCodeHash,
  };
}

export function tlAuthorization(user: User): TlObject {
  return { _: 'auth.authorization', user: tlUser(user) };
}
