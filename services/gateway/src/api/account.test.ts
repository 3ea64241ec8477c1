/**
 * The two-step verification handlers' translation (account.getPassword,
 * account.updatePasswordSettings, auth.checkPassword): what the auth service is asked, and that the
 * account.password built from its answer encodes at every served layer and reads back in GramJS.
 */
import { Api } from 'telegram';
import { BinaryReader } from 'telegram/extensions';
import type {
  AuthServiceClient,
  CheckPasswordRequest,
  GetPasswordResponse,
  UpdatePasswordSettingsRequest,
} from '../../../shared/src/gen/tern/auth/v1/auth';
import { toTelegramRpcError } from '../../../shared/src';
import { RateLimits } from '../limits/rate-limits';
import type { CallContext } from '../mtproto/invocation';
import type { Session } from '../mtproto/sessions';
import { encodeResultForLayer } from '../tl/downgrade';
import { loadTlRegistry } from '../tl/registry';
import { getPassword, updatePasswordSettings } from './account';
import { checkPassword } from './auth';
import { methodTable, type Method, type MethodDeps } from './methods';

const registry = loadTlRegistry();

const ALGO = 'passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow';
const p = Buffer.alloc(256, 0xc7);

function callContext(userId?: bigint): CallContext {
  return {
    msgId: 4n,
    session: { id: 5n } as Session,
    authKey: {
      id: 9n,
      idBytes: Buffer.alloc(8),
      key: Buffer.alloc(256),
      temporary: false,
      expiresAt: 0,
      ...(userId === undefined ? {} : { userId, userCheckedAt: Date.now() }),
    },
    layer: 198,
    remoteAddress: '127.0.0.9',
  };
}

/** An auth service answering the 2FA RPCs with `answers`, recording the requests. */
function authWith(answers: Record<string, object>) {
  const asked: Record<string, unknown> = {};
  const handler =
    (name: string) =>
    (req: unknown, _md: unknown, _opts: unknown, cb: (err: Error | null, res: object) => void) => {
      asked[name] = req;
      cb(null, answers[name] ?? {});
    };
  const auth = {
    getAuthKeyUser: handler('getAuthKeyUser'),
    getPassword: handler('getPassword'),
    updatePasswordSettings: handler('updatePasswordSettings'),
    checkPassword: handler('checkPassword'),
  } as Partial<Record<keyof AuthServiceClient, unknown>> as AuthServiceClient;
  return { auth, asked };
}

const withPassword: GetPasswordResponse = {
  hasPassword: true,
  currentAlgo: { salt1: Buffer.alloc(40, 1), salt2: Buffer.alloc(16, 2), g: 3, p },
  srpB: Buffer.alloc(256, 5),
  srpId: -77n,
  hint: 'cave',
  newAlgo: { salt1: Buffer.alloc(8, 3), salt2: Buffer.alloc(16, 4), g: 3, p },
  secureRandom: Buffer.alloc(32, 6),
};

describe('two-step verification handlers', () => {
  it.each([true, false])(
    'builds account.password (has_password %s) that every served layer encodes and GramJS reads',
    async (has) => {
      const answer: GetPasswordResponse = has
        ? withPassword
        : {
            ...withPassword,
            hasPassword: false,
            currentAlgo: undefined,
            srpB: Buffer.alloc(0),
            srpId: 0n,
            hint: '',
          };
      const { auth } = authWith({ getAuthKeyUser: { userId: 0n }, getPassword: answer });
      const tl = await getPassword({ _: 'account.getPassword' }, callContext(), { auth, dcId: 1 });
      for (const layer of registry.layers)
        expect(() => encodeResultForLayer('account.getPassword', tl, layer, registry)).not.toThrow();
      const bytes = encodeResultForLayer('account.getPassword', tl, 198, registry);
      const read = new BinaryReader(bytes).tgReadObject() as Api.account.Password;
      expect(Boolean(read.hasPassword)).toBe(has);
      expect(read.newAlgo.className).toBe(
        'PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow',
      );
      if (has) {
        expect(read.hint).toBe('cave');
        expect(read.srpId?.toString()).toBe('-77');
        expect(Buffer.from(read.srp_B!).equals(withPassword.srpB)).toBe(true);
      } else expect(read.currentAlgo ?? undefined).toBeUndefined();
    },
  );

  it('passes the settings of a new password, and tells an email and a removal apart', async () => {
    const { auth, asked } = authWith({ getAuthKeyUser: { userId: 5n } });
    const newAlgo = { _: ALGO, salt1: Buffer.alloc(40, 1), salt2: Buffer.alloc(16, 2), g: 3, p };
    await updatePasswordSettings(
      {
        _: 'account.updatePasswordSettings',
        password: {
          _: 'inputCheckPasswordSRP',
          srp_id: 8n,
          A: Buffer.alloc(256, 1),
          M1: Buffer.alloc(32, 2),
        },
        new_settings: {
          _: 'account.passwordInputSettings',
          new_algo: newAlgo,
          new_password_hash: Buffer.alloc(256, 9),
          hint: 'h',
        },
      },
      callContext(5n),
      { auth, dcId: 1 },
    );
    const req = asked.updatePasswordSettings as UpdatePasswordSettingsRequest;
    expect(req.password?.srpId).toBe(8n);
    expect(req.changePassword).toBe(true);
    expect(req.newAlgo?.g).toBe(3);
    expect(req.newPasswordHash.length).toBe(256);
    expect(req.hint).toBe('h');
    expect(req.email).toBeUndefined();
    expect(req.hasSecureSettings).toBe(false);

    await updatePasswordSettings(
      {
        _: 'account.updatePasswordSettings',
        password: { _: 'inputCheckPasswordEmpty' },
        new_settings: { _: 'account.passwordInputSettings', email: 'a@b.c' },
      },
      callContext(5n),
      { auth, dcId: 1 },
    );
    const email = asked.updatePasswordSettings as UpdatePasswordSettingsRequest;
    expect(email.password).toBeUndefined();
    expect(email.changePassword).toBe(false);
    expect(email.email).toBe('a@b.c');

    await updatePasswordSettings(
      {
        _: 'account.updatePasswordSettings',
        password: { _: 'inputCheckPasswordEmpty' },
        new_settings: {
          _: 'account.passwordInputSettings',
          new_algo: { _: 'passwordKdfAlgoUnknown' },
          new_password_hash: Buffer.alloc(0),
          hint: '',
        },
      },
      callContext(5n),
      { auth, dcId: 1 },
    );
    const removal = asked.updatePasswordSettings as UpdatePasswordSettingsRequest;
    expect(removal.changePassword).toBe(true);
    expect(removal.newAlgo).toBeUndefined();
  });

  it('auth.checkPassword logs the key in as the user the service answers', async () => {
    const user = { id: 5n, accessHash: 1n, firstName: 'T', lastName: '', username: '', phone: '1', dcId: 1 };
    const { auth, asked } = authWith({
      getAuthKeyUser: { userId: 0n },
      checkPassword: { authorization: { user } },
    });
    const ctx = callContext();
    const res = await checkPassword(
      {
        _: 'auth.checkPassword',
        password: {
          _: 'inputCheckPasswordSRP',
          srp_id: 8n,
          A: Buffer.alloc(256, 1),
          M1: Buffer.alloc(32, 2),
        },
      },
      ctx,
      { auth, dcId: 1 },
    );
    expect(res._).toBe('auth.authorization');
    expect(ctx.authKey.userId).toBe(5n);
    expect((asked.checkPassword as CheckPasswordRequest).password?.m1.length).toBe(32);
  });
});

describe('the method-table rows of two-step verification', () => {
  // The rows as they go into METHODS (api/methods.ts): a key whose login waits for the password
  // may ask getPassword and checkPassword; updatePasswordSettings needs a logged-in key.
  const rows: Record<string, Method> = {
    'account.getPassword': { run: getPassword, needs: 'none', limit: 'login' },
    'account.updatePasswordSettings': { run: updatePasswordSettings, needs: 'user' },
    'auth.checkPassword': { run: checkPassword, needs: 'none', limit: 'login' },
  };

  it('lets a key that is not logged in reach getPassword and checkPassword only', async () => {
    const user = { id: 5n, accessHash: 1n, firstName: 'T', lastName: '', username: '', phone: '1', dcId: 1 };
    const { auth, asked } = authWith({
      getAuthKeyUser: { userId: 0n },
      getPassword: withPassword,
      checkPassword: { authorization: { user } },
    });
    const deps = {
      auth,
      dcId: 1,
      limits: new RateLimits({}, { maxKeys: 100 }),
    } as Partial<MethodDeps> as MethodDeps;
    const api = methodTable(deps, rows);
    await expect(api({ _: 'account.getPassword' }, callContext())).resolves.toMatchObject({
      _: 'account.password',
    });
    await expect(
      api({ _: 'auth.checkPassword', password: { _: 'inputCheckPasswordEmpty' } }, callContext()),
    ).resolves.toMatchObject({ _: 'auth.authorization' });
    await expect(
      api({ _: 'account.updatePasswordSettings', new_settings: {} }, callContext()).catch(toTelegramRpcError),
    ).resolves.toEqual({ errorCode: 401, errorMessage: 'AUTH_KEY_UNREGISTERED' });
    expect(asked.updatePasswordSettings).toBeUndefined();
  });
});
