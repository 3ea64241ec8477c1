/**
 * auth.sendCode / resendCode / cancelCode / signIn / signUp.
 *
 * Where a user lives is decided here: a registered number asked on another DC gets
 * PHONE_MIGRATE_<home>; a test number 99966XYYYY (test mode only) belongs to DC X; a new number
 * is placed by the client's address (NETWORK_MIGRATE_<dc> when another DC is configured closer).
 * Nothing is written for a failed attempt except the check it counts (phone_code_checks). Codes
 * sent to a number are limited per hour (FLOOD_WAIT_X). An account with a two-step verification
 * password answers the right code with SESSION_PASSWORD_NEEDED (api/password.ts goes on).
 */
import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { errors, type AsyncService } from '../../../shared/src';
import type { AuthServiceServer } from '../../../shared/src/gen/tern/auth/v1/auth';
import { SentCode_Type } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { CodeDelivery } from '../internal/code-delivery';
import type { DirectoryNotices } from '../internal/directory-notices';
import { normalizePhone, testNumberCode, testNumberDc } from '../internal/phone';
import type { Placement } from '../internal/placement';
import type { Directory } from '../storage/directory';
import type { AuthorizationStore } from '../storage/authorizations';
import type { LoginStore } from '../storage/login';
import type { PasswordStore } from '../storage/passwords';
import { PENDING_LOGIN_TTL_SECONDS } from './password';
import { deviceOf } from './authorizations';
import { userOf } from '../internal/profiles';

export interface LoginDeps {
  dcId: number;
  testMode: boolean;
  directory: Directory;
  store: LoginStore;
  authorizations: AuthorizationStore;
  delivery: CodeDelivery;
  placement: Placement;
  /** Codes (sendCode + resendCode) one number may be sent per hour. */
  codesPerHour: number;
  /** Tells every DC's messaging that a user appeared in (or left) the directory. */
  notices?: DirectoryNotices;
  /**
   * Logins of accounts with a 2FA password wait here for auth.checkPassword (api/password.ts).
   * Without it (tests of the code steps) such logins still stop at SESSION_PASSWORD_NEEDED.
   */
  passwords?: Pick<PasswordStore, 'savePendingLogin'>;
}

/** How long a code is valid, and how many wrong tries it survives. */
export const CODE_TTL_SECONDS = 300;
export const CODE_MAX_ATTEMPTS = 5;
const CODE_LENGTH = 5;

/** Compares a code without leaking through timing how many leading digits were right. */
function timingSafeEqualText(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

type Handlers = Pick<
  AsyncService<AuthServiceServer>,
  'sendCode' | 'resendCode' | 'cancelCode' | 'signIn' | 'signUp'
>;

export function loginHandlers(d: LoginDeps): Handlers {
  const now = () => Math.floor(Date.now() / 1000);

  /** The checked code row for a call, or the Telegram error for why not. */
  async function checkedCode(phoneNumber: string, hash: string, authKeyId: bigint) {
    const phone = normalizePhone(phoneNumber);
    if (!hash) throw errors.badRequest('PHONE_CODE_HASH_EMPTY');
    const code = await d.store.code(hash);
    if (!code || code.expiresAt <= now()) throw errors.badRequest('PHONE_CODE_EXPIRED');
    if (code.phone !== phone || code.authKeyId !== authKeyId) throw errors.badRequest('PHONE_CODE_EXPIRED');
    return code;
  }

  /**
   * Counts one more code for `phone`, or FLOOD_WAIT_X when it had its hourly share. The request is
   * recorded before the others are counted, so parallel requests cannot all pass one check.
   */
  async function countCode(phone: string) {
    const { id, others } = await d.store.recordCodeRequest(phone);
    if (others.length < d.codesPerHour) return;
    await d.store.forgetCodeRequest(phone, id);
    throw errors.floodWait(others[others.length - d.codesPerHour]! + 3600 - now());
  }

  const newCode = (testDc: number | undefined) =>
    testDc !== undefined
      ? testNumberCode(testDc)
      : String(randomInt(0, 10 ** CODE_LENGTH)).padStart(CODE_LENGTH, '0');

  const sentCode = (hash: string) => ({
    type: SentCode_Type.SMS,
    length: CODE_LENGTH,
    phoneCodeHash: hash,
    nextType: SentCode_Type.SMS,
    timeout: 0,
  });

  return {
    async sendCode(req) {
      const phone = normalizePhone(req.phoneNumber);
      const ctx = req.context;
      const existing = await d.directory.byPhone(phone);
      const testDc = d.testMode ? testNumberDc(phone) : undefined;
      if (existing && existing.homeDc !== d.dcId) throw errors.migrate('PHONE', existing.homeDc);
      if (!existing && testDc !== undefined && testDc !== d.dcId) throw errors.migrate('PHONE', testDc);
      if (!existing && testDc === undefined) {
        const closer = d.placement.dcFor(ctx?.clientIp ?? '');
        if (closer !== undefined && closer !== d.dcId) throw errors.migrate('NETWORK', closer);
      }
      await countCode(phone);
      const code = newCode(testDc);
      const hash = randomBytes(9).toString('hex');
      await d.store.saveCode(
        {
          hash,
          phone,
          authKeyId: ctx?.authKeyId ?? 0n,
          code,
          expiresAt: now() + CODE_TTL_SECONDS,
          verified: false,
        },
        CODE_TTL_SECONDS,
      );
      // Test numbers have their code by definition: nothing to deliver.
      if (testDc === undefined) await d.delivery.send(phone, code);
      return { sentCode: sentCode(hash) };
    },

    async resendCode(req) {
      const old = await checkedCode(req.phoneNumber, req.phoneCodeHash, req.context?.authKeyId ?? 0n);
      await countCode(old.phone);
      const testDc = d.testMode ? testNumberDc(old.phone) : undefined;
      // A new code under the same hash; the old one stops working and the tries start again.
      const code = {
        ...old,
        code: newCode(testDc),
        verified: false,
        expiresAt: now() + CODE_TTL_SECONDS,
      };
      await d.store.saveCode(code, CODE_TTL_SECONDS);
      await d.store.resetCodeChecks(old.hash);
      if (testDc === undefined) await d.delivery.send(old.phone, code.code);
      return { sentCode: sentCode(old.hash) };
    },

    async cancelCode(req) {
      const code = await checkedCode(req.phoneNumber, req.phoneCodeHash, req.context?.authKeyId ?? 0n);
      await d.store.deleteCode(code.hash);
      return {};
    },

    async signIn(req) {
      const ctx = req.context;
      const authKeyId = ctx?.authKeyId ?? 0n;
      if (!req.phoneCode) throw errors.badRequest('PHONE_CODE_EMPTY');
      const code = await checkedCode(req.phoneNumber, req.phoneCodeHash, authKeyId);
      // Every check counts before the code is compared, so parallel guesses get at most
      // CODE_MAX_ATTEMPTS comparisons between them; the last allowed wrong one burns the code.
      const checks = await d.store.countCodeCheck(code, now(), CODE_MAX_ATTEMPTS);
      if (checks > CODE_MAX_ATTEMPTS) throw errors.badRequest('PHONE_CODE_EXPIRED');
      if (!timingSafeEqualText(code.code, req.phoneCode)) {
        if (checks === CODE_MAX_ATTEMPTS) {
          await d.store.deleteCode(code.hash);
          throw errors.badRequest('PHONE_CODE_EXPIRED');
        }
        throw errors.badRequest('PHONE_CODE_INVALID');
      }
      const entry = await d.directory.byPhone(code.phone);
      if (!entry) {
        await d.store.saveCode({ ...code, verified: true }, Math.max(1, code.expiresAt - now()));
        return { result: { $case: 'signUpRequired', value: { termsOfService: '' } } };
      }
      if (entry.homeDc !== d.dcId) throw errors.migrate('PHONE', entry.homeDc);
      const profile = await d.store.profile(entry.userId);
      if (!profile) throw errors.internal(new Error(`user ${entry.userId} has no profile in DC ${d.dcId}`));
      await d.store.deleteCode(code.hash);
      if (profile.password) {
        // Two-step verification: the code was right, but the key is bound only once
        // auth.checkPassword proves the password (which account.getPassword now describes to it).
        await d.passwords?.savePendingLogin(authKeyId, entry.userId, PENDING_LOGIN_TTL_SECONDS);
        throw errors.unauthorized('SESSION_PASSWORD_NEEDED');
      }
      await d.authorizations.bind({
        authKeyId,
        userId: entry.userId,
        device: deviceOf(ctx),
        clientIp: ctx?.clientIp ?? '',
      });
      return { result: { $case: 'authorization', value: { user: userOf(profile, d.dcId, entry.userId) } } };
    },

    async signUp(req) {
      const ctx = req.context;
      const authKeyId = ctx?.authKeyId ?? 0n;
      const firstName = req.firstName.trim().slice(0, 64);
      if (!firstName) throw errors.badRequest('FIRSTNAME_INVALID');
      const code = await checkedCode(req.phoneNumber, req.phoneCodeHash, authKeyId);
      if (!code.verified) throw errors.badRequest('PHONE_CODE_INVALID');
      // The account is written so that a crash or a timeout at any step leaves either a complete
      // account or nothing that blocks the phone, and a retry with the same code finishes the same
      // account: the id is claimed and remembered with the code, the profile written, and the
      // phone linked last (until then byPhone does not see the new user).
      let userId = code.pendingUserId;
      if (userId === undefined) {
        if (await d.directory.byPhone(code.phone)) throw errors.badRequest('PHONE_NUMBER_OCCUPIED');
        const claimed = await d.directory.claimId(code.phone, d.dcId);
        userId = await d.store.claimPendingUser(code, claimed, now());
        if (userId !== claimed) await d.directory.releaseId(claimed); // a parallel try was first
      }
      const profile = await d.store.createProfile({
        userId,
        accessHash: randomBytes(8).readBigInt64LE(),
        phone: code.phone,
        firstName,
        lastName: req.lastName.trim().slice(0, 64),
        username: '',
        about: '',
      });
      const holder = await d.directory.linkPhone(code.phone, userId, d.dcId);
      if (holder !== userId) {
        await d.store.deleteProfile(userId);
        await d.directory.releaseId(userId);
        d.notices?.home(userId);
        await d.store.deleteCode(code.hash);
        throw errors.badRequest('PHONE_NUMBER_OCCUPIED'); // the number went to someone else meanwhile
      }
      d.notices?.home(userId);
      // The code is kept until it expires (bound to this auth key and to this account): a retry
      // whose first answer was lost gets the same account again.
      const entry = { userId };
      await d.authorizations.bind({
        authKeyId,
        userId: entry.userId,
        device: deviceOf(ctx),
        clientIp: ctx?.clientIp ?? '',
      });
      return { authorization: { user: userOf(profile, d.dcId, entry.userId) } };
    },
  };
}
