/**
 * What a logged-in GramJS client does with its account: codes resent and cancelled, the hourly
 * code limit, profile and username (unique across DCs, resolvable from any DC), the list of
 * logged-in devices, and ending logins (logOut, resetAuthorization, resetAuthorizations), including
 * a login imported on another DC going with the key it came from.
 */
import { createPublicKey, randomInt } from 'node:crypto';
import type { Api as GramApi } from 'telegram';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { AuthServiceClient, type LookupPhoneResponse } from '../../services/shared/src/gen/tern/auth/v1/auth';
import { asService, stack, unary } from '../support/stack';
import { unusedTestNumber } from './support/direct';
import { gramClient, loggedInClient, rawSend, trustKey } from './support/gramjs';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

/** An ordinary (non-test) number: its code comes from the DC's development code endpoint. */
const ordinaryNumber = () => `1555${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;
const API = { apiId: 12345, apiHash: '0123456789abcdef0123456789abcdef' };

async function devCode(dcIndex: number, phone: string): Promise<string> {
  const res = await fetch(`http://${s.dcs[dcIndex]!.host}:9480/codes/${phone}`);
  if (!res.ok) throw new Error(`no code for ${phone}: HTTP ${res.status}`);
  const body = (await res.json()) as { code: string };
  return body.code;
}

type Gram = ReturnType<typeof gramClient>;

const loggedIn = (dc: number, phone: string, firstName?: string) =>
  loggedInClient(s.dcs, dc, phone, firstName);

const unregistered = { errorMessage: 'AUTH_KEY_UNREGISTERED' };

describe('account and devices (GramJS)', () => {
  const clients: Gram[] = [];
  const keep = (g: Gram) => (clients.push(g), g);
  afterAll(async () => {
    for (const g of clients) await g.client.destroy().catch(() => undefined);
  });

  it('resends a code (the old one stops working), cancels it, and limits codes per hour', async () => {
    const g = keep(gramClient({ lib: 'telegram', dc: s.dcs[0]! }));
    g.client.floodSleepThreshold = 0;
    await g.client.connect();
    const phone = ordinaryNumber();
    const sent = (await g.client.invoke(
      new g.Api.auth.SendCode({ phoneNumber: phone, ...API, settings: new g.Api.CodeSettings({}) }),
    )) as GramApi.auth.SentCode;
    const first = await devCode(0, phone);
    const again = (await g.client.invoke(
      new g.Api.auth.ResendCode({ phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash }),
    )) as GramApi.auth.SentCode;
    expect(again.phoneCodeHash).toBe(sent.phoneCodeHash);
    const second = await devCode(0, phone);
    if (second !== first)
      await expect(
        g.client.invoke(
          new g.Api.auth.SignIn({ phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash, phoneCode: first }),
        ),
      ).rejects.toMatchObject({ errorMessage: 'PHONE_CODE_INVALID' });
    expect(
      await g.client.invoke(
        new g.Api.auth.CancelCode({ phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash }),
      ),
    ).toBe(true);
    await expect(
      g.client.invoke(
        new g.Api.auth.SignIn({ phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash, phoneCode: second }),
      ),
    ).rejects.toMatchObject({ errorMessage: 'PHONE_CODE_EXPIRED' });

    // Two codes went out; the default limit is five an hour.
    for (let i = 0; i < 3; i++)
      await g.client.invoke(
        new g.Api.auth.SendCode({ phoneNumber: phone, ...API, settings: new g.Api.CodeSettings({}) }),
      );
    const flood = await g.client
      .invoke(new g.Api.auth.SendCode({ phoneNumber: phone, ...API, settings: new g.Api.CodeSettings({}) }))
      .then(
        () => undefined,
        (err: { errorMessage?: string; seconds?: number }) => err,
      );
    expect(flood?.errorMessage).toBe('FLOOD');
    expect(flood?.seconds).toBeGreaterThan(3000);
  });

  it('refuses a code after five wrong tries (PHONE_CODE_EXPIRED) and creates nothing', async () => {
    const g = keep(gramClient({ lib: 'telegram', dc: s.dcs[1]! }));
    await g.client.connect();
    const phone = await unusedTestNumber(s, 2);
    const sent = (await g.client.invoke(
      new g.Api.auth.SendCode({ phoneNumber: phone, ...API, settings: new g.Api.CodeSettings({}) }),
    )) as GramApi.auth.SentCode;
    const signIn = (code: string) =>
      g.client.invoke(
        new g.Api.auth.SignIn({ phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash, phoneCode: code }),
      );
    for (let i = 0; i < 4; i++)
      await expect(signIn('11111')).rejects.toMatchObject({ errorMessage: 'PHONE_CODE_INVALID' });
    await expect(signIn('11111')).rejects.toMatchObject({ errorMessage: 'PHONE_CODE_EXPIRED' });
    await expect(signIn('22222')).rejects.toMatchObject({ errorMessage: 'PHONE_CODE_EXPIRED' });
    await expect(signIn('')).rejects.toMatchObject({ errorMessage: 'PHONE_CODE_EMPTY' });
    const auth = new AuthServiceClient(s.dcs[1]!.services.auth, asService(s, 'messaging', 2));
    try {
      const found = await unary<object, LookupPhoneResponse>(auth, 'lookupPhone', { phoneNumbers: [phone] });
      expect(found.entries).toEqual([]);
    } finally {
      auth.close();
    }
  });

  it('updates the profile and a username that is unique across DCs and resolvable from any DC', async () => {
    const alice = keep(await loggedIn(2, await unusedTestNumber(s, 2), 'Alice'));
    const bob = keep(await loggedIn(3, await unusedTestNumber(s, 3), 'Bob'));
    const name = `tern_${randomInt(0, 1e9).toString(36)}x`;

    const updated = (await alice.client.invoke(
      new alice.Api.account.UpdateProfile({ firstName: 'Alicia', about: 'first of her name' }),
    )) as GramApi.User;
    expect(updated.firstName).toBe('Alicia');
    const full = await alice.client.invoke(
      new alice.Api.users.GetFullUser({ id: new alice.Api.InputUserSelf() }),
    );
    expect(full.fullUser.about).toBe('first of her name');

    expect(await alice.client.invoke(new alice.Api.account.CheckUsername({ username: name }))).toBe(true);
    const withName = (await alice.client.invoke(
      new alice.Api.account.UpdateUsername({ username: name }),
    )) as GramApi.User;
    expect(withName.username).toBe(name);
    await expect(
      alice.client.invoke(new alice.Api.account.UpdateUsername({ username: name })),
    ).rejects.toMatchObject({ errorMessage: 'USERNAME_NOT_MODIFIED' });
    await expect(
      alice.client.invoke(new alice.Api.account.CheckUsername({ username: 'ab' })),
    ).rejects.toMatchObject({ errorMessage: 'USERNAME_INVALID' });

    // Bob lives in DC 3: the name is taken there too, in any case.
    expect(await bob.client.invoke(new bob.Api.account.CheckUsername({ username: name.toUpperCase() }))).toBe(
      false,
    );
    await expect(
      bob.client.invoke(new bob.Api.account.UpdateUsername({ username: name.toUpperCase() })),
    ).rejects.toMatchObject({ errorMessage: 'USERNAME_OCCUPIED' });
    const resolved = await bob.client.invoke(new bob.Api.contacts.ResolveUsername({ username: name }));
    const seen = resolved.users[0] as GramApi.User;
    expect(seen.id.toString()).toBe(withName.id.toString());
    expect(seen.firstName).toBe('Alicia');
    expect(seen.phone).toBeFalsy(); // another user's number is not shown
    await expect(
      bob.client.invoke(new bob.Api.contacts.ResolveUsername({ username: `${name}zz` })),
    ).rejects.toMatchObject({ errorMessage: 'USERNAME_NOT_OCCUPIED' });

    // The access hash from resolveUsername opens the user; a wrong one does not.
    const byHash = await bob.client.invoke(
      new bob.Api.users.GetUsers({
        id: [new bob.Api.InputUser({ userId: seen.id, accessHash: seen.accessHash! })],
      }),
    );
    expect(byHash.map((u) => u.id.toString())).toEqual([seen.id.toString()]);
    const wrong = await bob.client.invoke(
      new bob.Api.users.GetUsers({
        id: [new bob.Api.InputUser({ userId: seen.id, accessHash: seen.accessHash!.add(1) })],
      }),
    );
    expect(wrong).toHaveLength(0);

    // Giving the name up frees it for Bob.
    await alice.client.invoke(new alice.Api.account.UpdateUsername({ username: '' }));
    const bobNamed = (await bob.client.invoke(
      new bob.Api.account.UpdateUsername({ username: name }),
    )) as GramApi.User;
    expect(bobNamed.username).toBe(name);
  });

  it('lists devices and ends them: resetAuthorization, logOut, resetAuthorizations', async () => {
    const phone = await unusedTestNumber(s, 1);
    const first = keep(await loggedIn(1, phone));
    const second = keep(await loggedIn(1, phone));
    const third = keep(await loggedIn(1, phone));

    const list = await first.client.invoke(new first.Api.account.GetAuthorizations());
    expect(list.authorizations).toHaveLength(3);
    expect(list.authorizations.filter((a) => a.current)).toHaveLength(1);
    expect(list.authorizations.every((a) => a.deviceModel === 'tern-e2e')).toBe(true);

    // Which entry is `second`? Ask it: its own entry is the current one there.
    const secondView = await second.client.invoke(new second.Api.account.GetAuthorizations());
    const secondCreated = secondView.authorizations.find((a) => a.current)!.dateCreated;
    const others = list.authorizations.filter((a) => !a.current);
    expect(others.map((a) => a.dateCreated)).toContain(secondCreated);
    await expect(
      first.client.invoke(new first.Api.account.ResetAuthorization({ hash: others[0]!.hash.add(1) })),
    ).rejects.toMatchObject({ errorMessage: 'HASH_INVALID' });

    // Reset all others from `first`: `second` and `third` are logged out at once.
    expect(await first.client.invoke(new first.Api.auth.ResetAuthorizations())).toBe(true);
    await expect(second.client.invoke(new second.Api.updates.GetState())).rejects.toMatchObject(unregistered);
    await expect(third.client.invoke(new third.Api.updates.GetState())).rejects.toMatchObject(unregistered);
    const after = await first.client.invoke(new first.Api.account.GetAuthorizations());
    expect(after.authorizations).toHaveLength(1);

    // A new device, ended with account.resetAuthorization by hash.
    const fourth = keep(await loggedIn(1, phone));
    const now = await first.client.invoke(new first.Api.account.GetAuthorizations());
    const target = now.authorizations.find((a) => !a.current)!;
    expect(await first.client.invoke(new first.Api.account.ResetAuthorization({ hash: target.hash }))).toBe(
      true,
    );
    await expect(fourth.client.invoke(new fourth.Api.updates.GetState())).rejects.toMatchObject(unregistered);

    // logOut ends the caller's own login.
    await first.client.invoke(new first.Api.auth.LogOut());
    await expect(first.client.invoke(new first.Api.updates.GetState())).rejects.toMatchObject(unregistered);
  });

  it('revokes a login imported on another DC together with the key it was exported from', async () => {
    const phone = await unusedTestNumber(s, 2);
    const home = keep(await loggedIn(2, phone));
    const exported = await home.client.invoke(new home.Api.auth.ExportAuthorization({ dcId: 3 }));
    const other = keep(gramClient({ lib: 'telegram', dc: s.dcs[2]! }));
    await other.client.connect();
    await other.client.invoke(
      new other.Api.auth.ImportAuthorization({ id: exported.id, bytes: exported.bytes }),
    );

    // On DC 3 the key acts as the user for what DC 3 keeps (its devices), and account data
    // lives at home: USER_MIGRATE_2.
    const there = await other.client.invoke(new other.Api.account.GetAuthorizations());
    expect(there.authorizations.map((a) => a.current)).toEqual([true]);
    await expect(rawSend(other.client, new other.Api.updates.GetState())).rejects.toMatchObject({
      newDc: 2,
    });

    await home.client.invoke(new home.Api.auth.LogOut());
    await expect(other.client.invoke(new other.Api.account.GetAuthorizations())).rejects.toMatchObject(
      unregistered,
    );
  });
});
