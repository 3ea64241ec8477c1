/**
 * GetFile (upload.getFile): at most 1 MiB of a document, of one rendition of a photo
 * (inputPhotoFileLocation's thumb_size) or of a profile photo named by its user
 * (inputPeerPhotoFileLocation), read as ranged GETs of the content's part objects.
 */
import { errors, requireUser, type AsyncImplOf } from '../../../shared/src';
import { FileType, type MediaServiceService } from '../../../shared/src/gen/tern/media/v1/media';
import type { FileAccess } from '../internal/access';
import type { Contents } from '../internal/content';
import { PROFILE_BIG, PROFILE_SMALL } from '../internal/renditions';
import { checkRange } from '../internal/rules';
import { fileTypeOf } from '../render/files';

export interface DownloadDeps {
  access: FileAccess;
  contents: Contents;
}

type Handlers = Pick<AsyncImplOf<typeof MediaServiceService>, 'getFile'>;

export function downloadHandlers(d: DownloadDeps): Handlers {
  return {
    async getFile(req) {
      const user = requireUser(req.context);
      const loc = req.location?.kind;
      // Documents are downloaded whole (their thumbnails are not made yet); photos by rendition.
      if (loc?.$case === 'document' && loc.value.thumbSize === '') {
        checkRange(req.offset, req.limit, req.precise);
        const doc = await d.access.usableDocument(user, loc.value);
        const bytes = await d.contents.readRange(doc.sha256, Number(req.offset), req.limit);
        return { type: fileTypeOf(doc.mimeType), mtime: doc.date, bytes };
      }
      if (loc?.$case === 'photo') {
        checkRange(req.offset, req.limit, req.precise);
        const photo = await d.access.usablePhoto(user, loc.value);
        // The stripped thumbnail travels inside the message; only renditions are files.
        const size = photo.sizes.find((z) => z.type === loc.value.thumbSize);
        if (!size) throw errors.badRequest('LOCATION_INVALID');
        const bytes = await d.contents.readRange(size.sha256, Number(req.offset), req.limit);
        return { type: FileType.JPEG, mtime: photo.date, bytes };
      }
      if (loc?.$case === 'peerPhoto') {
        checkRange(req.offset, req.limit, req.precise);
        const v = loc.value;
        const photo = await d.access.profilePhoto(req.context, user, v.peer, v.photoId);
        const want = v.big ? PROFILE_BIG : PROFILE_SMALL;
        const size = photo.sizes.find((z) => z.type === want);
        if (!size) throw errors.badRequest('LOCATION_INVALID');
        const bytes = await d.contents.readRange(size.sha256, Number(req.offset), req.limit);
        return { type: FileType.JPEG, mtime: photo.date, bytes };
      }
      throw errors.badRequest('LOCATION_INVALID');
    },
  };
}
