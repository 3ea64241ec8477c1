/**
 * Profile photos, for the auth service (docs/decisions/0014-profile-photos.md): UploadProfilePhoto
 * makes one from an upload (square profile sizes, renditions.ts) marked with the uploader, so that
 * anyone logged in may download it while it is marked; ReleaseProfilePhotos clears the mark when
 * it leaves that user's profile (photos.deletePhotos), after which only the uploader and grantees
 * may. The list of a user's photos is auth's. UploadChatPhoto makes a channel's photo the same way,
 * for the channel service (channels.editPhoto).
 */
import { dcOfFileId, errors, requireUser, type AsyncImplOf } from '../../../shared/src';
import type { MediaServiceService } from '../../../shared/src/gen/tern/media/v1/media';
import type { Completion } from '../internal/completion';
import type { FileAccess } from '../internal/access';
import { makeProfilePhoto, PROFILE_BIG } from '../internal/renditions';
import { photoOf } from '../render/files';
import type { FileStore } from '../storage/files';

export interface ProfilePhotoDeps {
  dcId: number;
  store: FileStore;
  completion: Completion;
  access: FileAccess;
}

/** Photos one ReleaseProfilePhotos call looks at (photos.deletePhotos takes a client's list). */
const MAX_RELEASE = 200;

type Handlers = Pick<
  AsyncImplOf<typeof MediaServiceService>,
  'uploadProfilePhoto' | 'releaseProfilePhotos' | 'uploadChatPhoto'
>;

export function profilePhotoHandlers(d: ProfilePhotoDeps): Handlers {
  return {
    async uploadProfilePhoto(req) {
      const owner = requireUser(req.context);
      if (!req.file) throw errors.badRequest('PHOTO_FILE_MISSING');
      const photo = await d.completion.photo(owner, req.file, makeProfilePhoto, owner);
      return { photo: photoOf(photo, d.dcId) };
    },

    /**
     * A channel's chat photo: made like a profile photo (square sizes) but on nobody's profile;
     * granted to the channel, so its readers download it like a file posted there. The channel
     * service checked the caller's right to change the channel first.
     */
    async uploadChatPhoto(req) {
      const owner = requireUser(req.context);
      if (!req.file) throw errors.badRequest('PHOTO_FILE_MISSING');
      if (req.channelId <= 0n) throw errors.badRequest('CHANNEL_INVALID');
      const photo = await d.completion.photo(owner, req.file, makeProfilePhoto);
      // The same upload sent earlier as a message photo has message sizes and no parts left.
      if (!photo.sizes.some((z) => z.type === PROFILE_BIG)) throw errors.badRequest('PHOTO_FILE_MISSING');
      await d.access.grant(photo.id, owner, [], [req.channelId]);
      return { photo: photoOf(photo, d.dcId) };
    },

    async releaseProfilePhotos(req) {
      // Only photos on a profile now, and on this user's: others, and other DCs' photos, are ignored.
      for (const id of new Set(req.photoIds.slice(0, MAX_RELEASE))) {
        if (dcOfFileId(id) !== d.dcId) continue;
        const photo = await d.store.photo(id);
        if (photo && photo.profileUserId !== 0n && photo.profileUserId === req.userId)
          await d.store.releaseProfilePhoto(id, req.userId);
      }
      return {};
    },
  };
}
