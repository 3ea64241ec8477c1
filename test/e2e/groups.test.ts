/**
 * Basic groups with GramJS users homed on DC 1, 2 and 3: creating a group (owned by the creator's
 * DC 1), messages reaching every member live through the client's own event handlers and staying
 * in everyone's history, joins, removals, leaves and title changes recorded as service messages
 * for everyone, getFullChat / getChats, getDifference with chats, and the Telegram errors for
 * non-members and bad input. Calls about the group from DC 2 and DC 3 go through those DCs'
 * messaging services to DC 1.
 */
import { createPublicKey, randomInt } from 'node:crypto';
import type { Api as GramApi } from 'telegram';
import { NewMessage, Raw, type NewMessageEvent } from 'telegram/events';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { gramClient, loggedInClient, testNumber, trustKey } from './support/gramjs';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

type Gram = ReturnType<typeof gramClient>;
interface Member {
  g: Gram;
  id: string;
  /** Every update GramJS dispatched to this client (Raw handler), in arrival order. */
  seen: unknown[];
  waiters: (() => void)[];
}

const LIVE_MS = 15_000;

async function member(dc: number, name: string): Promise<Member> {
  const g = await loggedInClient(s.dcs, dc, testNumber(dc), name);
  const me = await g.client.getMe();
  const m: Member = { g, id: me.id.toString(), seen: [], waiters: [] };
  g.client.addEventHandler((u: unknown) => {
    m.seen.push(u);
    for (const w of m.waiters.splice(0)) w();
  }, new Raw({}));
  await g.client.invoke(new g.Api.updates.GetState()); // starts GramJS's update handling
  return m;
}

/** The first update `m` received for which `pick` returns something; waits up to LIVE_MS. */
async function waitFor<T>(m: Member, pick: (u: unknown) => T | undefined): Promise<T> {
  const deadline = Date.now() + LIVE_MS;
  for (;;) {
    for (const u of m.seen) {
      const hit = pick(u);
      if (hit !== undefined) return hit;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no matching live update within ${LIVE_MS} ms`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left);
      m.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

type Obj = { className?: string } & Record<string, unknown>;
const cls = (v: unknown): string => (v as Obj | undefined)?.className ?? '';
const str = (v: unknown): string => String(v);

/** A live service message in chat `chatId` whose action is `action` (and passes `extra`). */
function serviceIn(chatId: string, action: string, extra: (a: Obj) => boolean = () => true) {
  return (u: unknown): Obj | undefined => {
    if (cls(u) !== 'UpdateNewMessage') return undefined;
    const msg = (u as Obj).message as Obj;
    if (cls(msg) !== 'MessageService') return undefined;
    if (str((msg.peerId as Obj).chatId) !== chatId) return undefined;
    const a = msg.action as Obj;
    return cls(a) === action && extra(a) ? msg : undefined;
  };
}

/** A live plain-text group message (updateShortChatMessage) with `text`. */
function shortChatMessage(chatId: string, text: string) {
  return (u: unknown): Obj | undefined =>
    cls(u) === 'UpdateShortChatMessage' && str((u as Obj).chatId) === chatId && (u as Obj).message === text
      ? (u as Obj)
      : undefined;
}

async function history(m: Member, chatId: bigint): Promise<Obj[]> {
  const { Api } = m.g;
  const res = (await m.g.client.invoke(
    new Api.messages.GetHistory({ peer: new Api.InputPeerChat({ chatId: big(chatId) }), limit: 50 }),
  )) as unknown as { messages: Obj[] };
  return res.messages;
}

/** GramJS wants big-integer values for longs. */
function big(v: bigint): import('big-integer').BigInteger {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const bigInt = require('big-integer') as typeof import('big-integer');
  return bigInt(v.toString());
}

/** The InputUser `viewer` uses for `other`, found by username as a client would. */
async function inputUserOf(viewer: Member, other: Member): Promise<GramApi.InputUser> {
  const name = `g_${randomInt(0, 1e9).toString(36)}x`;
  await other.g.client.invoke(new other.g.Api.account.UpdateUsername({ username: name }));
  const resolved = await viewer.g.client.invoke(
    new viewer.g.Api.contacts.ResolveUsername({ username: name }),
  );
  const u = resolved.users[0] as GramApi.User;
  return new viewer.g.Api.InputUser({ userId: u.id, accessHash: u.accessHash! });
}

const rpcError = (name: string): unknown => expect.objectContaining({ errorMessage: name }) as unknown;

describe('basic groups across DCs (GramJS)', () => {
  let alice: Member; // DC 1: creates the group, so DC 1 owns it
  let bob: Member; // DC 2
  let carol: Member; // DC 3
  let dave: Member; // DC 2, added later
  let eve: Member; // DC 3, never a member
  let chatId: bigint;
  let chat: string;

  beforeAll(async () => {
    [alice, bob, carol, dave, eve] = await Promise.all([
      member(1, 'Alice'),
      member(2, 'Bob'),
      member(3, 'Carol'),
      member(2, 'Dave'),
      member(3, 'Eve'),
    ]);
  });
  afterAll(async () => {
    for (const m of [alice, bob, carol, dave, eve]) await m?.g.client.destroy();
  });

  it('creates a group with members on three DCs; everyone sees the creation live and in history', async () => {
    const { Api } = alice.g;
    const users = [await inputUserOf(alice, bob), await inputUserOf(alice, carol)];
    await expect(alice.g.client.invoke(new Api.messages.CreateChat({ users, title: '  ' }))).rejects.toEqual(
      rpcError('CHAT_TITLE_EMPTY'),
    );

    const res = (await alice.g.client.invoke(
      new Api.messages.CreateChat({ users, title: 'Tern across DCs' }),
    )) as unknown as { updates: { chats: Obj[]; updates: Obj[] } };
    const created = res.updates.chats[0]!;
    expect(cls(created)).toBe('Chat');
    expect(created.title).toBe('Tern across DCs');
    expect(created.participantsCount).toBe(3);
    expect(created.creator).toBe(true);
    chatId = BigInt(str(created.id));
    chat = chatId.toString();
    // The owning DC is in the id's low bits (docs/decisions/0010-basic-group-ids.md).
    expect(Number(chatId % 1024n)).toBe(1);
    const mine = res.updates.updates.map((u) => serviceIn(chat, 'MessageActionChatCreate')(u)).find(Boolean);
    expect(mine?.out).toBe(true);

    for (const m of [bob, carol]) {
      const msg = await waitFor(
        m,
        serviceIn(chat, 'MessageActionChatCreate', (a) => a.title === 'Tern across DCs'),
      );
      expect(((msg.action as Obj).users as unknown[]).map(str).sort()).toEqual(
        [alice.id, bob.id, carol.id].sort(),
      );
      expect(msg.out).toBe(false);
      expect(str((msg.fromId as Obj).userId)).toBe(alice.id);
    }
    for (const m of [alice, bob, carol]) {
      const h = await history(m, chatId);
      expect(h.map(cls)).toEqual(['MessageService']);
    }
  });

  it('delivers a message live to every member on every DC and keeps it in everyone’s history', async () => {
    const received = (m: Member, text: string) =>
      new Promise<NewMessageEvent>((resolve) =>
        m.g.client.addEventHandler(
          (e: NewMessageEvent) => {
            if (e.message.message === text) resolve(e);
          },
          new NewMessage({ incoming: true }),
        ),
      );
    const text = 'hello group from DC 2';
    const atAlice = received(alice, text);
    const atCarol = received(carol, text);
    const sent = await bob.g.client.sendMessage(new bob.g.Api.InputPeerChat({ chatId: big(chatId) }), {
      message: text,
    });
    expect(sent.id).toBeGreaterThan(0);
    for (const e of await Promise.all([atAlice, atCarol])) {
      expect(cls(e.message.peerId)).toBe('PeerChat');
      expect(str((e.message.peerId as GramApi.PeerChat).chatId)).toBe(chat);
      expect(str((e.message.fromId as GramApi.PeerUser).userId)).toBe(bob.id);
      expect(e.message.out).toBe(false);
    }
    // A plain text group message travels as updateShortChatMessage.
    await waitFor(carol, shortChatMessage(chat, text));

    await carol.g.client.sendMessage(new carol.g.Api.InputPeerChat({ chatId: big(chatId) }), {
      message: 'and from DC 3',
    });
    await waitFor(alice, shortChatMessage(chat, 'and from DC 3'));
    await waitFor(bob, shortChatMessage(chat, 'and from DC 3'));

    for (const m of [alice, bob, carol]) {
      const h = await history(m, chatId);
      expect(h.slice(0, 2).map((x) => x.message)).toEqual(['and from DC 3', text]);
      expect(h[1]!.out).toBe(m === bob);
      expect(h[0]!.out).toBe(m === carol);
    }
  });

  it('keeps a reply in every member’s copy, pointing at that member’s own copy of the message', async () => {
    // Box ids are per member; a note to Saved Messages moves Alice's on by one, so a reply id copied
    // from Carol's box instead of resolved in Alice's would point at the wrong message there.
    await alice.g.client.sendMessage('me', { message: 'a note to myself' });
    const peer = new carol.g.Api.InputPeerChat({ chatId: big(chatId) });
    const original = await carol.g.client.sendMessage(peer, { message: 'worth a reply' });
    await carol.g.client.sendMessage(peer, { message: 'replying to myself', replyTo: original.id });
    const targets = new Set<number>();
    for (const m of [alice, bob, carol]) {
      const h = await history(m, chatId);
      const target = h.find((x) => x.message === 'worth a reply')!;
      const reply = h.find((x) => x.message === 'replying to myself')!;
      expect((reply.replyTo as Obj | undefined)?.replyToMsgId).toBe(target.id);
      targets.add(target.id as number);
    }
    expect(targets.size).toBeGreaterThan(1);
  });

  it('forwards a group message into the group with its author in the header; edits and revokes reach every member', async () => {
    const bobChat = new bob.g.Api.InputPeerChat({ chatId: big(chatId) });
    const original = await carol.g.client.sendMessage(
      new carol.g.Api.InputPeerChat({ chatId: big(chatId) }),
      {
        message: 'worth repeating',
      },
    );
    const atBob = (await history(bob, chatId)).find((x) => x.message === 'worth repeating')!;
    const bigInt = (await import('big-integer')).default;
    await bob.g.client.invoke(
      new bob.g.Api.messages.ForwardMessages({
        fromPeer: bobChat,
        id: [atBob.id as number],
        randomId: [bigInt(randomInt(1, 2 ** 47))],
        toPeer: bobChat,
      }),
    );
    const aliceHistory = await history(alice, chatId);
    const forwarded = aliceHistory.find(
      (x) => x.message === 'worth repeating' && x.fwdFrom !== null && x.fwdFrom !== undefined,
    );
    expect(str(((forwarded!.fwdFrom as Obj).fromId as Obj).userId)).toBe(carol.id);
    expect(str((forwarded!.fromId as Obj).userId)).toBe(bob.id);

    // The author edits: every member's copy follows; then revokes it everywhere.
    await carol.g.client.invoke(
      new carol.g.Api.messages.EditMessage({
        peer: new carol.g.Api.InputPeerChat({ chatId: big(chatId) }),
        id: original.id,
        message: 'worth repeating (edited)',
      }),
    );
    await waitFor(alice, (u) =>
      cls(u) === 'UpdateEditMessage' && ((u as Obj).message as Obj).message === 'worth repeating (edited)'
        ? (u as Obj)
        : undefined,
    );
    await carol.g.client.invoke(new carol.g.Api.messages.DeleteMessages({ id: [original.id], revoke: true }));
    await waitFor(bob, (u) =>
      cls(u) === 'UpdateDeleteMessages' && ((u as Obj).messages as number[]).includes(atBob.id as number)
        ? (u as Obj)
        : undefined,
    );
    expect((await history(bob, chatId)).map((x) => x.message)).not.toContain('worth repeating (edited)');
  });

  it('getFullChat lists the participants and getChats the chat, from any member’s DC', async () => {
    const { Api } = carol.g;
    const full = (await carol.g.client.invoke(
      new Api.messages.GetFullChat({ chatId: big(chatId) }),
    )) as unknown as { fullChat: Obj; chats: Obj[]; users: Obj[] };
    const participants = (full.fullChat.participants as Obj).participants as Obj[];
    expect(participants.map((p) => str(p.userId)).sort()).toEqual([alice.id, bob.id, carol.id].sort());
    expect(cls(participants.find((p) => str(p.userId) === alice.id))).toBe('ChatParticipantCreator');
    expect(full.users.map((u) => str(u.id)).sort()).toEqual([alice.id, bob.id, carol.id].sort());
    expect(full.chats[0]!.title).toBe('Tern across DCs');

    const chats = (await bob.g.client.invoke(
      new bob.g.Api.messages.GetChats({ id: [big(chatId)] }),
    )) as unknown as { chats: Obj[] };
    expect(chats.chats.map((c) => [cls(c), str(c.id), c.creator])).toEqual([['Chat', chat, false]]);
  });

  it('answers a non-member and bad input with Telegram errors', async () => {
    const { Api } = eve.g;
    const peer = new Api.InputPeerChat({ chatId: big(chatId) });
    await expect(eve.g.client.invoke(new Api.messages.GetFullChat({ chatId: big(chatId) }))).rejects.toEqual(
      rpcError('CHAT_ID_INVALID'),
    );
    await expect(eve.g.client.invoke(new Api.messages.GetHistory({ peer, limit: 10 }))).rejects.toEqual(
      rpcError('CHAT_ID_INVALID'),
    );
    await expect(eve.g.client.sendMessage(peer, { message: 'let me in' })).rejects.toEqual(
      rpcError('CHAT_ID_INVALID'),
    );
    await expect(
      eve.g.client.invoke(new Api.messages.EditChatTitle({ chatId: big(chatId), title: 'mine now' })),
    ).rejects.toEqual(rpcError('CHAT_ID_INVALID'));
    const none = (await eve.g.client.invoke(new Api.messages.GetChats({ id: [big(chatId)] }))) as unknown as {
      chats: Obj[];
    };
    expect(none.chats).toEqual([]);

    const a = alice.g.Api;
    await expect(
      alice.g.client.invoke(
        new a.messages.AddChatUser({
          chatId: big(chatId),
          userId: await inputUserOf(alice, bob),
          fwdLimit: 0,
        }),
      ),
    ).rejects.toEqual(rpcError('USER_ALREADY_PARTICIPANT'));
    await expect(
      alice.g.client.invoke(
        new a.messages.DeleteChatUser({ chatId: big(chatId), userId: await inputUserOf(alice, eve) }),
      ),
    ).rejects.toEqual(rpcError('USER_NOT_PARTICIPANT'));
    await expect(
      alice.g.client.invoke(new a.messages.EditChatTitle({ chatId: big(chatId), title: 'x'.repeat(129) })),
    ).rejects.toEqual(rpcError('CHAT_TITLE_TOO_LONG'));
  });

  it('adding a member records it for everyone; the new member sees the group from then on', async () => {
    const { Api } = bob.g;
    const res = (await bob.g.client.invoke(
      new Api.messages.AddChatUser({
        chatId: big(chatId),
        userId: await inputUserOf(bob, dave),
        fwdLimit: 100,
      }),
    )) as unknown as { updates: { chats: Obj[] } };
    expect(res.updates.chats[0]!.participantsCount).toBe(4);
    const added = (a: Obj) => (a.users as unknown[]).map(str).join() === dave.id;
    for (const m of [alice, carol, dave])
      await waitFor(m, serviceIn(chat, 'MessageActionChatAddUser', added));

    const h = await history(dave, chatId);
    expect(h.map((x) => cls(x.action))).toEqual(['MessageActionChatAddUser']);
    await dave.g.client.sendMessage(new dave.g.Api.InputPeerChat({ chatId: big(chatId) }), {
      message: 'thanks for adding me',
    });
    for (const m of [alice, bob, carol]) await waitFor(m, shortChatMessage(chat, 'thanks for adding me'));
  });

  it('a title change is a service message for everyone and shows in getChats', async () => {
    const { Api } = carol.g;
    await carol.g.client.invoke(
      new Api.messages.EditChatTitle({ chatId: big(chatId), title: 'Renamed on DC 3' }),
    );
    const renamed = (a: Obj) => a.title === 'Renamed on DC 3';
    for (const m of [alice, bob, dave])
      await waitFor(m, serviceIn(chat, 'MessageActionChatEditTitle', renamed));
    const chats = (await alice.g.client.invoke(
      new alice.g.Api.messages.GetChats({ id: [big(chatId)] }),
    )) as unknown as { chats: Obj[] };
    expect(chats.chats[0]!.title).toBe('Renamed on DC 3');
    await expect(
      carol.g.client.invoke(
        new Api.messages.EditChatTitle({ chatId: big(chatId), title: 'Renamed on DC 3' }),
      ),
    ).rejects.toEqual(rpcError('CHAT_NOT_MODIFIED'));
  });

  it('removing a member tells everyone, including them; they keep their history but cannot write', async () => {
    // Only the creator or whoever added a member may remove them.
    await expect(
      dave.g.client.invoke(
        new dave.g.Api.messages.DeleteChatUser({
          chatId: big(chatId),
          userId: await inputUserOf(dave, carol),
        }),
      ),
    ).rejects.toEqual(rpcError('CHAT_ADMIN_REQUIRED'));

    const { Api } = alice.g;
    await alice.g.client.invoke(
      new Api.messages.DeleteChatUser({ chatId: big(chatId), userId: await inputUserOf(alice, bob) }),
    );
    const removed = (a: Obj) => str(a.userId) === bob.id;
    for (const m of [bob, carol, dave])
      await waitFor(m, serviceIn(chat, 'MessageActionChatDeleteUser', removed));

    const seen = (await bob.g.client.invoke(
      new bob.g.Api.messages.GetChats({ id: [big(chatId)] }),
    )) as unknown as { chats: Obj[] };
    expect(cls(seen.chats[0])).toBe('ChatForbidden');
    await expect(
      bob.g.client.sendMessage(new bob.g.Api.InputPeerChat({ chatId: big(chatId) }), {
        message: 'still here?',
      }),
    ).rejects.toEqual(rpcError('CHAT_WRITE_FORBIDDEN'));
    const h = await history(bob, chatId);
    expect(cls(h[0]!.action)).toBe('MessageActionChatDeleteUser');
    expect(h.some((x) => x.message === 'hello group from DC 2')).toBe(true);
  });

  it('leaving is recorded for everyone and the member list follows', async () => {
    const { Api } = carol.g;
    await carol.g.client.invoke(
      new Api.messages.DeleteChatUser({ chatId: big(chatId), userId: new Api.InputUserSelf() }),
    );
    const left = (a: Obj) => str(a.userId) === carol.id;
    for (const m of [alice, dave]) await waitFor(m, serviceIn(chat, 'MessageActionChatDeleteUser', left));

    const full = (await alice.g.client.invoke(
      new alice.g.Api.messages.GetFullChat({ chatId: big(chatId) }),
    )) as unknown as { fullChat: Obj; chats: Obj[] };
    const participants = (full.fullChat.participants as Obj).participants as Obj[];
    expect(participants.map((p) => str(p.userId)).sort()).toEqual([alice.id, dave.id].sort());
    expect(full.chats[0]!.participantsCount).toBe(2);

    const mine = (await carol.g.client.invoke(
      new Api.messages.GetChats({ id: [big(chatId)] }),
    )) as unknown as {
      chats: Obj[];
    };
    expect(mine.chats[0]).toMatchObject({ className: 'Chat', left: true });
  });

  it('getDifference returns group messages with their chat', async () => {
    const { Api } = dave.g;
    const state = await dave.g.client.invoke(new Api.updates.GetState());
    await alice.g.client.sendMessage(new alice.g.Api.InputPeerChat({ chatId: big(chatId) }), {
      message: 'for the record',
    });
    await waitFor(dave, shortChatMessage(chat, 'for the record'));
    const diff = (await dave.g.client.invoke(
      new Api.updates.GetDifference({ pts: state.pts, date: state.date, qts: 0 }),
    )) as unknown as { className: string; newMessages: Obj[]; chats: Obj[] };
    expect(diff.className).toBe('updates.Difference');
    expect(diff.newMessages.map((m) => m.message)).toEqual(['for the record']);
    expect(diff.chats.map((c) => str(c.id))).toEqual([chat]);
  });
});
