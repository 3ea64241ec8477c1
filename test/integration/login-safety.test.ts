/**
 * Login codes under attack and sign-ups that fail half-way, against the stack's real auth service
 * and Cassandra:
 *   - a burst of parallel wrong guesses on one code gets at most CODE_MAX_ATTEMPTS comparisons,
 *   - parallel code requests for one number get at most the hourly share,
 *   - a signUp that fails after any of its writes leaves nothing that blocks the phone, and the
 *     retry with the same code finishes one account (the failure is injected into the real stores).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { Client as CassandraClient } from 'cassandra-driver';
import { errorDetailFrom } from '../../services/shared/src';
import {
  AuthServiceClient,
  SendCodeRequest,
  SignInRequest,
} from '../../services/shared/src/gen/tern/auth/v1/auth';
import type { RequestContext } from '../../services/shared/src/gen/tern/common/v1/context';
import { CODE_MAX_ATTEMPTS, loginHandlers, type LoginDeps } from '../../services/auth/src/api/login';
import { Directory } from '../../services/auth/src/storage/directory';
import { LoginStore } from '../../services/auth/src/storage/login';
import { AuthorizationStore } from '../../services/auth/src/storage/authorizations';
import { Placement } from '../../services/auth/src/internal/placement';
import { asService, stack, stackCassandra } from '../support/stack';

const s = stack();

/** A fresh test number of DC 1 (99966 1 YYYY; its code is 11111 by definition). */
const randomTestNumber = () => `999661${String(randomInt(0, 10_000)).padStart(4, '0')}`;
const contextFor = (authKeyId: bigint): RequestContext => ({
  authKeyId,
  sessionId: 1n,
  userId: 0n,
  dcId: 1,
  layer: 198,
  clientIp: '127.0.0.1',
  msgId: 0n,
});

/** A unary call with a deadline long enough for a burst of a thousand on two cores. */
function call<Res>(client: AuthServiceClient, method: 'sendCode' | 'signIn', req: object): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client[method] as (...a: unknown[]) => void).bind(client);
    // Complete messages (every scalar set), as a generated client would send them.
    fn(
      method === 'sendCode' ? SendCodeRequest.fromPartial(req) : SignInRequest.fromPartial(req),
      new Metadata(),
      { deadline: new Date(Date.now() + 120_000) },
      (err: ServiceError | null, res: Res) => (err ? reject(err) : resolve(res)),
    );
  });
}
const telegramName = (err: unknown) =>
  errorDetailFrom(err as ServiceError)?.message ?? `gRPC ${(err as ServiceError).code}`;

describe('login codes and sign-up under concurrency and failure', () => {
  const auth = new AuthServiceClient(s.dcs[0]!.services.auth, asService(s, 'gateway', 1));
  let directoryDb: CassandraClient;
  beforeAll(async () => {
    directoryDb = await stackCassandra(s, 1, 'global');
  });
  afterAll(async () => {
    auth.close();
    await directoryDb.shutdown();
  });

  /**
   * A DC 1 test number nobody has signed up: numbers are random in a space of 10,000 that earlier
   * runs of a long-lived stack fill, and these tests need a new one.
   */
  async function testNumber(): Promise<string> {
    for (let tries = 0; tries < 20; tries++) {
      const phone = randomTestNumber();
      if (!(await new Directory(directoryDb).byPhone(phone))) return phone;
    }
    throw new Error('no unused DC 1 test number in 20 tries');
  }

  it(`1,000 parallel wrong guesses on one code: at most ${CODE_MAX_ATTEMPTS} are compared, then the code is gone`, async () => {
    const phone = await testNumber();
    const context = contextFor(randomBytes(8).readBigInt64LE());
    const sent = await call<{ sentCode: { phoneCodeHash: string } }>(auth, 'sendCode', {
      context,
      phoneNumber: phone,
    });
    const hash = sent.sentCode.phoneCodeHash;
    const answers = await Promise.all(
      Array.from({ length: 1000 }, () =>
        call(auth, 'signIn', { context, phoneNumber: phone, phoneCodeHash: hash, phoneCode: '00000' }).then(
          () => 'SIGNED_IN',
          telegramName,
        ),
      ),
    );
    const counts = new Map<string, number>();
    for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
    // Only two answers exist: a compared wrong guess (INVALID) or a refused one (EXPIRED). The
    // guess that used the last allowed comparison also answers EXPIRED (it burns the code); when
    // every check of the burst is recorded before any is counted, none is compared at all.
    expect(
      [...counts.keys()].filter((a) => a !== 'PHONE_CODE_EXPIRED' && a !== 'PHONE_CODE_INVALID'),
    ).toEqual([]);
    expect(counts.get('PHONE_CODE_EXPIRED')).toBeGreaterThanOrEqual(1000 - (CODE_MAX_ATTEMPTS - 1));
    expect(counts.get('PHONE_CODE_INVALID') ?? 0).toBeLessThanOrEqual(CODE_MAX_ATTEMPTS - 1);
    // The right code no longer works: the burst spent every try.
    const right = await call(auth, 'signIn', {
      context,
      phoneNumber: phone,
      phoneCodeHash: hash,
      phoneCode: '11111',
    }).catch(telegramName);
    expect(right).toBe('PHONE_CODE_EXPIRED');
  }, 180_000);

  it('parallel code requests for one number get at most the hourly share (5), the rest FLOOD_WAIT', async () => {
    const phone = await testNumber();
    const answers = await Promise.all(
      Array.from({ length: 40 }, () =>
        call(auth, 'sendCode', {
          context: contextFor(randomBytes(8).readBigInt64LE()),
          phoneNumber: phone,
        }).then(() => 'SENT', telegramName),
      ),
    );
    expect(answers.filter((a) => a === 'SENT').length).toBeLessThanOrEqual(5);
    expect(answers.filter((a) => a !== 'SENT' && !/^FLOOD_WAIT_\d+$/.test(a))).toEqual([]);
  }, 120_000);

  describe('signUp failing after each of its writes', () => {
    let dcDb: CassandraClient;
    let globalDb: CassandraClient;
    beforeAll(async () => {
      dcDb = await stackCassandra(s, 1, 'dc');
      globalDb = await stackCassandra(s, 1, 'global');
    });
    afterAll(async () => {
      await dcDb.shutdown();
      await globalDb.shutdown();
    });

    const deps = (directory: Directory, store: LoginStore): LoginDeps => ({
      dcId: 1,
      testMode: true,
      directory,
      store,
      authorizations: new AuthorizationStore(dcDb),
      delivery: { send: () => Promise.resolve() },
      placement: new Placement([]),
      codesPerHour: 1000,
    });

    /** `target` whose method `name` fails once, after doing its work (the reply is lost). */
    function failingOnce<T extends object>(target: T, name: string): T {
      let failed = false;
      return new Proxy(target, {
        get(t, prop, receiver) {
          const v: unknown = Reflect.get(t, prop, receiver);
          if (typeof v !== 'function') return v;
          const method = v as (...a: unknown[]) => Promise<unknown>;
          if (prop !== name) return method.bind(t);
          return async (...args: unknown[]) => {
            const result = await method.apply(t, args);
            if (!failed) {
              failed = true;
              throw new Error(`injected failure after ${name}`);
            }
            return result;
          };
        },
      });
    }

    const steps: Array<['directory' | 'store', string]> = [
      ['directory', 'claimId'],
      ['store', 'claimPendingUser'],
      ['store', 'createProfile'],
      ['directory', 'linkPhone'],
    ];

    it.each(steps)(
      'after %s.%s: the retry finishes one account and the phone is not blocked',
      async (where, name) => {
        const directory = new Directory(globalDb);
        const store = new LoginStore(dcDb, 300);
        const healthy = loginHandlers(deps(directory, store));
        const broken = loginHandlers(
          deps(
            where === 'directory' ? failingOnce(directory, name) : directory,
            where === 'store' ? failingOnce(store, name) : store,
          ),
        );
        const phone = await testNumber();
        const context = contextFor(randomBytes(8).readBigInt64LE());
        const { sentCode } = await healthy.sendCode(
          { context, phoneNumber: phone, apiId: 1, apiHash: '' },
          undefined as never,
        );
        const signIn = await healthy.signIn(
          { context, phoneNumber: phone, phoneCodeHash: sentCode!.phoneCodeHash, phoneCode: '11111' },
          undefined as never,
        );
        expect(signIn.result?.$case).toBe('signUpRequired');
        const signUp = {
          context,
          phoneNumber: phone,
          phoneCodeHash: sentCode!.phoneCodeHash,
          firstName: 'Ada',
          lastName: '',
        };

        await expect(broken.signUp(signUp, undefined as never)).rejects.toThrow(
          `injected failure after ${name}`,
        );
        const first = await healthy.signUp(signUp, undefined as never);
        const again = await healthy.signUp(signUp, undefined as never);
        const userId = first.authorization!.user!.id;
        expect(again.authorization!.user!.id).toBe(userId);
        expect((await directory.byPhone(phone))?.userId).toBe(userId);
        expect((await store.profile(userId))?.firstName).toBe('Ada');
      },
      60_000,
    );
  });

  it('a signIn on an unknown hash is refused without a trace of it (status class kept)', async () => {
    const err = (await call(auth, 'signIn', {
      context: contextFor(1n),
      phoneNumber: await testNumber(),
      phoneCodeHash: 'nope',
      phoneCode: '11111',
    }).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetailFrom(err)?.message).toBe('PHONE_CODE_EXPIRED');
  });
});
