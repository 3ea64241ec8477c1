/**
 * auth.*: logging in (sendCode, resendCode, cancelCode, signIn, signUp, and checkPassword after
 * signIn answered SESSION_PASSWORD_NEEDED), moving a login between
 * DCs (exportAuthorization, importAuthorization), logging out (logOut, resetAuthorizations) and
 * binding a temporary key (bindTempAuthKey). Translation only: the auth service of this DC decides
 * (and answers PHONE_MIGRATE_X, PHONE_CODE_INVALID, …); bindTempAuthKey's checks of the encrypted
 * message are MTProto's and done here.
 */
import { errors, unary } from '../../../shared/src';
import { decryptV1 } from '../mtproto/crypto/v1';
import { authKeyId as keyIdBytesOf } from '../mtproto/crypto/message-keys';
import type { KeyStore } from '../mtproto/auth-keys';
import type { CallContext } from '../mtproto/invocation';
import type { TlObject, TlRuntime } from '../mtproto/tl-types';
import { text, tlAuthorization, tlSentCode } from '../convert/users';
import { passwordCheckOf } from './account';
import { requestContext, type AuthDeps } from './context';

export async function sendCode(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.sendCode.bind(d.auth), {
    context,
    phoneNumber: text(call.phone_number),
    apiId: Number(call.api_id),
    apiHash: text(call.api_hash),
  });
  return tlSentCode(res.sentCode!);
}

export async function resendCode(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.resendCode.bind(d.auth), {
    context,
    phoneNumber: text(call.phone_number),
    phoneCodeHash: text(call.phone_code_hash),
  });
  return tlSentCode(res.sentCode!);
}

export async function cancelCode(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  await unary(d.auth.cancelCode.bind(d.auth), {
    context,
    phoneNumber: text(call.phone_number),
    phoneCodeHash: text(call.phone_code_hash),
  });
  return true;
}

export async function signIn(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.signIn.bind(d.auth), {
    context,
    phoneNumber: text(call.phone_number),
    phoneCodeHash: text(call.phone_code_hash),
    phoneCode: text(call.phone_code),
  });
  if (res.result?.$case === 'signUpRequired') return { _: 'auth.authorizationSignUpRequired' };
  if (res.result?.$case !== 'authorization') throw errors.internal(new Error('empty SignIn result'));
  ctx.authKey.userId = res.result.value.user!.id;
  return tlAuthorization(res.result.value.user!);
}

export async function signUp(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.signUp.bind(d.auth), {
    context,
    phoneNumber: text(call.phone_number),
    phoneCodeHash: text(call.phone_code_hash),
    firstName: text(call.first_name),
    lastName: text(call.last_name),
  });
  ctx.authKey.userId = res.authorization!.user!.id;
  return tlAuthorization(res.authorization!.user!);
}

/**
 * auth.checkPassword: the second step of a login to an account with a two-step verification
 * password (signIn answered SESSION_PASSWORD_NEEDED, which the service passes through as the
 * Telegram error it is). On success the key is logged in, as after signIn.
 */
export async function checkPassword(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.checkPassword.bind(d.auth), {
    context,
    password: passwordCheckOf(call.password),
  });
  ctx.authKey.userId = res.authorization!.user!.id;
  return tlAuthorization(res.authorization!.user!);
}

export async function exportAuthorization(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.exportAuthorization.bind(d.auth), { context, dcId: Number(call.dc_id) });
  return { _: 'auth.exportedAuthorization', id: res.id, bytes: Buffer.from(res.bytes) };
}

export async function importAuthorization(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const bytes = Buffer.isBuffer(call.bytes) ? call.bytes : Buffer.alloc(0);
  const res = await unary(d.auth.importAuthorization.bind(d.auth), { context, id: call.id as bigint, bytes });
  ctx.authKey.userId = res.authorization!.user!.id;
  return tlAuthorization(res.authorization!.user!);
}

export async function logOut(_call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  await unary(d.auth.logOut.bind(d.auth), { context });
  ctx.authKey.userId = 0n;
  return { _: 'auth.loggedOut' };
}

export async function resetAuthorizations(_call: TlObject, ctx: CallContext, d: AuthDeps): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  await unary(d.auth.resetAuthorizations.bind(d.auth), { context });
  return true;
}

/** What auth.bindTempAuthKey needs: the permanent key's store and the service schema. */
export interface BindDeps extends AuthDeps {
  keys: KeyStore;
  tl: Pick<TlRuntime, 'decodeService'>;
}

const invalid = () => errors.badRequest('ENCRYPTED_MESSAGE_INVALID');

/**
 * auth.bindTempAuthKey (perfect forward secrecy): binds the temporary key this call came in (the
 * method table has checked it is one) to the client's permanent key. encrypted_message is
 * MTProto 1.0 under the permanent key, carrying bind_auth_key_inner, and must match the call and
 * the session; the DC's auth service records the binding.
 */
export async function bindTempAuthKey(call: TlObject, ctx: CallContext, d: BindDeps): Promise<boolean> {
  const temp = ctx.authKey;
  const permId = call.perm_auth_key_id as bigint;
  const perm = await d.keys.load(permId);
  if (!perm || perm.temporary) throw invalid();
  const message = decryptV1(perm.key, keyIdBytesOf(perm.key), call.encrypted_message as Buffer);
  if (!message || message.msgId !== ctx.msgId) throw invalid();
  let inner: TlObject;
  try {
    inner = d.tl.decodeService(message.body);
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
  await unary(d.auth.bindTempAuthKey.bind(d.auth), {
    tempAuthKeyId: temp.id,
    permAuthKeyId: permId,
    expiresAt,
  });
  temp.permAuthKeyId = permId;
  return true;
}
