/**
 * auth.bindTempAuthKey (perfect forward secrecy): binds the temporary key this connection uses to
 * the client's permanent key. The gateway checks encrypted_message (MTProto 1.0 under the
 * permanent key, carrying bind_auth_key_inner) against the call and the connection; the DC's auth
 * service records the binding.
 */
import type { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import { unary } from '../../../shared/src';
import { decryptV1 } from '../mtproto/crypto/v1';
import { authKeyId as keyIdBytesOf } from '../mtproto/crypto/message-keys';
import { RpcError, type CallContext, type KeyStore } from '../mtproto/engine';
import type { TlObject } from '../mtproto/tl-types';

export interface PfsDeps {
  auth: AuthServiceClient;
  keys: KeyStore;
  decodeService(body: Buffer): TlObject;
}

const invalid = () => new RpcError(400, 'ENCRYPTED_MESSAGE_INVALID');

export async function bindTempAuthKey(
  call: TlObject,
  ctx: CallContext,
  deps: PfsDeps,
): Promise<TlObject | boolean> {
  const temp = ctx.authKey;
  if (!temp.temporary) throw new RpcError(400, 'TEMP_AUTH_KEY_EMPTY');
  const permId = call.perm_auth_key_id as bigint;
  const perm = await deps.keys.load(permId);
  if (!perm || perm.temporary) throw invalid();
  const message = decryptV1(perm.key, keyIdBytesOf(perm.key), call.encrypted_message as Buffer);
  if (!message || message.msgId !== ctx.msgId) throw invalid();
  let inner: TlObject;
  try {
    inner = deps.decodeService(message.body);
  } catch {
    throw invalid();
  }
  const expiresAt = Number(call.expires_at);
  const matches =
    inner._ === 'bind_auth_key_inner' &&
    inner.nonce === call.nonce &&
    inner.temp_auth_key_id === temp.id &&
    inner.perm_auth_key_id === permId &&
    inner.temp_session_id === ctx.session.id &&
    Number(inner.expires_at) === expiresAt;
  if (!matches) throw invalid();
  await unary(deps.auth.bindTempAuthKey.bind(deps.auth), {
    tempAuthKeyId: temp.id,
    permAuthKeyId: permId,
    expiresAt,
  });
  temp.permAuthKeyId = permId;
  return true;
}
