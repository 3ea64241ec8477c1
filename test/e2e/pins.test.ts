/**
 * Pinned messages and quoted replies in private chats and basic groups (GramJS), across DCs:
 * Alice on DC 2, Bob on DC 3, Carol on DC 1.
 *
 * - A pin reaches the other side's copy live (updatePinnedMessages with that box's own id), with a
 *   messageActionPinMessage service message replying to the pinned message; both copies read back
 *   pinned, and the pinned search filter lists them. pm_oneside pins only the caller's copy, with no
 *   service message. Either side unpins for both; unpinAllMessages clears the dialog.
 * - In a basic group a member's pin reaches every member's copy.
 * - A reply quoting part of the replied-to message carries the quote to the recipient
 *   (messageReplyHeader quote_text / quote_offset); a quote not in that message is QUOTE_TEXT_INVALID.
 * - unpinAllMessages in a supergroup unpins each of its pins.
 * - Refusals: a message of another dialog (MESSAGE_ID_INVALID).
 */
import { createPublicKey, randomInt } from 'node:crypto';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { big, cls, rpcError, str, subscriber, waitFor, type Obj, type Sub } from './support/channels';
import { randomLong } from './support/direct';
import { testNumber, trustKey } from './support/gramjs';
import { inputPeer, resolveUser, setUsername } from './support/users';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));
const run = randomInt(0, 1e9).toString(36);

type Peer = import('telegram').Api.TypeInputPeer;

/** A live updatePinnedMessages of `sub` whose message ids include `id` and whose state is `pinned`. */
const pinUpdate =
  (id: number, pinned: boolean) =>
  (u: Obj): Obj | undefined =>
    cls(u) === 'UpdatePinnedMessages' && (u.messages as number[]).includes(id) && Boolean(u.pinned) === pinned
      ? u
      : undefined;

/** A live new message of `sub` (a service message included) that `pick` accepts. */
const newMessage =
  (pick: (m: Obj) => boolean) =>
  (u: Obj): Obj | undefined => {
    const m = (cls(u) === 'UpdateNewMessage' ? u.message : undefined) as Obj | undefined;
    if (m && pick(m)) return m;
    // A plain private text comes as updateShortMessage: no service message or quote is plain.
    return undefined;
  };

describe('pinned messages and quoted replies (GramJS, across DCs)', () => {
  let alice: Sub; // DC 2
  let bob: Sub; // DC 3
  let carol: Sub; // DC 1
  let bobForAlice: () => Peer;
  let aliceForBob: () => Peer;
  let bobUser: { userId: bigint; accessHash: bigint };

  beforeAll(async () => {
    [alice, bob, carol] = await Promise.all([
      subscriber('telegram', s.dcs, 2, testNumber(2), 'Alice'),
      subscriber('telegram', s.dcs, 3, testNumber(3), 'Bob'),
      subscriber('telegram', s.dcs, 1, testNumber(1), 'Carol'),
    ]);
    const [b, a] = await Promise.all([
      resolveUser(alice.g, await setUsername(bob.g, 'pinb')),
      resolveUser(bob.g, await setUsername(alice.g, 'pina')),
    ]);
    bobUser = b;
    bobForAlice = () => inputPeer(alice.g, b);
    aliceForBob = () => inputPeer(bob.g, a);
  }, 200_000);
  afterAll(async () => {
    for (const m of [alice, bob, carol]) await m?.g.client.destroy();
  });

  /** Sends a text from `from` to `peer`; its id in the sender's box. */
  async function send(from: Sub, peer: Peer, message: string, replyTo?: Obj): Promise<number> {
    const res = (await from.g.client.invoke(
      new from.g.Api.messages.SendMessage({
        peer,
        message,
        randomId: big(randomLong()),
        ...(replyTo ? { replyTo: replyTo as never } : {}),
      }),
    )) as unknown as Obj;
    if (cls(res) === 'UpdateShortSentMessage') return Number(res.id);
    const idUpdate = (res.updates as Obj[]).find((u) => cls(u) === 'UpdateMessageID');
    return Number(idUpdate!.id);
  }

  /** The id `sub` holds for the message it received with text `text` (live). */
  const receivedId = async (sub: Sub, text: string): Promise<number> =>
    waitFor(
      sub,
      (u) => {
        if (cls(u) === 'UpdateShortMessage' && u.message === text) return Number(u.id);
        if (cls(u) === 'UpdateShortChatMessage' && u.message === text) return Number(u.id);
        const m = (cls(u) === 'UpdateNewMessage' ? u.message : undefined) as Obj | undefined;
        return m?.message === text ? Number(m.id) : undefined;
      },
      `message "${text}"`,
    );

  const pin = (from: Sub, peer: Peer, id: number, extra: Record<string, unknown> = {}) =>
    from.g.client.invoke(
      new from.g.Api.messages.UpdatePinnedMessage({ peer, id, ...extra }),
    ) as unknown as Promise<Obj>;

  /** The ids `sub` finds with the pinned search filter in dialog `peer`. */
  async function pinnedIds(sub: Sub, peer: Peer): Promise<number[]> {
    const res = (await sub.g.client.invoke(
      new sub.g.Api.messages.Search({
        peer,
        q: '',
        filter: new sub.g.Api.InputMessagesFilterPinned(),
        limit: 50,
        minDate: 0,
        maxDate: 0,
        offsetId: 0,
        addOffset: 0,
        maxId: 0,
        minId: 0,
        hash: big(0),
      }),
    )) as unknown as { messages: Obj[] };
    return res.messages.map((m) => Number(m.id));
  }

  async function readBack(sub: Sub, id: number): Promise<Obj> {
    const res = (await sub.g.client.invoke(
      new sub.g.Api.messages.GetMessages({ id: [new sub.g.Api.InputMessageID({ id })] }),
    )) as unknown as { messages: Obj[] };
    return res.messages[0]!;
  }

  it('a pin reaches the other side live with a service message; both copies read back pinned', async () => {
    const text = `pin me ${run}`;
    const mine = await send(alice, bobForAlice(), text);
    const theirs = await receivedId(bob, text);

    const answer = await pin(alice, bobForAlice(), mine);
    const updates = answer.updates as Obj[];
    const own = updates.find((u) => cls(u) === 'UpdatePinnedMessages')!;
    expect(own.messages).toEqual([mine]);
    expect(Boolean(own.pinned)).toBe(true);
    const service = updates
      .map((u) => u.message as Obj | undefined)
      .find((m) => cls(m) === 'MessageService')!;
    expect(cls(service.action)).toBe('MessageActionPinMessage');
    expect((service.replyTo as Obj).replyToMsgId).toBe(mine);

    await waitFor(bob, pinUpdate(theirs, true), 'Bob’s copy pinned live');
    const bobService = await waitFor(
      bob,
      newMessage((m) => cls(m) === 'MessageService' && cls(m.action) === 'MessageActionPinMessage'),
      'Bob’s pin service message',
    );
    expect((bobService.replyTo as Obj).replyToMsgId).toBe(theirs);

    expect((await readBack(alice, mine)).pinned).toBe(true);
    expect((await readBack(bob, theirs)).pinned).toBe(true);
    expect(await pinnedIds(alice, bobForAlice())).toEqual([mine]);
    expect(await pinnedIds(bob, aliceForBob())).toEqual([theirs]);
  });

  it('pm_oneside pins only the caller’s copy; either side unpins for both; unpinAllMessages clears', async () => {
    const text = `only mine ${run}`;
    const mine = await send(alice, bobForAlice(), text);
    const theirs = await receivedId(bob, text);
    const answer = await pin(alice, bobForAlice(), mine, { pmOneside: true });
    expect((answer.updates as Obj[]).map(cls)).toEqual(['UpdatePinnedMessages']);
    expect((await readBack(alice, mine)).pinned).toBe(true);

    // Bob pins a second message for both: it arrives after anything the one-sided pin could have sent.
    const second = `both ${run}`;
    const secondMine = await send(bob, aliceForBob(), second);
    const secondAlice = await receivedId(alice, second);
    await pin(bob, aliceForBob(), secondMine);
    await waitFor(alice, pinUpdate(secondAlice, true), 'Alice’s copy of Bob’s pin');
    expect((await readBack(bob, theirs)).pinned).toBe(false);
    expect(bob.seen.some(pinUpdate(theirs, true))).toBe(false);

    // Alice unpins Bob's pin: Bob's copy follows.
    const unpinned = await pin(alice, bobForAlice(), secondAlice, { unpin: true });
    expect((unpinned.updates as Obj[]).map(cls)).toEqual(['UpdatePinnedMessages']);
    await waitFor(bob, pinUpdate(secondMine, false), 'Bob’s copy unpinned live');
    expect((await readBack(bob, secondMine)).pinned).toBe(false);

    // Unpin all: Alice's remaining pins (the first test's and the one-sided one) go.
    expect((await pinnedIds(alice, bobForAlice())).length).toBeGreaterThanOrEqual(2);
    const affected = (await alice.g.client.invoke(
      new alice.g.Api.messages.UnpinAllMessages({ peer: bobForAlice() }),
    )) as unknown as Obj;
    expect(cls(affected)).toBe('messages.AffectedHistory');
    expect(affected.offset).toBe(0);
    expect(await pinnedIds(alice, bobForAlice())).toEqual([]);
    expect((await readBack(alice, mine)).pinned).toBe(false);
    // Bob's copy of the first test's pin is unpinned too (delivered after the answer).
    const deadline = Date.now() + 15_000;
    while ((await pinnedIds(bob, aliceForBob())).length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 250));
    expect(await pinnedIds(bob, aliceForBob())).toEqual([]);
  });

  it('in a basic group a member’s pin reaches every member’s copy', async () => {
    const carolForAlice = await resolveUser(alice.g, await setUsername(carol.g, 'pinc'));
    const created = (await alice.g.client.invoke(
      new alice.g.Api.messages.CreateChat({
        users: [
          new alice.g.Api.InputUser({ userId: big(bobUser.userId), accessHash: big(bobUser.accessHash) }),
          new alice.g.Api.InputUser({
            userId: big(carolForAlice.userId),
            accessHash: big(carolForAlice.accessHash),
          }),
        ],
        title: `Pins ${run}`,
      }),
    )) as unknown as { updates: { chats: Obj[] } };
    const chatId = big(BigInt(str(created.updates.chats[0]!.id)));
    const text = `group pin ${run}`;
    const aliceId = await send(alice, new alice.g.Api.InputPeerChat({ chatId }), text);
    const [bobId, carolId] = await Promise.all([receivedId(bob, text), receivedId(carol, text)]);

    await pin(carol, new carol.g.Api.InputPeerChat({ chatId }), carolId);
    await waitFor(alice, pinUpdate(aliceId, true), 'Alice’s group copy pinned');
    await waitFor(bob, pinUpdate(bobId, true), 'Bob’s group copy pinned');
    const service = await waitFor(
      bob,
      newMessage(
        (m) =>
          cls(m) === 'MessageService' &&
          cls(m.action) === 'MessageActionPinMessage' &&
          str((m.peerId as Obj).chatId) === str(chatId),
      ),
      'group pin service message',
    );
    expect((service.replyTo as Obj).replyToMsgId).toBe(bobId);
    expect(await pinnedIds(alice, new alice.g.Api.InputPeerChat({ chatId }))).toEqual([aliceId]);
  });

  it('a quoted reply carries its quote to the recipient; a quote not in the message is refused', async () => {
    const original = `the quick brown fox ${run}`;
    const mine = await send(alice, bobForAlice(), original);
    const theirs = await receivedId(bob, original);
    const replyTo = new bob.g.Api.InputReplyToMessage({
      replyToMsgId: theirs,
      quoteText: 'quick brown',
      quoteEntities: [new bob.g.Api.MessageEntityBold({ offset: 0, length: 5 })],
    });
    const reply = `about the fox ${run}`;
    await send(bob, aliceForBob(), reply, replyTo as unknown as Obj);
    const got = await waitFor(
      alice,
      (u) => {
        const header = (
          cls(u) === 'UpdateShortMessage' ? u.replyTo : (u.message as Obj | undefined)?.replyTo
        ) as Obj | undefined;
        const textOf = cls(u) === 'UpdateShortMessage' ? u.message : (u.message as Obj | undefined)?.message;
        return textOf === reply ? header : undefined;
      },
      'quoted reply',
    );
    expect(got.replyToMsgId).toBe(mine);
    expect(got.quote).toBe(true);
    expect(got.quoteText).toBe('quick brown');
    expect(got.quoteOffset).toBe(4);
    expect((got.quoteEntities as Obj[]).map(cls)).toEqual(['MessageEntityBold']);

    const wrong = new bob.g.Api.InputReplyToMessage({ replyToMsgId: theirs, quoteText: 'lazy dog' });
    await expect(send(bob, aliceForBob(), `nope ${run}`, wrong as unknown as Obj)).rejects.toEqual(
      rpcError('QUOTE_TEXT_INVALID'),
    );
  });

  it('unpins every pinned message of a supergroup with unpinAllMessages', async () => {
    const created = (await alice.g.client.invoke(
      new alice.g.Api.channels.CreateChannel({ title: `Pins ${run}`, about: '', megagroup: true }),
    )) as unknown as { chats: Obj[] };
    const ch = created.chats[0]!;
    const peer = new alice.g.Api.InputPeerChannel({
      channelId: big(str(ch.id)),
      accessHash: big(str(ch.accessHash)),
    });
    const ids: number[] = [];
    for (const text of [`first ${run}`, `second ${run}`]) {
      const res = (await alice.g.client.invoke(
        new alice.g.Api.messages.SendMessage({ peer, message: text, randomId: big(randomLong()) }),
      )) as unknown as Obj;
      const upd = (res.updates as Obj[]).find((u) => cls(u) === 'UpdateNewChannelMessage')!;
      ids.push(Number((upd.message as Obj).id));
    }
    for (const id of ids) await pin(alice, peer, id, { silent: true });
    expect((await pinnedIds(alice, peer)).sort()).toEqual([...ids].sort());
    const affected = (await alice.g.client.invoke(
      new alice.g.Api.messages.UnpinAllMessages({ peer }),
    )) as unknown as Obj;
    expect(cls(affected)).toBe('messages.AffectedHistory');
    expect(affected.ptsCount).toBe(2);
    expect(affected.offset).toBe(0);
    expect(await pinnedIds(alice, peer)).toEqual([]);
  });

  it('refuses a message of another dialog', async () => {
    const elsewhere = await send(alice, new alice.g.Api.InputPeerSelf(), `saved ${run}`);
    await expect(pin(alice, bobForAlice(), elsewhere)).rejects.toEqual(rpcError('MESSAGE_ID_INVALID'));
  });
});
