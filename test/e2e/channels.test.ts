/**
 * A broadcast channel owned by DC 1 with subscribers homed on DC 1, 2 and 3, through the client
 * libraries' own calls and update handlers (GramJS layer 198, teleproto layer 214, mtcute as a child
 * process): creating it and giving it a public username, joining by username
 * (contacts.resolveUsername → channels.joinChannel) and by invite link (exportChatInvite →
 * checkChatInvite → importChatInvite), posts reaching every online subscriber live as
 * updateNewChannelMessage with contiguous channel pts, getHistory from every DC, readHistory and the
 * dialog's unread count, catching up after being offline with updates.getChannelDifference (a
 * difference, then channelDifferenceTooLong when the gap exceeds the call's limit), a document
 * posted on DC 1 downloaded by a DC 3 subscriber, and leaving, which stops live delivery.
 * Design: docs/decisions/0018-channels.md.
 */
import { createHash, createPublicKey, randomBytes, randomInt } from 'node:crypto';
import type { Api as GramApi } from 'telegram';
import { CustomFile } from 'telegram/client/uploads';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import {
  channelDifference,
  channelIn,
  channelPtsUpdates,
  channelUsername,
  cls,
  createChannel,
  dialogOf,
  expectContiguous,
  history,
  inputChannel,
  inputPeerChannel,
  inviteHash,
  mtcuteSubscriber,
  newChannelMessage,
  post,
  quietFor,
  refOf,
  resolveChannel,
  rpcError,
  str,
  subscriber,
  waitFor,
  watch,
  type ChannelRef,
  type Obj,
  type Posted,
  type Sub,
} from './support/channels';
import { testNumber, trustKey } from './support/gramjs';
import { close as closeWithSenders } from './support/media';
import { reconnect } from './support/users';

const s = stack();
const fingerprint = rsaFingerprint(createPublicKey(s.rsaPublicKey));
trustKey('telegram', s.rsaPublicKey, fingerprint);
trustKey('teleproto', s.rsaPublicKey, fingerprint);

const run = randomInt(0, 1e9).toString(36);
const text = (what: string) => `${what} ${run}`;

describe('a broadcast channel on DC 1 with subscribers on three DCs', () => {
  let admin: Sub; // GramJS, DC 1: creates the channel, so DC 1 owns it
  let s1: Sub; // GramJS, DC 1
  let s2: Sub; // teleproto, DC 2
  let s3: Sub; // GramJS, DC 3
  let linked: Sub; // GramJS, DC 2: joins by invite link; goes offline later
  const mtPhone = testNumber(3); // mtcute, DC 3: joins by invite link, catches up by difference
  let mtChannel: { id: number; accessHash: string };
  let mtJoinPts: number;

  let channel: ChannelRef; // as the admin knows it
  let chan: string; // its id as a string
  const refs = new Map<Sub, ChannelRef>(); // as each subscriber knows it
  let username: string;
  let hash: string;
  const posts: Posted[] = [];

  beforeAll(async () => {
    [admin, s1, s2, s3, linked] = await Promise.all([
      subscriber('telegram', s.dcs, 1, testNumber(1), 'Admin'),
      subscriber('telegram', s.dcs, 1, testNumber(1), 'One'),
      subscriber('teleproto', s.dcs, 2, testNumber(2), 'Two'),
      subscriber('telegram', s.dcs, 3, testNumber(3), 'Three'),
      subscriber('telegram', s.dcs, 2, testNumber(2), 'Linked'),
    ]);
  }, 200_000);
  afterAll(async () => {
    // s3 downloaded from DC 1: its exported senders go too.
    for (const m of [admin, s1, s2, s3, linked])
      if (m) await (m.lib === 'telegram' ? closeWithSenders(m.g) : m.g.client.destroy());
  });

  it('creates a broadcast channel owned by DC 1 and gives it a public username', async () => {
    const { Api } = admin.g;
    await expect(
      admin.g.client.invoke(new Api.channels.CreateChannel({ title: '   ', about: '', broadcast: true })),
    ).rejects.toEqual(rpcError('CHAT_TITLE_EMPTY'));

    const { channel: created, updates } = await createChannel(admin.g, {
      title: 'Tern news',
      about: 'posts from DC 1',
      kind: 'broadcast',
    });
    expect(cls(updates)).toBe('Updates');
    expect(created).toMatchObject({ title: 'Tern news', broadcast: true, creator: true });
    expect(created.megagroup).toBeFalsy();
    expect(created.left).toBeFalsy();
    channel = refOf(created);
    chan = channel.id.toString();
    // The owning DC is in the id's low bits, as for basic groups (decision 0018).
    expect(Number(channel.id % 1024n)).toBe(1);

    // The channel starts with its creation as a service message.
    const h = await history(admin.g, channel);
    expect(cls(h)).toBe('messages.ChannelMessages');
    const created1 = (h.messages as Obj[]).map((m) => [cls(m), cls(m.action), (m.action as Obj)?.title]);
    expect(created1).toEqual([['MessageService', 'MessageActionChannelCreate', 'Tern news']]);

    username = channelUsername('tern_news');
    expect(
      await admin.g.client.invoke(
        new Api.channels.CheckUsername({ channel: inputChannel(admin.g, channel), username }),
      ),
    ).toBe(true);
    expect(
      await admin.g.client.invoke(
        new Api.channels.UpdateUsername({ channel: inputChannel(admin.g, channel), username }),
      ),
    ).toBe(true);
    const seen = (await admin.g.client.invoke(
      new Api.channels.GetChannels({ id: [inputChannel(admin.g, channel)] }),
    )) as unknown as Obj;
    expect(channelIn(seen.chats as unknown[], chan).username).toBe(username);
  });

  it('subscribers on DC 1, 2 and 3 find it by username and join', async () => {
    for (const m of [s1, s2, s3]) {
      const { resolved, channel: found } = await resolveChannel(m.g, username);
      expect(str((resolved.peer as Obj).channelId)).toBe(chan);
      expect(found).toMatchObject({ title: 'Tern news', broadcast: true, username });
      expect(found.left).toBe(true); // not a member yet
      const ref = refOf(found);
      refs.set(m, ref);
      const joined = (await m.g.client.invoke(
        new m.g.Api.channels.JoinChannel({ channel: inputChannel(m.g, ref) }),
      )) as unknown as Obj;
      const after = channelIn(joined.chats as unknown[], chan);
      expect(after.left).toBeFalsy();
      expect(after.creator).toBeFalsy();
    }
    const full = (await s2.g.client.invoke(
      new s2.g.Api.channels.GetFullChannel({ channel: inputChannel(s2.g, refs.get(s2)!) }),
    )) as unknown as Obj;
    expect(str((full.fullChat as Obj).id)).toBe(chan);
  });

  it('a GramJS user on DC 2 and an mtcute user on DC 3 join by invite link', async () => {
    const exported = (await admin.g.client.invoke(
      new admin.g.Api.messages.ExportChatInvite({ peer: inputPeerChannel(admin.g, channel) }),
    )) as unknown as Obj;
    expect(cls(exported)).toBe('ChatInviteExported');
    hash = inviteHash(exported.link as string);

    const { Api } = linked.g;
    const invite = (await linked.g.client.invoke(
      new Api.messages.CheckChatInvite({ hash }),
    )) as unknown as Obj;
    expect(invite).toMatchObject({
      className: 'ChatInvite',
      title: 'Tern news',
      channel: true,
      broadcast: true,
    });
    expect(invite.participantsCount).toBeGreaterThanOrEqual(4);
    const imported = (await linked.g.client.invoke(
      new Api.messages.ImportChatInvite({ hash }),
    )) as unknown as Obj;
    const ref = refOf(channelIn(imported.chats as unknown[], chan));
    refs.set(linked, ref);
    const again = (await linked.g.client.invoke(
      new Api.messages.CheckChatInvite({ hash }),
    )) as unknown as Obj;
    expect(cls(again)).toBe('ChatInviteAlready');
    expect(str((again.chat as Obj).id)).toBe(chan);
    await expect(linked.g.client.invoke(new Api.messages.ImportChatInvite({ hash }))).rejects.toEqual(
      rpcError('USER_ALREADY_PARTICIPANT'),
    );
    await expect(
      linked.g.client.invoke(new Api.messages.CheckChatInvite({ hash: `${hash.slice(0, -2)}zz` })),
    ).rejects.toEqual(rpcError('INVITE_HASH_INVALID'));

    const mt = await mtcuteSubscriber(s, 3, {
      login: { phone: mtPhone, code: '33333', firstName: 'Mt' },
      joinByInvite: hash,
    });
    expect(mt.fatal).toBeUndefined();
    expect(mt.login?.dcId).toBe(3);
    expect(mt.invite).toMatchObject({ _: 'chatInvite', title: 'Tern news', broadcast: true, channel: true });
    expect(String(mt.joined!.id)).toBe(chan);
    expect(mt.joined).toMatchObject({ left: false, broadcast: true });
    mtChannel = { id: mt.joined!.id, accessHash: mt.joined!.accessHash };
    mtJoinPts = mt.joined!.pts;
  });

  it('posts reach every online subscriber live, in channel pts order, with no hole', async () => {
    const online = [s1, s2, s3, linked];
    const start = online.map((m) => channelPtsUpdates(m, chan).length);
    for (const t of ['first post', 'second post', 'third post'])
      posts.push(await post(admin.g, channel, text(t)));
    // Each post is one pts step after the one before.
    expect(posts.map((p) => p.ptsCount)).toEqual([1, 1, 1]);
    expect(posts[1]!.pts).toBe(posts[0]!.pts + 1);
    expect(posts[2]!.pts).toBe(posts[1]!.pts + 1);
    expect(posts[0]!.message).toMatchObject({ post: true, out: true });

    for (const [i, m] of online.entries()) {
      for (const p of posts)
        await waitFor(m, newChannelMessage(chan, p.message.message as string), `post at ${i}`);
      const got = channelPtsUpdates(m, chan).slice(start[i]);
      expect(got.map((u) => [cls(u), (u.message as Obj).message, u.pts, u.ptsCount])).toEqual(
        posts.map((p) => ['UpdateNewChannelMessage', p.message.message, p.pts, 1]),
      );
      expectContiguous(got);
      for (const u of got) {
        const msg = u.message as Obj;
        expect(cls(msg.peerId)).toBe('PeerChannel');
        expect(str((msg.peerId as Obj).channelId)).toBe(chan);
        expect(msg.post).toBe(true);
        expect(msg.out).toBeFalsy();
        expect(msg.fromId ?? null).toBeNull(); // a broadcast post is the channel's, not the admin's
      }
      expect(got.map((u) => (u.message as Obj).id)).toEqual(posts.map((p) => p.id));
    }
  });

  it('every DC serves the same history', async () => {
    for (const m of [s1, s2, s3, linked]) {
      const h = await history(m.g, refs.get(m)!, 10);
      expect(cls(h)).toBe('messages.ChannelMessages');
      expect(h.pts).toBe(posts[2]!.pts);
      const msgs = h.messages as Obj[];
      expect(msgs.map((x) => x.message ?? cls(x.action))).toEqual([
        ...posts.map((p) => p.message.message).reverse(),
        'MessageActionChannelCreate',
      ]);
      expect(msgs.map((x) => x.id)).toEqual([...posts.map((p) => p.id).reverse(), msgs.at(-1)!.id]);
      expect(channelIn(h.chats as unknown[], chan).left).toBeFalsy();
    }
  });

  it('readHistory moves the read mark; getDialogs counts what is unread', async () => {
    const ref = refs.get(s3)!;
    const { Api } = s3.g;
    expect(
      await s3.g.client.invoke(
        new Api.channels.ReadHistory({ channel: inputChannel(s3.g, ref), maxId: posts[2]!.id }),
      ),
    ).toBe(true);
    let d = await dialogOf(s3.g, ref);
    expect(d).toMatchObject({
      unreadCount: 0,
      readInboxMaxId: posts[2]!.id,
      topMessage: posts[2]!.id,
      pts: posts[2]!.pts,
    });

    for (const t of ['fourth post', 'fifth post']) posts.push(await post(admin.g, channel, text(t)));
    await waitFor(s3, newChannelMessage(chan, text('fifth post')), 'fifth post');
    d = await dialogOf(s3.g, ref);
    expect(d).toMatchObject({ unreadCount: 2, topMessage: posts[4]!.id, pts: posts[4]!.pts });
    await s3.g.client.invoke(
      new Api.channels.ReadHistory({ channel: inputChannel(s3.g, ref), maxId: posts[3]!.id }),
    );
    d = await dialogOf(s3.g, ref);
    expect(d).toMatchObject({ unreadCount: 1, readInboxMaxId: posts[3]!.id });
    // Another subscriber's reading is its own.
    const other = await dialogOf(s1.g, refs.get(s1)!);
    expect(other?.topMessage).toBe(posts[4]!.id);
    expect(other?.unreadCount).toBeGreaterThanOrEqual(2);
  });

  it('mtcute (DC 3) catches up with getChannelDifference from the pts it joined at, and reads', async () => {
    const mt = await mtcuteSubscriber(s, 3, {
      login: { phone: mtPhone, code: '33333', firstName: 'Mt' },
      channel: mtChannel,
      differenceFrom: mtJoinPts,
      history: true,
      readUpTo: posts[4]!.id,
    });
    expect(mt.fatal).toBeUndefined();
    expect(mt.difference!.kinds).toEqual(['updates.channelDifference']);
    expect(mt.difference!.final).toBe(true);
    expect(mt.difference!.pts).toBe(posts[4]!.pts);
    expect(mt.difference!.messages.map((m) => [m.id, m.text, String(m.channelId)])).toEqual(
      posts.map((p) => [p.id, p.message.message, chan]),
    );
    expect(mt.history!.slice(0, 5).map((m) => m.text)).toEqual(posts.map((p) => p.message.message).reverse());
    expect(mt.dialog).toMatchObject({
      unreadCount: 0,
      readInboxMaxId: posts[4]!.id,
      topMessage: posts[4]!.id,
    });
  });

  it('a subscriber offline for a few posts gets them from updates.getChannelDifference, in order', async () => {
    const ref = refs.get(linked)!;
    const lastSeen = channelPtsUpdates(linked, chan).at(-1)!;
    expect(lastSeen.pts).toBe(posts[4]!.pts);
    const state = await linked.g.client.invoke(new linked.g.Api.updates.GetState());
    const session = linked.g.session.save();
    await linked.g.client.destroy();

    const missed: Posted[] = [];
    for (const t of ['missed 1', 'missed 2', 'missed 3']) missed.push(await post(admin.g, channel, text(t)));
    posts.push(...missed);

    linked = await watch(await reconnect('telegram', s.dcs, 2, session), 'telegram', 2, linked.phone);
    refs.set(linked, ref); // the reconnected client knows the channel as before
    // updates.getDifference from the state before going offline names the channel to catch up
    // with (updateChannelTooLong with its pts), as Telegram's does.
    const diff = (await linked.g.client.invoke(
      new linked.g.Api.updates.GetDifference({ pts: state.pts, date: state.date, qts: state.qts }),
    )) as unknown as Obj;
    expect(cls(diff)).toBe('updates.Difference');
    const tooLong = (diff.otherUpdates as Obj[]).filter(
      (u) => cls(u) === 'UpdateChannelTooLong' && str(u.channelId) === chan,
    );
    expect(tooLong.map((u) => u.pts)).toEqual([missed[2]!.pts]);
    expect(channelIn(diff.chats as unknown[], chan)).toBeDefined();
    const d = await channelDifference(linked.g, ref, lastSeen.pts as number, 100);
    expect(cls(d)).toBe('updates.ChannelDifference');
    expect(d.final).toBe(true);
    expect(d.pts).toBe(missed[2]!.pts);
    expect((d.newMessages as Obj[]).map((m) => [m.id, m.message])).toEqual(
      missed.map((p) => [p.id, p.message.message]),
    );
    expect(channelIn(d.chats as unknown[], chan)).toBeDefined();
    // Nothing more after it.
    const empty = await channelDifference(linked.g, ref, d.pts as number, 100);
    expect(cls(empty)).toBe('updates.ChannelDifferenceEmpty');
    expect(empty).toMatchObject({ final: true, pts: missed[2]!.pts });
  });

  it('a gap larger than the call’s limit comes in slices of at most `limit`, or as channelDifferenceTooLong', async () => {
    const ref = refs.get(linked)!;
    const from = posts.at(-1)!.pts;
    const session = linked.g.session.save();
    await linked.g.client.destroy();
    const many: Posted[] = [];
    for (let i = 1; i <= 12; i++) many.push(await post(admin.g, channel, text(`burst ${i}`)));
    posts.push(...many);
    const last = many.at(-1)!;

    linked = await watch(await reconnect('telegram', s.dcs, 2, session), 'telegram', 2, linked.phone);
    refs.set(linked, ref); // the reconnected client knows the channel as before
    // 12 updates behind, asking for 5 at a time. Telegram answers a user either way: slices of at
    // most `limit` (final unset until the last), or tooLong with the dialog and the latest messages.
    const first = await channelDifference(linked.g, ref, from, 5);
    if (cls(first) === 'updates.ChannelDifferenceTooLong') {
      const dialog = first.dialog as Obj;
      expect(cls(dialog)).toBe('Dialog');
      expect(str((dialog.peer as Obj).channelId)).toBe(chan);
      expect(dialog).toMatchObject({ topMessage: last.id, pts: last.pts });
      const latest = first.messages as Obj[];
      expect(latest.find((m) => m.id === last.id)?.message).toBe(last.message.message);
      for (const m of latest) expect(str((m.peerId as Obj).channelId)).toBe(chan);
      expect(channelIn(first.chats as unknown[], chan)).toBeDefined();
    } else {
      const got: Obj[] = [];
      let d = first;
      let pts = from;
      for (let calls = 1; ; calls++) {
        expect(cls(d)).toBe('updates.ChannelDifference');
        const page = d.newMessages as Obj[];
        expect(page.length).toBeGreaterThan(0);
        expect(page.length).toBeLessThanOrEqual(5);
        expect(d.pts).toBe(pts + page.length); // every update here is one new message
        got.push(...page);
        pts = d.pts as number;
        if (d.final) break;
        expect(calls).toBeLessThan(3); // 12 in slices of 5: three calls
        d = await channelDifference(linked.g, ref, pts, 5);
      }
      expect(pts).toBe(last.pts);
      expect(got.map((m) => [m.id, m.message])).toEqual(many.map((p) => [p.id, p.message.message]));
    }
    // From the latest pts the client is up to date.
    const empty = await channelDifference(linked.g, ref, last.pts, 5);
    expect(cls(empty)).toBe('updates.ChannelDifferenceEmpty');
  });

  it('a document posted by the DC 1 admin downloads on a DC 3 subscriber, byte for byte', async () => {
    const content = randomBytes(700 * 1024 + 123);
    const caption = text('the document');
    const sent = await admin.g.client.sendFile(inputPeerChannel(admin.g, channel), {
      file: new CustomFile('report.bin', content.length, '', content),
      forceDocument: true,
      caption,
      workers: 2,
    });
    expect(sent.id).toBeGreaterThan(0);
    await waitFor(s3, newChannelMessage(chan, caption), 'document post');
    const h = await history(s3.g, refs.get(s3)!, 5);
    const msg = (h.messages as Obj[]).find((m) => m.message === caption) as unknown as GramApi.Message;
    expect(msg.id).toBe(sent.id);
    const doc = (msg.media as GramApi.MessageMediaDocument).document as GramApi.Document;
    expect(doc.dcId).toBe(1);
    expect(Number(doc.size)).toBe(content.length);
    const got = (await s3.g.client.downloadMedia(msg, {})) as Buffer;
    expect(createHash('sha256').update(got).digest('hex')).toBe(
      createHash('sha256').update(content).digest('hex'),
    );
  }, 120_000);

  it('leaving stops live delivery; the channel leaves the dialog list', async () => {
    const ref = refs.get(s2)!;
    const left = (await s2.g.client.invoke(
      new s2.g.Api.channels.LeaveChannel({ channel: inputChannel(s2.g, ref) }),
    )) as unknown as Obj;
    expect(channelIn(left.chats as unknown[], chan).left).toBe(true);
    await expect(
      s2.g.client.invoke(new s2.g.Api.channels.LeaveChannel({ channel: inputChannel(s2.g, ref) })),
    ).rejects.toEqual(rpcError('USER_NOT_PARTICIPANT'));

    const after = await post(admin.g, channel, text('after the leave'));
    for (const m of [s1, s3])
      await waitFor(m, newChannelMessage(chan, after.message.message as string), 'post after leave');
    await quietFor(3000); // well after the others had it
    expect(s2.seen.some((u) => newChannelMessage(chan, after.message.message as string)(u))).toBe(false);
    expect(await dialogOf(s2.g, ref)).toBeUndefined();
    // Subscribers still online keep a contiguous sequence through all of it.
    for (const m of [s1, s3]) expectContiguous(channelPtsUpdates(m, chan));
  });
});
