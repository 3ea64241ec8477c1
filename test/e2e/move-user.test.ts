/**
 * The operator moves a user from DC 2 to DC 1 with `main.js move-user`: afterwards DC 2 answers the
 * user's own calls with USER_MIGRATE_1, and the client carries its login to DC 1 with
 * exportAuthorization/importAuthorization, where profile and username are intact, and so is the
 * message history with its pts and unread count; the user and the other party keep chatting.
 */
import { execFile } from 'node:child_process';
import { createPublicKey, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bigInt from 'big-integer';
import type { Api as GramApi } from 'telegram';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import {
  connectWithRetry,
  createCassandraClient,
  keyspacesFor,
  parseHostPort,
  toLong,
} from '../../services/shared/src';
import { unusedTestNumber } from './support/direct';
import { gramClient, loggedInClient, rawSend, testNumber, trustKey } from './support/gramjs';
import { mtcuteProbe } from './support/mtcute';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));
trustKey('teleproto', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));
const API = { apiId: 12345, apiHash: '0123456789abcdef0123456789abcdef' };

/** Runs the operator command as an operator would, against the local stack's topology. */
async function moveUser(userId: string, dc: number): Promise<{ homeDc: number; steps: string[] }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(s.repoRoot, 'dist/services/main.js'), 'move-user', userId, String(dc)],
    {
      env: {
        ...process.env,
        TERN_TOPOLOGY_FILE: s.topologyFile,
        TERN_TLS_DIR: join(s.tlsDir, 'operator'),
        OTEL_SDK_DISABLED: 'true',
      },
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as { homeDc: number; steps: string[] };
}

describe.each(['telegram', 'teleproto'] as const)(
  'moving a user between DCs (operator command), %s',
  (lib) => {
    it('moves a DC 2 user to DC 1; DC 2 answers USER_MIGRATE_1; the client carries on at DC 1', async () => {
      const name = `mv_${randomInt(0, 1e9).toString(36)}x`;
      const old = gramClient({ lib, dc: s.dcs[1]! });
      const moved = gramClient({ lib, dc: s.dcs[0]! });
      // A flood wait fails the test at once instead of GramJS sleeping through the test's time.
      old.client.floodSleepThreshold = 0;
      moved.client.floodSleepThreshold = 0;
      try {
        await old.client.connect();
        // Test numbers have 10,000 per DC and the stack keeps every account: this test signs a new
        // user up, so it takes a number nobody holds (auth LookupPhone).
        const phone = await unusedTestNumber(s, 2);
        const sent = (await old.client.invoke(
          new old.Api.auth.SendCode({ phoneNumber: phone, ...API, settings: new old.Api.CodeSettings({}) }),
        )) as GramApi.auth.SentCode;
        const signIn = await old.client.invoke(
          new old.Api.auth.SignIn({
            phoneNumber: phone,
            phoneCodeHash: sent.phoneCodeHash,
            phoneCode: '22222',
          }),
        );
        expect(signIn.className).toBe('auth.AuthorizationSignUpRequired');
        const me = (
          (await old.client.invoke(
            new old.Api.auth.SignUp({
              phoneNumber: phone,
              phoneCodeHash: sent.phoneCodeHash,
              firstName: 'Grace',
              lastName: 'Hopper',
            }),
          )) as GramApi.auth.Authorization
        ).user as GramApi.User;
        await old.client.invoke(new old.Api.account.UpdateProfile({ about: 'COBOL' }));
        await old.client.invoke(new old.Api.account.UpdateUsername({ username: name }));

        const result = await moveUser(me.id.toString(), 1);
        expect(result).toMatchObject({ homeDc: 1, steps: ['freeze', 'copy', 'switch', 'cleanup'] });

        // DC 2 no longer holds the account.
        await expect(
          rawSend(old.client, new old.Api.users.GetUsers({ id: [new old.Api.InputUserSelf()] })),
        ).rejects.toMatchObject({ newDc: 1 });
        await expect(
          rawSend(old.client, new old.Api.account.UpdateProfile({ about: 'lost?' })),
        ).rejects.toMatchObject({ newDc: 1 });

        // The login moves with export (on DC 2, where the key is authorized) and import on DC 1.
        const exported = await old.client.invoke(new old.Api.auth.ExportAuthorization({ dcId: 1 }));
        await moved.client.connect();
        await moved.client.invoke(
          new moved.Api.auth.ImportAuthorization({ id: exported.id, bytes: exported.bytes }),
        );
        const there = await moved.client.getMe();
        expect(there.id.toString()).toBe(me.id.toString());
        expect([there.firstName, there.lastName, there.username]).toEqual(['Grace', 'Hopper', name]);
        const full = await moved.client.invoke(
          new moved.Api.users.GetFullUser({ id: new moved.Api.InputUserSelf() }),
        );
        expect(full.fullUser.about).toBe('COBOL');
        const renamed = (await moved.client.invoke(
          new moved.Api.account.UpdateProfile({ lastName: 'Murray Hopper' }),
        )) as GramApi.User;
        expect(renamed.lastName).toBe('Murray Hopper');
        const resolved = await moved.client.invoke(
          new moved.Api.contacts.ResolveUsername({ username: name }),
        );
        expect(resolved.users[0]!.id.toString()).toBe(me.id.toString());

        // Running the command again changes nothing; signing in from DC 2 is sent to DC 1.
        expect(await moveUser(me.id.toString(), 1)).toMatchObject({ homeDc: 1, steps: [] });
        await expect(
          rawSend(
            old.client,
            new old.Api.auth.SendCode({ phoneNumber: phone, ...API, settings: new old.Api.CodeSettings({}) }),
          ),
        ).rejects.toMatchObject({ newDc: 1 });
      } finally {
        await old.client.destroy();
        await moved.client.destroy();
      }
    });
  },
);

describe('moving a user between DCs (operator command), mtcute', () => {
  it('signs in again after the move and lands on the new home DC with profile and username', async () => {
    const phone = await unusedTestNumber(s, 2); // the test expects a sign-up
    const name = `mm_${randomInt(0, 1e9).toString(36)}x`;
    const before = await mtcuteProbe(s, 1, {
      login: { phone, code: '22222', firstName: 'Mt' },
      calls: [{ _: 'account.updateUsername', username: name }],
    });
    expect(before.fatal).toBeUndefined();
    expect(before.results.login).toMatchObject({ dcId: 2, signedUp: true });

    expect(await moveUser(String(before.results.login!.id), 3)).toMatchObject({ homeDc: 3 });

    // Asked on DC 2, mtcute follows PHONE_MIGRATE_3 by itself.
    const after = await mtcuteProbe(s, 1, {
      login: { phone, code: '22222', firstName: 'unused' },
      calls: [{ _: 'users.getFullUser', id: { _: 'inputUserSelf' } }],
    });
    expect(after.fatal).toBeUndefined();
    expect(after.results.login).toMatchObject({
      dcId: 3,
      id: before.results.login!.id,
      firstName: 'Mt',
      signedUp: false,
    });
    const full = after.results['users.getFullUser'] as unknown as { users: Array<{ username?: string }> };
    expect(full.users[0]!.username).toBe(name);
  });
});

type Gram = ReturnType<typeof gramClient>;

/** A user `viewer` can address, found by username as a client would. */
async function peerOf(viewer: Gram, other: Gram): Promise<{ userId: bigint; accessHash: bigint }> {
  const name = `mh_${randomInt(0, 1e9).toString(36)}x`;
  await other.client.invoke(new other.Api.account.UpdateUsername({ username: name }));
  const resolved = await viewer.client.invoke(new viewer.Api.contacts.ResolveUsername({ username: name }));
  const u = resolved.users[0] as GramApi.User;
  return { userId: BigInt(u.id.toString()), accessHash: BigInt(u.accessHash!.toString()) };
}

const inputPeer = (g: Gram, p: { userId: bigint; accessHash: bigint }) =>
  new g.Api.InputPeerUser({
    userId: bigInt(p.userId.toString()),
    accessHash: bigInt(p.accessHash.toString()),
  });

/** One dialog's history as the client shows it. */
async function history(g: Gram, p: { userId: bigint; accessHash: bigint }) {
  const res = (await g.client.invoke(
    new g.Api.messages.GetHistory({ peer: inputPeer(g, p), limit: 100, offsetId: 0, addOffset: 0 }),
  )) as GramApi.messages.Messages;
  return res.messages.map((m) => {
    const msg = m as GramApi.Message;
    return { id: msg.id, message: msg.message, out: msg.out, date: msg.date };
  });
}

async function state(g: Gram) {
  const st = await g.client.invoke(new g.Api.updates.GetState());
  return { pts: st.pts, unreadCount: st.unreadCount };
}

/** Rows of a user's box in one DC's keyspace, read from Cassandra directly. */
async function boxRows(dc: number, userId: bigint): Promise<number> {
  const settings = {
    contactPoints: s.cassandra.contactPoints.map((c) => parseHostPort(c)),
    localDc: s.cassandra.localDc,
    keyspacePrefix: s.cassandra.keyspacePrefix,
  };
  const db = createCassandraClient(settings, keyspacesFor(settings.keyspacePrefix, dc).dc);
  try {
    await connectWithRetry(db, 5);
    const count = async (q: string) =>
      Number((await db.execute(q, [toLong(userId)], { prepare: true })).first().get('n'));
    return (
      (await count('SELECT count(*) AS n FROM box_messages WHERE user_id = ? AND bucket = 0')) +
      (await count('SELECT count(*) AS n FROM update_log WHERE user_id = ? AND bucket = 0')) +
      (await count('SELECT count(*) AS n FROM dialogs WHERE user_id = ?'))
    );
  } finally {
    await db.shutdown();
  }
}

describe('moving a user with a message history (operator command), GramJS', () => {
  it('keeps history, pts and unread count from DC 2 to DC 1; both sides keep chatting', async () => {
    const alice = await loggedInClient(s.dcs, 2, testNumber(2), 'Alice'); // moves DC 2 → DC 1
    const bob = await loggedInClient(s.dcs, 3, testNumber(3), 'Bob'); // stays on DC 3
    let moved: Gram | undefined;
    try {
      const toBob = await peerOf(alice, bob);
      const toAlice = await peerOf(bob, alice);
      for (let i = 0; i < 4; i++)
        await bob.client.sendMessage(inputPeer(bob, toAlice), { message: `bob ${i}` });
      for (let i = 0; i < 3; i++)
        await alice.client.sendMessage(inputPeer(alice, toBob), { message: `alice ${i}` });
      await bob.client.sendMessage(inputPeer(bob, toAlice), { message: 'bob 4' });

      const before = { history: await history(alice, toBob), state: await state(alice) };
      expect(before.history.map((m) => m.message)).toEqual([
        'bob 4',
        ...[2, 1, 0].map((i) => `alice ${i}`),
        ...[3, 2, 1, 0].map((i) => `bob ${i}`),
      ]);
      expect(before.state.unreadCount).toBe(5);
      const aliceId = (await alice.client.getMe()).id.toString();
      const bobBefore = await history(bob, toAlice);

      const result = await moveUser(aliceId, 1);
      expect(result).toMatchObject({ homeDc: 1, steps: ['freeze', 'copy', 'switch', 'cleanup'] });
      // DC 2 holds nothing of the box any more; DC 1 holds it.
      expect(await boxRows(2, BigInt(aliceId))).toBe(0);
      expect(await boxRows(1, BigInt(aliceId))).toBeGreaterThan(0);

      // DC 2 sends the user's own calls to DC 1; the login moves with export/import.
      await expect(rawSend(alice.client, new alice.Api.updates.GetState())).rejects.toMatchObject({
        newDc: 1,
      });
      const exported = await alice.client.invoke(new alice.Api.auth.ExportAuthorization({ dcId: 1 }));
      moved = gramClient({ lib: 'telegram', dc: s.dcs[0]! });
      await moved.client.connect();
      await moved.client.invoke(
        new moved.Api.auth.ImportAuthorization({ id: exported.id, bytes: exported.bytes }),
      );

      // The same history, pts and unread count at DC 1.
      expect(await history(moved, toBob)).toEqual(before.history);
      expect(await state(moved)).toEqual(before.state);

      // Both keep chatting: Bob's messages reach the new home, Alice's reach Bob.
      await bob.client.sendMessage(inputPeer(bob, toAlice), { message: 'bob after the move' });
      const sent = await moved.client.sendMessage(inputPeer(moved, toBob), { message: 'alice from DC 1' });
      expect(sent.id).toBe(before.history[0]!.id + 2);
      const after = await history(moved, toBob);
      expect(after.slice(0, 2).map((m) => [m.message, m.out])).toEqual([
        ['alice from DC 1', true],
        ['bob after the move', false],
      ]);
      expect(after.slice(2)).toEqual(before.history);
      expect(await state(moved)).toEqual({ pts: before.state.pts + 2, unreadCount: 6 });
      const bobAfter = await history(bob, toAlice);
      expect(bobAfter.slice(0, 2).map((m) => [m.message, m.out])).toEqual([
        ['alice from DC 1', false],
        ['bob after the move', true],
      ]);
      expect(bobAfter.slice(2)).toEqual(bobBefore);

      // Running the command again changes nothing.
      expect(await moveUser(aliceId, 1)).toMatchObject({ homeDc: 1, steps: [] });
    } finally {
      await alice.client.destroy();
      await bob.client.destroy();
      await moved?.client.destroy();
    }
  });
});
