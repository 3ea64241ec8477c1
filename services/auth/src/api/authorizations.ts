/**
 * Logged-in devices: binding an auth key to a user, listing a user's authorizations, and ending
 * them (auth.logOut, account.resetAuthorization, auth.resetAuthorizations, destroy_auth_key, and
 * the cross-DC revocation of imported logins).
 */
import { createHash } from 'node:crypto';
import { errors, type AsyncService, requireUser } from '../../../shared/src';
import type { AuthServiceServer } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import type { Revoker } from '../internal/revocation';
import type { AuthKeyStore } from '../storage/auth-keys';
import type { AuthorizationStore, DeviceInfo } from '../storage/authorizations';

export interface AuthorizationDeps {
  store: AuthorizationStore;
  keys: AuthKeyStore;
  revoker: Revoker;
}

type Handlers = Pick<
  AsyncService<AuthServiceServer>,
  | 'bindAuthKeyUser'
  | 'getAuthKeyUser'
  | 'logOut'
  | 'getAuthorizations'
  | 'resetAuthorization'
  | 'resetAuthorizations'
  | 'revokeImportedAuthorizations'
  | 'destroyAuthKey'
>;

/**
 * The `hash` clients use to name an authorization: derived from the auth key id so it is stable,
 * but not the id itself (auth key ids stay between a client and its DC).
 */
export function authorizationHash(authKeyId: bigint): bigint {
  const id = Buffer.alloc(8);
  id.writeBigInt64LE(authKeyId);
  return createHash('sha256').update('tern authorization ').update(id).digest().readBigInt64LE(0);
}

/** The device a request's context describes (what initConnection said). */
export function deviceOf(ctx: RequestContext | undefined): DeviceInfo {
  return {
    apiId: ctx?.client?.apiId ?? 0,
    deviceModel: ctx?.client?.deviceModel ?? '',
    systemVersion: ctx?.client?.systemVersion ?? '',
    appVersion: ctx?.client?.appVersion ?? '',
  };
}

export function authorizationHandlers(d: AuthorizationDeps): Handlers {
  return {
    async bindAuthKeyUser(req) {
      await d.store.bind({
        authKeyId: req.authKeyId,
        userId: req.userId,
        device: {
          apiId: req.client?.apiId ?? 0,
          deviceModel: req.client?.deviceModel ?? '',
          systemVersion: req.client?.systemVersion ?? '',
          appVersion: req.client?.appVersion ?? '',
        },
        clientIp: req.clientIp,
      });
      return {};
    },

    async getAuthKeyUser(req) {
      return { userId: await d.store.keyUser(req.authKeyId) };
    },

    async logOut(req) {
      requireUser(req.context);
      await d.revoker.revoke(req.context!.authKeyId, 'log_out');
      return {};
    },

    async getAuthorizations(req) {
      const userId = requireUser(req.context);
      const current = req.context!.authKeyId;
      const list = await d.store.list(userId);
      return {
        authorizations: list.map((b) => ({
          hash: b.authKeyId === current ? 0n : authorizationHash(b.authKeyId),
          current: b.authKeyId === current,
          client: { ...b.device, systemLangCode: '', langPack: '', langCode: '' },
          dateCreated: b.createdAt,
          dateActive: b.createdAt,
          ip: b.clientIp,
          country: '',
        })),
      };
    },

    async resetAuthorization(req) {
      const userId = requireUser(req.context);
      const target = (await d.store.list(userId)).find(
        (b) => authorizationHash(b.authKeyId) === req.hash && b.authKeyId !== req.context!.authKeyId,
      );
      if (!target) throw errors.badRequest('HASH_INVALID');
      await d.revoker.revoke(target.authKeyId, 'reset_authorization');
      return {};
    },

    async resetAuthorizations(req) {
      const userId = requireUser(req.context);
      const current = req.context!.authKeyId;
      for (const b of await d.store.list(userId))
        if (b.authKeyId !== current) await d.revoker.revoke(b.authKeyId, 'reset_all');
      return {};
    },

    async revokeImportedAuthorizations(req) {
      for (const key of await d.store.importedFrom(req.sourceDcId, req.sourceAuthKeyId))
        await d.revoker.revoke(key, 'source_revoked');
      return {};
    },

    async destroyAuthKey(req) {
      const existed = (await d.keys.get(req.authKeyId)) !== undefined;
      if (existed) {
        await d.revoker.revoke(req.authKeyId, 'destroy_auth_key');
        await d.keys.delete(req.authKeyId);
        // Tell the gateways again now that the key itself is gone (they drop its sessions).
        d.revoker.notifyGateways(req.authKeyId, 0n, 'destroy_auth_key');
      }
      return { existed };
    },
  };
}
