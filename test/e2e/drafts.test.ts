/**
 * Drafts across a user's devices (GramJS): Alice has two sessions on DC 2 and writes to Bob (DC 3).
 * A draft saved on one device reaches the other live (updateDraftMessage), and is in
 * messages.getAllDrafts and in the dialog of messages.getDialogs; a send with clear_draft clears
 * it everywhere (draftMessageEmpty); an empty message and clearAllDrafts clear too; a draft in a
 * basic group; the refusals for a peer the user cannot address and for a too-long text.
 */
import { createPublicKey, randomInt } from 'node:crypto';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import {
  big,
  cls,
  rpcError,
  rpcErrorOneOf,
  str,
  subscriber,
  waitFor,
  watch,
  type Obj,
  type Sub,
} from './support/channels';
import { randomLong } from './support/direct';
import { testNumber, trustKey } from './support/gramjs';
import { inputPeer, loggedInWith, resolveUser, setUsername } from './support/users';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));
const run = randomInt(0, 1e9).toString(36);

/** A live updateDraftMessage about user or chat `peerId` whose draft `pick` accepts. */
const draftUpdate =
  (peerId: string, pick: (draft: Obj) => boolean) =>
  (u: Obj): Obj | undefined => {
    if (cls(u) !== 'UpdateDraftMessage') return undefined;
    const peer = u.peer as Obj;
    const id = str(peer.userId ?? peer.chatId);
    return id === peerId && pick(u.draft as Obj) ? u : undefined;
  };

describe('drafts across a user’s devices (GramJS)', () => {
  let alice: Sub; // DC 2
  let alice2: Sub; // DC 2, a second login of Alice
  let bob: Sub; // DC 3
  let bobPeer: () => import('telegram').Api.InputPeerUser;

  beforeAll(async () => {
    const phone = testNumber(2);
    [alice, bob] = await Promise.all([
      subscriber('telegram', s.dcs, 2, phone, 'Alice'),
      subscriber('telegram', s.dcs, 3, testNumber(3), 'Bob'),
    ]);
    alice2 = await watch(await loggedInWith('telegram', s.dcs, 2, phone, 'Alice'), 'telegram', 2, phone);
    const found = await resolveUser(alice.g, await setUsername(bob.g, 'draftee'));
    bobPeer = () => inputPeer(alice.g, found);
    await alice.g.client.invoke(
      new alice.g.Api.messages.SendMessage({
        peer: bobPeer(),
        message: `hello ${run}`,
        randomId: big(randomLong()),
      }),
    );
  }, 200_000);
  afterAll(async () => {
    for (const m of [alice, alice2, bob]) await m?.g.client.destroy();
  });

  const draftsOf = async (m: Sub): Promise<Obj[]> => {
    const res = (await m.g.client.invoke(new m.g.Api.messages.GetAllDrafts())) as unknown as Obj;
    expect(cls(res)).toBe('Updates');
    return (res.updates as Obj[]).filter((u) => cls(u) === 'UpdateDraftMessage');
  };

  /** The first 50 dialogs `m` lists (messages.getDialogs). */
  const dialogsOf = async (m: Sub): Promise<Obj> =>
    (await m.g.client.invoke(
      new m.g.Api.messages.GetDialogs({
        offsetDate: 0,
        offsetId: 0,
        offsetPeer: new m.g.Api.InputPeerEmpty(),
        limit: 50,
        hash: big(0),
      }),
    )) as unknown as Obj;

  it('a draft saved on one device reaches the other live, and is in getAllDrafts and getDialogs', async () => {
    const text = `half-written ${run}`;
    const ok = await alice.g.client.invoke(
      new alice.g.Api.messages.SaveDraft({
        peer: bobPeer(),
        message: text,
        entities: [new alice.g.Api.MessageEntityBold({ offset: 0, length: 4 })],
      }),
    );
    expect(ok).toBe(true);
    const live = await waitFor(
      alice2,
      draftUpdate(str(bob.id), (d) => d.message === text),
      'draft live',
    );
    expect(cls(live.draft)).toBe('DraftMessage');
    expect(((live.draft as Obj).entities as Obj[]).map(cls)).toEqual(['MessageEntityBold']);

    const all = await draftsOf(alice2);
    const mine = all.find((u) => str((u.peer as Obj).userId) === str(bob.id));
    expect((mine?.draft as Obj | undefined)?.message).toBe(text);

    const dialogs = await dialogsOf(alice2);
    const withBob = (dialogs.dialogs as Obj[]).find((x) => str((x.peer as Obj).userId) === str(bob.id));
    expect(((withBob?.draft as Obj | undefined) ?? {}).message).toBe(text);
    // Bob's own drafts know nothing of it.
    expect((await draftsOf(bob)).some((u) => str((u.peer as Obj).userId) === str(alice.id))).toBe(false);
  });

  it('a send with clear_draft clears the draft on every device', async () => {
    await alice.g.client.invoke(
      new alice.g.Api.messages.SendMessage({
        peer: bobPeer(),
        message: `sent ${run}`,
        randomId: big(randomLong()),
        clearDraft: true,
      }),
    );
    await waitFor(
      alice2,
      draftUpdate(str(bob.id), (d) => cls(d) === 'DraftMessageEmpty'),
      'draft cleared live',
    );
    expect((await draftsOf(alice2)).some((u) => str((u.peer as Obj).userId) === str(bob.id))).toBe(false);
  });

  it('an empty message and clearAllDrafts clear; a basic group keeps its own draft', async () => {
    const users = [new alice.g.Api.InputUser({ userId: big(bob.id), accessHash: bobPeer().accessHash })];
    const created = (await alice.g.client.invoke(
      new alice.g.Api.messages.CreateChat({ users, title: `Drafts ${run}` }),
    )) as unknown as { updates: { chats: Obj[] } };
    const chatId = BigInt(str(created.updates.chats[0]!.id));
    const chatPeer = new alice.g.Api.InputPeerChat({ chatId: big(chatId) });
    await alice.g.client.invoke(
      new alice.g.Api.messages.SaveDraft({ peer: chatPeer, message: `group ${run}` }),
    );
    await alice.g.client.invoke(
      new alice.g.Api.messages.SaveDraft({ peer: bobPeer(), message: `again ${run}` }),
    );
    const two = await draftsOf(alice);
    expect(two.map((u) => (u.draft as Obj).message).sort()).toEqual([`again ${run}`, `group ${run}`]);

    await alice.g.client.invoke(new alice.g.Api.messages.SaveDraft({ peer: bobPeer(), message: '' }));
    expect((await draftsOf(alice)).map((u) => (u.draft as Obj).message)).toEqual([`group ${run}`]);
    expect(await alice.g.client.invoke(new alice.g.Api.messages.ClearAllDrafts())).toBe(true);
    await waitFor(
      alice2,
      draftUpdate(chatId.toString(), (d) => cls(d) === 'DraftMessageEmpty'),
      'group draft cleared',
    );
    expect(await draftsOf(alice)).toEqual([]);
  });

  it('keeps a draft’s reply, and a channel dialog carries its draft in getDialogs', async () => {
    const sent = (await alice.g.client.invoke(
      new alice.g.Api.messages.SendMessage({
        peer: bobPeer(),
        message: `reply to me ${run}`,
        randomId: big(randomLong()),
      }),
    )) as unknown as Obj;
    const repliedId = Number(sent.id);
    await alice.g.client.invoke(
      new alice.g.Api.messages.SaveDraft({
        peer: bobPeer(),
        message: `replying ${run}`,
        replyTo: new alice.g.Api.InputReplyToMessage({ replyToMsgId: repliedId }),
      }),
    );
    const live = await waitFor(
      alice2,
      draftUpdate(str(bob.id), (d) => d.message === `replying ${run}`),
      'draft with a reply',
    );
    expect(((live.draft as Obj).replyTo as Obj).replyToMsgId).toBe(repliedId);

    const created = (await alice.g.client.invoke(
      new alice.g.Api.channels.CreateChannel({ title: `Drafts ${run}`, about: '', broadcast: true }),
    )) as unknown as { chats: Obj[] };
    const channel = created.chats[0]!;
    const channelPeer = new alice.g.Api.InputPeerChannel({
      channelId: big(str(channel.id)),
      accessHash: big(str(channel.accessHash)),
    });
    await alice.g.client.invoke(
      new alice.g.Api.messages.SaveDraft({ peer: channelPeer, message: `post ${run}` }),
    );
    const dialogs = await dialogsOf(alice2);
    const inChannel = (dialogs.dialogs as Obj[]).find(
      (x) => str((x.peer as Obj).channelId) === str(channel.id),
    );
    expect(((inChannel?.draft as Obj | undefined) ?? {}).message).toBe(`post ${run}`);
  });

  it('refuses a peer the user cannot address and a text over the limit', async () => {
    const stranger = new alice.g.Api.InputPeerUser({ userId: big(bob.id), accessHash: big(12345) });
    await expect(
      alice.g.client.invoke(new alice.g.Api.messages.SaveDraft({ peer: stranger, message: 'x' })),
    ).rejects.toEqual(rpcErrorOneOf('PEER_ID_INVALID', 'USER_ID_INVALID'));
    await expect(
      alice.g.client.invoke(
        new alice.g.Api.messages.SaveDraft({ peer: bobPeer(), message: 'x'.repeat(5000) }),
      ),
    ).rejects.toEqual(rpcError('MESSAGE_TOO_LONG'));
  });
});
