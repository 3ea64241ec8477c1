/**
 * The operator moves a user from DC 2 to DC 1 with `main.js move-user`: afterwards DC 2 answers the
 * user's own calls with USER_MIGRATE_1, and the client carries its login to DC 1 with
 * exportAuthorization/importAuthorization, where profile and username are intact.
 */
import { execFile } from 'node:child_process';
import { createPublicKey, randomInt } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Api as GramApi } from 'telegram';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { gramClient, rawSend, trustKey } from './support/gramjs';
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
    { env: { ...process.env, TERN_TOPOLOGY_FILE: s.topologyFile, OTEL_SDK_DISABLED: 'true' } },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as { homeDc: number; steps: string[] };
}

describe.each(['telegram', 'teleproto'] as const)(
  'moving a user between DCs (operator command), %s',
  (lib) => {
    it('moves a DC 2 user to DC 1; DC 2 answers USER_MIGRATE_1; the client carries on at DC 1', async () => {
      const phone = `999662${String(randomInt(0, 10_000)).padStart(4, '0')}`;
      const name = `mv_${randomInt(0, 1e9).toString(36)}x`;
      const old = gramClient({ lib, dc: s.dcs[1]! });
      const moved = gramClient({ lib, dc: s.dcs[0]! });
      try {
        await old.client.connect();
        const sent = (await old.client.invoke(
          new old.Api.auth.SendCode({ phoneNumber: phone, ...API, settings: new old.Api.CodeSettings({}) }),
        )) as GramApi.auth.SentCode;
        await old.client.invoke(
          new old.Api.auth.SignIn({
            phoneNumber: phone,
            phoneCodeHash: sent.phoneCodeHash,
            phoneCode: '22222',
          }),
        );
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
    const phone = `999662${String(randomInt(0, 10_000)).padStart(4, '0')}`;
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
