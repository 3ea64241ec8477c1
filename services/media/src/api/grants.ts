/**
 * GrantAccess: lets more users download a stored document or photo — the recipients of a message
 * that carries it (forwards), asked by messaging of any DC on the DC holding the file before the
 * message is stored. Only someone who may read the file can pass it on.
 */
import { dcOfFileId, errors, requireUser, type AsyncImplOf } from '../../../shared/src';
import type { MediaServiceService } from '../../../shared/src/gen/tern/media/v1/media';
import type { FileAccess, Held } from '../internal/access';
import type { FileStore } from '../storage/files';

export interface GrantDeps {
  dcId: number;
  store: FileStore;
  access: FileAccess;
}

type Handlers = Pick<AsyncImplOf<typeof MediaServiceService>, 'grantAccess'>;

export function grantHandlers(d: GrantDeps): Handlers {
  /** A document or photo by id, whichever it is (they share one id space). */
  const loadHeld = async (id: bigint): Promise<Held | undefined> =>
    (await d.store.document(id)) ?? (await d.store.photo(id));

  return {
    async grantAccess(req) {
      const dc = dcOfFileId(req.fileId);
      if (dc !== d.dcId) throw errors.migrate('FILE', dc);
      const user = requireUser(req.context);
      const file = await loadHeld(req.fileId);
      if (!file || !(await d.access.mayRead(file, user))) throw errors.badRequest('FILE_ID_INVALID');
      await d.access.grant(file.id, file.ownerId, req.userIds, req.channelIds);
      return {};
    },
  };
}
