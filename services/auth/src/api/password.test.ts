/**
 * Two-step verification RPCs with in-memory stores that keep the rules of the real ones
 * (storage/passwords.ts: a conditional replace, an srp_id taken once, checks recorded then
 * counted), and GramJS's own SRP code as the client: its computeDigest sets passwords and its
 * computeCheck answers account.getPassword.
 */
import { randomBytes } from 'node:crypto';
import { Api } from 'telegram';
import { computeCheck, computeDigest } from 'telegram/Password';
import { cassandraTypes, TernError } from '../../../shared/src';
import type {
  GetPasswordResponse,
  PasswordCheck,
  UpdatePasswordSettingsRequest,
  UserPassword,
} from '../../../shared/src/gen/tern/auth/v1/auth';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import type { AuthorizationStore, Binding } from '../storage/authorizations';
import type { Directory } from '../storage/directory';
import type { LoginStore, UserProfile } from '../storage/login';
import type { PasswordStore, SrpExchange } from '../storage/passwords';
import { loginHandlers } from './login';
import { PASSWORD_TRIES_PER_WINDOW, passwordHandlers } from './password';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const bigInt = require('big-integer') as (n: string) => Api.long;

const USER = 5n;
const KEY = 900n;

/** The rules of storage/passwords.ts, in memory (with the profile row's password column). */
class MemoryPasswords {
  readonly exchanges = new Map<bigint, SrpExchange>();
  readonly checks: { id: cassandraTypes.TimeUuid; at: number }[] = [];
  readonly pending = new Map<bigint, bigint>();
  movingTo: number | undefined;
  constructor(readonly profile: UserProfile) {}

  replace(_userId: bigint, expected: UserPassword | undefined, next: UserPassword | undefined) {
    const same =
      (this.profile.password?.version ?? null)?.toString() === (expected?.version ?? null)?.toString();
    if (this.movingTo !== undefined || !same) return Promise.resolve(false);
    if (next) this.profile.password = next;
    else delete this.profile.password;
    return Promise.resolve(true);
  }
  saveExchange(e: SrpExchange) {
    this.exchanges.set(e.srpId, e);
    return Promise.resolve();
  }
  takeExchange(srpId: bigint) {
    const e = this.exchanges.get(srpId);
    this.exchanges.delete(srpId);
    return Promise.resolve(e);
  }
  recordCheck() {
    const id = cassandraTypes.TimeUuid.now();
    this.checks.push({ id, at: Math.floor(Date.now() / 1000) });
    return Promise.resolve({ id, others: this.checks.filter((c) => c.id !== id).map((c) => c.at) });
  }
  forgetCheck(_userId: bigint, id: cassandraTypes.TimeUuid) {
    this.checks.splice(
      this.checks.findIndex((c) => c.id === id),
      1,
    );
    return Promise.resolve();
  }
  savePendingLogin(authKeyId: bigint, userId: bigint) {
    this.pending.set(authKeyId, userId);
    return Promise.resolve();
  }
  pendingLogin(authKeyId: bigint) {
    return Promise.resolve(this.pending.get(authKeyId));
  }
  deletePendingLogin(authKeyId: bigint) {
    this.pending.delete(authKeyId);
    return Promise.resolve();
  }
}

const context = (userId: bigint, authKeyId = KEY): RequestContext => ({
  authKeyId,
  sessionId: 1n,
  userId,
  dcId: 1,
  layer: 198,
  clientIp: '127.0.0.1',
  msgId: 0n,
});

function setup() {
  const profile: UserProfile = {
    userId: USER,
    accessHash: 7n,
    phone: '999661234',
    firstName: 'Ann',
    lastName: '',
    username: '',
    about: '',
  };
  const passwords = new MemoryPasswords(profile);
  const bound: Omit<Binding, 'createdAt'>[] = [];
  const h = passwordHandlers({
    dcId: 1,
    login: {
      profile: (id: bigint) =>
        Promise.resolve(
          id === USER
            ? { ...profile, ...(passwords.movingTo ? { movingTo: passwords.movingTo } : {}) }
            : undefined,
        ),
    } as unknown as LoginStore,
    directory: {
      byId: () => Promise.resolve({ userId: USER, phone: profile.phone, homeDc: 1 }),
    } as unknown as Directory,
    passwords: passwords as unknown as PasswordStore,
    authorizations: {
      bind: (b: Omit<Binding, 'createdAt'>) => (bound.push(b), Promise.resolve()),
    } as unknown as AuthorizationStore,
  });
  return { h, passwords, profile, bound };
}

/** account.password as a GramJS client decodes it. */
function gramjsPassword(res: GetPasswordResponse): Api.account.Password {
  const algo = (a: GetPasswordResponse['newAlgo']) =>
    new Api.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow({
      salt1: Buffer.from(a!.salt1),
      salt2: Buffer.from(a!.salt2),
      g: a!.g,
      p: Buffer.from(a!.p),
    });
  return new Api.account.Password({
    hasPassword: res.hasPassword,
    currentAlgo: res.currentAlgo ? algo(res.currentAlgo) : undefined,
    srp_B: res.hasPassword ? Buffer.from(res.srpB) : undefined,
    srpId: res.hasPassword ? bigInt(res.srpId.toString()) : undefined,
    hint: res.hint,
    newAlgo: algo(res.newAlgo),
    newSecureAlgo: new Api.SecurePasswordKdfAlgoUnknown(),
    secureRandom: Buffer.from(res.secureRandom),
  });
}

/** GramJS's computeCheck for the current password, as the service's PasswordCheck. */
async function proof(res: GetPasswordResponse, password: string): Promise<PasswordCheck> {
  const c = await computeCheck(gramjsPassword(res), password);
  return { srpId: BigInt(c.srpId.toString()), a: Buffer.from(c.A), m1: Buffer.from(c.M1) };
}

/** A new password's settings as GramJS's updateTwoFaSettings makes them (salt1 extended by 32 bytes). */
async function newSettings(res: GetPasswordResponse, password: string, hint = '') {
  const salt1 = Buffer.concat([Buffer.from(res.newAlgo!.salt1), randomBytes(32)]);
  const newAlgo = { ...res.newAlgo!, salt1 };
  const kdf = gramjsPassword({ ...res, newAlgo })
    .newAlgo as Api.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow;
  return {
    changePassword: true,
    newAlgo,
    newPasswordHash: Buffer.from(await computeDigest(kdf, password)),
    hint,
    hasSecureSettings: false,
  };
}

async function telegramError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'answered';
  } catch (err) {
    if (err instanceof TernError) return err.telegramName;
    throw err;
  }
}

const update = (
  req: Omit<
    UpdatePasswordSettingsRequest,
    'newPasswordHash' | 'hint' | 'changePassword' | 'hasSecureSettings'
  > &
    Partial<UpdatePasswordSettingsRequest>,
) => ({
  changePassword: false,
  newPasswordHash: Buffer.alloc(0),
  hint: '',
  hasSecureSettings: false,
  ...req,
});

describe('two-step verification', () => {
  it('sets a password, logs a waiting key in with it, and refuses a wrong one', async () => {
    const { h, passwords, bound } = setup();
    const none = await h.getPassword({ context: context(USER) }, undefined as never);
    expect(none.hasPassword).toBe(false);
    await h.updatePasswordSettings(
      update({ context: context(USER), ...(await newSettings(none, 'hunter2', 'the usual')) }),
      undefined as never,
    );

    // auth.signIn stopped at SESSION_PASSWORD_NEEDED for key 901 (api/login.ts records this).
    await passwords.savePendingLogin(901n, USER);
    const login = context(0n, 901n);
    const wrong = await h.getPassword({ context: login }, undefined as never);
    expect(wrong.hasPassword).toBe(true);
    expect(wrong.hint).toBe('the usual');
    expect(
      await telegramError(
        h.checkPassword({ context: login, password: await proof(wrong, 'hunter3') }, undefined as never),
      ),
    ).toBe('PASSWORD_HASH_INVALID');
    expect(bound).toEqual([]);

    const right = await h.getPassword({ context: login }, undefined as never);
    const p = await proof(right, 'hunter2');
    const res = await h.checkPassword({ context: login, password: p }, undefined as never);
    expect(res.authorization?.user?.id).toBe(USER);
    expect(bound.map((b) => [b.authKeyId, b.userId])).toEqual([[901n, USER]]);
    expect(passwords.pending.size).toBe(0);
    // The right try was taken back; the wrong one counts.
    expect(passwords.checks.length).toBe(1);
    // The same proof again: the srp_id was consumed.
    expect(
      await telegramError(h.checkPassword({ context: context(USER, 901n), password: p }, undefined as never)),
    ).toBe('SRP_ID_INVALID');
  });

  it('answers AUTH_KEY_UNREGISTERED / AUTH_RESTART to a key that is neither logged in nor waiting', async () => {
    const { h } = setup();
    expect(await telegramError(h.getPassword({ context: context(0n, 1n) }, undefined as never))).toBe(
      'AUTH_KEY_UNREGISTERED',
    );
    expect(await telegramError(h.checkPassword({ context: context(0n, 1n) }, undefined as never))).toBe(
      'AUTH_RESTART',
    );
  });

  it('changes the password only with the current one, and then old srp_ids are SRP_PASSWORD_CHANGED', async () => {
    const { h } = setup();
    const none = await h.getPassword({ context: context(USER) }, undefined as never);
    await h.updatePasswordSettings(
      update({ context: context(USER), ...(await newSettings(none, 'one')) }),
      undefined as never,
    );

    const first = await h.getPassword({ context: context(USER) }, undefined as never);
    const stale = await h.getPassword({ context: context(USER) }, undefined as never);
    // No proof at all, then a wrong one.
    expect(
      await telegramError(
        h.updatePasswordSettings(
          update({ context: context(USER), ...(await newSettings(first, 'two')) }),
          undefined as never,
        ),
      ),
    ).toBe('PASSWORD_HASH_INVALID');
    expect(
      await telegramError(
        h.updatePasswordSettings(
          update({
            context: context(USER),
            password: await proof(first, 'uno'),
            ...(await newSettings(first, 'two')),
          }),
          undefined as never,
        ),
      ),
    ).toBe('PASSWORD_HASH_INVALID');
    const again = await h.getPassword({ context: context(USER) }, undefined as never);
    await h.updatePasswordSettings(
      update({
        context: context(USER),
        password: await proof(again, 'one'),
        ...(await newSettings(again, 'two')),
      }),
      undefined as never,
    );
    expect(
      await telegramError(
        h.checkPassword({ context: context(USER), password: await proof(stale, 'one') }, undefined as never),
      ),
    ).toBe('SRP_PASSWORD_CHANGED');
    const now = await h.getPassword({ context: context(USER) }, undefined as never);
    await expect(
      h.checkPassword({ context: context(USER), password: await proof(now, 'two') }, undefined as never),
    ).resolves.toMatchObject({ authorization: { user: { id: USER } } });
  });

  it('removes the password (empty new_password_hash, as GramJS sends it), after which none is asked', async () => {
    const { h, profile } = setup();
    const none = await h.getPassword({ context: context(USER) }, undefined as never);
    await h.updatePasswordSettings(
      update({ context: context(USER), ...(await newSettings(none, 'pw')) }),
      undefined as never,
    );
    const cur = await h.getPassword({ context: context(USER) }, undefined as never);
    await h.updatePasswordSettings(
      update({
        context: context(USER),
        password: await proof(cur, 'pw'),
        changePassword: true,
        newAlgo: cur.newAlgo,
      }),
      undefined as never,
    );
    expect(profile.password).toBeUndefined();
    expect((await h.getPassword({ context: context(USER) }, undefined as never)).hasPassword).toBe(false);
  });

  it('refuses a recovery email, Passport settings and foreign groups or salts before any try is counted', async () => {
    const { h, passwords } = setup();
    const none = await h.getPassword({ context: context(USER) }, undefined as never);
    const good = await newSettings(none, 'pw');
    const ask = (req: Partial<UpdatePasswordSettingsRequest>) =>
      telegramError(
        h.updatePasswordSettings(update({ context: context(USER), ...good, ...req }), undefined as never),
      );
    expect(await ask({ email: 'a@example.com' })).toBe('EMAIL_NOT_ALLOWED');
    expect(await ask({ hasSecureSettings: true })).toBe('NEW_SETTINGS_INVALID');
    expect(await ask({ newAlgo: { ...good.newAlgo, salt1: Buffer.from(none.newAlgo!.salt1) } })).toBe(
      'NEW_SALT_INVALID',
    );
    expect(await ask({ newAlgo: { ...good.newAlgo, g: 2 } })).toBe('NEW_SALT_INVALID');
    expect(await ask({ newPasswordHash: Buffer.alloc(256, 0) })).toBe('NEW_SETTINGS_INVALID');
    expect(await ask({ hint: 'x'.repeat(200) })).toBe('NEW_SETTINGS_INVALID');
    expect(await ask({ email: '' })).toBe('answered'); // removing an email there is not
    expect(passwords.checks).toEqual([]);
  });

  it('refuses a change while a move freezes the account (FLOOD_WAIT_3)', async () => {
    const { h, passwords } = setup();
    const none = await h.getPassword({ context: context(USER) }, undefined as never);
    passwords.movingTo = 2;
    expect(
      await telegramError(
        h.updatePasswordSettings(
          update({ context: context(USER), ...(await newSettings(none, 'pw')) }),
          undefined as never,
        ),
      ),
    ).toBe('FLOOD_WAIT_3');
  });

  it(`limits wrong passwords to ${PASSWORD_TRIES_PER_WINDOW} per window, even in a parallel burst`, async () => {
    const { h } = setup();
    const none = await h.getPassword({ context: context(USER) }, undefined as never);
    await h.updatePasswordSettings(
      update({ context: context(USER), ...(await newSettings(none, 'pw')) }),
      undefined as never,
    );
    const exchanges = await Promise.all(
      Array.from({ length: PASSWORD_TRIES_PER_WINDOW + 3 }, () =>
        h.getPassword({ context: context(USER) }, undefined as never),
      ),
    );
    const proofs = await Promise.all(exchanges.map((e) => proof(e, 'guess')));
    const answers = await Promise.all(
      proofs.map((p) =>
        telegramError(h.checkPassword({ context: context(USER), password: p }, undefined as never)),
      ),
    );
    expect(answers.filter((a) => a === 'PASSWORD_HASH_INVALID')).toHaveLength(PASSWORD_TRIES_PER_WINDOW);
    expect(answers.filter((a) => /^FLOOD_WAIT_\d+$/.test(a))).toHaveLength(3);
    // Even the right password waits now.
    const right = await h.getPassword({ context: context(USER) }, undefined as never);
    expect(
      await telegramError(
        h.checkPassword({ context: context(USER), password: await proof(right, 'pw') }, undefined as never),
      ),
    ).toMatch(/^FLOOD_WAIT_\d+$/);
  });

  it('auth.signIn with the right code for an account with a password: SESSION_PASSWORD_NEEDED, key not bound', async () => {
    const { passwords, profile } = setup();
    profile.password = {
      salt1: Buffer.alloc(40),
      salt2: Buffer.alloc(16),
      g: 3,
      p: Buffer.alloc(256),
      verifier: Buffer.alloc(256, 1),
      hint: '',
      version: Buffer.alloc(16),
      setAtMs: 0n,
    };
    const bound: unknown[] = [];
    const deleted: string[] = [];
    const code = {
      hash: 'h',
      phone: profile.phone,
      authKeyId: KEY,
      code: '11111',
      expiresAt: Date.now() / 1000 + 60,
      verified: false,
    };
    const login = loginHandlers({
      dcId: 1,
      testMode: true,
      directory: {
        byPhone: () => Promise.resolve({ userId: USER, phone: profile.phone, homeDc: 1 }),
      } as unknown as Directory,
      store: {
        code: () => Promise.resolve(code),
        countCodeCheck: () => Promise.resolve(1),
        deleteCode: (h: string) => (deleted.push(h), Promise.resolve()),
        profile: () => Promise.resolve(profile),
      } as unknown as LoginStore,
      authorizations: {
        bind: (b: unknown) => (bound.push(b), Promise.resolve()),
      } as unknown as AuthorizationStore,
      delivery: { send: () => Promise.resolve() },
      placement: { dcFor: () => undefined } as never,
      codesPerHour: 5,
      passwords,
    });
    const answer = await telegramError(
      login.signIn(
        { context: context(0n), phoneNumber: profile.phone, phoneCodeHash: 'h', phoneCode: '11111' },
        undefined as never,
      ),
    );
    expect(answer).toBe('SESSION_PASSWORD_NEEDED');
    expect(bound).toEqual([]);
    expect(deleted).toEqual(['h']); // the code is spent: the password is the next step
    expect(passwords.pending.get(KEY)).toBe(USER);
  });
});
