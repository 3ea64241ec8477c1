/**
 * UploadMedia: what messaging calls for messages.sendMedia (and the gateway for
 * messages.uploadMedia) to turn a client's InputMedia into stored MessageMedia. An uploaded
 * document or photo is completed here; a document or photo sent again by reference is re-used if
 * the sender may see it (the checks of GetFile). Either way the recipients named in
 * `grant_user_ids` may download it afterwards.
 */
import { errors, requireUser, type AsyncImplOf } from '../../../shared/src';
import type { MessageMedia } from '../../../shared/src/gen/tern/common/v1/media';
import type { MediaServiceService } from '../../../shared/src/gen/tern/media/v1/media';
import type { FileAccess, Held } from '../internal/access';
import type { Completion } from '../internal/completion';
import { checkAttributes, checkMime } from '../internal/rules';
import { documentOf, photoOf } from '../render/files';

export interface MessageMediaDeps {
  dcId: number;
  completion: Completion;
  access: FileAccess;
}

type Handlers = Pick<AsyncImplOf<typeof MediaServiceService>, 'uploadMedia'>;

export function messageMediaHandlers(d: MessageMediaDeps): Handlers {
  return {
    async uploadMedia(req) {
      const owner = requireUser(req.context);
      const m = req.media?.kind;
      let file: Held;
      let media: MessageMedia;
      switch (m?.$case) {
        case 'uploadedDocument': {
          const v = m.value;
          if (!v.file) throw errors.badRequest('MEDIA_INVALID');
          const doc = await d.completion.document(
            owner,
            v.file,
            checkMime(v.mimeType),
            checkAttributes(v.attributes, v.file.name),
          );
          file = doc;
          media = { kind: { $case: 'document', value: documentOf(doc, d.dcId) }, ttlSeconds: v.ttlSeconds };
          break;
        }
        case 'document': {
          // Re-sending a document the sender can already see (e.g. one it received).
          const doc = await d.access.usableDocument(owner, m.value);
          file = doc;
          media = { kind: { $case: 'document', value: documentOf(doc, d.dcId) }, ttlSeconds: 0 };
          break;
        }
        case 'uploadedPhoto': {
          const v = m.value;
          if (!v.file) throw errors.badRequest('MEDIA_INVALID');
          const photo = await d.completion.photo(owner, v.file);
          file = photo;
          media = { kind: { $case: 'photo', value: photoOf(photo, d.dcId) }, ttlSeconds: v.ttlSeconds };
          break;
        }
        case 'photo': {
          // Re-sending a photo the sender can already see.
          const photo = await d.access.usablePhoto(owner, m.value);
          file = photo;
          media = { kind: { $case: 'photo', value: photoOf(photo, d.dcId) }, ttlSeconds: 0 };
          break;
        }
        default:
          throw errors.badRequest('MEDIA_INVALID');
      }
      await d.access.grant(file.id, file.ownerId, [...req.grantUserIds, owner]);
      return { media };
    },
  };
}
