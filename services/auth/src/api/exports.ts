/**
 * auth.exportAuthorization / auth.importAuthorization: moving a login to another DC without a new
 * code. The exporting DC issues random, single-use bytes bound to the user and the target DC, valid
 * for a minute; the target DC checks them with the issuing DC over gRPC (CheckExportedAuthorization)
 * and then authorizes its own auth key as that user. The bytes start with the issuing DC's id so the
 * importer knows whom to ask.
 */
import { randomBytes } from 'node:crypto';
import {
  errors,
  unary,
  type AsyncService,
  type DcClients,
  type Topology,
  requireUser,
} from '../../../shared/src';
import type { AuthServiceClient, AuthServiceServer } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { AuthorizationStore } from '../storage/authorizations';
import type { ExportStore } from '../storage/exports';
import { deviceOf } from './authorizations';
import type { ProfileReader } from '../internal/profiles';

export const EXPORT_TTL_SECONDS = 60;

export interface ExportDeps {
  dcId: number;
  topology: Topology;
  exports: ExportStore;
  reader: ProfileReader;
  authorizations: AuthorizationStore;
  authOf: DcClients<AuthServiceClient>;
}

type Handlers = Pick<
  AsyncService<AuthServiceServer>,
  'exportAuthorization' | 'importAuthorization' | 'checkExportedAuthorization'
>;

export function exportHandlers(d: ExportDeps): Handlers {
  const invalid = () => errors.badRequest('AUTH_BYTES_INVALID');
  return {
    async exportAuthorization(req) {
      const userId = requireUser(req.context);
      if (req.dcId === d.dcId || !d.topology.dcs.some((dc) => dc.id === req.dcId))
        throw errors.badRequest('DC_ID_INVALID');
      const token = Buffer.concat([Buffer.alloc(4), randomBytes(32)]);
      token.writeInt32LE(d.dcId, 0);
      const now = Math.floor(Date.now() / 1000);
      await d.exports.save(
        token,
        userId,
        req.context!.authKeyId,
        req.dcId,
        now + EXPORT_TTL_SECONDS,
        EXPORT_TTL_SECONDS,
      );
      return { id: userId, bytes: token };
    },

    async checkExportedAuthorization(req) {
      const row = await d.exports.consume(Buffer.from(req.bytes));
      if (
        !row ||
        row.userId !== req.userId ||
        row.targetDc !== req.targetDcId ||
        row.expiresAt <= Math.floor(Date.now() / 1000)
      )
        throw invalid();
      // The user's own view, from its home DC (after a move that is no longer this DC).
      const user = (await d.reader.read(row.userId, [row.userId])).get(row.userId)?.user;
      if (!user) throw invalid();
      // Remembered so that revoking the source key revokes the imported login too.
      await d.authorizations.recordExport(row.sourceAuthKeyId, row.targetDc);
      return { user, sourceAuthKeyId: row.sourceAuthKeyId };
    },

    async importAuthorization(req) {
      const bytes = Buffer.from(req.bytes);
      if (bytes.length !== 36) throw invalid();
      const issuer = bytes.readInt32LE(0);
      if (issuer === d.dcId || !d.topology.dcs.some((dc) => dc.id === issuer)) throw invalid();
      const auth = d.authOf.forDc(issuer);
      const { user, sourceAuthKeyId } = await unary(auth.checkExportedAuthorization.bind(auth), {
        userId: req.id,
        bytes,
        targetDcId: d.dcId,
      });
      const ctx = req.context;
      await d.authorizations.bind({
        authKeyId: ctx?.authKeyId ?? 0n,
        userId: req.id,
        device: deviceOf(ctx),
        clientIp: ctx?.clientIp ?? '',
        importedFrom: { dc: issuer, authKeyId: sourceAuthKeyId },
      });
      return { authorization: { user } };
    },
  };
}
