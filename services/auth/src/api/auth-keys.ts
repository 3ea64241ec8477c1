/**
 * gRPC handlers for auth key persistence (SaveAuthKey, GetAuthKey), called by this
 * DC's gateway after a key exchange and when a connection presents an auth_key_id.
 */
import { errors, type AsyncService } from '../../../shared/src';
import type { AuthServiceServer } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { AuthKeyStore } from '../storage/auth-keys';

/** Far above any TL layer yet (229 in 2026); a bound on what is stored, not a list of layers. */
const MAX_LAYER = 10_000;
/** auth_key is 2048 bits; anything else is a gateway bug or a forged call. */
const AUTH_KEY_BYTES = 256;

export function authKeyHandlers(
  store: AuthKeyStore,
): Pick<
  AsyncService<AuthServiceServer>,
  'saveAuthKey' | 'getAuthKey' | 'bindTempAuthKey' | 'setAuthKeyLayer'
> {
  return {
    async saveAuthKey(req) {
      if (req.authKey.length !== AUTH_KEY_BYTES)
        throw errors.badRequest('AUTH_KEY_INVALID', `auth key must be ${AUTH_KEY_BYTES} bytes`);
      if (req.temporary && req.expiresAt <= Math.floor(Date.now() / 1000))
        throw errors.badRequest('EXPIRES_AT_INVALID');
      const outcome = await store.insert(
        {
          authKeyId: req.authKeyId,
          authKey: req.authKey,
          temporary: req.temporary,
          expiresAt: req.temporary ? req.expiresAt : 0,
          permAuthKeyId: 0n,
        },
        Math.floor(Date.now() / 1000),
      );
      // The gateway picks a fresh key on a collision (the spec's auth_key_id uniqueness check).
      if (outcome === 'conflict') throw errors.badRequest('AUTH_KEY_DUPLICATED');
      return {};
    },

    async bindTempAuthKey(req) {
      const perm = await store.get(req.permAuthKeyId);
      if (!perm || perm.temporary)
        throw errors.badRequest('ENCRYPTED_MESSAGE_INVALID', 'unknown permanent key');
      const outcome = await store.bindTemp(
        req.tempAuthKeyId,
        req.permAuthKeyId,
        Math.floor(Date.now() / 1000),
      );
      if (outcome === 'missing') throw errors.badRequest('TEMP_AUTH_KEY_EMPTY');
      if (outcome === 'conflict') throw errors.badRequest('TEMP_AUTH_KEY_ALREADY_BOUND');
      return {};
    },

    async getAuthKey(req) {
      const [key, layer] = await Promise.all([store.get(req.authKeyId), store.layer(req.authKeyId)]);
      if (!key) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
      return {
        authKey: key.authKey,
        temporary: key.temporary,
        expiresAt: key.expiresAt,
        permAuthKeyId: key.permAuthKeyId,
        layer,
      };
    },

    async setAuthKeyLayer(req) {
      if (!Number.isInteger(req.layer) || req.layer <= 0 || req.layer > MAX_LAYER)
        throw errors.badRequest('CONNECTION_LAYER_INVALID');
      const key = await store.get(req.authKeyId);
      if (!key) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
      const now = Math.floor(Date.now() / 1000);
      if (key.temporary && key.expiresAt <= now) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
      await store.setLayer(req.authKeyId, req.layer, key.temporary ? key.expiresAt - now : 0);
      return {};
    },
  };
}
