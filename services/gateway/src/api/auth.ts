/**
 * Login methods: auth.sendCode / signIn / signUp, users.getUsers, updates.getState. Translation
 * only; the auth service decides (and answers PHONE_MIGRATE_X, PHONE_CODE_INVALID, …).
 */
import { errors, unary } from '../../../shared/src';
import type { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { InputUser } from '../../../shared/src/gen/tern/common/v1/peer';
import type { CallContext } from '../mtproto/engine';
import type { TlObject } from '../mtproto/tl-types';
import { requestContext } from './context';
import { inputUser, text, tlAuthorization, tlSentCode, tlUser } from './convert';

export interface AuthDeps {
  auth: AuthServiceClient;
  dcId: number;
}

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

/** users.getUsers: the result is a plain Vector<User>, written by the codec from an array. */
export async function getUsers(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject[]> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  if (context.userId === 0n) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
  const users = ((call.id as TlObject[] | undefined) ?? [])
    .map(inputUser)
    .filter((u): u is InputUser => u !== undefined);
  const res = await unary(d.auth.getUsers.bind(d.auth), { context, users });
  return res.users.map(tlUser);
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
