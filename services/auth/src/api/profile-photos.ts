/**
 * Profile photos: photos.uploadProfilePhoto, updateProfilePhoto, deletePhotos and getUserPhotos,
 * and the cross-DC ListProfilePhotos.
 *
 * The list belongs with the profile, so it lives in the user's home DC (profile_photos) and moves
 * with it. The photos themselves are made and kept by the media service of the DC the picture was
 * uploaded to — the home DC at the time — exactly like message photos, and stay there: their ids
 * name that DC, so a user who later moves keeps photos in its old DC, which still serves them.
 * Media lets anyone download a photo while it is on a profile; deleting it from the profile
 * releases it there (ReleaseProfilePhotos).
 *
 * Other users see the new current photo on the user (userProfilePhoto) the next time they fetch
 * it; no update is pushed to them yet.
 */
import {
  dcOfFileId,
  errors,
  unary,
  type AsyncService,
  type DcClients,
  type Logger,
  requireUser,
} from '../../../shared/src';
import type { AuthServiceClient, AuthServiceServer } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { Photo } from '../../../shared/src/gen/tern/common/v1/media';
import type { MediaServiceClient } from '../../../shared/src/gen/tern/media/v1/media';
import type { DirectoryNotices } from '../internal/directory-notices';
import { userOf, type ProfileReader } from '../internal/profiles';
import { currentPhotoOf, MAX_PROFILE_PHOTOS, pageOf } from '../internal/profile-photos';
import type { Directory } from '../storage/directory';
import type { LoginStore } from '../storage/login';
import type { ProfilePhotoStore } from '../storage/profile-photos';
import { ownProfileOf } from './profile';

export interface ProfilePhotoDeps {
  dcId: number;
  login: LoginStore;
  directory: Directory;
  photos: ProfilePhotoStore;
  reader: ProfileReader;
  authOf: DcClients<AuthServiceClient>;
  /** Media of every DC: this DC's makes new photos, a photo's own DC releases it. */
  mediaOf: DcClients<MediaServiceClient>;
  log: Logger;
  /** Tells every DC's messaging to drop its cached copies of a profile whose photo changed. */
  notices?: DirectoryNotices;
}

type Handlers = Pick<
  AsyncService<AuthServiceServer>,
  'uploadProfilePhoto' | 'updateProfilePhoto' | 'deleteProfilePhotos' | 'getUserPhotos' | 'listProfilePhotos'
>;

/** Seconds a client waits while a move of the user freezes its profile (as for updateProfile). */
const MOVE_WAIT_S = 3;
/** Decoding a 10 MB picture and storing its sizes takes a while; the upload's completion too. */
const UPLOAD_DEADLINE_MS = 120_000;

export function profilePhotoHandlers(d: ProfilePhotoDeps): Handlers {
  /** The caller's profile, writable: home here (USER_MIGRATE_X) and not being moved (FLOOD_WAIT). */
  async function writableProfile(userId: bigint) {
    const profile = await ownProfileOf(d, userId);
    if (profile.movingTo !== undefined) throw errors.floodWait(MOVE_WAIT_S);
    return profile;
  }

  /**
   * Copies the list's first photo onto the users row, which every rendering of the user reads. The
   * write is refused once a move froze the profile: then the client retries (and is sent to the
   * new home if the move finished). The list is the truth — a move derives the current photo from
   * the rows it copies — so a refused copy leaves nothing inconsistent behind.
   */
  async function showCurrent(userId: bigint): Promise<void> {
    const rows = await d.photos.list(userId);
    if (await d.login.setCurrentPhoto(userId, currentPhotoOf(rows))) {
      d.notices?.profile(userId);
      return;
    }
    await ownProfileOf(d, userId);
    throw errors.floodWait(MOVE_WAIT_S);
  }

  const self = async (userId: bigint) => userOf(await ownProfileOf(d, userId), d.dcId, userId);

  /** Tells each photo's DC that the photos left the profile; best effort (logged). */
  async function release(userId: bigint, photoIds: bigint[]): Promise<void> {
    const byDc = new Map<number, bigint[]>();
    for (const id of photoIds) byDc.set(dcOfFileId(id), [...(byDc.get(dcOfFileId(id)) ?? []), id]);
    for (const [dc, ids] of byDc) {
      try {
        const media = d.mediaOf.forDc(dc);
        await unary(media.releaseProfilePhotos.bind(media), { userId, photoIds: ids });
      } catch (err) {
        // The photos are off the profile either way; they stay downloadable by whoever has their
        // access hash until a later delete or an operator retries.
        d.log.warn({ err, dc, userId: String(userId) }, 'could not release deleted profile photos');
      }
    }
  }

  return {
    async uploadProfilePhoto(req) {
      const userId = requireUser(req.context);
      await writableProfile(userId);
      if (!req.file) throw errors.badRequest('PHOTO_FILE_MISSING');
      if ((await d.photos.list(userId)).length >= MAX_PROFILE_PHOTOS)
        throw errors.badRequest('ALBUM_PHOTOS_TOO_MANY');
      // The parts were saved to this DC's media service (the client's home connection).
      const media = d.mediaOf.forDc(d.dcId);
      const res = await unary(
        media.uploadProfilePhoto.bind(media),
        { context: req.context, file: req.file },
        { deadlineMs: UPLOAD_DEADLINE_MS },
      );
      const photo = res.photo!;
      await d.photos.put(userId, { photo, setAtMs: BigInt(Date.now()) });
      await showCurrent(userId);
      return { photo, user: await self(userId) };
    },

    async updateProfilePhoto(req) {
      const userId = requireUser(req.context);
      await writableProfile(userId);
      const want = req.photo;
      const row = (await d.photos.list(userId)).find(
        (r) => want !== undefined && r.photo.id === want.id && r.photo.accessHash === want.accessHash,
      );
      // Only a photo on the caller's own profile can become its current one again.
      if (!row) throw errors.badRequest('PHOTO_ID_INVALID');
      await d.photos.put(userId, { photo: row.photo, setAtMs: BigInt(Date.now()) });
      await showCurrent(userId);
      return { photo: row.photo, user: await self(userId) };
    },

    async deleteProfilePhotos(req) {
      const userId = requireUser(req.context);
      await writableProfile(userId);
      const rows = await d.photos.list(userId);
      // Matched by id and access hash on the caller's own list: anyone else's photo, or a photo
      // named with a wrong hash, is simply not deleted (and not in the answer), as on Telegram.
      const deleted = rows
        .filter((r) => req.photos.some((p) => p.id === r.photo.id && p.accessHash === r.photo.accessHash))
        .map((r) => r.photo.id);
      if (deleted.length === 0) return { deletedIds: [] };
      await d.photos.remove(userId, deleted);
      await release(userId, deleted);
      await showCurrent(userId);
      return { deletedIds: deleted };
    },

    async getUserPhotos(req) {
      const viewer = requireUser(req.context);
      const input = req.user?.kind;
      if (!input) throw errors.badRequest('USER_ID_INVALID');
      const userId = input.$case === 'self' ? viewer : input.value.userId;
      const user = (await d.reader.read(viewer, [userId])).get(userId)?.user;
      if (
        !user ||
        (userId !== viewer && input.$case === 'user' && user.accessHash !== input.value.accessHash)
      )
        throw errors.badRequest('USER_ID_INVALID');
      const page = { userId, offset: req.offset, maxId: req.maxId, limit: req.limit };
      const home = (await d.directory.byId(userId))?.homeDc ?? d.dcId;
      let found: { photos: Photo[]; count: number };
      if (home === d.dcId) found = pageOf(await d.photos.list(userId), page.offset, page.maxId, page.limit);
      else {
        const auth = d.authOf.forDc(home);
        found = await unary(auth.listProfilePhotos.bind(auth), page);
      }
      return { photos: found.photos, count: found.count, user };
    },

    async listProfilePhotos(req) {
      return pageOf(await d.photos.list(req.userId), req.offset, req.maxId, req.limit);
    },
  };
}
