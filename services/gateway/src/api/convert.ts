/**
 * Internal (proto) objects → layer-neutral TL objects, shaped like the newest layer; the codec
 * writes them in each client's layer.
 */
import type { SentCode } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { InputUser } from '../../../shared/src/gen/tern/common/v1/peer';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type { TlObject } from '../mtproto/tl-types';

/** A TL string field (absent optional fields read as ''). */
export const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** TL InputUser → proto; undefined for inputUserEmpty and kinds Tern does not resolve yet. */
export function inputUser(v: TlObject | undefined): InputUser | undefined {
  if (v?._ === 'inputUserSelf') return { kind: { $case: 'self', value: {} } };
  if (v?._ === 'inputUser')
    return {
      kind: { $case: 'user', value: { userId: v.user_id as bigint, accessHash: v.access_hash as bigint } },
    };
  return undefined;
}

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
