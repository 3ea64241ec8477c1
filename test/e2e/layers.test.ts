/**
 * One table of client layers against the three DCs (issue 16, "Done when"): teleproto 1.229
 * (layer 229), teleproto 214, GramJS 2.26 (198), GramJS 2.17 (158) and GramJS 2.22 announcing
 * layer 183, which the gateway serves between its held layers 181 and 184 (support/layers.ts
 * says why no published client speaks such a layer itself); GramJS 2.22 announcing 180 is refused.
 * Each signs up on its home DC asked on DC 1 (PHONE_MIGRATE), chats with a GramJS user on DC 1
 * with entities, mentions and replies each way, forwards, sends and receives a document, makes a
 * basic group and a supergroup with that user, reads dialogs, contacts, participants and its
 * differences, and logs a new device in with a two-step password.
 *
 * Every answer and every pushed update is watched: no client meets a constructor it cannot read,
 * and every users/chats vector holds each peer its answer mentions (senders, recipients,
 * forwarded-from, mentioned users, service-message users, participants), the known gaps below
 * aside. The last test checks that every answer type with a users vector the gateway writes was
 * walked.
 */
import { createPublicKey, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import bigInt from 'big-integer';
import type { Api as GramApi } from 'telegram';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { literalNames } from '../../tools/tl/served';
import { stack } from '../support/stack';
import {
  channelDifference,
  channelUsername,
  createChannel,
  history,
  inputChannel,
  inputPeerChannel,
  refOf,
  type ChannelRef,
  resolveChannel,
} from './support/channels';
import { unusedTestNumber } from './support/direct';
import { gramClient, signInOrUp, trustKey, type Lib } from './support/gramjs';
import {
  announce,
  closeClient,
  LAYER_CLIENTS,
  missingPeers,
  problems,
  roles,
  watchedClient,
  type LayerClient,
  type Watched,
} from './support/layers';
import { documentOf } from './support/media';
import { inputPeer, resolveUser, setUsername, userIdOf } from './support/users';

const s = stack();
const fingerprint = rsaFingerprint(createPublicKey(s.rsaPublicKey));
// telegram-layer-181 for the refused-layer case at the end.
for (const lib of new Set<Lib>(['telegram', 'telegram-layer-181', ...LAYER_CLIENTS.map((c) => c.lib)]))
  trustKey(lib, s.rsaPublicKey, fingerprint);

const PARTNER: LayerClient = { lib: 'telegram', layer: 198, what: 'GramJS 2.26.22 (the partner)' };
/** Each client's home DC: never DC 1, where it is asked first and where its partner lives. */
const homeOf = (i: number) => (i % 2 === 0 ? 3 : 2);
const run = randomInt(0, 1e9).toString(36);

/**
 * Answers and pushed updates that may leave out a peer they mention, as `answer kind: peers`
 * lines; empty since the services' users vectors name mention entities, forwards' authors and the
 * users of group media and forwards (found by this suite on 2026-12-02). A gap this suite finds
 * and that cannot be fixed at once goes here with why; for an answer, the last test of each client
 * fails until its line goes again.
 */
const KNOWN_GAPS: string[] = [];

/** Every container any watched client decoded (for the last test: every answer type walked). */
const walked = new Set<string>();

/** Answer types with users and chats vectors every client is seen to decode and check. */
const CONTAINERS_SEEN = [
  'Updates',
  'channels.ChannelParticipants',
  'contacts.Contacts',
  'contacts.ImportedContacts',
  'messages.PeerDialogs',
  'contacts.ResolvedPeer',
  'messages.ChatFull',
  'messages.Dialogs',
  'messages.ChannelMessages',
  'messages.Messages',
  'updates.ChannelDifference',
  'updates.Difference',
];

/** `check` until it gives a value (cross-DC copies may land a moment after the send answers). */
async function eventually<T>(check: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 250));
  }
}

type Msg = GramApi.Message;
const plainEntities = (m: Msg | undefined) =>
  (m?.entities ?? []).map((e) => {
    const x = e as GramApi.TypeMessageEntity & { url?: string; userId?: bigInt.BigInteger };
    return [e.className, e.offset, e.length, x.url ?? x.userId?.toString() ?? null];
  });
const str = (v: unknown) => String(v);

/** The recent messages `w` has with `peer`. */
const recent = async (w: Watched, peer: GramApi.TypeInputPeer, limit = 20): Promise<Msg[]> => [
  ...(await w.client.getMessages(peer, { limit })),
];
const classOf = (v: unknown) => (v as { className: string }).className;

/* eslint-disable @typescript-eslint/no-require-imports -- each library's own classes, by name */
const customFile = (lib: Lib) =>
  (require(`${lib}/client/uploads`) as typeof import('telegram/client/uploads')).CustomFile;
const binaryReader = (lib: Lib) =>
  (require(`${lib}/extensions/BinaryReader`) as typeof import('telegram/extensions')).BinaryReader;
/* eslint-enable @typescript-eslint/no-require-imports */

let partner: Watched; // GramJS, homed on DC 1
let partnerName: string;
let partnerId: bigint;
let partnerPhone: string;
let third: Watched; // GramJS, homed on DC 2: never in the chats, only mentioned and forwarded
let thirdName: string;
let thirdId: bigint;

beforeAll(async () => {
  // Numbers nobody holds: a reused one may have a two-step password (two-factor.test.ts).
  partnerPhone = await unusedTestNumber(s, 1);
  partner = watchedClient(PARTNER, s.dcs[0]!);
  await partner.client.connect();
  await signInOrUp(partner, 1, partnerPhone, 'Partner');
  partnerName = await setUsername(partner, 'lp');
  partnerId = await userIdOf(partner);
  await partner.client.invoke(new partner.Api.updates.GetState());
  third = watchedClient(PARTNER, s.dcs[1]!);
  await third.client.connect();
  await signInOrUp(third, 2, await unusedTestNumber(s, 2), 'Third');
  thirdName = await setUsername(third, 'lt');
  thirdId = await userIdOf(third);
  roles.set(partnerId.toString(), 'partner');
  roles.set(thirdId.toString(), 'third');
}, 120_000);
afterAll(async () => {
  await closeClient(partner);
  await closeClient(third);
});

describe('the watch on what clients decode', () => {
  it('sees a constructor a client cannot read, and a peer an answer leaves out', () => {
    for (const spec of LAYER_CLIENTS) {
      const w = watchedClient(spec, s.dcs[0]!); // not connected: only its library is watched
      const BinaryReader = binaryReader(spec.lib);
      expect(() => {
        new BinaryReader(Buffer.from('efbeadde', 'hex')).tgReadObject();
      }).toThrow();
      expect(problems(w).unknown).toEqual(['unknown constructor 0xdeadbeef']);
    }
    const Api = partner.Api;
    const orphan = new Api.messages.Messages({
      messages: [
        new Api.Message({
          id: 1,
          peerId: new Api.PeerUser({ userId: bigInt(7) }),
          fromId: new Api.PeerUser({ userId: bigInt(8) }),
          date: 0,
          message: 'x',
          fwdFrom: new Api.MessageFwdHeader({ date: 0, fromId: new Api.PeerUser({ userId: bigInt(9) }) }),
        }),
      ],
      users: [new Api.UserEmpty({ id: bigInt(7) })],
      chats: [],
    });
    expect(missingPeers(orphan)).toEqual(['messages.Messages: user:8, user:9']);
  });
});

describe.each(LAYER_CLIENTS.map((c, i) => [c.what, c.layer, c, homeOf(i)] as const))(
  '%s (layer %d)',
  (_what, layer, spec, home) => {
    let me: Watched;
    let phone: string;
    let myName: string;
    let myId: bigint;
    let toPartner: GramApi.InputPeerUser; // as `me` knows the partner
    let toMe: GramApi.InputPeerUser; // as the partner knows `me`
    let state: GramApi.updates.State;
    let partnerState: GramApi.updates.State;
    let hi: Msg; // the partner's greeting, `me`'s copy
    let basicGroup: GramApi.InputPeerChat; // as `me` knows it
    let supergroup: ChannelRef; // as `me` knows it
    const tag = `L${layer}`;
    /** Answers and pushed updates that left out a peer they mention, as `<who>: <what>`. */
    const incomplete = new Set<string>();

    /**
     * Nothing any client decoded so far was unreadable; answers that left a mentioned peer out are
     * kept for the last test (a pushed update may arrive after the call that caused it returns).
     */
    const expectClean = (device?: Watched) => {
      const watched: Array<[string, Watched | undefined]> = [
        ['client', me],
        ['partner', partner],
        ['third', third],
        ['device', device],
      ];
      for (const [who, w] of watched) {
        if (!w) continue;
        const { unknown, missing } = problems(w);
        expect(unknown).toEqual([]);
        for (const m of missing) incomplete.add(`${who}: ${m}`);
      }
    };

    afterAll(async () => {
      await closeClient(me);
    });

    it('signs up on its home DC, asked on DC 1 (PHONE_MIGRATE)', async () => {
      phone = await unusedTestNumber(s, home);
      me = watchedClient(spec, s.dcs[0]!);
      me.client.floodSleepThreshold = 0;
      await me.client.start({
        phoneNumber: phone,
        phoneCode: () => Promise.resolve(String(home).repeat(5)),
        firstAndLastNames: () => Promise.resolve([tag, 'Client']),
        onError: (err) => {
          throw err;
        },
      });
      expect(me.client.session.dcId).toBe(home);
      const self = await me.client.getMe();
      expect([self.phone, self.firstName, self.self]).toEqual([phone, tag, true]);
      myName = await setUsername(me, tag.toLowerCase());
      myId = await userIdOf(me);
      roles.set(myId.toString(), 'client');
      partnerState = await partner.client.invoke(new partner.Api.updates.GetState());
      state = await me.client.invoke(new me.Api.updates.GetState());
      toPartner = inputPeer(me, await resolveUser(me, partnerName));
      toMe = inputPeer(partner, await resolveUser(partner, myName));
      expect(toPartner.userId.toString()).toBe(partnerId.toString());
      expectClean();
    });

    it('chats with a GramJS user on DC 1: entities, mentions and replies each way', async () => {
      // The partner greets `me`, naming it with a mention entity.
      const greeting = `hi ${tag} ${run}`;
      const sentHi = await partner.client.sendMessage(toMe, {
        message: greeting,
        formattingEntities: [
          new partner.Api.MessageEntityBold({ offset: 0, length: 2 }),
          new partner.Api.InputMessageEntityMentionName({
            offset: 3,
            length: tag.length,
            userId: new partner.Api.InputUser({ userId: toMe.userId, accessHash: toMe.accessHash }),
          }),
        ],
      });
      hi = await eventually(async () => (await recent(me, toPartner)).find((m) => m.message === greeting));
      expect(plainEntities(hi)).toEqual([
        ['MessageEntityBold', 0, 2, null],
        ['MessageEntityMentionName', 3, tag.length, myId.toString()],
      ]);

      // `me` replies, with a leading emoji (UTF-16 offsets), bold, a link and mentions of the
      // partner and of a third user who is not in this chat.
      const thirdUser = await resolveUser(me, thirdName);
      const reply = `😀 bold link @${partnerName} @${thirdName} ${run}`;
      const at = (w: string) => reply.indexOf(w);
      const mention = (user: { userId: bigint; accessHash: bigint }, name: string) =>
        new me.Api.InputMessageEntityMentionName({
          offset: at(`@${name}`),
          length: name.length + 1,
          userId: new me.Api.InputUser({
            userId: bigInt(user.userId.toString()),
            accessHash: bigInt(user.accessHash.toString()),
          }),
        });
      const sent = await me.client.sendMessage(toPartner, {
        message: reply,
        replyTo: hi.id,
        formattingEntities: [
          new me.Api.MessageEntityBold({ offset: at('bold'), length: 4 }),
          new me.Api.MessageEntityTextUrl({ offset: at('link'), length: 4, url: 'https://example.com/l' }),
          mention({ userId: partnerId, accessHash: BigInt(toPartner.accessHash.toString()) }, partnerName),
          mention(thirdUser, thirdName),
        ],
      });
      expect(sent.id).toBeGreaterThan(hi.id);
      const got = await eventually(async () =>
        (await recent(partner, toMe)).find((m) => m.message === reply),
      );
      expect(got.replyTo?.replyToMsgId).toBe(sentHi.id);
      expect(plainEntities(got)).toEqual([
        ['MessageEntityBold', 3, 4, null],
        ['MessageEntityTextUrl', 8, 4, 'https://example.com/l'],
        ['MessageEntityMentionName', at(`@${partnerName}`), partnerName.length + 1, partnerId.toString()],
        ['MessageEntityMentionName', at(`@${thirdName}`), thirdName.length + 1, thirdId.toString()],
      ]);

      // A message from the third user, forwarded by `me` to the partner, names its author.
      const fromThird = `from third to ${tag} ${run}`;
      const toMeFromThird = inputPeer(third, await resolveUser(third, myName));
      await third.client.sendMessage(toMeFromThird, { message: fromThird });
      const thirdMsg = await eventually(async () =>
        (await recent(me, inputPeer(me, thirdUser))).find((m) => m.message === fromThird),
      );
      await me.client.invoke(
        new me.Api.messages.ForwardMessages({
          fromPeer: inputPeer(me, thirdUser),
          id: [thirdMsg.id],
          randomId: [bigInt(randomInt(1, 2 ** 47))],
          toPeer: toPartner,
        }),
      );
      const fwdAtPartner = await eventually(async () =>
        (await recent(partner, toMe)).find((m) => m.message === fromThird),
      );
      expect(str((fwdAtPartner.fwdFrom?.fromId as GramApi.PeerUser | undefined)?.userId)).toBe(
        thirdId.toString(),
      );

      // The partner replies to the reply; `me` sees it pointing at its own copy.
      const back = `back to ${tag} ${run}`;
      await partner.client.sendMessage(toMe, { message: back, replyTo: got.id });
      const backMine = await eventually(async () =>
        (await recent(me, toPartner)).find((m) => m.message === back),
      );
      expect(backMine.replyTo?.replyToMsgId).toBe(sent.id);

      // A page smaller than the dialog is a slice, counting the whole dialog (at least 3 by now).
      const page = (await me.client.invoke(
        new me.Api.messages.GetHistory({
          peer: toPartner,
          limit: 1,
          offsetId: 0,
          offsetDate: 0,
          addOffset: 0,
          maxId: 0,
          minId: 0,
          hash: bigInt(0),
        }),
      )) as unknown as { className: string; count?: number; messages: unknown[] };
      expect(page.className).toBe('messages.MessagesSlice');
      expect(page.count).toBeGreaterThanOrEqual(3);
      expect(page.messages).toHaveLength(1);

      // Forwarded to Saved Messages: that history names the partner only as the forward's origin.
      await me.client.invoke(
        new me.Api.messages.ForwardMessages({
          fromPeer: toPartner,
          id: [hi.id],
          randomId: [bigInt(randomInt(1, 2 ** 47))],
          toPeer: new me.Api.InputPeerSelf(),
        }),
      );
      const saved = await recent(me, new me.Api.InputPeerSelf(), 5);
      const fwd = saved.find((m) => m.message === greeting);
      expect(str((fwd?.fwdFrom?.fromId as GramApi.PeerUser | undefined)?.userId)).toBe(partnerId.toString());
      expectClean();
    });

    it('sends a document and receives one', async () => {
      const bytes = Buffer.from(`a note from layer ${layer} ${run}\n`.repeat(64));
      const caption = `doc from ${tag} ${run}`;
      const File = customFile(spec.lib);
      const sent = await me.client.sendFile(toPartner, {
        file: new File(`note-${layer}.txt`, bytes.length, '', bytes),
        forceDocument: true,
        caption,
      });
      expect(documentOf(sent).size.toString()).toBe(String(bytes.length));
      const got = await eventually(async () =>
        (await recent(partner, toMe)).find((m) => m.message === caption),
      );
      const doc = documentOf(got);
      expect(doc.size.toString()).toBe(String(bytes.length));
      expect(
        doc.attributes.map((a) => (a as GramApi.DocumentAttributeFilename).fileName).filter(Boolean),
      ).toEqual([`note-${layer}.txt`]);

      // One the other way, pushed live to `me` as an `updates` batch with its users.
      const back = `doc for ${tag} ${run}`;
      await partner.client.sendFile(toMe, {
        file: new (customFile('telegram'))('back.txt', 5, '', Buffer.from('back\n')),
        forceDocument: true,
        caption: back,
      });
      const mine = await eventually(async () =>
        (await recent(me, toPartner)).find((m) => m.message === back),
      );
      expect(documentOf(mine).size.toString()).toBe('5');
      expectClean();
    });

    it('makes a basic group with the GramJS user: service messages, mentions, a forward, the full chat', async () => {
      const title = `${tag} group ${run}`;
      const res = (await me.client.invoke(
        new me.Api.messages.CreateChat({
          users: [new me.Api.InputUser({ userId: toPartner.userId, accessHash: toPartner.accessHash })],
          title,
        }),
      )) as unknown as GramApi.Updates | { className: 'messages.InvitedUsers'; updates: GramApi.Updates };
      const updates = res.className === 'messages.InvitedUsers' ? res.updates : res;
      const chat = updates.chats[0] as GramApi.Chat;
      expect([chat.className, chat.title, chat.participantsCount]).toEqual(['Chat', title, 2]);
      const mineChat = new me.Api.InputPeerChat({ chatId: chat.id });
      basicGroup = mineChat;
      const theirChat = new partner.Api.InputPeerChat({ chatId: chat.id });

      const text = `hello group, ${partnerName} ${run}`;
      await me.client.sendMessage(mineChat, {
        message: text,
        formattingEntities: [
          new me.Api.InputMessageEntityMentionName({
            offset: text.indexOf(partnerName),
            length: partnerName.length,
            userId: new me.Api.InputUser({ userId: toPartner.userId, accessHash: toPartner.accessHash }),
          }),
        ],
      });
      await me.client.invoke(
        new me.Api.messages.ForwardMessages({
          fromPeer: toPartner,
          id: [hi.id],
          randomId: [bigInt(randomInt(1, 2 ** 47))],
          toPeer: mineChat,
        }),
      );
      const theirs = await eventually(async () => {
        const list = await recent(partner, theirChat);
        return list.length >= 3 ? list : undefined;
      });
      const kinds = theirs
        .map((m) =>
          classOf(m) === 'MessageService'
            ? classOf((m as unknown as GramApi.MessageService).action)
            : m.fwdFrom
              ? `fwd:${str((m.fwdFrom.fromId as GramApi.PeerUser).userId)}`
              : m.message,
        )
        .reverse();
      expect([...kinds]).toEqual(['MessageActionChatCreate', text, `fwd:${partnerId}`]);
      expect(plainEntities(theirs.find((m) => m.message === text))).toEqual([
        ['MessageEntityMentionName', text.indexOf(partnerName), partnerName.length, partnerId.toString()],
      ]);

      // The partner answers in the group, replying to `me`'s message.
      const answer = `group answer ${tag} ${run}`;
      await partner.client.sendMessage(theirChat, {
        message: answer,
        replyTo: theirs.find((m) => m.message === text)!.id,
      });
      const mine = await eventually(async () =>
        (await recent(me, mineChat)).find((m) => m.message === answer),
      );
      expect(str((mine.fromId as GramApi.PeerUser).userId)).toBe(partnerId.toString());

      const full = await me.client.invoke(new me.Api.messages.GetFullChat({ chatId: chat.id }));
      const participants = (full.fullChat as GramApi.ChatFull).participants as GramApi.ChatParticipants;
      expect(participants.participants.map((p) => str(p.userId)).sort()).toEqual(
        [myId.toString(), partnerId.toString()].sort(),
      );
      expectClean();
    });

    it('makes a supergroup the GramJS user joins: mentions, a forward, history, difference, full channel', async () => {
      const { channel } = await createChannel(me, { title: `${tag} supergroup ${run}`, kind: 'megagroup' });
      const ref = refOf(channel);
      supergroup = ref;
      const username = channelUsername(`ls${layer}`);
      await me.client.invoke(
        new me.Api.channels.UpdateUsername({ channel: inputChannel(me, ref), username }),
      );
      const theirs = refOf((await resolveChannel(partner, username)).channel);
      await partner.client.invoke(
        new partner.Api.channels.JoinChannel({ channel: inputChannel(partner, theirs) }),
      );

      const thirdUser = await resolveUser(me, thirdName);
      const text = `supergroup hello, ${thirdName} ${run}`;
      await me.client.sendMessage(inputPeerChannel(me, ref), {
        message: text,
        formattingEntities: [
          new me.Api.InputMessageEntityMentionName({
            offset: text.indexOf(thirdName),
            length: thirdName.length,
            userId: new me.Api.InputUser({
              userId: bigInt(thirdUser.userId.toString()),
              accessHash: bigInt(thirdUser.accessHash.toString()),
            }),
          }),
        ],
      });
      const fromThird = (await recent(me, inputPeer(me, thirdUser), 10)).find(
        (m) => m.fwdFrom === null || m.fwdFrom === undefined,
      );
      await me.client.invoke(
        new me.Api.messages.ForwardMessages({
          fromPeer: inputPeer(me, thirdUser),
          id: [fromThird!.id],
          randomId: [bigInt(randomInt(1, 2 ** 47))],
          toPeer: inputPeerChannel(me, ref),
        }),
      );
      const seen = await eventually(async () => {
        const list = (await history(partner, theirs)).messages as Msg[];
        return list.some((m) => m.fwdFrom) ? list : undefined;
      });
      expect(seen.find((m) => m.message === text)?.entities?.map((e) => classOf(e))).toEqual([
        'MessageEntityMentionName',
      ]);
      expect(str((seen.find((m) => m.fwdFrom)!.fwdFrom!.fromId as GramApi.PeerUser).userId)).toBe(
        thirdId.toString(),
      );
      // The same from the creator's side, whose answers are the client's layer's.
      const mine = (await history(me, ref)).messages as Msg[];
      expect(mine.map((m) => m.message)).toEqual(expect.arrayContaining([text]));
      const diff = await channelDifference(me, ref, 1, 100);
      expect(classOf(diff)).toBe('updates.ChannelDifference');
      const full = await me.client.invoke(
        new me.Api.channels.GetFullChannel({ channel: inputChannel(me, ref) }),
      );
      expect(classOf(full.fullChat)).toBe('ChannelFull');
      expectClean();
    });

    it('reads its dialogs and its difference since sign-up', async () => {
      const dialogs = await me.client.invoke(
        new me.Api.messages.GetDialogs({
          offsetDate: 0,
          offsetId: 0,
          offsetPeer: new me.Api.InputPeerEmpty(),
          limit: 50,
          hash: bigInt(0),
        }),
      );
      expect((dialogs as GramApi.messages.Dialogs).dialogs.length).toBeGreaterThanOrEqual(3);
      const peerDialogs = await me.client.invoke(
        new me.Api.messages.GetPeerDialogs({
          peers: [toPartner, basicGroup, inputPeerChannel(me, supergroup)].map(
            (peer) => new me.Api.InputDialogPeer({ peer }),
          ),
        }),
      );
      expect(peerDialogs.dialogs.length).toBe(3);
      const imported = await me.client.invoke(
        new me.Api.contacts.ImportContacts({
          contacts: [
            new me.Api.InputPhoneContact({
              clientId: bigInt(1),
              phone: partnerPhone,
              firstName: 'Partner',
              lastName: '',
            }),
          ],
        }),
      );
      expect(imported.imported.map((c) => str(c.userId))).toEqual([partnerId.toString()]);
      const contacts = await me.client.invoke(new me.Api.contacts.GetContacts({ hash: bigInt(0) }));
      expect(classOf(contacts)).toBe('contacts.Contacts');
      const participants = await me.client.invoke(
        new me.Api.channels.GetParticipants({
          channel: inputChannel(me, supergroup),
          filter: new me.Api.ChannelParticipantsRecent(),
          offset: 0,
          limit: 10,
          hash: bigInt(0),
        }),
      );
      expect(classOf(participants)).toBe('channels.ChannelParticipants');
      const partnerUser = new me.Api.InputUser({
        userId: toPartner.userId,
        accessHash: toPartner.accessHash,
      });
      const channel = inputChannel(me, supergroup);
      const answers = [
        await me.client.invoke(new me.Api.users.GetFullUser({ id: partnerUser })),
        await me.client.invoke(
          new me.Api.photos.GetUserPhotos({ userId: partnerUser, offset: 0, maxId: bigInt(0), limit: 10 }),
        ),
        await me.client.invoke(new me.Api.channels.GetParticipant({ channel, participant: toPartner })),
        await me.client.invoke(
          new me.Api.messages.GetMessagesViews({
            peer: inputPeerChannel(me, supergroup),
            id: ((await history(me, supergroup)).messages as Msg[]).map((m) => m.id),
            increment: false,
          }),
        ),
        await me.client.invoke(
          new me.Api.channels.GetAdminLog({ channel, q: '', maxId: bigInt(0), minId: bigInt(0), limit: 10 }),
        ),
      ];
      expect(answers.map(classOf)).toEqual([
        'users.UserFull',
        'photos.Photos',
        'channels.ChannelParticipant',
        'messages.MessageViews',
        'channels.AdminLogResults',
      ]);
      const diff = await me.client.invoke(
        new me.Api.updates.GetDifference({ pts: state.pts, date: state.date, qts: state.qts }),
      );
      expect(['updates.Difference', 'updates.DifferenceSlice']).toContain(diff.className);
      const news = (diff as GramApi.updates.Difference).newMessages as Msg[];
      expect(news.length).toBeGreaterThanOrEqual(8);
      // The partner's difference over this client's whole conversation.
      const theirs = await partner.client.invoke(
        new partner.Api.updates.GetDifference({
          pts: partnerState.pts,
          date: partnerState.date,
          qts: partnerState.qts,
        }),
      );
      expect(['updates.Difference', 'updates.DifferenceSlice']).toContain(theirs.className);
      expectClean();
    });

    it('logs a new device in with a two-step password (SESSION_PASSWORD_NEEDED), following PHONE_MIGRATE', async () => {
      const password = `open ${tag}`;
      await me.client.updateTwoFaSettings({ newPassword: password, hint: `hint ${tag}` });
      const device = watchedClient(spec, s.dcs[0]!);
      device.client.floodSleepThreshold = 0;
      try {
        const hints: Array<string | undefined> = [];
        await device.client.start({
          phoneNumber: phone,
          phoneCode: () => Promise.resolve(String(home).repeat(5)),
          password: (hint) => (hints.push(hint), Promise.resolve(password)),
          onError: (err) => {
            throw err;
          },
        });
        expect(hints).toEqual([`hint ${tag}`]);
        expect(device.client.session.dcId).toBe(home);
        const self = await device.client.getMe();
        expect([self.phone, self.firstName]).toEqual([phone, tag]);
        const history = await recent(device, toPartner, 5);
        expect(history.length).toBeGreaterThan(0);
        expectClean(device);
      } finally {
        await closeClient(device);
      }
    });

    it('names every peer an answer or pushed update mentions in its users and chats (known gaps aside)', async () => {
      await new Promise((r) => setTimeout(r, 500)); // the last pushed updates
      expectClean();
      // Nothing beyond the known gaps; a known gap of an answer that is gone has been fixed (drop
      // its line). Live delivery is at most once, so a known gap of a pushed update may not show.
      expect([...incomplete].filter((g) => !KNOWN_GAPS.includes(g))).toEqual([]);
      expect(KNOWN_GAPS.filter((g) => !g.includes(': pushed ') && !incomplete.has(g))).toEqual([]);
      expect([...me.kinds].sort()).toEqual(expect.arrayContaining(CONTAINERS_SEEN));
      for (const w of [me, partner, third]) for (const k of w.kinds) walked.add(k);
    });
  },
);

describe('a layer the gateway refuses', () => {
  it('answers GramJS 2.22.2 announcing layer 180 (between 177 and 181, not proven) with CONNECTION_LAYER_INVALID', async () => {
    announce('telegram-layer-181', 180);
    const g = gramClient({ lib: 'telegram-layer-181', dc: s.dcs[0]! });
    try {
      await expect(g.client.connect()).rejects.toMatchObject({ errorMessage: 'CONNECTION_LAYER_INVALID' });
    } finally {
      announce('telegram-layer-181', 183);
      await g.client.destroy().catch(() => undefined);
    }
  });
});

/**
 * Answer types the gateway writes with a users vector that the flows above do not reach, and why.
 * Each one the suite walks is checked like the others (support/layers.ts `missingPeers`).
 */
const NOT_WALKED: Record<string, string> = {
  'messages.DialogsSlice': 'messages.getDialogs answers a slice only past 100 dialogs',
  'updates.DifferenceSlice': 'needs more updates than one difference carries',
  'updates.ChannelDifferenceTooLong': 'needs a channel far behind (channels-toolong.test.ts)',
  'photos.PhotosSlice': 'needs more profile photos than one page',
  'photos.Photo': 'answers a profile photo upload (profile-photos.test.ts)',
};

describe('the answer types walked', () => {
  it('covers every constructor with a users vector the gateway writes', () => {
    // What the gateway writes (tools/tl/served.ts reads its `_: '…'` literals), in GramJS spelling.
    const newest = JSON.parse(
      readFileSync(join(s.repoRoot, 'generated', 'tl', `layer-${LAYER_CLIENTS[0]!.layer}.json`), 'utf8'),
    ) as { constructors: Array<{ name: string; params: Array<{ name: string; type: string }> }> };
    const written = new Set(literalNames());
    const gramName = (tl: string) =>
      tl.replace(/(^|\.)([a-z])(?=[^.]*$)/, (_, dot: string, c: string) => dot + c.toUpperCase());
    const containers = newest.constructors
      .filter(
        (c) => written.has(c.name) && c.params.some((p) => p.name === 'users' && p.type.includes('<User>')),
      )
      .map((c) => gramName(c.name));
    expect(containers.length).toBeGreaterThan(15);
    const unwalked = containers.filter((c) => !walked.has(c)).sort();
    expect(unwalked).toEqual(Object.keys(NOT_WALKED).sort());
  });
});
