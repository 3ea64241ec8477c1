/**
 * Two-step verification: account.getPassword, account.updatePasswordSettings, auth.checkPassword
 * (core.telegram.org/api/srp; the math is internal/srp.ts).
 *
 * The password lives with the profile in the user's home DC, as the SRP verifier only. A login
 * with the right code for an account with a password stops at SESSION_PASSWORD_NEEDED
 * (api/login.ts records the key as waiting); the key is bound to the user only when
 * auth.checkPassword proves the password. Every proof is checked once per srp_id (the exchange is
 * consumed), and wrong proofs are limited per account: PASSWORD_TRIES_PER_WINDOW in
 * PASSWORD_TRIES_WINDOW_SECONDS, counted "record, then count" so parallel guesses cannot slip
 * past the limit; beyond it FLOOD_WAIT_X until the oldest wrong try leaves the window.
 *
 * No email is ever sent by Tern, so a recovery email is refused (EMAIL_NOT_ALLOWED) and
 * has_recovery is always false: a forgotten password cannot be recovered by the user (the
 * operator can remove it, docs/security.md).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { errors, requireUser, type AsyncService } from '../../../shared/src';
import type {
  AuthServiceServer,
  PasswordCheck,
  PasswordKdfAlgo,
  UserPassword,
} from '../../../shared/src/gen/tern/auth/v1/auth';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import { userOf } from '../internal/profiles';
import {
  CLIENT_SALT1_SIZE,
  isValidVerifier,
  NEW_SALT1_SIZE,
  NEW_SALT2_SIZE,
  newAlgo,
  newServerValue,
  SRP_G,
  SRP_PRIME,
  verifyProof,
} from '../internal/srp';
import type { AuthorizationStore } from '../storage/authorizations';
import type { Directory } from '../storage/directory';
import type { LoginStore, UserProfile } from '../storage/login';
import type { PasswordStore } from '../storage/passwords';
import { deviceOf } from './authorizations';
import { ownProfileOf } from './profile';

export interface PasswordDeps {
  dcId: number;
  login: LoginStore;
  directory: Directory;
  passwords: PasswordStore;
  authorizations: AuthorizationStore;
}

/** Wrong passwords one account may be tried with per window, before FLOOD_WAIT_X. */
export const PASSWORD_TRIES_PER_WINDOW = 5;
export const PASSWORD_TRIES_WINDOW_SECONDS = 3600;
/** How long an srp_id from account.getPassword can be answered. */
export const SRP_EXCHANGE_TTL_SECONDS = 600;
/** How long a login stopped at SESSION_PASSWORD_NEEDED waits for auth.checkPassword. */
export const PENDING_LOGIN_TTL_SECONDS = 600;
/** Longest hint kept (Telegram's apps cut hints shorter; this only bounds the row). */
export const HINT_MAX = 128;
/** Longest salt accepted in a new password's algorithm (the spec's are 40 and 16 bytes). */
const SALT_MAX = 256;

type Handlers = Pick<
  AsyncService<AuthServiceServer>,
  'getPassword' | 'updatePasswordSettings' | 'checkPassword'
>;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The checks of a new password's algorithm and verifier before anything is stored. */
function newPasswordOf(algo: PasswordKdfAlgo | undefined, hash: Uint8Array, hint: string): UserPassword {
  // The client must use the server's group and extend the issued salt1 with its own 32 bytes.
  if (
    !algo ||
    algo.g !== SRP_G ||
    !sameBytes(algo.p, SRP_PRIME) ||
    algo.salt1.length < NEW_SALT1_SIZE + CLIENT_SALT1_SIZE ||
    algo.salt1.length > SALT_MAX ||
    algo.salt2.length < NEW_SALT2_SIZE ||
    algo.salt2.length > SALT_MAX
  )
    throw errors.badRequest('NEW_SALT_INVALID');
  if (!isValidVerifier(hash))
    throw errors.badRequest('NEW_SETTINGS_INVALID', 'new_password_hash is not a verifier');
  if (hint.length > HINT_MAX) throw errors.badRequest('NEW_SETTINGS_INVALID', `hint longer than ${HINT_MAX}`);
  return {
    salt1: Buffer.from(algo.salt1),
    salt2: Buffer.from(algo.salt2),
    g: algo.g,
    p: Buffer.from(algo.p),
    verifier: Buffer.from(hash),
    hint,
    version: randomBytes(16),
    setAtMs: BigInt(Date.now()),
  };
}

/**
 * The user a key is logged in as, or undefined. These RPCs are the only ones that also serve a key
 * that is not logged in yet (its login waits for the password), so they, not requireUser(), tell
 * the two apart; the gateway's method table lets such keys through for them only.
 */
function loggedInUser(ctx: RequestContext | undefined): bigint | undefined {
  return ctx?.userId || undefined;
}

export function passwordHandlers(d: PasswordDeps): Handlers {
  const now = () => Math.floor(Date.now() / 1000);

  /**
   * Proves `check` against the user's `password`, or throws why not: SRP_ID_INVALID (unknown,
   * used or expired srp_id, or another user's), SRP_PASSWORD_CHANGED (issued for an older
   * password), FLOOD_WAIT_X (too many wrong tries), PASSWORD_HASH_INVALID.
   */
  async function prove(
    userId: bigint,
    password: UserPassword,
    check: PasswordCheck | undefined,
  ): Promise<void> {
    if (!check) throw errors.badRequest('PASSWORD_HASH_INVALID');
    const exchange = await d.passwords.takeExchange(check.srpId);
    if (!exchange || exchange.userId !== userId) throw errors.badRequest('SRP_ID_INVALID');
    if (!sameBytes(exchange.passwordVersion, password.version))
      throw errors.badRequest('SRP_PASSWORD_CHANGED');
    // Counted before the proof is compared, so parallel guesses get at most the limit between
    // them; refused and right tries are taken back, so only wrong ones keep counting.
    const { id, others } = await d.passwords.recordCheck(userId, PASSWORD_TRIES_WINDOW_SECONDS);
    if (others.length >= PASSWORD_TRIES_PER_WINDOW) {
      await d.passwords.forgetCheck(userId, id);
      throw errors.floodWait(
        others[others.length - PASSWORD_TRIES_PER_WINDOW]! + PASSWORD_TRIES_WINDOW_SECONDS - now(),
      );
    }
    const right = verifyProof({
      salt1: password.salt1,
      salt2: password.salt2,
      verifier: password.verifier,
      b: exchange.b,
      B: exchange.B,
      A: check.a,
      M1: check.m1,
    });
    if (!right) throw errors.badRequest('PASSWORD_HASH_INVALID');
    await d.passwords.forgetCheck(userId, id);
  }

  /** The caller's own profile, or the one its key's login waits for a password of. */
  async function accountOf(ctx: RequestContext | undefined): Promise<UserProfile> {
    const userId = loggedInUser(ctx);
    if (userId !== undefined) return ownProfileOf(d, userId);
    const pending = ctx ? await d.passwords.pendingLogin(ctx.authKeyId) : undefined;
    if (pending === undefined) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
    return ownProfileOf(d, pending);
  }

  return {
    async getPassword(req) {
      const profile = await accountOf(req.context);
      const password = profile.password;
      const base = { newAlgo: newAlgo(), secureRandom: randomBytes(32) };
      if (!password) return { ...base, hasPassword: false, srpB: Buffer.alloc(0), srpId: 0n, hint: '' };
      // A fresh b for every call: each srp_B answers one check only.
      const { b, B } = newServerValue(password.verifier);
      const srpId = randomBytes(8).readBigInt64LE();
      await d.passwords.saveExchange(
        { srpId, userId: profile.userId, b, B, passwordVersion: Buffer.from(password.version) },
        SRP_EXCHANGE_TTL_SECONDS,
      );
      return {
        ...base,
        hasPassword: true,
        currentAlgo: { salt1: password.salt1, salt2: password.salt2, g: password.g, p: password.p },
        srpB: B,
        srpId,
        hint: password.hint,
      };
    },

    async updatePasswordSettings(req) {
      const userId = requireUser(req.context);
      const profile = await ownProfileOf(d, userId);
      // What is asked is checked first: a refusal then costs no try of the password.
      if (req.email !== undefined && req.email !== '')
        throw errors.badRequest('EMAIL_NOT_ALLOWED', 'no recovery email delivery exists in this deployment');
      if (req.hasSecureSettings)
        throw errors.badRequest('NEW_SETTINGS_INVALID', 'Telegram Passport is not supported');
      const removing = req.changePassword && (!req.newAlgo || req.newPasswordHash.length === 0);
      const next =
        req.changePassword && !removing
          ? newPasswordOf(req.newAlgo, req.newPasswordHash, req.hint)
          : undefined;
      const current = profile.password;
      if (current) await prove(userId, current, req.password);
      else if (req.password) throw errors.badRequest('SRP_ID_INVALID'); // no password to prove
      // Nothing else to change: an email removal (there is none) or an empty settings object.
      if (!req.changePassword) return {};
      if (!current && !next) return {}; // removing a password that is not there
      if (await d.passwords.replace(userId, current, next)) return {};
      // Refused: a move froze the profile, or another change won since the proof.
      const after = await ownProfileOf(d, userId);
      if (after.movingTo !== undefined) throw errors.floodWait(3);
      throw errors.badRequest('SRP_PASSWORD_CHANGED');
    },

    async checkPassword(req) {
      const ctx = req.context;
      const authKeyId = ctx?.authKeyId ?? 0n;
      // A logged-in key may check its password too (a client confirming it, as GramJS's
      // updateTwoFaSettings({ isCheckPassword }) does); it stays logged in as it was.
      const userId = loggedInUser(ctx);
      if (userId !== undefined) {
        const profile = await ownProfileOf(d, userId);
        if (!profile.password) throw errors.badRequest('PASSWORD_HASH_INVALID');
        await prove(userId, profile.password, req.password);
        return { authorization: { user: userOf(profile, d.dcId, userId) } };
      }
      const pending = await d.passwords.pendingLogin(authKeyId);
      if (pending === undefined) throw errors.badRequest('AUTH_RESTART');
      const profile = await ownProfileOf(d, pending);
      // Removed meanwhile (from a logged-in device): the code step is all the account asks now.
      if (profile.password) await prove(pending, profile.password, req.password);
      await d.passwords.deletePendingLogin(authKeyId);
      await d.authorizations.bind({
        authKeyId,
        userId: pending,
        device: deviceOf(ctx),
        clientIp: ctx?.clientIp ?? '',
      });
      return { authorization: { user: userOf(profile, d.dcId, pending) } };
    },
  };
}
