/**
 * The method table's contract: every method declares what it needs, and the dispatcher alone
 * enforces it (a 'user' method on a key that is not logged in never reaches its handler).
 */
import { toTelegramRpcError } from '../../../shared/src';
import type { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { CallContext } from '../mtproto/invocation';
import type { AuthKeyEntry, Session } from '../mtproto/sessions';
import { METHODS, methodTable, type Method, type MethodDeps, type Needs } from './methods';

/** An auth service that knows one thing: which user the key is logged in as. */
function authFor(userId: bigint) {
  const asked: bigint[] = [];
  const auth = {
    getAuthKeyUser: (
      req: { authKeyId: bigint },
      _md: unknown,
      _opts: unknown,
      cb: (err: Error | null, res: { userId: bigint }) => void,
    ) => {
      asked.push(req.authKeyId);
      cb(null, { userId });
    },
  } as unknown as AuthServiceClient;
  return { auth, asked };
}

/** Deps whose only backend is `auth`: a handler that got to call anything else would fail. */
function deps(auth: AuthServiceClient): MethodDeps {
  return {
    dcId: 1,
    topology: { testMode: false, dcs: [] },
    auth,
    messaging: {},
    media: {},
    keys: {},
    tl: {},
  } as unknown as MethodDeps;
}

function callContext(key: Partial<AuthKeyEntry> = {}): CallContext {
  const authKey = {
    id: 9n,
    idBytes: Buffer.alloc(8),
    key: Buffer.alloc(256),
    temporary: false,
    expiresAt: 0,
    ...key,
  };
  return {
    msgId: 4n,
    session: { id: 5n } as Session,
    authKey,
    layer: 198,
    remoteAddress: '127.0.0.9',
  };
}

const rpcError = (p: Promise<unknown>) => p.then(() => undefined, toTelegramRpcError);

const NEEDS: readonly Needs[] = ['none', 'user', 'temp-key'];
const userMethods = Object.keys(METHODS).filter((name) => METHODS[name]!.needs === 'user');

describe('method table', () => {
  it('declares what every method needs, and is sorted by name (so by namespace)', () => {
    const names = Object.keys(METHODS);
    expect(names).toEqual([...names].sort());
    for (const method of Object.values(METHODS)) {
      expect(NEEDS).toContain(method.needs);
      expect(typeof method.run).toBe('function');
    }
    // Calls a client makes before it has logged in.
    for (const name of [
      'auth.sendCode',
      'auth.signIn',
      'auth.signUp',
      'auth.importAuthorization',
      'help.getConfig',
    ])
      expect(METHODS[name]!.needs).toBe('none');
  });

  it.each(userMethods)(
    '%s on a key not logged in: 401 AUTH_KEY_UNREGISTERED, handler not run',
    async (name) => {
      const run = jest.fn();
      const table: Record<string, Method> = { [name]: { ...METHODS[name]!, run } };
      const { auth } = authFor(0n);
      expect(await rpcError(methodTable(deps(auth), table)({ _: name }, callContext()))).toEqual({
        errorCode: 401,
        errorMessage: 'AUTH_KEY_UNREGISTERED',
      });
      expect(run).not.toHaveBeenCalled();
      // The real table answers the same (its handlers would fail differently: they have no backends).
      expect(await rpcError(methodTable(deps(auth))({ _: name }, callContext()))).toEqual({
        errorCode: 401,
        errorMessage: 'AUTH_KEY_UNREGISTERED',
      });
    },
  );

  it('runs a user method for a logged-in key, asking the auth service once per call', async () => {
    const { auth, asked } = authFor(42n);
    const run = jest.fn(() => Promise.resolve(true));
    const api = methodTable(deps(auth), { 'messages.setTyping': { run, needs: 'user' } });
    const ctx = callContext({ permAuthKeyId: 77n });
    await expect(api({ _: 'messages.setTyping' }, ctx)).resolves.toBe(true);
    expect(run).toHaveBeenCalledTimes(1);
    expect(asked).toEqual([77n]);
    expect(ctx.authKey.userId).toBe(42n);
  });

  it("runs a 'none' method without asking who the key belongs to", async () => {
    const { auth, asked } = authFor(0n);
    const api = methodTable(deps(auth));
    await expect(api({ _: 'help.getNearestDc' }, callContext())).resolves.toMatchObject({
      _: 'nearestDc',
      this_dc: 1,
    });
    expect(asked).toEqual([]);
  });

  it('auth.bindTempAuthKey on a permanent key: 400 TEMP_AUTH_KEY_EMPTY, handler not run', async () => {
    const run = jest.fn();
    const { auth } = authFor(0n);
    const api = methodTable(deps(auth), {
      'auth.bindTempAuthKey': { ...METHODS['auth.bindTempAuthKey']!, run },
    });
    expect(await rpcError(api({ _: 'auth.bindTempAuthKey' }, callContext()))).toEqual({
      errorCode: 400,
      errorMessage: 'TEMP_AUTH_KEY_EMPTY',
    });
    expect(run).not.toHaveBeenCalled();
  });

  it('answers a method not in the table with 501 METHOD_NOT_IMPLEMENTED', async () => {
    const { auth, asked } = authFor(42n);
    expect(await rpcError(methodTable(deps(auth))({ _: 'stories.getAllStories' }, callContext()))).toEqual({
      errorCode: 501,
      errorMessage: 'METHOD_NOT_IMPLEMENTED',
    });
    expect(asked).toEqual([]);
  });
});
