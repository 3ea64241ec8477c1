/**
 * Push notifications end to end: a GramJS user registers a device (token type 4, served by the
 * local stack's webhook provider), goes offline, and the messaging service of the user's home DC
 * POSTs a notification for each new incoming message to the webhook this test listens on
 * (tools/stack/plan.ts LOCAL_PUSH_WEBHOOK) — except for muted chats and while the user is online
 * (the gateways' presence bucket in NATS KV, which the test also reads directly).
 *
 * "No notification" is checked against a barrier: a later message that does notify. The worker
 * handles requests in the order they were queued, so once the barrier's notification is here, the
 * earlier message's one would have been too.
 */
import { createPublicKey, randomBytes, randomInt } from 'node:crypto';
import type { Server } from 'node:http';
import bigInt from 'big-integer';
import { connect, type NatsConnection } from 'nats';
import type { Api as GramApi } from 'telegram';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { presenceBucketFor } from '../../services/shared/src/nats/subjects';
import { eventually, stack } from '../support/stack';
import { unusedTestNumber } from './support/direct';
import { pushWebhook, type Push } from './support/push-webhook';
import { gramClient, loggedInClient, trustKey } from './support/gramjs';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

type Gram = ReturnType<typeof gramClient>;

describe('push notifications to offline users (GramJS, webhook provider)', () => {
  let hook: { server: Server; pushes: Push[] };
  let nc: NatsConnection;
  let alice: Gram; // homed on DC 2, stays online
  let bob: Gram | undefined; // homed on DC 1, comes and goes
  let bobSession = '';
  let bobId = '';
  let aliceId = '';
  let toBob: GramApi.InputPeerUser;
  let toAlice: GramApi.InputPeerUser;
  const token = `e2e-${randomBytes(8).toString('hex')}`;

  const pushesForBob = () => hook.pushes.filter((p) => p.body.user_id === bobId && p.body.token === token);

  /** Bob's keys in DC 1's presence bucket (one per gateway process he is connected to). */
  async function presenceKeys(): Promise<string[]> {
    const kv = await nc.jetstream().views.kv(presenceBucketFor(1).name);
    const out: string[] = [];
    for await (const k of await kv.keys(`${bobId}.*`)) out.push(k);
    return out;
  }

  async function bobOnline(): Promise<Gram> {
    const g = gramClient({ lib: 'telegram', dc: s.dcs[0]!, session: bobSession });
    await g.client.connect();
    await g.client.invoke(new g.Api.updates.GetState());
    bob = g;
    await eventually(async () => ((await presenceKeys()).length > 0 ? true : undefined), 10_000);
    return g;
  }

  async function bobOffline(): Promise<void> {
    bobSession = bob!.session.save();
    await bob!.client.destroy();
    bob = undefined;
    await eventually(async () => ((await presenceKeys()).length === 0 ? true : undefined), 10_000);
  }

  beforeAll(async () => {
    hook = await pushWebhook();
    nc = await connect({ servers: s.natsUrl });
    alice = await loggedInClient(s.dcs, 2, await unusedTestNumber(s, 2), 'Alice');
    bob = await loggedInClient(s.dcs, 1, await unusedTestNumber(s, 1), 'Bob');
    const meA = await alice.client.getMe();
    const meB = await bob.client.getMe();
    aliceId = meA.id.toString();
    bobId = meB.id.toString();
    const nameB = `p_${randomInt(0, 1e9).toString(36)}x`;
    await bob.client.invoke(new bob.Api.account.UpdateUsername({ username: nameB }));
    const rb = await alice.client.invoke(new alice.Api.contacts.ResolveUsername({ username: nameB }));
    const ub = rb.users[0] as GramApi.User;
    toBob = new alice.Api.InputPeerUser({ userId: ub.id, accessHash: ub.accessHash! });
    // Notify settings name a dialog by id only (the caller's own settings): no access hash needed.
    toAlice = new bob.Api.InputPeerUser({ userId: meA.id, accessHash: bigInt(0) });
  });

  afterAll(async () => {
    await alice?.client.destroy();
    await bob?.client.destroy();
    await nc?.close();
    await new Promise((r) => hook?.server.close(r));
  });

  it('refuses tokens this deployment cannot deliver to (TOKEN_INVALID)', async () => {
    const b = bob!;
    const register = (tokenType: number, t: string) =>
      b.client.invoke(
        new b.Api.account.RegisterDevice({
          tokenType,
          token: t,
          appSandbox: false,
          secret: Buffer.alloc(0),
          otherUids: [],
        }),
      );
    await expect(register(1, 'apns-token')).rejects.toMatchObject({ errorMessage: 'TOKEN_INVALID' });
    await expect(register(4, '')).rejects.toMatchObject({ errorMessage: 'TOKEN_INVALID' });
    await expect(register(4, 'x'.repeat(5000))).rejects.toMatchObject({ errorMessage: 'TOKEN_INVALID' });
  });

  it('notifies an offline user of a new message: the right user, peer, loc_key and text', async () => {
    const b = bob!;
    expect(
      await b.client.invoke(
        new b.Api.account.RegisterDevice({
          tokenType: 4,
          token,
          appSandbox: false,
          secret: Buffer.alloc(0),
          otherUids: [],
        }),
      ),
    ).toBe(true);
    await bobOffline();
    await alice.client.sendMessage(toBob, { message: 'push one' });
    const push = await eventually(async () =>
      pushesForBob().find((p) => p.body.loc_args.includes('push one')),
    );
    expect(push.body).toMatchObject({
      dc_id: 1,
      user_id: bobId,
      token_type: 4,
      token,
      loc_key: 'MESSAGE_TEXT',
      loc_args: ['Alice', 'push one'],
      peer: { type: 'user', id: aliceId },
      silent: false,
    });
    expect(push.body.message_id).toBeGreaterThan(0);
    expect(push.headers['x-tern-push-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(pushesForBob().filter((p) => p.body.loc_args.includes('push one'))).toHaveLength(1);
  });

  it('sends nothing for a muted chat, and no text when previews are off', async () => {
    const b = await bobOnline();
    const aliceDialog = new b.Api.InputNotifyPeer({ peer: toAlice });
    const muteUntil = Math.floor(Date.now() / 1000) + 3600;
    await b.client.invoke(
      new b.Api.account.UpdateNotifySettings({
        peer: aliceDialog,
        settings: new b.Api.InputPeerNotifySettings({ muteUntil }),
      }),
    );
    const got = await b.client.invoke(new b.Api.account.GetNotifySettings({ peer: aliceDialog }));
    expect(got.muteUntil).toBe(muteUntil);
    await bobOffline();
    const before = pushesForBob().length;
    await alice.client.sendMessage(toBob, { message: 'while muted' });

    const b2 = await bobOnline();
    await b2.client.invoke(
      new b2.Api.account.UpdateNotifySettings({
        peer: new b2.Api.InputNotifyPeer({ peer: toAlice }),
        settings: new b2.Api.InputPeerNotifySettings({ muteUntil: 0 }),
      }),
    );
    await b2.client.invoke(
      new b2.Api.account.UpdateNotifySettings({
        peer: new b2.Api.InputNotifyUsers(),
        settings: new b2.Api.InputPeerNotifySettings({ showPreviews: false }),
      }),
    );
    const scope = await b2.client.invoke(
      new b2.Api.account.GetNotifySettings({ peer: new b2.Api.InputNotifyUsers() }),
    );
    expect(scope.showPreviews).toBe(false);
    await bobOffline();
    await alice.client.sendMessage(toBob, { message: 'secret words' });

    const hidden = await eventually(async () =>
      pushesForBob()
        .slice(before)
        .find((p) => p.body.loc_key === 'MESSAGE_NOTEXT'),
    );
    expect(hidden.body.loc_args).toEqual(['Alice']);
    expect(hidden.raw).not.toContain('secret words');
    await new Promise((r) => setTimeout(r, 1000));
    // The muted message came first and produced nothing.
    expect(
      pushesForBob()
        .slice(before)
        .map((p) => p.body.loc_key),
    ).toEqual(['MESSAGE_NOTEXT']);
  });

  it('sends nothing while the user is online', async () => {
    const b = await bobOnline();
    await b.client.invoke(
      new b.Api.account.UpdateNotifySettings({
        peer: new b.Api.InputNotifyUsers(),
        settings: new b.Api.InputPeerNotifySettings({ showPreviews: true }),
      }),
    );
    const before = pushesForBob().length;
    await alice.client.sendMessage(toBob, { message: 'while online' });
    // The message is stored and announced before sendMessage returns; give the worker its turn.
    await new Promise((r) => setTimeout(r, 1500));
    await bobOffline();
    await alice.client.sendMessage(toBob, { message: 'after online' });
    await eventually(async () => pushesForBob().find((p) => p.body.loc_args.includes('after online')));
    await new Promise((r) => setTimeout(r, 500));
    expect(
      pushesForBob()
        .slice(before)
        .map((p) => p.body.loc_args[1]),
    ).toEqual(['after online']);
  });
});
