/**
 * account.*: the profile (updateProfile, checkUsername, updateUsername), the list of logins
 * (getAuthorizations, resetAuthorization) and two-step verification (getPassword,
 * updatePasswordSettings) → the auth service; presence (updateStatus), push
 * devices (registerDevice, unregisterDevice) and notification settings (getNotifySettings,
 * updateNotifySettings) → the messaging service of the caller's home DC, whose push worker reads
 * them. Translation only.
 */
import { unary } from '../../../shared/src';
import type {
  ActiveSession,
  PasswordCheck,
  PasswordKdfAlgo,
} from '../../../shared/src/gen/tern/auth/v1/auth';
import type { CallContext } from '../mtproto/invocation';
import type { TlObject } from '../mtproto/tl-types';
import { inputSettings, notifyPeer, tlPeerNotifySettings } from '../convert/notify-settings';
import { text, tlUser } from '../convert/users';
import { requestContext, type AuthDeps, type MessagingDeps } from './context';

function tlAuthorization(a: ActiveSession): TlObject {
  const c = a.client;
  return {
    _: 'authorization',
    current: a.current,
    hash: a.hash,
    device_model: c?.deviceModel ?? '',
    platform: '',
    system_version: c?.systemVersion ?? '',
    api_id: c?.apiId ?? 0,
    app_name: '',
    app_version: c?.appVersion ?? '',
    date_created: a.dateCreated,
    date_active: a.dateActive,
    ip: a.ip,
    country: a.country,
    region: '',
  };
}

export async function getAuthorizations(_call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.getAuthorizations.bind(d.auth), { context });
  return {
    _: 'account.authorizations',
    authorization_ttl_days: 180,
    authorizations: res.authorizations.map(tlAuthorization),
  };
}

export async function resetAuthorization(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  await unary(d.auth.resetAuthorization.bind(d.auth), { context, hash: call.hash as bigint });
  return true;
}

/** Absent optional TL strings stay unset (unchanged); present ones are passed as typed. */
const optional = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export async function updateProfile(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.updateProfile.bind(d.auth), {
    context,
    firstName: optional(call.first_name),
    lastName: optional(call.last_name),
    about: optional(call.about),
  });
  return tlUser(res.user!);
}

export async function checkUsername(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  return (await unary(d.auth.checkUsername.bind(d.auth), { context, username: text(call.username) }))
    .available;
}

export async function updateUsername(call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.updateUsername.bind(d.auth), { context, username: text(call.username) });
  return tlUser(res.user!);
}

/**
 * account.updateStatus: presence lives with the messaging service of the user's home DC, which
 * also tells the user's contacts (updateUserStatus).
 */
export async function updateStatus(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  await unary(d.messaging.updateStatus.bind(d.messaging), { context, offline: call.offline === true });
  return true;
}

export async function registerDevice(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  await unary(d.messaging.registerDevice.bind(d.messaging), {
    context,
    tokenType: Number(call.token_type),
    token: text(call.token),
    appSandbox: call.app_sandbox === true,
    secret: Buffer.isBuffer(call.secret) ? call.secret : Buffer.alloc(0),
    otherUids: Array.isArray(call.other_uids) ? (call.other_uids as bigint[]).slice(0, 64) : [],
    noMuted: call.no_muted === true,
  });
  return true;
}

export async function unregisterDevice(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  await unary(d.messaging.unregisterDevice.bind(d.messaging), {
    context,
    tokenType: Number(call.token_type),
    token: text(call.token),
    otherUids: Array.isArray(call.other_uids) ? (call.other_uids as bigint[]).slice(0, 64) : [],
  });
  return true;
}

export async function updateNotifySettings(
  call: TlObject,
  ctx: CallContext,
  d: MessagingDeps,
): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  await unary(d.messaging.updateNotifySettings.bind(d.messaging), {
    context,
    peer: notifyPeer(call.peer, context.userId),
    settings: inputSettings(call.settings),
  });
  return true;
}

export async function getNotifySettings(
  call: TlObject,
  ctx: CallContext,
  d: MessagingDeps,
): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.messaging.getNotifySettings.bind(d.messaging), {
    context,
    peer: notifyPeer(call.peer, context.userId),
  });
  return tlPeerNotifySettings(res.settings);
}

const SRP_ALGO = 'passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow';

const bytesOf = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.alloc(0));

/** InputCheckPasswordSRP → the auth service's PasswordCheck (undefined for inputCheckPasswordEmpty). */
export function passwordCheckOf(v: unknown): PasswordCheck | undefined {
  const o = v as TlObject | undefined;
  if (o?._ !== 'inputCheckPasswordSRP') return undefined;
  return { srpId: o.srp_id as bigint, a: bytesOf(o.A), m1: bytesOf(o.M1) };
}

/** A PasswordKdfAlgo the service understands; undefined for passwordKdfAlgoUnknown. */
function kdfAlgoOf(v: unknown): PasswordKdfAlgo | undefined {
  const o = v as TlObject | undefined;
  if (o?._ !== SRP_ALGO) return undefined;
  return { salt1: bytesOf(o.salt1), salt2: bytesOf(o.salt2), g: Number(o.g), p: bytesOf(o.p) };
}

function tlKdfAlgo(a: PasswordKdfAlgo | undefined): TlObject {
  if (!a) return { _: 'passwordKdfAlgoUnknown' };
  return {
    _: 'passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow',
    salt1: Buffer.from(a.salt1),
    salt2: Buffer.from(a.salt2),
    g: a.g,
    p: Buffer.from(a.p),
  };
}

/**
 * account.getPassword: answered for a logged-in key, and for a key whose auth.signIn answered
 * SESSION_PASSWORD_NEEDED (the method table lets unauthorized keys call it; the auth service
 * decides). Telegram Passport is not supported: new_secure_algo is always unknown.
 */
export async function getPassword(_call: TlObject, ctx: CallContext, d: AuthDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.auth.getPassword.bind(d.auth), { context });
  return {
    _: 'account.password',
    has_recovery: false,
    has_secure_values: false,
    ...(res.hasPassword
      ? {
          has_password: true,
          current_algo: tlKdfAlgo(res.currentAlgo),
          srp_B: Buffer.from(res.srpB),
          srp_id: res.srpId,
          hint: res.hint,
        }
      : {}),
    new_algo: tlKdfAlgo(res.newAlgo),
    new_secure_algo: { _: 'securePasswordKdfAlgoUnknown' },
    secure_random: Buffer.from(res.secureRandom),
  };
}

/**
 * account.updatePasswordSettings: set, change or remove the password and its hint. A recovery
 * email is refused by the service (EMAIL_NOT_ALLOWED: Tern sends no email).
 */
export async function updatePasswordSettings(
  call: TlObject,
  ctx: CallContext,
  d: AuthDeps,
): Promise<boolean> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const settings = (call.new_settings ?? {}) as TlObject;
  // flags.0 of account.passwordInputSettings carries new_algo, new_password_hash and hint together.
  const changePassword = settings.new_algo !== undefined;
  const newAlgo = kdfAlgoOf(settings.new_algo);
  await unary(d.auth.updatePasswordSettings.bind(d.auth), {
    context,
    password: passwordCheckOf(call.password),
    changePassword,
    newAlgo,
    newPasswordHash: bytesOf(settings.new_password_hash),
    hint: typeof settings.hint === 'string' ? settings.hint : '',
    email: typeof settings.email === 'string' ? settings.email : undefined,
    hasSecureSettings: settings.new_secure_settings !== undefined,
  });
  return true;
}
