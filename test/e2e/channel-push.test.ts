/**
 * Push notifications of channel posts end to end (GramJS, webhook provider): subscribers homed on
 * DC 1 and DC 2 join a broadcast channel of DC 1, register devices (token type 4) and go offline; a
 * post makes the channel service of DC 1 publish one fan-out item, its fan-out worker one push
 * request per member to the member's home DC's push queue, and each DC's push worker POSTs to
 * the webhook this test listens on (tools/stack/plan.ts LOCAL_PUSH_WEBHOOK) with the channel as
 * the peer and CHANNEL_MESSAGE_TEXT [title, text]. The poster gets nothing; a subscriber who
 * muted the channel gets nothing. A supergroup's message names its sender: CHAT_MESSAGE_TEXT
 * [sender, title, text]. Design: docs/decisions/0021-channel-push.md.
 *
 * "No notification" is checked against a barrier (as test/e2e/push.test.ts): a later post that
 * does notify; each DC's push worker handles requests in the order they were queued.
 * Listens on the fixed webhook port: do not run at the same time as push.test.ts.
 */
import { createPublicKey, randomBytes, randomInt } from 'node:crypto';
import type { Server } from 'node:http';
import { connect, type NatsConnection } from 'nats';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { presenceBucketFor } from '../../services/shared/src/nats/subjects';
import { eventually, stack } from '../support/stack';
import { unusedTestNumber } from './support/direct';
import { pushWebhook, type Push } from './support/push-webhook';
import { gramClient, loggedInClient, trustKey } from './support/gramjs';
import {
  channelUsername,
  createChannel,
  inputChannel,
  inputPeerChannel,
  post,
  quietFor,
  refOf,
  resolveChannel,
  str,
  type ChannelRef,
} from './support/channels';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

type Gram = ReturnType<typeof gramClient>;

/** A user of the test: a client while online, its session while offline, its device token. */
interface Member {
  name: string;
  dc: number;
  id: string;
  token: string;
  g: Gram | undefined;
  session: string;
  ref?: ChannelRef;
}

const run = randomInt(0, 1e9).toString(36);
const text = (what: string) => `${what} ${run}`;

describe('push notifications of channel posts (GramJS, webhook provider)', () => {
  let hook: { server: Server; pushes: Push[] };
  let nc: NatsConnection;
  let admin: Member; // DC 1: creates the channel (DC 1 owns it) and posts
  let one: Member; // DC 1 subscriber
  let two: Member; // DC 2 subscriber
  let channel: ChannelRef;
  let channelId = '';
  const title = `Push news ${run}`;

  const pushesOf = (m: Member) =>
    hook.pushes.map((p) => p.body).filter((p) => p.user_id === m.id && p.token === m.token);

  async function presenceKeys(m: Member): Promise<number> {
    const kv = await nc.jetstream().views.kv(presenceBucketFor(m.dc).name);
    let n = 0;
    for await (const _k of await kv.keys(`${m.id}.*`)) n++;
    return n;
  }

  async function online(m: Member): Promise<Gram> {
    const g = gramClient({ lib: 'telegram', dc: s.dcs[m.dc - 1]!, session: m.session });
    await g.client.connect();
    await g.client.invoke(new g.Api.updates.GetState());
    m.g = g;
    await eventually(async () => ((await presenceKeys(m)) > 0 ? true : undefined), 10_000);
    return g;
  }

  async function offline(m: Member): Promise<void> {
    m.session = m.g!.session.save();
    await m.g!.client.destroy();
    m.g = undefined;
    await eventually(async () => ((await presenceKeys(m)) === 0 ? true : undefined), 10_000);
  }

  async function user(dc: number, name: string): Promise<Member> {
    const g = await loggedInClient(s.dcs, dc, await unusedTestNumber(s, dc), name);
    const me = await g.client.getMe();
    const m: Member = {
      name,
      dc,
      id: me.id.toString(),
      token: `e2e-ch-${randomBytes(8).toString('hex')}`,
      g,
      session: '',
    };
    expect(
      await g.client.invoke(
        new g.Api.account.RegisterDevice({
          tokenType: 4,
          token: m.token,
          appSandbox: false,
          secret: Buffer.alloc(0),
          otherUids: [],
        }),
      ),
    ).toBe(true);
    return m;
  }

  async function mute(m: Member, until: number): Promise<void> {
    const g = m.g!;
    await g.client.invoke(
      new g.Api.account.UpdateNotifySettings({
        peer: new g.Api.InputNotifyPeer({ peer: inputPeerChannel(g, m.ref!) }),
        settings: new g.Api.InputPeerNotifySettings({ muteUntil: until }),
      }),
    );
  }

  beforeAll(async () => {
    hook = await pushWebhook();
    nc = await connect({ servers: s.natsUrl });
    [admin, one, two] = await Promise.all([user(1, 'Admin'), user(1, 'One'), user(2, 'Two')]);
    const created = await createChannel(admin.g!, { title, kind: 'broadcast' });
    channel = refOf(created.channel);
    channelId = str(channel.id);
    const username = channelUsername('push');
    await admin.g!.client.invoke(
      new admin.g!.Api.channels.UpdateUsername({ channel: inputChannel(admin.g!, channel), username }),
    );
    for (const m of [one, two]) {
      m.ref = refOf((await resolveChannel(m.g!, username)).channel);
      await m.g!.client.invoke(new m.g!.Api.channels.JoinChannel({ channel: inputChannel(m.g!, m.ref) }));
    }
    await Promise.all([offline(one), offline(two)]);
  }, 120_000);

  afterAll(async () => {
    for (const m of [admin, one, two]) await m?.g?.client.destroy();
    await nc?.close();
    await new Promise((r) => hook?.server.close(r));
  });

  it('notifies offline subscribers on DC 1 and DC 2 with the channel as the peer; the poster gets nothing', async () => {
    const posted = await post(admin.g!, channel, text('first post'));
    for (const m of [one, two]) {
      const push = await eventually(async () =>
        pushesOf(m).find((p) => p.loc_args.includes(text('first post'))),
      );
      expect(push).toMatchObject({
        dc_id: m.dc,
        user_id: m.id,
        token_type: 4,
        loc_key: 'CHANNEL_MESSAGE_TEXT',
        loc_args: [title, text('first post')],
        peer: { type: 'channel', id: channelId },
        message_id: posted.id,
        silent: false,
      });
    }
    await quietFor(1000);
    // Once each, and none for the poster (who is online too; the fan-out leaves the poster out
    // before presence is asked: services/channel/src/consumers/push-fanout.test.ts).
    for (const m of [one, two])
      expect(pushesOf(m).filter((p) => p.loc_args.includes(text('first post')))).toHaveLength(1);
    expect(pushesOf(admin)).toHaveLength(0);
  }, 60_000);

  it('sends nothing to a subscriber who muted the channel (checked against a barrier post)', async () => {
    await online(two);
    await mute(two, Math.floor(Date.now() / 1000) + 3600);
    await offline(two);
    const before = pushesOf(two).length;
    await post(admin.g!, channel, text('while muted'));
    // The fan-out of that post ran: the DC 1 subscriber has it.
    await eventually(async () => pushesOf(one).find((p) => p.loc_args.includes(text('while muted'))));

    await online(two);
    await mute(two, 0);
    await offline(two);
    await post(admin.g!, channel, text('barrier'));
    await eventually(async () => pushesOf(two).find((p) => p.loc_args.includes(text('barrier'))));
    await quietFor(500);
    expect(
      pushesOf(two)
        .slice(before)
        .map((p) => p.loc_args.at(-1)),
    ).toEqual([text('barrier')]);
  }, 90_000);

  it("a supergroup's message: CHAT_MESSAGE_TEXT with sender, title and text, to the other members", async () => {
    const gtitle = `Push group ${run}`;
    const created = await createChannel(admin.g!, { title: gtitle, kind: 'megagroup' });
    const group = refOf(created.channel);
    const username = channelUsername('pushg');
    await admin.g!.client.invoke(
      new admin.g!.Api.channels.UpdateUsername({ channel: inputChannel(admin.g!, group), username }),
    );
    const g = await online(two);
    const ref = refOf((await resolveChannel(g, username)).channel);
    await g.client.invoke(new g.Api.channels.JoinChannel({ channel: inputChannel(g, ref) }));
    await offline(two);
    const g1 = await online(one);
    const ref1 = refOf((await resolveChannel(g1, username)).channel);
    await g1.client.invoke(new g1.Api.channels.JoinChannel({ channel: inputChannel(g1, ref1) }));
    await post(g1, ref1, text('hello group'));
    await offline(one);
    const push = await eventually(async () =>
      pushesOf(two).find((p) => p.loc_args.includes(text('hello group'))),
    );
    expect(push).toMatchObject({
      dc_id: 2,
      loc_key: 'CHAT_MESSAGE_TEXT',
      loc_args: ['One', gtitle, text('hello group')],
      peer: { type: 'channel', id: str(group.id) },
    });
    await quietFor(500);
    expect(pushesOf(one).filter((p) => p.loc_args.includes(text('hello group')))).toHaveLength(0);
  }, 90_000);
});
