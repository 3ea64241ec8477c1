/**
 * A supergroup (megagroup) owned by DC 1 with members homed on DC 1, 2 and 3 (GramJS): members
 * invited with channels.inviteToChannel, messages from any member reaching the others live as
 * updateNewChannelMessage, a reply (reply_to), an edit (updateEditChannelMessage), a delete by an
 * admin (updateDeleteChannelMessages), a pin (updatePinnedChannelMessages and its service message),
 * a member restricted from sending, and the Telegram errors for editing or deleting someone else's
 * message. Every member's channel pts stays contiguous through all of it.
 * Design: docs/decisions/0018-channels.md.
 */
import { createPublicKey, randomInt } from 'node:crypto';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import {
  big,
  channelIn,
  channelPtsUpdates,
  channelOf,
  cls,
  createChannel,
  expectContiguous,
  history,
  inputChannel,
  inputPeerChannel,
  inputPeerOfUser,
  inputUserOf,
  newChannelMessage,
  newMessageIn,
  post,
  refOf,
  rpcError,
  rpcErrorOneOf,
  str,
  subscriber,
  waitFor,
  type ChannelRef,
  type Obj,
  type Sub,
} from './support/channels';
import { testNumber, trustKey } from './support/gramjs';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

const run = randomInt(0, 1e9).toString(36);
const text = (what: string) => `${what} ${run}`;

describe('a supergroup on DC 1 with members on three DCs (GramJS)', () => {
  let owner: Sub; // DC 1
  let m2: Sub; // DC 2
  let m3: Sub; // DC 3
  let group: ChannelRef; // the same id for everyone; each member's own access hash
  let chan: string;
  const refs = new Map<Sub, ChannelRef>();
  /** Where each member's update list stood when it joined: pts checks start there. */
  const joinedAt = new Map<Sub, number>();

  beforeAll(async () => {
    [owner, m2, m3] = await Promise.all([
      subscriber('telegram', s.dcs, 1, testNumber(1), 'Owner'),
      subscriber('telegram', s.dcs, 2, testNumber(2), 'Second'),
      subscriber('telegram', s.dcs, 3, testNumber(3), 'Third'),
    ]);
  }, 200_000);
  afterAll(async () => {
    for (const m of [owner, m2, m3]) await m?.g.client.destroy();
  });

  /**
   * The pts-advancing updates of a member's own calls: they come in the call's answer, not live
   * (Telegram does not push them again to the session that made them).
   */
  const answers = new Map<Sub, Obj[]>();
  const own = (m: Sub, u: Obj | undefined) => {
    if (!u) throw new Error('the answer has no channel update');
    answers.set(m, [...(answers.get(m) ?? []), u]);
  };
  /** Live updates since the member joined and those of its own answers, by pts, each pts once. */
  const since = (m: Sub) => {
    const all = [...channelPtsUpdates(m, chan).slice(joinedAt.get(m) ?? 0), ...(answers.get(m) ?? [])];
    const byPts = new Map<number, Obj>();
    for (const u of all) byPts.set(u.pts as number, u);
    return [...byPts.values()].sort((a, b) => (a.pts as number) - (b.pts as number));
  };

  it('creates a megagroup on DC 1 and invites members homed on DC 2 and DC 3', async () => {
    const { channel } = await createChannel(owner.g, { title: 'Tern group', kind: 'megagroup' });
    expect(channel).toMatchObject({ megagroup: true, creator: true, title: 'Tern group' });
    expect(channel.broadcast).toBeFalsy();
    group = refOf(channel);
    chan = group.id.toString();
    expect(Number(group.id % 1024n)).toBe(1);
    refs.set(owner, group);
    joinedAt.set(owner, 0);

    const users = [await inputUserOf(owner.g, m2.g), await inputUserOf(owner.g, m3.g)];
    const invited = (await owner.g.client.invoke(
      new owner.g.Api.channels.InviteToChannel({ channel: inputChannel(owner.g, group), users }),
    )) as unknown as Obj;
    expect(cls(invited)).toBe('messages.InvitedUsers');
    expect(invited.missingInvitees).toEqual([]);

    // Each member finds the group among its dialogs' chats and in getChannels by its own hash.
    for (const m of [m2, m3]) {
      const addedMe = (u: Obj) =>
        cls(u) === 'UpdateNewChannelMessage' &&
        channelOf(u) === chan &&
        cls((u.message as Obj).action) === 'MessageActionChatAddUser' &&
        ((u.message as Obj).action as Obj).users !== undefined &&
        (((u.message as Obj).action as Obj).users as unknown[]).map(str).includes(m.id.toString())
          ? u
          : undefined;
      const u = await waitFor(m, addedMe, 'added to the group');
      joinedAt.set(m, channelPtsUpdates(m, chan).indexOf(u));
      const dialogs = (await m.g.client.invoke(
        new m.g.Api.messages.GetDialogs({
          offsetDate: 0,
          offsetId: 0,
          offsetPeer: new m.g.Api.InputPeerEmpty(),
          limit: 100,
          hash: big(0),
        }),
      )) as unknown as Obj;
      const mine = channelIn(dialogs.chats as unknown[], chan);
      expect(mine).toMatchObject({ megagroup: true, title: 'Tern group' });
      expect(mine.left).toBeFalsy();
      refs.set(m, refOf(mine));
    }
    const h = await history(m3.g, refs.get(m3)!);
    const actions = (h.messages as Obj[]).map((x) => cls(x.action));
    expect(actions).toContain('MessageActionChannelCreate');
    const added = (h.messages as Obj[])
      .filter((x) => cls(x.action) === 'MessageActionChatAddUser')
      .flatMap((x) => ((x.action as Obj).users as unknown[]).map(str));
    expect(added.sort()).toEqual([m2.id.toString(), m3.id.toString()].sort());
  });

  let hello: { id: number };
  let reply: { id: number };

  it('a member’s message reaches the others live, with its author', async () => {
    const sent = await post(m2.g, refs.get(m2)!, text('hello group from DC 2'));
    own(m2, newMessageIn(sent.updates));
    expect(sent.message).toMatchObject({ out: true });
    expect(sent.message.post).toBeFalsy();
    hello = { id: sent.id };
    for (const m of [owner, m3]) {
      const u = await waitFor(m, newChannelMessage(chan, text('hello group from DC 2')), 'member message');
      const msg = u.message as Obj;
      expect(u.pts).toBe(sent.pts);
      expect(msg.id).toBe(sent.id);
      expect(msg.out).toBeFalsy();
      expect(cls(msg.fromId)).toBe('PeerUser');
      expect(str((msg.fromId as Obj).userId)).toBe(m2.id.toString());
    }
  });

  it('a reply carries reply_to to every member', async () => {
    const sent = await post(m3.g, refs.get(m3)!, text('replying from DC 3'), hello.id);
    own(m3, newMessageIn(sent.updates));
    reply = { id: sent.id };
    for (const m of [owner, m2]) {
      const u = await waitFor(m, newChannelMessage(chan, text('replying from DC 3')), 'reply');
      const header = (u.message as Obj).replyTo as Obj;
      expect(cls(header)).toBe('MessageReplyHeader');
      expect(header.replyToMsgId).toBe(hello.id);
    }
  });

  it('a member of DC 3 reading makes the author on DC 2 see its message read (updateReadChannelOutbox)', async () => {
    await m3.g.client.invoke(
      new m3.g.Api.channels.ReadHistory({ channel: inputChannel(m3.g, refs.get(m3)!), maxId: hello.id }),
    );
    const u = await waitFor(
      m2,
      (x) => (cls(x) === 'UpdateReadChannelOutbox' && (x.maxId as number) >= hello.id ? x : undefined),
      'updateReadChannelOutbox',
    );
    expect(str(u.channelId)).toBe(chan);
    const full = await m2.g.client.invoke(
      new m2.g.Api.channels.GetFullChannel({ channel: inputChannel(m2.g, refs.get(m2)!) }),
    );
    expect((full.fullChat as { readOutboxMaxId: number }).readOutboxMaxId).toBeGreaterThanOrEqual(hello.id);
  });

  it('the author’s edit reaches everyone as updateEditChannelMessage; others may not edit it', async () => {
    const edited = text('hello group from DC 2 (edited)');
    const res = (await m2.g.client.invoke(
      new m2.g.Api.messages.EditMessage({
        peer: inputPeerChannel(m2.g, refs.get(m2)!),
        id: hello.id,
        message: edited,
      }),
    )) as unknown as Obj;
    const mine = (res.updates as Obj[]).find((u) => cls(u) === 'UpdateEditChannelMessage');
    expect((mine?.message as Obj).message).toBe(edited);
    own(m2, mine);
    for (const m of [owner, m3]) {
      const u = await waitFor(
        m,
        (x) =>
          cls(x) === 'UpdateEditChannelMessage' &&
          channelOf(x) === chan &&
          (x.message as Obj).message === edited
            ? x
            : undefined,
        'edit',
      );
      const msg = u.message as Obj;
      expect(msg.id).toBe(hello.id);
      expect(msg.editDate).toBeGreaterThan(0);
      expect(u.pts).toBe(mine!.pts);
    }
    await expect(
      m3.g.client.invoke(
        new m3.g.Api.messages.EditMessage({
          peer: inputPeerChannel(m3.g, refs.get(m3)!),
          id: hello.id,
          message: 'mine now',
        }),
      ),
    ).rejects.toEqual(rpcError('MESSAGE_AUTHOR_REQUIRED'));
    const h = await history(owner.g, group, 5);
    expect((h.messages as Obj[]).find((x) => x.id === hello.id)?.message).toBe(edited);
  });

  it('an admin deletes a member’s message for everyone (updateDeleteChannelMessages); a member may not', async () => {
    await expect(
      m2.g.client.invoke(
        new m2.g.Api.channels.DeleteMessages({ channel: inputChannel(m2.g, refs.get(m2)!), id: [reply.id] }),
      ),
    ).rejects.toEqual(rpcError('MESSAGE_DELETE_FORBIDDEN'));
    const affected = (await owner.g.client.invoke(
      new owner.g.Api.channels.DeleteMessages({ channel: inputChannel(owner.g, group), id: [reply.id] }),
    )) as unknown as Obj;
    expect(cls(affected)).toBe('messages.AffectedMessages');
    expect(affected.ptsCount).toBe(1);
    for (const m of [m2, m3]) {
      const u = await waitFor(
        m,
        (x) =>
          cls(x) === 'UpdateDeleteChannelMessages' &&
          channelOf(x) === chan &&
          (x.messages as number[]).includes(reply.id)
            ? x
            : undefined,
        'delete',
      );
      expect(u).toMatchObject({ messages: [reply.id], pts: affected.pts, ptsCount: 1 });
      const h = await history(m.g, refs.get(m)!, 10);
      expect((h.messages as Obj[]).map((x) => x.id)).not.toContain(reply.id);
    }
  });

  it('pinning reaches everyone (updatePinnedChannelMessages and a service message) and shows in getFullChannel', async () => {
    await owner.g.client.invoke(
      new owner.g.Api.messages.UpdatePinnedMessage({ peer: inputPeerChannel(owner.g, group), id: hello.id }),
    );
    for (const m of [m2, m3]) {
      const u = await waitFor(
        m,
        (x) => (cls(x) === 'UpdatePinnedChannelMessages' && channelOf(x) === chan ? x : undefined),
        'pin',
      );
      expect(u).toMatchObject({ messages: [hello.id], ptsCount: 1 });
      expect(u.pinned).toBe(true);
      const service = await waitFor(
        m,
        (x) =>
          cls(x) === 'UpdateNewChannelMessage' &&
          channelOf(x) === chan &&
          cls((x.message as Obj).action) === 'MessageActionPinMessage'
            ? (x.message as Obj)
            : undefined,
        'pin service message',
      );
      expect(((service.replyTo as Obj) ?? {}).replyToMsgId).toBe(hello.id);
      const full = (await m.g.client.invoke(
        new m.g.Api.channels.GetFullChannel({ channel: inputChannel(m.g, refs.get(m)!) }),
      )) as unknown as Obj;
      expect((full.fullChat as Obj).pinnedMsgId).toBe(hello.id);
    }
  });

  it('a member restricted from sending is refused until the restriction is lifted', async () => {
    const target = inputPeerOfUser(owner.g, await inputUserOf(owner.g, m3.g));
    const { Api } = owner.g;
    await owner.g.client.invoke(
      new Api.channels.EditBanned({
        channel: inputChannel(owner.g, group),
        participant: target,
        bannedRights: new Api.ChatBannedRights({ sendMessages: true, untilDate: 0 }),
      }),
    );
    // Telegram's apps see either name for a member whose send_messages right is taken away.
    await expect(post(m3.g, refs.get(m3)!, text('muted?'))).rejects.toEqual(
      rpcErrorOneOf('CHAT_WRITE_FORBIDDEN', 'USER_BANNED_IN_CHANNEL'),
    );
    // A restricted member still reads.
    expect(cls(await history(m3.g, refs.get(m3)!, 5))).toBe('messages.ChannelMessages');
    await owner.g.client.invoke(
      new Api.channels.EditBanned({
        channel: inputChannel(owner.g, group),
        participant: target,
        bannedRights: new Api.ChatBannedRights({ untilDate: 0 }),
      }),
    );
    own(m3, newMessageIn((await post(m3.g, refs.get(m3)!, text('allowed again'))).updates));
    await waitFor(m2, newChannelMessage(chan, text('allowed again')), 'after unrestrict');
  });

  it('each member’s channel pts (live and its own answers) has no hole from when it joined', () => {
    for (const m of [m2, m3]) {
      const got = since(m);
      expect(got.length).toBeGreaterThanOrEqual(5);
      expectContiguous(got);
    }
  });
});
