/**
 * Sign-up and sign-in as a real client does it (GramJS `client.start`), across DCs: a test number
 * 99966XYYYY belongs to DC X, so asking DC 1 for a DC 2 number is answered with PHONE_MIGRATE_2 and
 * the client carries on at DC 2 by itself.
 */
import { createPublicKey, randomInt } from 'node:crypto';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import type { Api as GramApi } from 'telegram';
import { gramClient, trustKey } from './support/gramjs';
import { unusedTestNumber } from './support/direct';
import { mtcuteProbe } from './support/mtcute';
import { LOCAL_CODE_TTL_SECONDS } from '../../tools/stack/plan';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));
trustKey('teleproto', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

/** A fresh test number of DC `dc` (99966XYYYY), so runs never collide. */
const testNumber = (dc: number) => `99966${dc}${String(randomInt(0, 10_000)).padStart(4, '0')}`;

describe('login across DCs (GramJS)', () => {
  let phone: string;
  beforeAll(async () => {
    phone = await unusedTestNumber(s, 2);
  });

  it('signs up a DC 2 test number asked on DC 1: PHONE_MIGRATE_2, then sign-up at DC 2', async () => {
    const { client } = gramClient({ lib: 'telegram', dc: s.dcs[0]! });
    try {
      await client.start({
        phoneNumber: phone,
        phoneCode: () => Promise.resolve('22222'),
        firstAndLastNames: () => Promise.resolve(['Ada', 'Lovelace']),
        onError: (err) => {
          throw err;
        },
      });
      const me = await client.getMe();
      expect(me.phone).toBe(phone);
      expect(me.firstName).toBe('Ada');
      expect(me.self).toBe(true);
      expect(client.session.dcId).toBe(2);
    } finally {
      await client.destroy();
    }
  });

  it('signs the same number in again from a new device, without sign-up, and rejects a wrong code', async () => {
    const { client, Api } = gramClient({ lib: 'telegram', dc: s.dcs[1]! });
    try {
      await client.connect();
      const sent = (await client.invoke(
        new Api.auth.SendCode({
          phoneNumber: phone,
          apiId: 12345,
          apiHash: '0123456789abcdef0123456789abcdef',
          settings: new Api.CodeSettings({}),
        }),
      )) as GramApi.auth.SentCode;
      await expect(
        client.invoke(
          new Api.auth.SignIn({ phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash, phoneCode: '12345' }),
        ),
      ).rejects.toMatchObject({ errorMessage: 'PHONE_CODE_INVALID' });
      const auth = await client.invoke(
        new Api.auth.SignIn({ phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash, phoneCode: '22222' }),
      );
      expect(auth.className).toBe('auth.Authorization');
      const me = await client.getMe();
      expect(me.firstName).toBe('Ada');
    } finally {
      await client.destroy();
    }
  });

  it('moves the login to DC 3 with exportAuthorization/importAuthorization, bytes single-use', async () => {
    const home = gramClient({ lib: 'telegram', dc: s.dcs[1]! });
    const other = gramClient({ lib: 'telegram', dc: s.dcs[2]! });
    try {
      await home.client.connect();
      const sent = (await home.client.invoke(
        new home.Api.auth.SendCode({
          phoneNumber: phone,
          apiId: 12345,
          apiHash: '0123456789abcdef0123456789abcdef',
          settings: new home.Api.CodeSettings({}),
        }),
      )) as GramApi.auth.SentCode;
      await home.client.invoke(
        new home.Api.auth.SignIn({
          phoneNumber: phone,
          phoneCodeHash: sent.phoneCodeHash,
          phoneCode: '22222',
        }),
      );
      await expect(
        home.client.invoke(new home.Api.auth.ExportAuthorization({ dcId: 2 })),
      ).rejects.toMatchObject({ errorMessage: 'DC_ID_INVALID' });
      const exported = await home.client.invoke(new home.Api.auth.ExportAuthorization({ dcId: 3 }));

      await other.client.connect();
      await expect(other.client.invoke(new other.Api.updates.GetState())).rejects.toMatchObject({
        errorMessage: 'AUTH_KEY_UNREGISTERED',
      });
      const imported = await other.client.invoke(
        new other.Api.auth.ImportAuthorization({ id: exported.id, bytes: exported.bytes }),
      );
      expect(imported.className).toBe('auth.Authorization');
      expect((imported as GramApi.auth.Authorization).user.id.toString()).toBe(exported.id.toString());
      // Now authorized on DC 3 (for what DC 3 keeps: its devices; account data stays at home).
      const devices = await other.client.invoke(new other.Api.account.GetAuthorizations());
      expect(devices.authorizations.filter((a) => a.current)).toHaveLength(1);
      await expect(
        other.client.invoke(
          new other.Api.auth.ImportAuthorization({ id: exported.id, bytes: exported.bytes }),
        ),
      ).rejects.toMatchObject({ errorMessage: 'AUTH_BYTES_INVALID' });
    } finally {
      await home.client.destroy();
      await other.client.destroy();
    }
  });

  it('answers an unregistered key with AUTH_KEY_UNREGISTERED and a bad number with PHONE_NUMBER_INVALID', async () => {
    const { client, Api } = gramClient({ lib: 'telegram', dc: s.dcs[2]! });
    try {
      await client.connect();
      await expect(client.invoke(new Api.updates.GetState())).rejects.toMatchObject({
        errorMessage: 'AUTH_KEY_UNREGISTERED',
      });
      await expect(
        client.invoke(
          new Api.auth.SendCode({
            phoneNumber: '12ab',
            apiId: 1,
            apiHash: 'x',
            settings: new Api.CodeSettings({}),
          }),
        ),
      ).rejects.toMatchObject({ errorMessage: 'PHONE_NUMBER_INVALID' });
    } finally {
      await client.destroy();
    }
  });
});

describe('expired login codes (GramJS)', () => {
  const API = { apiId: 12345, apiHash: '0123456789abcdef0123456789abcdef' };

  it('answers PHONE_CODE_EXPIRED once the code outlived TERN_AUTH_CODE_TTL_SECONDS, and creates nothing', async () => {
    let phone = testNumber(1);
    const { client, Api } = gramClient({ lib: 'telegram', dc: s.dcs[0]! });
    const sendCode = async () =>
      (
        (await client.invoke(
          new Api.auth.SendCode({ phoneNumber: phone, ...API, settings: new Api.CodeSettings({}) }),
        )) as GramApi.auth.SentCode
      ).phoneCodeHash;
    const signIn = (phoneCodeHash: string) =>
      client.invoke(new Api.auth.SignIn({ phoneNumber: phone, phoneCodeHash, phoneCode: '11111' }));
    try {
      await client.connect();
      // One code entered in time (the number is new: sign-up required) but sign-up never sent,
      // and one code never entered at all. Test numbers are random in a space of 10,000 per DC
      // that earlier runs of a long-lived stack fill: a number that is taken signs in, and the
      // test logs out and tries another.
      let entered = await sendCode();
      for (let tries = 1; (await signIn(entered)).className !== 'auth.AuthorizationSignUpRequired'; tries++) {
        await client.invoke(new Api.auth.LogOut());
        if (tries >= 6) throw new Error('no new test number of DC 1 in 6 tries');
        phone = testNumber(1);
        entered = await sendCode();
      }
      const idle = await sendCode();

      await new Promise((r) => setTimeout(r, LOCAL_CODE_TTL_SECONDS * 1000 + 1500));

      await expect(signIn(idle)).rejects.toMatchObject({ errorMessage: 'PHONE_CODE_EXPIRED' });
      await expect(
        client.invoke(
          new Api.auth.SignUp({
            phoneNumber: phone,
            phoneCodeHash: entered,
            firstName: 'Late',
            lastName: '',
          }),
        ),
      ).rejects.toMatchObject({ errorMessage: 'PHONE_CODE_EXPIRED' });

      // Nothing was created: the key is still logged out, and the number is still new.
      await expect(client.invoke(new Api.updates.GetState())).rejects.toMatchObject({
        errorMessage: 'AUTH_KEY_UNREGISTERED',
      });
      expect((await signIn(await sendCode())).className).toBe('auth.AuthorizationSignUpRequired');
    } finally {
      await client.destroy();
    }
  });
});

describe('login with teleproto (layer 214)', () => {
  it('signs up a DC 3 test number asked on DC 2 and signs in again from DC 1, following PHONE_MIGRATE_3', async () => {
    const phone = await unusedTestNumber(s, 3);
    for (const [dc, names] of [
      [1, ['Tele', 'Proto']],
      [0, ['ignored', 'on sign-in']],
    ] as const) {
      const { client } = gramClient({ lib: 'teleproto', dc: s.dcs[dc]! });
      try {
        await client.start({
          phoneNumber: phone,
          phoneCode: () => Promise.resolve('33333'),
          firstAndLastNames: () => Promise.resolve([...names]),
          onError: (err) => {
            throw err;
          },
        });
        const me = await client.getMe();
        expect([me.phone, me.firstName, me.lastName]).toEqual([phone, 'Tele', 'Proto']);
        expect(client.session.dcId).toBe(3);
      } finally {
        await client.destroy();
      }
    }
  });
});

describe('login with mtcute (layer 227)', () => {
  const probe = (dcIndex: number, options: object) => mtcuteProbe(s, dcIndex, options);

  it('signs up a DC 2 number asked on DC 3 (mtcute follows PHONE_MIGRATE_2), then signs in and sets a username', async () => {
    const phone = await unusedTestNumber(s, 2);
    const first = await probe(2, { login: { phone, code: '22222', firstName: 'Mt' } });
    expect(first.fatal).toBeUndefined();
    expect(first.results.login).toMatchObject({ dcId: 2, firstName: 'Mt', signedUp: true });

    const name = `mt_${randomInt(0, 1e9).toString(36)}x`;
    const again = await probe(0, {
      login: { phone, code: '22222', firstName: 'unused' },
      calls: [
        { _: 'account.updateUsername', username: name },
        { _: 'account.updateProfile', about: 'from mtcute' },
        { _: 'auth.signIn', phoneNumber: phone, phoneCodeHash: 'nope', phoneCode: '22222' },
      ],
    });
    expect(again.fatal).toBeUndefined();
    expect(again.results.login).toMatchObject({ dcId: 2, id: first.results.login!.id, signedUp: false });
    expect(again.results['account.updateUsername']!.username).toBe(name);
    expect(again.results['auth.signIn']!.error).toMatch(/PHONE_CODE_EXPIRED/);
  });

  it('moves a login from DC 2 to DC 1 with export/import; the bytes work once', async () => {
    const phone = testNumber(2);
    const home = await probe(1, { login: { phone, code: '22222', firstName: 'Mt' }, exportTo: 1 });
    expect(home.fatal).toBeUndefined();
    const exported = home.results.exported!;
    expect(exported.id).toBe(String(home.results.login!.id));

    const there = await probe(0, { importFrom: exported, calls: ['account.getAuthorizations'] });
    expect(there.fatal).toBeUndefined();
    expect(there.results.imported).toEqual({ dcId: 1 });
    const devices = there.results['account.getAuthorizations'] as unknown as {
      authorizations: Array<{ current?: boolean }>;
    };
    expect(devices.authorizations.map((a) => a.current === true)).toEqual([true]);

    const replay = await probe(0, { importFrom: exported });
    expect(replay.fatal).toMatch(/AUTH_BYTES_INVALID/);
  });
});
