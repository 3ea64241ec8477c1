/**
 * Formatting and replies across DCs (GramJS): entities (UTF-16 offsets, text URLs, mentions) and
 * reply_to reach the recipient on another DC, the reply pointing at the recipient's own id of the
 * replied-to message; bad entities and replies are refused with Telegram's errors; an edit keeps
 * its entities.
 */
import { createPublicKey, randomInt } from 'node:crypto';
import bigInt from 'big-integer';
import type { Api as GramApi } from 'telegram';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { loggedInClient, testNumber, trustKey } from './support/gramjs';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

type Gram = Awaited<ReturnType<typeof loggedInClient>>;

/** The input peer `viewer` uses for `other` (found by username, as a client would). */
async function userOf(viewer: Gram, other: Gram): Promise<GramApi.User> {
  const name = `f_${randomInt(0, 1e9).toString(36)}x`;
  await other.client.invoke(new other.Api.account.UpdateUsername({ username: name }));
  const resolved = await viewer.client.invoke(new viewer.Api.contacts.ResolveUsername({ username: name }));
  return resolved.users[0] as GramApi.User;
}

/** `check` until it holds (cross-DC copies are written by the sender's call, but allow a retry). */
async function eventually<T>(check: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Entities as plain data, for comparing what was sent with what was received. */
const plain = (list: GramApi.TypeMessageEntity[] | undefined) =>
  (list ?? []).map((e) => {
    const x = e as GramApi.TypeMessageEntity & { url?: string; userId?: bigInt.BigInteger };
    return {
      type: e.className,
      offset: e.offset,
      length: e.length,
      ...(x.url !== undefined ? { url: x.url } : {}),
      ...(x.userId !== undefined ? { userId: x.userId.toString() } : {}),
    };
  });

describe('formatting and replies across DCs (GramJS)', () => {
  let alice: Gram; // homed on DC 2
  let bob: Gram; // homed on DC 1
  let bobUser: GramApi.User; // as Alice sees him
  let toBob: GramApi.InputPeerUser;
  let toAlice: GramApi.InputPeerUser;
  beforeAll(async () => {
    alice = await loggedInClient(s.dcs, 2, testNumber(2), 'Alice');
    bob = await loggedInClient(s.dcs, 1, testNumber(1), 'Bob');
    bobUser = await userOf(alice, bob);
    toBob = new alice.Api.InputPeerUser({ userId: bobUser.id, accessHash: bobUser.accessHash! });
    const aliceUser = await userOf(bob, alice);
    toAlice = new bob.Api.InputPeerUser({ userId: aliceUser.id, accessHash: aliceUser.accessHash! });
  });
  afterAll(async () => {
    await alice?.client.destroy();
    await bob?.client.destroy();
  });

  /** Bob's copy of the message whose text is `text`. */
  const bobsCopy = (text: string) =>
    eventually(async () => {
      const list = await bob.client.getMessages(toAlice, { limit: 20 });
      return list.find((m) => m.message === text);
    });

  const send = (message: string, extra: Partial<GramApi.messages.SendMessage> = {}) =>
    alice.client.invoke(
      new alice.Api.messages.SendMessage({
        peer: toBob,
        message,
        randomId: bigInt(randomInt(1, 2 ** 47)),
        ...extra,
      }),
    );

  it('delivers entities and a reply pointing at the recipient’s own copy', async () => {
    const first = `first ${randomInt(0, 1e9)}`;
    const sentFirst = (await send(first)) as GramApi.UpdateShortSentMessage;
    const bobFirst = await bobsCopy(first);

    // Leading emoji: offsets count UTF-16 code units (😀 is two).
    const text = `😀 bold link @someone Bob ${randomInt(0, 1e9)}`;
    const at = (w: string) => text.indexOf(w);
    const entities = [
      new alice.Api.MessageEntityBold({ offset: at('bold'), length: 4 }),
      new alice.Api.MessageEntityTextUrl({ offset: at('link'), length: 4, url: 'https://example.com/x' }),
      new alice.Api.MessageEntityMention({ offset: at('@someone'), length: '@someone'.length }),
      new alice.Api.InputMessageEntityMentionName({
        offset: at('Bob'),
        length: 3,
        userId: new alice.Api.InputUser({ userId: bobUser.id, accessHash: bobUser.accessHash! }),
      }),
    ];
    const sent = (await send(text, {
      entities,
      replyTo: new alice.Api.InputReplyToMessage({ replyToMsgId: sentFirst.id }),
    })) as GramApi.UpdateShortSentMessage;
    expect(sent.id).toBeGreaterThan(sentFirst.id);

    const expected = [
      { type: 'MessageEntityBold', offset: at('bold'), length: 4 },
      { type: 'MessageEntityTextUrl', offset: at('link'), length: 4, url: 'https://example.com/x' },
      { type: 'MessageEntityMention', offset: at('@someone'), length: 8 },
      { type: 'MessageEntityMentionName', offset: at('Bob'), length: 3, userId: bobUser.id.toString() },
    ];
    expect(at('bold')).toBe(3); // 2 code units for the emoji, then a space
    const got = await bobsCopy(text);
    expect(plain(got.entities)).toEqual(expected);
    expect(got.replyTo?.replyToMsgId).toBe(bobFirst.id);

    // Alice's own copy replies to her id.
    const mine = (await alice.client.getMessages(toBob, { ids: [sent.id] }))[0]!;
    expect(mine.replyTo?.replyToMsgId).toBe(sentFirst.id);
    expect(plain(mine.entities)).toEqual(expected);
  });

  it('refuses an entity out of bounds with ENTITY_BOUNDS_INVALID', async () => {
    await expect(
      send('short', { entities: [new alice.Api.MessageEntityBold({ offset: 2, length: 10 })] }),
    ).rejects.toMatchObject({ errorMessage: 'ENTITY_BOUNDS_INVALID' });
  });

  it('refuses a reply to a message that does not exist with REPLY_MESSAGE_ID_INVALID', async () => {
    await expect(
      send('reply to nothing', { replyTo: new alice.Api.InputReplyToMessage({ replyToMsgId: 999_999 }) }),
    ).rejects.toMatchObject({ errorMessage: 'REPLY_MESSAGE_ID_INVALID' });
  });

  it('keeps the entities of an edit, on both sides', async () => {
    const text = `to edit ${randomInt(0, 1e9)}`;
    const sent = (await send(text)) as GramApi.UpdateShortSentMessage;
    await bobsCopy(text);
    const edited = `edited italic ${randomInt(0, 1e9)}`;
    await alice.client.invoke(
      new alice.Api.messages.EditMessage({
        peer: toBob,
        id: sent.id,
        message: edited,
        entities: [new alice.Api.MessageEntityItalic({ offset: 7, length: 6 })],
      }),
    );
    const expected = [{ type: 'MessageEntityItalic', offset: 7, length: 6 }];
    const got = await bobsCopy(edited);
    expect(plain(got.entities)).toEqual(expected);
    const mine = (await alice.client.getMessages(toBob, { ids: [sent.id] }))[0]!;
    expect(plain(mine.entities)).toEqual(expected);
  });
});
