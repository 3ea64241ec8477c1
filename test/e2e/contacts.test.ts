/**
 * Contacts and status between GramJS users homed on three DCs: importing by phone through the
 * global directory, the contact list and its hash, the mutual flag, deleting; other users opened
 * only with their access hash; and presence — exact for the user's contacts, coarse for everyone
 * else, and an updateUserStatus arriving live at a contact's event handler.
 */
import { createPublicKey, randomInt } from 'node:crypto';
import bigInt from 'big-integer';
import type { Api as GramApi } from 'telegram';
import { Raw } from 'telegram/events';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { gramClient, loggedInClient, testNumber, trustKey } from './support/gramjs';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

type Gram = ReturnType<typeof gramClient>;
interface Person {
  g: Gram;
  phone: string;
  id: string;
}

async function person(dc: number, firstName: string): Promise<Person> {
  const phone = testNumber(dc);
  const g = await loggedInClient(s.dcs, dc, phone, firstName);
  const me = (
    await g.client.invoke(new g.Api.users.GetUsers({ id: [new g.Api.InputUserSelf()] }))
  )[0] as GramApi.User;
  // Test numbers repeat across runs: start from an empty contact list.
  const old = (await g.client.invoke(
    new g.Api.contacts.GetContacts({ hash: bigInt(0) }),
  )) as GramApi.contacts.Contacts;
  const inputs = (old.users as GramApi.User[]).map(
    (u) => new g.Api.InputUser({ userId: u.id, accessHash: u.accessHash! }),
  );
  if (inputs.length > 0) await g.client.invoke(new g.Api.contacts.DeleteContacts({ id: inputs }));
  return { g, phone, id: me.id.toString() };
}

const importPhones = (p: Person, phones: string[]) =>
  p.g.client.invoke(
    new p.g.Api.contacts.ImportContacts({
      contacts: phones.map(
        (phone, i) =>
          new p.g.Api.InputPhoneContact({ clientId: bigInt(i + 1), phone, firstName: `c${i}`, lastName: '' }),
      ),
    }),
  );

const contactsOf = async (p: Person) =>
  (await p.g.client.invoke(
    new p.g.Api.contacts.GetContacts({ hash: bigInt(0) }),
  )) as GramApi.contacts.Contacts;

/** `viewer`'s view of `u` through users.getUsers with the given access hash. */
async function viewOf(viewer: Person, u: GramApi.User, accessHash = u.accessHash!): Promise<GramApi.User[]> {
  return (await viewer.g.client.invoke(
    new viewer.g.Api.users.GetUsers({ id: [new viewer.g.Api.InputUser({ userId: u.id, accessHash })] }),
  )) as GramApi.User[];
}

/** Telegram's documented list hash over ascending ids (what a client computes for its cache). */
function listHash(ids: bigint[]): bigint {
  let h = 0n;
  for (const id of [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    h ^= h >> 21n;
    h = BigInt.asUintN(64, h ^ (h << 35n));
    h ^= h >> 4n;
    h = BigInt.asUintN(64, h + id);
  }
  return BigInt.asIntN(64, h);
}

/** Resolves with the first updateUserStatus about `userId` that `p`'s client handles. */
function nextStatus(p: Person, userId: string): Promise<GramApi.UpdateUserStatus> {
  return new Promise((resolve) => {
    const handler = (u: GramApi.UpdateUserStatus) => {
      if (u.userId.toString() !== userId) return;
      p.g.client.removeEventHandler(handler, new Raw({ types: [p.g.Api.UpdateUserStatus] }));
      resolve(u);
    };
    p.g.client.addEventHandler(handler, new Raw({ types: [p.g.Api.UpdateUserStatus] }));
  });
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

describe('contacts and status across DCs (GramJS)', () => {
  let alice: Person; // DC 2
  let bob: Person; // DC 1
  let carol: Person; // DC 3
  let bobAsAlice: GramApi.User; // Bob as Alice sees him (with the access hash she was given)

  beforeAll(async () => {
    [alice, bob, carol] = await Promise.all([person(2, 'Alice'), person(1, 'Bob'), person(3, 'Carol')]);
  });
  afterAll(async () => {
    for (const p of [alice, bob, carol]) await p?.g.client.destroy().catch(() => undefined);
  });

  it('imports a user of another DC by phone: contact flag, the number shown to the importer', async () => {
    const unknown = `1555${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;
    const res = await importPhones(alice, [`+${bob.phone}`, unknown, alice.phone]);
    // Only Bob is on Tern; Alice's own number is not a contact.
    expect(res.imported.map((i) => [i.userId.toString(), i.clientId.toString()])).toEqual([[bob.id, '1']]);
    expect(res.retryContacts).toEqual([]);
    bobAsAlice = res.users[0] as GramApi.User;
    expect(bobAsAlice.id.toString()).toBe(bob.id);
    expect(bobAsAlice.contact).toBe(true);
    expect(bobAsAlice.mutualContact).toBe(false);
    expect(bobAsAlice.phone).toBe(bob.phone);

    const list = await contactsOf(alice);
    expect(list.contacts.map((c) => [c.userId.toString(), c.mutual])).toEqual([[bob.id, false]]);
    // The hash of the list the client holds: not modified until the list changes.
    const hash = listHash([BigInt(bob.id)]);
    const again = await alice.g.client.invoke(new alice.g.Api.contacts.GetContacts({ hash: bigInt(hash) }));
    expect(again.className).toBe('contacts.ContactsNotModified');
    const stale = await alice.g.client.invoke(
      new alice.g.Api.contacts.GetContacts({ hash: bigInt(hash + 1n) }),
    );
    expect(stale.className).toBe('contacts.Contacts');

    // Bob has not added Alice, so she is no contact of his; but she has him, and her number is
    // shown to her contacts (Telegram's default phone privacy).
    const [aliceAsBob] = (
      await bob.g.client.invoke(new bob.g.Api.contacts.ResolveUsername({ username: await nameOf(alice) }))
    ).users as GramApi.User[];
    expect(aliceAsBob!.contact).toBe(false);
    expect(aliceAsBob!.phone).toBe(alice.phone);
    // Carol is nobody's contact: she sees Bob without his number.
    const [bobAsCarol] = (
      await carol.g.client.invoke(new carol.g.Api.contacts.ResolveUsername({ username: await nameOf(bob) }))
    ).users as GramApi.User[];
    expect(bobAsCarol!.phone).toBeFalsy();
    expect(bobAsCarol!.contact).toBe(false);
  });

  it('marks both sides mutual once the other imports back', async () => {
    const res = await importPhones(bob, [alice.phone]);
    const aliceAsBob = res.users[0] as GramApi.User;
    expect(aliceAsBob.id.toString()).toBe(alice.id);
    expect(aliceAsBob.mutualContact).toBe(true);
    expect((await contactsOf(alice)).contacts.map((c) => [c.userId.toString(), c.mutual])).toEqual([
      [bob.id, true],
    ]);
    const [seen] = await viewOf(alice, bobAsAlice);
    expect(seen!.mutualContact).toBe(true);
  });

  it('opens another user only with the right access hash (getUsers, getFullUser)', async () => {
    const right = await viewOf(alice, bobAsAlice);
    expect(right.map((u) => u.id.toString())).toEqual([bob.id]);
    expect(await viewOf(alice, bobAsAlice, bobAsAlice.accessHash!.add(1))).toEqual([]);
    const full = await alice.g.client.invoke(
      new alice.g.Api.users.GetFullUser({
        id: new alice.g.Api.InputUser({ userId: bobAsAlice.id, accessHash: bobAsAlice.accessHash! }),
      }),
    );
    expect(full.fullUser.id.toString()).toBe(bob.id);
    expect((full.users[0] as GramApi.User).contact).toBe(true);
    await expect(
      alice.g.client.invoke(
        new alice.g.Api.users.GetFullUser({
          id: new alice.g.Api.InputUser({ userId: bobAsAlice.id, accessHash: bobAsAlice.accessHash!.add(1) }),
        }),
      ),
    ).rejects.toMatchObject({ errorMessage: 'USER_ID_INVALID' });
    // A stranger (Carol) with no access hash at all.
    expect(await viewOf(carol, bobAsAlice, bigInt(0))).toEqual([]);
  });

  it('shows the exact status to contacts, a coarse one to others, and announces it live', async () => {
    // Carol has Bob (so she sees his number) but Bob does not have Carol: no exact status for her.
    const carolImport = await importPhones(carol, [bob.phone]);
    const bobAsCarol = carolImport.users[0] as GramApi.User;
    expect(bobAsCarol.phone).toBe(bob.phone);

    await alice.g.client.invoke(new alice.g.Api.updates.GetState()); // starts GramJS's update loop
    await carol.g.client.invoke(new carol.g.Api.updates.GetState());
    const carolHeard: GramApi.UpdateUserStatus[] = [];
    void nextStatus(carol, bob.id).then((u) => carolHeard.push(u));

    // Offline first, so that going online is a change every run (numbers repeat across runs).
    await bob.g.client.invoke(new bob.g.Api.account.UpdateStatus({ offline: true }));
    const online = within(nextStatus(alice, bob.id), 10_000, 'updateUserStatus (online)');
    const before = Math.floor(Date.now() / 1000);
    expect(await bob.g.client.invoke(new bob.g.Api.account.UpdateStatus({ offline: false }))).toBe(true);
    const live = await online;
    expect(live.status.className).toBe('UserStatusOnline');
    expect((live.status as GramApi.UserStatusOnline).expires).toBeGreaterThan(before);

    const [exact] = await viewOf(alice, bobAsAlice);
    expect(exact!.status?.className).toBe('UserStatusOnline');
    const [coarse] = await viewOf(carol, bobAsCarol);
    expect(coarse!.status?.className).toBe('UserStatusRecently');

    const offline = within(nextStatus(alice, bob.id), 10_000, 'updateUserStatus (offline)');
    await bob.g.client.invoke(new bob.g.Api.account.UpdateStatus({ offline: true }));
    const gone = await offline;
    expect(gone.status.className).toBe('UserStatusOffline');
    expect((gone.status as GramApi.UserStatusOffline).wasOnline).toBeGreaterThanOrEqual(before);
    const [after] = await viewOf(alice, bobAsAlice);
    expect(after!.status?.className).toBe('UserStatusOffline');
    // Carol is not among Bob's contacts: nothing was announced to her.
    expect(carolHeard).toEqual([]);
  });

  it('deletes a contact (right access hash only) and the other side loses the mutual flag', async () => {
    await expect(
      alice.g.client.invoke(
        new alice.g.Api.contacts.DeleteContacts({
          id: [
            new alice.g.Api.InputUser({ userId: bobAsAlice.id, accessHash: bobAsAlice.accessHash!.add(1) }),
          ],
        }),
      ),
    ).rejects.toMatchObject({ errorMessage: 'CONTACT_ID_INVALID' });
    await alice.g.client.invoke(
      new alice.g.Api.contacts.DeleteContacts({
        id: [new alice.g.Api.InputUser({ userId: bobAsAlice.id, accessHash: bobAsAlice.accessHash! })],
      }),
    );
    expect((await contactsOf(alice)).contacts).toEqual([]);
    expect((await contactsOf(bob)).contacts.map((c) => [c.userId.toString(), c.mutual])).toEqual([
      [alice.id, false],
    ]);
    const [seen] = await viewOf(alice, bobAsAlice);
    expect(seen!.contact).toBe(false);
    expect(seen!.mutualContact).toBe(false);
  });

  it('imports at most 500 contacts per call and returns the rest to retry', async () => {
    const phones = Array.from({ length: 501 }, (_, i) => `1556${String(i).padStart(7, '0')}`);
    const res = await importPhones(carol, phones);
    expect(res.retryContacts.map((id) => id.toString())).toEqual(['501']);
  });
});

/** Gives `p` a fresh username and returns it (another user finds `p` by it). */
async function nameOf(p: Person): Promise<string> {
  const name = `c_${randomInt(0, 1e9).toString(36)}x`;
  await p.g.client.invoke(new p.g.Api.account.UpdateUsername({ username: name }));
  return name;
}
