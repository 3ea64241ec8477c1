/**
 * photos.*: profile photos (uploadProfilePhoto, updateProfilePhoto, deletePhotos, getUserPhotos).
 * Translation only: the auth service of the caller's home DC keeps the list and has the media
 * service make the photo (services/auth/src/api/profile-photos.ts).
 */
import { errors, unary } from '../../../shared/src';
import type { InputPhoto } from '../../../shared/src/gen/tern/common/v1/media';
import type { CallContext } from '../mtproto/invocation';
import type { TlObject } from '../mtproto/tl-types';
import { inputFileOf, tlPhoto } from '../convert/media';
import { inputUser, tlUser } from '../convert/users';
import { requestContext, type AuthDeps } from './context';

const bytesOf = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.alloc(0));

/** TL InputPhoto → proto; undefined for inputPhotoEmpty. */
function inputPhotoOf(v: unknown): InputPhoto | undefined {
  const p = v as TlObject | undefined;
  if (p?._ !== 'inputPhoto') return undefined;
  return {
    id: p.id as bigint,
    accessHash: p.access_hash as bigint,
    fileReference: bytesOf(p.file_reference),
  };
}

/**
 * photos.uploadProfilePhoto. Tern makes photos only: a video avatar (`video`, emoji markup) is
 * VIDEO_FILE_INVALID; a fallback photo (shown to those whom privacy settings hide the main one
 * from) has no meaning without such settings and is refused rather than shown as the main photo;
 * there are no bots to set a photo for.
 */
export async function uploadProfilePhoto(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  if (call.bot !== undefined) throw errors.badRequest('BOT_INVALID');
  if (call.fallback === true) throw errors.badRequest('PHOTO_INVALID', 'fallback photos are not supported');
  if (call.file === undefined)
    throw errors.badRequest(
      call.video !== undefined || call.video_emoji_markup !== undefined
        ? 'VIDEO_FILE_INVALID'
        : 'PHOTO_FILE_MISSING',
    );
  const res = await unary(
    d.auth.uploadProfilePhoto.bind(d.auth),
    { context, file: inputFileOf(call.file) },
    { deadlineMs: 150_000 },
  );
  return { _: 'photos.photo', photo: tlPhoto(res.photo!), users: [tlUser(res.user!)] };
}

/** photos.updateProfilePhoto: one of the caller's own profile photos becomes current again. */
export async function updateProfilePhoto(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  if (call.bot !== undefined) throw errors.badRequest('BOT_INVALID');
  if (call.fallback === true) throw errors.badRequest('PHOTO_INVALID', 'fallback photos are not supported');
  const photo = inputPhotoOf(call.id);
  if (!photo) throw errors.badRequest('PHOTO_ID_INVALID');
  const res = await unary(d.auth.updateProfilePhoto.bind(d.auth), { context, photo });
  return { _: 'photos.photo', photo: tlPhoto(res.photo!), users: [tlUser(res.user!)] };
}

/** photos.deletePhotos → Vector<long>: the ids taken off the caller's profile. */
export async function deletePhotos(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<bigint[]> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const photos = ((call.id as unknown[] | undefined) ?? []).map(inputPhotoOf).filter((p) => p !== undefined);
  const res = await unary(d.auth.deleteProfilePhotos.bind(d.auth), { context, photos });
  return res.deletedIds;
}

/** photos.getUserPhotos → photos.photos when the page is the whole list, photos.photosSlice else. */
export async function getUserPhotos(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const user = inputUser(call.user_id as TlObject);
  if (!user) throw errors.badRequest('USER_ID_INVALID');
  const res = await unary(d.auth.getUserPhotos.bind(d.auth), {
    context,
    user,
    offset: Number(call.offset ?? 0),
    maxId: BigInt((call.max_id as bigint | number | undefined) ?? 0),
    limit: Number(call.limit ?? 0),
  });
  const photos = res.photos.map(tlPhoto);
  const users = [tlUser(res.user!)];
  return res.count === photos.length
    ? { _: 'photos.photos', photos, users }
    : { _: 'photos.photosSlice', count: res.count, photos, users };
}
