/**
 * Uploads: upload.saveFilePart / saveBigFilePart (SaveFilePart) and CompleteUpload, which turns a
 * finished upload into a document for callers other than messages.sendMedia.
 *
 * A part is stored as it arrives, in any order; a repeated part overwrites the earlier one. Its
 * row (upload_parts) is what completion checks against what the client declares.
 */
import { errors, requireUser, type AsyncImplOf } from '../../../shared/src';
import type { MediaServiceService } from '../../../shared/src/gen/tern/media/v1/media';
import type { Completion } from '../internal/completion';
import { checkAttributes, checkMime, checkPart } from '../internal/rules';
import { metadataOf } from '../render/files';
import type { FileStore } from '../storage/files';
import type { FileObjects } from '../storage/objects';

export interface UploadDeps {
  dcId: number;
  store: FileStore;
  objects: FileObjects;
  completion: Completion;
}

type Handlers = Pick<AsyncImplOf<typeof MediaServiceService>, 'saveFilePart' | 'completeUpload'>;

export function uploadHandlers(d: UploadDeps): Handlers {
  return {
    async saveFilePart(req) {
      const owner = requireUser(req.context);
      const size = req.bytes.length;
      checkPart({ part: req.filePart, size, big: req.big, totalParts: req.fileTotalParts });
      // The object first, then the row: a row always names a stored part.
      await d.objects.putPart(owner, req.fileId, req.filePart, Buffer.from(req.bytes));
      await d.store.savePart(
        owner,
        req.fileId,
        req.filePart,
        size,
        req.big,
        req.big ? req.fileTotalParts : 0,
      );
      return {};
    },

    async completeUpload(req) {
      const owner = requireUser(req.context);
      if (!req.file) throw errors.badRequest('FILE_PARTS_INVALID');
      const doc = await d.completion.document(
        owner,
        req.file,
        checkMime(req.mimeType),
        checkAttributes([], req.file.name),
      );
      return { file: metadataOf(doc, d.dcId) };
    },
  };
}
