/**
 * The method table's contract: every method declares what it needs, and the dispatcher alone
 * enforces it (a 'user' method on a key that is not logged in never reaches its handler).
 */
import { toTelegramRpcError } from '../../../shared/src';
import type { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import { RATE_CLASSES, RateLimits, type RateClass, type RateLimitSpec } from '../limits/rate-limits';
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

/**
 * Deps whose only backend is `auth`: a handler that got to call anything else would fail. No rate
 * limits unless given.
 */
function deps(auth: AuthServiceClient, limits = new RateLimits({}, { maxKeys: 100 })): MethodDeps {
  return {
    dcId: 1,
    topology: { testMode: false, dcs: [] },
    auth,
    messaging: {},
    media: {},
    keys: {},
    tl: {},
    limits,
  } as unknown as MethodDeps;
}

function callContext(key: Partial<AuthKeyEntry> = {}, remoteAddress = '127.0.0.9'): CallContext {
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
    remoteAddress,
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

  it('declares the rate class of the calls the issue names, and of no others', () => {
    const expected: Record<string, RateClass> = {
      'auth.sendCode': 'login',
      'auth.resendCode': 'login',
      'auth.signIn': 'login',
      'auth.signUp': 'login',
      'auth.checkPassword': 'login',
      'account.getPassword': 'login',
      'messages.sendMessage': 'send',
      'messages.sendMedia': 'send',
      'messages.forwardMessages': 'send',
      'messages.editMessage': 'send',
      'messages.uploadMedia': 'send',
      'upload.saveFilePart': 'upload',
      'upload.saveBigFilePart': 'upload',
      'contacts.importContacts': 'import',
      'account.checkUsername': 'username',
      'account.updateUsername': 'username',
      'contacts.resolveUsername': 'username',
      'channels.createChannel': 'send',
      'channels.inviteToChannel': 'send',
      'channels.checkUsername': 'username',
      'channels.updateUsername': 'username',
      'messages.checkChatInvite': 'username',
      'messages.importChatInvite': 'username',
      // Creates a channel, like channels.createChannel.
      'messages.migrateChat': 'send',
    };
    const declared = Object.fromEntries(
      Object.entries(METHODS).flatMap(([name, m]) => (m.limit ? [[name, m.limit]] : [])),
    );
    expect(declared).toEqual(expected);
    for (const cls of Object.values(declared)) expect(RATE_CLASSES).toContain(cls);
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

describe('rate limits in the dispatcher', () => {
  /** Limits where only `cls` is limited, with a manual clock (ms). */
  function limited(cls: RateClass, spec: RateLimitSpec[RateClass]) {
    const clock = { now: 0 };
    return { clock, limits: new RateLimits({ [cls]: spec }, { maxKeys: 100, now: () => clock.now }) };
  }
  const floodWait = (p: Promise<unknown>) =>
    p.then(
      () => 'answered',
      (err) => {
        const e = toTelegramRpcError(err);
        return `${e.errorCode} ${e.errorMessage}`;
      },
    );

  it('per auth key: a burst beyond the capacity answers 420 FLOOD_WAIT_X, handler not run', async () => {
    const { auth } = authFor(0n);
    const { clock, limits } = limited('login', {
      key: { capacity: 3, refillPerSecond: 0.5 },
      ip: { capacity: 0, refillPerSecond: 1 },
    });
    const run = jest.fn(() => Promise.resolve({ _: 'auth.sentCode' }));
    const api = methodTable(deps(auth, limits), { 'auth.sendCode': { run, needs: 'none', limit: 'login' } });
    const key = callContext({ id: 100n });
    for (let i = 0; i < 3; i++) expect(await floodWait(api({ _: 'auth.sendCode' }, key))).toBe('answered');
    expect(await floodWait(api({ _: 'auth.sendCode' }, key))).toBe('420 FLOOD_WAIT_2');
    expect(await floodWait(api({ _: 'auth.sendCode' }, key))).toBe('420 FLOOD_WAIT_2');
    expect(run).toHaveBeenCalledTimes(3);
    // Another key from the same address is not limited (the IP scope is off here)...
    expect(await floodWait(api({ _: 'auth.sendCode' }, callContext({ id: 101n })))).toBe('answered');
    // ...and a temporary key bound to the first key counts as it.
    const bound = callContext({ id: 102n, temporary: true, permAuthKeyId: 100n });
    expect(await floodWait(api({ _: 'auth.sendCode' }, bound))).toBe('420 FLOOD_WAIT_2');
    // The wait rounds up: 1.5 s later a quarter token is missing, 0.5 s of refill → FLOOD_WAIT_1.
    clock.now = 1500;
    expect(await floodWait(api({ _: 'auth.sendCode' }, key))).toBe('420 FLOOD_WAIT_1');
    clock.now = 2000;
    expect(await floodWait(api({ _: 'auth.sendCode' }, key))).toBe('answered');
    expect(run).toHaveBeenCalledTimes(5);
  });

  it('per client address: many keys from one address share its larger bucket', async () => {
    const { auth } = authFor(42n);
    const { limits } = limited('send', {
      key: { capacity: 3, refillPerSecond: 1 },
      ip: { capacity: 5, refillPerSecond: 0.2 },
    });
    const run = jest.fn(() => Promise.resolve(true));
    const api = methodTable(deps(auth, limits), {
      'messages.sendMessage': { run, needs: 'user', limit: 'send' },
    });
    const answers: string[] = [];
    // Three keys × two sends from 198.51.100.7: the address's fifth token is its last.
    for (const id of [1n, 2n, 3n])
      for (let i = 0; i < 2; i++)
        answers.push(
          await floodWait(api({ _: 'messages.sendMessage' }, callContext({ id }, '198.51.100.7'))),
        );
    expect(answers).toEqual(['answered', 'answered', 'answered', 'answered', 'answered', '420 FLOOD_WAIT_5']);
    expect(run).toHaveBeenCalledTimes(5);
    // The same key from another address has its own address bucket; its key bucket still has one.
    expect(await floodWait(api({ _: 'messages.sendMessage' }, callContext({ id: 3n }, '203.0.113.1')))).toBe(
      'answered',
    );
    // IPv6: one /64 is one client network.
    for (let i = 0; i < 5; i++)
      await api({ _: 'messages.sendMessage' }, callContext({ id: BigInt(10 + i) }, `2001:db8:1:2::${i + 1}`));
    expect(
      await floodWait(api({ _: 'messages.sendMessage' }, callContext({ id: 20n }, '2001:db8:1:2:ffff::9'))),
    ).toBe('420 FLOOD_WAIT_5');
    expect(
      await floodWait(api({ _: 'messages.sendMessage' }, callContext({ id: 21n }, '2001:db8:1:3::1'))),
    ).toBe('answered');
  });

  it('a call refused by one bucket takes nothing from the other', async () => {
    const { auth } = authFor(42n);
    const { clock, limits } = limited('upload', {
      key: { capacity: 2, refillPerSecond: 1 },
      ip: { capacity: 3, refillPerSecond: 1 },
    });
    const run = jest.fn(() => Promise.resolve(true));
    const api = methodTable(deps(auth, limits), {
      'upload.saveFilePart': { run, needs: 'user', limit: 'upload' },
    });
    const a = callContext({ id: 1n });
    const b = callContext({ id: 2n });
    await api({ _: 'upload.saveFilePart' }, a);
    await api({ _: 'upload.saveFilePart' }, a);
    // Key a is empty: its refusals do not drain the address.
    for (let i = 0; i < 10; i++)
      expect(await floodWait(api({ _: 'upload.saveFilePart' }, a))).toBe('420 FLOOD_WAIT_1');
    expect(await floodWait(api({ _: 'upload.saveFilePart' }, b))).toBe('answered');
    expect(await floodWait(api({ _: 'upload.saveFilePart' }, b))).toBe('420 FLOOD_WAIT_1');
    expect(run).toHaveBeenCalledTimes(3);
    clock.now = 1000;
    expect(await floodWait(api({ _: 'upload.saveFilePart' }, b))).toBe('answered');
  });

  it('never limits a method without a class, nor a class whose capacities are 0', async () => {
    const { auth } = authFor(42n);
    const tight = { capacity: 1, refillPerSecond: 0.001 };
    const spec = Object.fromEntries(RATE_CLASSES.map((c) => [c, { key: tight, ip: tight }]));
    spec.username = { key: { capacity: 0, refillPerSecond: 1 }, ip: { capacity: 0, refillPerSecond: 1 } };
    const limits = new RateLimits(spec, { maxKeys: 100, now: () => 0 });
    const run = jest.fn(() => Promise.resolve(true));
    const table: Record<string, Method> = {
      'messages.getHistory': { run, needs: 'user' },
      'account.checkUsername': { run, needs: 'user', limit: 'username' },
    };
    const api = methodTable(deps(auth, limits), table);
    for (let i = 0; i < 200; i++) {
      await api({ _: 'messages.getHistory' }, callContext());
      await api({ _: 'account.checkUsername' }, callContext());
    }
    expect(run).toHaveBeenCalledTimes(400);
    // Every unclassed method of the real table, called on a key and address whose buckets are empty.
    for (const cls of RATE_CLASSES) limits.take(cls, { authKeyId: 9n, address: '127.0.0.9' });
    expect(limits.take('send', { authKeyId: 9n, address: '127.0.0.9' })).toBeGreaterThan(0);
    const unclassed = Object.keys(METHODS).filter((name) => !METHODS[name]!.limit);
    expect(unclassed.length).toBeGreaterThan(30);
    for (const name of unclassed) {
      const runIt = jest.fn(() => Promise.resolve(true));
      const one = methodTable(deps(auth, limits), { [name]: { ...METHODS[name]!, run: runIt } });
      const answer = await floodWait(one({ _: name }, callContext({ temporary: true })));
      expect([name, answer]).toEqual([name, 'answered']);
      expect(runIt).toHaveBeenCalledTimes(1);
    }
  });

  it('checks the login before the limit: a key not logged in gets 401 and spends nothing', async () => {
    const { auth } = authFor(0n);
    const { limits } = limited('send', {
      key: { capacity: 1, refillPerSecond: 0.001 },
      ip: { capacity: 1, refillPerSecond: 0.001 },
    });
    const api = methodTable(deps(auth, limits));
    for (let i = 0; i < 3; i++)
      expect(await floodWait(api({ _: 'messages.sendMessage' }, callContext()))).toBe(
        '401 AUTH_KEY_UNREGISTERED',
      );
    expect(limits.size('send', 'key')).toBe(0);
    expect(limits.size('send', 'ip')).toBe(0);
  });
});
