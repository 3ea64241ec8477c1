/**
 * Private chats between GramJS users homed on different DCs: live delivery through the client's own
 * event handlers, history, idempotent retries by random_id, and catching up with
 * updates.getDifference after being offline.
 */
import { createPublicKey, randomBytes, randomInt } from 'node:crypto';
import bigInt from 'big-integer';
import type { Api as GramApi } from 'telegram';
import { NewMessage, type NewMessageEvent } from 'telegram/events';
import { CustomFile } from 'telegram/client/uploads';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { gramClient, loggedInClient, testNumber, trustKey } from './support/gramjs';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

type Gram = ReturnType<typeof gramClient>;

async function signUp(dc: number, firstName: string, session?: string): Promise<Gram> {
  if (!session) return loggedInClient(s.dcs, dc, testNumber(dc), firstName);
  const g = gramClient({ lib: 'telegram', dc: s.dcs[dc - 1]!, session });
  await g.client.connect();
  return g;
}

/** The input peer `viewer` uses for `other` (found by username, as a client would). */
async function peerOf(viewer: Gram, other: Gram): Promise<GramApi.InputPeerUser> {
  const name = `m_${randomInt(0, 1e9).toString(36)}x`;
  await other.client.invoke(new other.Api.account.UpdateUsername({ username: name }));
  const resolved = await viewer.client.invoke(new viewer.Api.contacts.ResolveUsername({ username: name }));
  const u = resolved.users[0] as GramApi.User;
  return new viewer.Api.InputPeerUser({ userId: u.id, accessHash: u.accessHash! });
}

describe('private messages across DCs (GramJS)', () => {
  let alice: Gram; // homed on DC 2
  let bob: Gram; // homed on DC 1
  beforeAll(async () => {
    alice = await signUp(2, 'Alice');
    bob = await signUp(1, 'Bob');
  });
  afterAll(async () => {
    await alice?.client.destroy();
    await bob?.client.destroy();
  });

  it('delivers a message live to the recipient on another DC, and both see it in history', async () => {
    const toBob = await peerOf(alice, bob);
    const received = new Promise<NewMessageEvent>((resolve) =>
      bob.client.addEventHandler((e: NewMessageEvent) => resolve(e), new NewMessage({ incoming: true })),
    );
    await bob.client.invoke(new bob.Api.updates.GetState()); // starts GramJS's update handling
    const sent = await alice.client.sendMessage(toBob, { message: 'hello from DC 2' });
    expect(sent.id).toBeGreaterThan(0);
    const event = await received;
    expect(event.message.message).toBe('hello from DC 2');
    expect(event.message.out).toBe(false);

    const toAlice = await peerOf(bob, alice);
    const bobSide = await bob.client.getMessages(toAlice, { limit: 10 });
    expect(bobSide.map((m) => m.message)).toContain('hello from DC 2');
    const aliceSide = await alice.client.getMessages(toBob, { limit: 10 });
    expect(aliceSide[0]!.message).toBe('hello from DC 2');
    expect(aliceSide[0]!.out).toBe(true);
  });

  it('answers a sendMedia with every user it mentions, the sender included', async () => {
    const toBob = await peerOf(alice, bob);
    const content = randomBytes(10_000);
    const file = await alice.client.uploadFile({
      file: new CustomFile('u.bin', content.length, '', content),
      workers: 1,
    });
    const answer = (await alice.client.invoke(
      new alice.Api.messages.SendMedia({
        peer: toBob,
        media: new alice.Api.InputMediaUploadedDocument({
          file,
          mimeType: 'application/octet-stream',
          attributes: [],
        }),
        message: '',
        randomId: bigInt(randomBytes(7).toString('hex'), 16),
      }),
    )) as GramApi.Updates;
    const me = await alice.client.getMe();
    const ids = answer.users.map((u) => u.id.toString());
    expect(ids).toContain(me.id.toString());
    expect(ids).toContain(toBob.userId.toString());
  });

  it('treats a retried send with the same random_id as the same message', async () => {
    const toBob = await peerOf(alice, bob);
    const randomId = bigInt(randomBytes(7).toString('hex'), 16);
    const send = () =>
      alice.client.invoke(
        new alice.Api.messages.SendMessage({ peer: toBob, message: 'only once', randomId }),
      );
    const first = (await send()) as GramApi.UpdateShortSentMessage;
    const again = (await send()) as GramApi.UpdateShortSentMessage;
    expect(again.id).toBe(first.id);
    expect(again.pts).toBe(first.pts);
    const toAlice = await peerOf(bob, alice);
    const bobSide = await bob.client.getMessages(toAlice, { limit: 20 });
    expect(bobSide.filter((m) => m.message === 'only once')).toHaveLength(1);
  });

  it('catches up with getDifference after being offline: every message once, in order', async () => {
    const toBob = await peerOf(alice, bob);
    const state = await bob.client.invoke(new bob.Api.updates.GetState());
    const saved = bob.session.save();
    await bob.client.disconnect();
    for (let i = 0; i < 5; i++) await alice.client.sendMessage(toBob, { message: `offline ${i}` });

    const back = await signUp(1, 'Bob', saved);
    try {
      const diff = await back.client.invoke(
        new back.Api.updates.GetDifference({ pts: state.pts, date: state.date, qts: 0 }),
      );
      expect(diff.className).toBe('updates.Difference');
      const d = diff as GramApi.updates.Difference;
      expect(d.newMessages.map((m) => (m as GramApi.Message).message)).toEqual(
        [0, 1, 2, 3, 4].map((i) => `offline ${i}`),
      );
      expect(d.state.pts).toBe(state.pts + 5);
      const empty = await back.client.invoke(
        new back.Api.updates.GetDifference({ pts: d.state.pts, date: d.state.date, qts: 0 }),
      );
      expect(empty.className).toBe('updates.DifferenceEmpty');
    } finally {
      await back.client.destroy();
    }
  });
});
