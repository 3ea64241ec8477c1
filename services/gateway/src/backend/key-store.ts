/**
 * Auth keys kept by this DC's auth service (the gateway stores nothing itself): the KeyStore the
 * MTProto engine uses, over gRPC.
 */
import { status, type ServiceError } from '@grpc/grpc-js';
import type { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import { errorDetailFrom, unary } from '../../../shared/src';
import type { KeyStore } from '../mtproto/auth-keys';

const DEADLINE_MS = 5_000;

export function grpcKeyStore(auth: AuthServiceClient): KeyStore {
  return {
    async load(id) {
      try {
        const res = await unary(auth.getAuthKey.bind(auth), { authKeyId: id }, { deadlineMs: DEADLINE_MS });
        return {
          key: Buffer.from(res.authKey),
          temporary: res.temporary,
          expiresAt: res.expiresAt,
          permAuthKeyId: res.permAuthKeyId === 0n ? undefined : res.permAuthKeyId,
          layer: res.layer || undefined,
        };
      } catch (err) {
        const detail = errorDetailFrom(err as ServiceError);
        if (detail?.message === 'AUTH_KEY_UNREGISTERED' || (err as ServiceError).code === status.NOT_FOUND)
          return undefined;
        throw err;
      }
    },
    async saveLayer(id, layer) {
      await unary(auth.setAuthKeyLayer.bind(auth), { authKeyId: id, layer }, { deadlineMs: DEADLINE_MS });
    },
    async destroy(id) {
      const res = await unary(auth.destroyAuthKey.bind(auth), { authKeyId: id }, { deadlineMs: DEADLINE_MS });
      return res.existed;
    },
    async save(k) {
      try {
        await unary(
          auth.saveAuthKey.bind(auth),
          { authKeyId: k.authKeyId, authKey: k.authKey, temporary: k.temporary, expiresAt: k.expiresAt },
          { deadlineMs: DEADLINE_MS },
        );
        return 'created';
      } catch (err) {
        if (errorDetailFrom(err as ServiceError)?.message === 'AUTH_KEY_DUPLICATED') return 'exists';
        throw err;
      }
    },
  };
}
