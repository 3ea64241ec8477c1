/**
 * Internal (proto) objects → layer-neutral TL objects, shaped like the newest layer; the codec
 * writes them in each client's layer.
 */
import type { SentCode } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { InputUser } from '../../../shared/src/gen/tern/common/v1/peer';
import {
  UserStatus_Kind,
  type User,
  type UserProfilePhoto,
  type UserStatus,
} from '../../../shared/src/gen/tern/common/v1/user';
import type { TlObject } from '../mtproto/tl-types';
import { long } from './peers';

/** A TL string field (absent optional fields read as ''). */
export const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** TL InputUser → proto; undefined for inputUserEmpty and kinds Tern does not resolve yet. */
export function inputUser(v: TlObject | undefined): InputUser | undefined {
  if (v?._ === 'inputUserSelf') return { kind: { $case: 'self', value: {} } };
  if (v?._ === 'inputUser')
    return {
      kind: { $case: 'user', value: { userId: long(v.user_id), accessHash: v.access_hash as bigint } },
    };
  return undefined;
}

/**
 * TL UserStatus. The owner's home DC already decided what this viewer may see (exact for its
 * contacts, coarse otherwise); a User without a status (a service that does not fill it) shows
 * "recently", which reveals nothing.
 */
export function tlUserStatus(s: UserStatus | undefined): TlObject {
  switch (s?.kind) {
    case UserStatus_Kind.EMPTY:
      return { _: 'userStatusEmpty' };
    case UserStatus_Kind.ONLINE:
      return { _: 'userStatusOnline', expires: s.expires };
    case UserStatus_Kind.OFFLINE:
      return { _: 'userStatusOffline', was_online: s.wasOnline };
    case UserStatus_Kind.LAST_WEEK:
      return { _: 'userStatusLastWeek' };
    case UserStatus_Kind.LAST_MONTH:
      return { _: 'userStatusLastMonth' };
    default:
      return { _: 'userStatusRecently' };
  }
}

/**
 * TL userProfilePhoto: the current photo's id and DC (clients download it from there with
 * inputPeerPhotoFileLocation) and its stripped thumbnail, shown until it arrives.
 */
export function tlUserProfilePhoto(p: UserProfilePhoto): TlObject {
  return {
    _: 'userProfilePhoto',
    photo_id: p.photoId,
    stripped_thumb: p.strippedThumb.length > 0 ? Buffer.from(p.strippedThumb) : undefined,
    dc_id: p.dcId,
  };
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
    status: tlUserStatus(u.status),
    photo: u.photo ? tlUserProfilePhoto(u.photo) : undefined,
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
