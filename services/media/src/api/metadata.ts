/**
 * GetFileMetadata: what a stored file is, without its bytes (for a photo, its original upload).
 * Asked by id alone, with no user: callers inside the deployment already hold the file.
 */
import { dcOfFileId, errors, type AsyncImplOf } from '../../../shared/src';
import type { MediaServiceService } from '../../../shared/src/gen/tern/media/v1/media';
import { metadataOf, photoMetadataOf } from '../render/files';
import type { FileStore } from '../storage/files';

export interface MetadataDeps {
  dcId: number;
  store: FileStore;
}

type Handlers = Pick<AsyncImplOf<typeof MediaServiceService>, 'getFileMetadata'>;

export function metadataHandlers(d: MetadataDeps): Handlers {
  return {
    async getFileMetadata(req) {
      const dc = dcOfFileId(req.fileId);
      if (dc !== d.dcId) throw errors.migrate('FILE', dc);
      const doc = await d.store.document(req.fileId);
      if (doc) return { file: metadataOf(doc, d.dcId) };
      const photo = await d.store.photo(req.fileId);
      if (!photo) throw errors.badRequest('FILE_ID_INVALID');
      const original = await d.store.content(photo.sha256);
      return { file: photoMetadataOf(photo, BigInt(original?.size ?? 0), d.dcId) };
    },
  };
}
