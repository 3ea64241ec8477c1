/**
 * messages.migrateChat (GramJS): a basic group owned by DC 1 with members homed on DC 1, 2 and 3
 * becomes a supergroup. The creator alone may migrate (CHAT_ADMIN_REQUIRED for anyone else); the
 * answer carries the new megagroup, whose message 1 is messageActionChannelMigrateFrom and whose
 * full info names the old chat; every member gets messageActionChatMigrateTo in the old chat live
 * and finds the old chat closed (deactivated, migrated_to) with its history still readable; nobody
 * can write to it any more; the members are in the supergroup and chat there live; a repeated
 * migrateChat answers the same supergroup.
 */
import { createPublicKey, randomInt } from 'node:crypto';
import type { Api as GramApi } from 'telegram';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import {
  big,
  channelIn,
  cls,
  inputChannel,
  inputUserOf,
  newChannelMessage,
  post,
  refOf,
  rpcError,
  str,
  subscriber,
  waitFor,
  type ChannelRef,
  type Obj,
  type Sub,
} from './support/channels';
import { randomLong } from './support/direct';
import { testNumber, trustKey } from './support/gramjs';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

const run = randomInt(0, 1e9).toString(36);

/** A service message of `action` in basic group `chatId`, from a live update of any shape. */
const chatService =
  (chatId: string, action: string) =>
  (u: Obj): Obj | undefined => {
    const m = (u.message as Obj | undefined) ?? undefined;
    if (!m || cls(m) !== 'MessageService' || cls(m.action) !== action) return undefined;
    const peer = m.peerId as Obj | undefined;
    return cls(peer) === 'PeerChat' && str(peer?.chatId) === chatId ? m : undefined;
  };

async function chatHistory(m: Sub, chatId: bigint): Promise<Obj[]> {
  const h = (await m.g.client.invoke(
    new m.g.Api.messages.GetHistory({ peer: new m.g.Api.InputPeerChat({ chatId: big(chatId) }), limit: 50 }),
  )) as unknown as Obj;
  return h.messages as Obj[];
}

describe('a basic group on DC 1 migrated to a supergroup (GramJS, members on three DCs)', () => {
  let owner: Sub; // DC 1, the creator
  let m2: Sub; // DC 2
  let m3: Sub; // DC 3
  let chatId: bigint;
  let chat: string;
  let group: ChannelRef;
  const refs = new Map<Sub, ChannelRef>();

  beforeAll(async () => {
    [owner, m2, m3] = await Promise.all([
      subscriber('telegram', s.dcs, 1, testNumber(1), 'Owner'),
      subscriber('telegram', s.dcs, 2, testNumber(2), 'Second'),
      subscriber('telegram', s.dcs, 3, testNumber(3), 'Third'),
    ]);
    const { Api } = owner.g;
    const users = [await inputUserOf(owner.g, m2.g), await inputUserOf(owner.g, m3.g)];
    const res = (await owner.g.client.invoke(
      new Api.messages.CreateChat({ users, title: `Migrating ${run}` }),
    )) as unknown as { updates: { chats: Obj[] } };
    chatId = BigInt(str(res.updates.chats[0]!.id));
    chat = chatId.toString();
    for (const m of [m2, m3]) await waitFor(m, chatService(chat, 'MessageActionChatCreate'), 'chat created');
    await m2.g.client.invoke(
      new m2.g.Api.messages.SendMessage({
        peer: new m2.g.Api.InputPeerChat({ chatId: big(chatId) }),
        message: `before ${run}`,
        randomId: big(randomLong()),
      }),
    );
    for (const m of [owner, m3])
      await waitFor(
        m,
        (u) => {
          const msg = u.message as Obj | undefined;
          return u.chatId !== undefined && str(u.chatId) === chat && u.message === `before ${run}`
            ? u
            : msg?.message === `before ${run}`
              ? msg
              : undefined;
        },
        'a message before the migration',
      );
  }, 240_000);
  afterAll(async () => {
    for (const m of [owner, m2, m3]) await m?.g.client.destroy();
  });

  it('lets only the creator migrate', async () => {
    await expect(
      m2.g.client.invoke(new m2.g.Api.messages.MigrateChat({ chatId: big(chatId) })),
    ).rejects.toEqual(rpcError('CHAT_ADMIN_REQUIRED'));
  });

  it('answers the new megagroup, the closed chat and both service messages', async () => {
    const res = (await owner.g.client.invoke(
      new owner.g.Api.messages.MigrateChat({ chatId: big(chatId) }),
    )) as unknown as Obj;
    expect(cls(res)).toBe('Updates');
    const channel = channelIn(res.chats as unknown[]);
    expect(channel.megagroup).toBe(true);
    expect(channel.title).toBe(`Migrating ${run}`);
    group = refOf(channel);
    refs.set(owner, group);
    const old = (res.chats as Obj[]).find((c) => cls(c) === 'Chat' && str(c.id) === chat);
    expect(old?.deactivated).toBe(true);
    expect(str((old?.migratedTo as Obj | undefined)?.channelId)).toBe(str(group.id));
    const updates = res.updates as Obj[];
    const from = updates
      .map((u) => u.message as Obj | undefined)
      .find((m) => cls(m?.action) === 'MessageActionChannelMigrateFrom');
    expect(from?.id).toBe(1);
    expect(str((from?.action as Obj).chatId)).toBe(chat);
    expect(
      updates
        .map((u) => u.message as Obj | undefined)
        .some((m) => cls(m?.action) === 'MessageActionChatMigrateTo'),
    ).toBe(true);

    const full = (await owner.g.client.invoke(
      new owner.g.Api.channels.GetFullChannel({ channel: inputChannel(owner.g, group) }),
    )) as unknown as Obj;
    const fc = full.fullChat as Obj;
    expect(str(fc.migratedFromChatId)).toBe(chat);
    expect(fc.migratedFromMaxId as number).toBeGreaterThan(0);
    expect(fc.participantsCount).toBe(3);
  });

  it('tells every member live, keeps the old history readable and closes the old chat', async () => {
    for (const m of [m2, m3]) {
      const msg = await waitFor(m, chatService(chat, 'MessageActionChatMigrateTo'), 'chatMigrateTo');
      expect(str((msg.action as Obj).channelId)).toBe(str(group.id));
    }
    for (const m of [owner, m2, m3]) {
      const h = await chatHistory(m, chatId);
      expect(h.some((x) => x.message === `before ${run}`)).toBe(true);
      expect(h.some((x) => cls(x.action) === 'MessageActionChatMigrateTo')).toBe(true);
      const chats = (await m.g.client.invoke(
        new m.g.Api.messages.GetChats({ id: [big(chatId)] }),
      )) as unknown as Obj;
      const c = (chats.chats as Obj[])[0]!;
      expect(c.deactivated).toBe(true);
      expect(str((c.migratedTo as Obj).channelId)).toBe(str(group.id));
      await expect(
        m.g.client.invoke(
          new m.g.Api.messages.SendMessage({
            peer: new m.g.Api.InputPeerChat({ chatId: big(chatId) }),
            message: 'after',
            randomId: big(randomLong()),
          }),
        ),
      ).rejects.toEqual(rpcError('CHAT_WRITE_FORBIDDEN'));
    }
  });

  it('makes every member a member of the supergroup, where they chat live', async () => {
    for (const m of [m2, m3]) {
      const res = (await m.g.client.invoke(
        new m.g.Api.channels.GetChannels({
          id: [new m.g.Api.InputChannel({ channelId: big(group.id), accessHash: big(0) })],
        }),
      )) as unknown as Obj;
      const c = channelIn(res.chats as unknown[], group.id);
      expect(c.left ?? false).toBe(false);
      refs.set(m, refOf(c));
    }
    await post(m3.g, refs.get(m3)!, `in the supergroup ${run}`);
    for (const m of [owner, m2])
      await waitFor(
        m,
        newChannelMessage(str(group.id), `in the supergroup ${run}`),
        'a post after migrating',
      );
  });

  it('answers the same supergroup when asked again', async () => {
    const res = (await owner.g.client.invoke(
      new owner.g.Api.messages.MigrateChat({ chatId: big(chatId) }),
    )) as unknown as GramApi.Updates;
    expect(str(channelIn(res.chats as unknown[]).id)).toBe(str(group.id));
  });
});
