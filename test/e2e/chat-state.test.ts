/**
 * A private chat between GramJS users on different DCs after the first message: read receipts
 * both ways, edits and revoked deletions reaching the other box, a second session of one user
 * kept in sync, typing, dialogs with unread counts, forwarding, search, and getDifference
 * returning the non-message updates. Everything is observed through the clients' own update
 * handlers (Raw events) or their own API calls.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import bigInt from 'big-integer';
import type { Api as GramApi } from 'telegram';
import { Raw } from 'telegram/events';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { gramClient, loggedInClient, testNumber, trustKey } from './support/gramjs';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

type Gram = ReturnType<typeof gramClient>;
type Update = { className: string } & Record<string, unknown>;

/** Every update a client's handlers see, and a way to wait for one. */
function collect(g: Gram) {
  const seen: Update[] = [];
  g.client.addEventHandler((u: Update) => {
    seen.push(u);
    // `updates` envelopes reach Raw handlers unpacked, short forms as they are.
  }, new Raw({}));
  return {
    seen,
    async waitFor<T extends Update>(what: string, match: (u: T) => boolean, timeoutMs = 10_000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = seen.find((u) => u.className === what && match(u as T));
        if (found) return found as T;
        if (Date.now() > deadline)
          throw new Error(
            `no ${what} within ${timeoutMs} ms; saw ${seen.map((u) => u.className).join(', ')}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

const peerUser = (g: Gram, u: GramApi.User) =>
  new g.Api.InputPeerUser({ userId: u.id, accessHash: u.accessHash! });

describe('a private chat across DCs: receipts, edits, deletes, a second session (GramJS)', () => {
  const alicePhone = testNumber(2);
  let alice: Gram; // DC 2
  let alice2: Gram; // DC 2, a second login of Alice
  let bob: Gram; // DC 1
  let aliceUser: GramApi.User;
  let bobUser: GramApi.User;
  let aliceSeen: ReturnType<typeof collect>;
  let alice2Seen: ReturnType<typeof collect>;
  let bobSeen: ReturnType<typeof collect>;

  beforeAll(async () => {
    alice = await loggedInClient(s.dcs, 2, alicePhone, 'Alice');
    alice2 = await loggedInClient(s.dcs, 2, alicePhone, 'Alice');
    bob = await loggedInClient(s.dcs, 1, testNumber(1), 'Bob');
    const name = `cs_${randomBytes(5).toString('hex')}`;
    await bob.client.invoke(new bob.Api.account.UpdateUsername({ username: name }));
    const resolved = await alice.client.invoke(new alice.Api.contacts.ResolveUsername({ username: name }));
    bobUser = resolved.users[0] as GramApi.User;
    aliceUser = await alice.client.getMe();
    aliceSeen = collect(alice);
    alice2Seen = collect(alice2);
    bobSeen = collect(bob);
    // GramJS handles updates once it knows its state.
    for (const g of [alice, alice2, bob]) await g.client.invoke(new g.Api.updates.GetState());
  });
  afterAll(async () => {
    for (const g of [alice, alice2, bob]) await g?.client.destroy();
  });

  /** Alice sends; returns Alice's id and Bob's id of the message (from Bob's live update). */
  async function aliceSends(text: string): Promise<{ mine: number; his: number }> {
    const sent = (await alice.client.invoke(
      new alice.Api.messages.SendMessage({
        peer: peerUser(alice, bobUser),
        message: text,
        randomId: bigInt(randomBytes(7).toString('hex'), 16),
      }),
    )) as GramApi.UpdateShortSentMessage;
    const got = await bobSeen.waitFor<GramApi.UpdateShortMessage & Update>(
      'UpdateShortMessage',
      (u) => u.message === text,
    );
    return { mine: sent.id, his: got.id };
  }

  it('shows unread counts in dialogs and sends read receipts both ways', async () => {
    const one = await aliceSends('receipt one');
    const two = await aliceSends('receipt two');
    // Alice's other session sees her own messages arrive.
    await alice2Seen.waitFor<GramApi.UpdateShortMessage & Update>(
      'UpdateShortMessage',
      (u) => u.message === 'receipt two' && u.out === true,
    );

    const dialogs = (await bob.client.invoke(
      new bob.Api.messages.GetDialogs({
        offsetPeer: new bob.Api.InputPeerEmpty(),
        limit: 20,
        hash: bigInt(0),
      }),
    )) as GramApi.messages.Dialogs;
    const withAlice = dialogs.dialogs.find(
      (d) => (d.peer as GramApi.PeerUser).userId?.toString() === aliceUser.id.toString(),
    ) as GramApi.Dialog;
    expect(withAlice.unreadCount).toBe(2);
    expect(withAlice.topMessage).toBe(two.his);

    // Pinned dialogs list first, flagged.
    await bob.client
      .invoke(
        new bob.Api.messages.ToggleDialogPin({
          peer: new bob.Api.InputDialogPeer({ peer: new bob.Api.InputPeerSelf() }),
          pinned: true,
        }),
      )
      .catch((err: { errorMessage?: string }) => {
        // Bob's Saved Messages are empty: nothing to pin.
        expect(err.errorMessage).toBe('PEER_HISTORY_EMPTY');
      });
    await bob.client.invoke(
      new bob.Api.messages.ToggleDialogPin({
        peer: new bob.Api.InputDialogPeer({ peer: peerUser(bob, aliceUser) }),
        pinned: true,
      }),
    );
    const pinned = (await bob.client.invoke(
      new bob.Api.messages.GetDialogs({
        offsetPeer: new bob.Api.InputPeerEmpty(),
        limit: 20,
        hash: bigInt(0),
      }),
    )) as GramApi.messages.Dialogs;
    const firstDialog = pinned.dialogs[0] as GramApi.Dialog;
    expect(firstDialog.pinned).toBe(true);
    expect((firstDialog.peer as GramApi.PeerUser).userId.toString()).toBe(aliceUser.id.toString());

    const affected = await bob.client.invoke(
      new bob.Api.messages.ReadHistory({ peer: peerUser(bob, aliceUser), maxId: two.his }),
    );
    expect(affected.ptsCount).toBe(1);
    // Alice, in both sessions, learns how far Bob read, in her own ids.
    for (const seen of [aliceSeen, alice2Seen])
      await seen.waitFor<GramApi.UpdateReadHistoryOutbox & Update>(
        'UpdateReadHistoryOutbox',
        (u) => u.maxId === two.mine,
      );
    const peerDialogs = await alice.client.invoke(
      new alice.Api.messages.GetPeerDialogs({
        peers: [new alice.Api.InputDialogPeer({ peer: peerUser(alice, bobUser) })],
      }),
    );
    expect((peerDialogs.dialogs[0] as GramApi.Dialog).readOutboxMaxId).toBe(two.mine);
    const after = await bob.client.invoke(
      new bob.Api.messages.GetPeerDialogs({
        peers: [new bob.Api.InputDialogPeer({ peer: peerUser(bob, aliceUser) })],
      }),
    );
    expect((after.dialogs[0] as GramApi.Dialog).unreadCount).toBe(0);
    expect(after.state.unreadCount).toBe(0);
    expect(one.his).toBeLessThan(two.his);

    // The other way: Bob writes, Alice reads on one session; her other session and Bob hear of it.
    const sent = (await bob.client.invoke(
      new bob.Api.messages.SendMessage({
        peer: peerUser(bob, aliceUser),
        message: 'from bob',
        randomId: bigInt(randomBytes(7).toString('hex'), 16),
      }),
    )) as GramApi.UpdateShortSentMessage;
    const atAlice = await aliceSeen.waitFor<GramApi.UpdateShortMessage & Update>(
      'UpdateShortMessage',
      (u) => u.message === 'from bob',
    );
    await alice.client.invoke(
      new alice.Api.messages.ReadHistory({ peer: peerUser(alice, bobUser), maxId: 0 }),
    );
    await bobSeen.waitFor<GramApi.UpdateReadHistoryOutbox & Update>(
      'UpdateReadHistoryOutbox',
      (u) => u.maxId === sent.id,
    );
    await alice2Seen.waitFor<GramApi.UpdateReadHistoryInbox & Update>(
      'UpdateReadHistoryInbox',
      (u) => u.maxId === atAlice.id && u.stillUnreadCount === 0,
    );
  });

  it('carries an edit to the other box and the other session; a repeat edit is MESSAGE_NOT_MODIFIED', async () => {
    const m = await aliceSends('before the edit');
    const state = await bob.client.invoke(new bob.Api.updates.GetState());
    await alice.client.invoke(
      new alice.Api.messages.EditMessage({
        peer: peerUser(alice, bobUser),
        id: m.mine,
        message: 'after the edit',
      }),
    );
    const edit = await bobSeen.waitFor<GramApi.UpdateEditMessage & Update>(
      'UpdateEditMessage',
      (u) => (u.message as GramApi.Message).id === m.his,
    );
    expect((edit.message as GramApi.Message).message).toBe('after the edit');
    expect((edit.message as GramApi.Message).editDate).toBeGreaterThan(0);
    await alice2Seen.waitFor<GramApi.UpdateEditMessage & Update>(
      'UpdateEditMessage',
      (u) => (u.message as GramApi.Message).id === m.mine,
    );
    const [stored] = await bob.client.getMessages(peerUser(bob, aliceUser), { ids: [m.his] });
    expect(stored?.message).toBe('after the edit');
    await expect(
      alice.client.invoke(
        new alice.Api.messages.EditMessage({
          peer: peerUser(alice, bobUser),
          id: m.mine,
          message: 'after the edit',
        }),
      ),
    ).rejects.toMatchObject({ errorMessage: 'MESSAGE_NOT_MODIFIED' });
    // Only the author edits.
    await expect(
      bob.client.invoke(
        new bob.Api.messages.EditMessage({ peer: peerUser(bob, aliceUser), id: m.his, message: 'no' }),
      ),
    ).rejects.toMatchObject({ code: 403 });

    // A client that missed it gets the edit from getDifference.
    const diff = (await bob.client.invoke(
      new bob.Api.updates.GetDifference({ pts: state.pts, date: state.date, qts: 0 }),
    )) as GramApi.updates.Difference;
    expect(diff.otherUpdates.map((u) => u.className)).toContain('UpdateEditMessage');
  });

  it('deletes for both sides with revoke, and only for the caller without', async () => {
    const gone = await aliceSends('delete me everywhere');
    const kept = await aliceSends('delete me only at alice');
    await alice.client.invoke(new alice.Api.messages.DeleteMessages({ id: [gone.mine], revoke: true }));
    const del = await bobSeen.waitFor<GramApi.UpdateDeleteMessages & Update>('UpdateDeleteMessages', (u) =>
      u.messages.includes(gone.his),
    );
    expect(del.ptsCount).toBe(1);
    await alice2Seen.waitFor<GramApi.UpdateDeleteMessages & Update>('UpdateDeleteMessages', (u) =>
      u.messages.includes(gone.mine),
    );
    await alice.client.invoke(new alice.Api.messages.DeleteMessages({ id: [kept.mine], revoke: false }));
    const bobHistory = await bob.client.getMessages(peerUser(bob, aliceUser), { limit: 50 });
    const texts = bobHistory.map((x) => x.message);
    expect(texts).not.toContain('delete me everywhere');
    expect(texts).toContain('delete me only at alice');
    const aliceHistory = await alice.client.getMessages(peerUser(alice, bobUser), { limit: 50 });
    expect(aliceHistory.map((x) => x.message)).not.toContain('delete me only at alice');
  });

  it('pages history around a message with offset_id, add_offset, max_id and min_id', async () => {
    const sent: number[] = [];
    for (let i = 0; i < 5; i++) sent.push((await aliceSends(`window ${i}`)).his);
    const window = async (o: {
      offsetId?: number;
      addOffset?: number;
      limit: number;
      maxId?: number;
      minId?: number;
    }) => {
      const page = (await bob.client.invoke(
        new bob.Api.messages.GetHistory({
          peer: peerUser(bob, aliceUser),
          offsetId: o.offsetId ?? 0,
          offsetDate: 0,
          addOffset: o.addOffset ?? 0,
          limit: o.limit,
          maxId: o.maxId ?? 0,
          minId: o.minId ?? 0,
          hash: bigInt(0),
        }),
      )) as GramApi.messages.Messages;
      return page.messages.map((m) => m.id);
    };
    const [w0, w1, w2, w3, w4] = sent as [number, number, number, number, number];
    // Older than the offset, newest first.
    expect(await window({ offsetId: w3, limit: 2 })).toEqual([w2, w1]);
    // Jumping to a message: two newer ones (it included), then older ones.
    expect(await window({ offsetId: w2, addOffset: -2, limit: 4 })).toEqual([w3, w2, w1, w0]);
    // Bounds are exclusive.
    expect(await window({ limit: 10, maxId: w4, minId: w1 })).toEqual([w3, w2]);
  });

  it('shows typing, forwards with the original author, and searches a dialog', async () => {
    await alice.client.invoke(
      new alice.Api.messages.SetTyping({
        peer: peerUser(alice, bobUser),
        action: new alice.Api.SendMessageTypingAction(),
      }),
    );
    await bobSeen.waitFor<GramApi.UpdateUserTyping & Update>(
      'UpdateUserTyping',
      (u) => u.userId.toString() === aliceUser.id.toString(),
    );

    const m = await aliceSends('needle in a haystack');
    const fwd = (await bob.client.invoke(
      new bob.Api.messages.ForwardMessages({
        fromPeer: peerUser(bob, aliceUser),
        id: [m.his],
        randomId: [bigInt(randomBytes(7).toString('hex'), 16)],
        toPeer: new bob.Api.InputPeerSelf(),
      }),
    )) as GramApi.Updates;
    const newMessage = fwd.updates.find(
      (u) => u.className === 'UpdateNewMessage',
    ) as GramApi.UpdateNewMessage;
    const copy = newMessage.message as GramApi.Message;
    expect(copy.message).toBe('needle in a haystack');
    expect((copy.fwdFrom?.fromId as GramApi.PeerUser).userId.toString()).toBe(aliceUser.id.toString());

    const found = (await bob.client.invoke(
      new bob.Api.messages.Search({
        peer: peerUser(bob, aliceUser),
        q: 'NEEDLE',
        filter: new bob.Api.InputMessagesFilterEmpty(),
        minDate: 0,
        maxDate: 0,
        offsetId: 0,
        addOffset: 0,
        limit: 10,
        maxId: 0,
        minId: 0,
        hash: bigInt(0),
      }),
    )) as GramApi.messages.Messages;
    expect(found.messages.map((x) => (x as GramApi.Message).message)).toEqual(['needle in a haystack']);
  });
});
