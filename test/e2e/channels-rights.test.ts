/**
 * Rights in a broadcast channel owned by DC 1 (GramJS users homed on DC 1, 2 and 3): a subscriber
 * may not post (CHAT_ADMIN_REQUIRED) nor ban anyone; channels.editAdmin with post_messages lets it
 * post, and its post reaches the other subscribers live; a subscriber banned with view_messages
 * (channels.editBanned) is told (updateChannel), sees the channel as channelForbidden, gets
 * CHANNEL_PRIVATE when reading or joining again and no longer receives posts; lifting the ban lets it
 * join again. Design: docs/decisions/0018-channels.md.
 */
import { createPublicKey, randomInt } from 'node:crypto';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import {
  big,
  channelIn,
  channelOf,
  channelUsername,
  cls,
  createChannel,
  history,
  inputChannel,
  inputPeerOfUser,
  inputUserOf,
  newChannelMessage,
  post,
  quietFor,
  refOf,
  resolveChannel,
  rpcError,
  rpcErrorOneOf,
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

describe('rights in a broadcast channel', () => {
  let owner: Sub; // DC 1
  let poster: Sub; // DC 2: made an admin with post rights
  let banned: Sub; // DC 3: banned, then unbanned
  let watcher: Sub; // DC 1: a plain subscriber throughout
  let channel: ChannelRef;
  let chan: string;
  let username: string;
  const refs = new Map<Sub, ChannelRef>();

  beforeAll(async () => {
    [owner, poster, banned, watcher] = await Promise.all([
      subscriber('telegram', s.dcs, 1, testNumber(1), 'Owner'),
      subscriber('telegram', s.dcs, 2, testNumber(2), 'Poster'),
      subscriber('telegram', s.dcs, 3, testNumber(3), 'Banned'),
      subscriber('telegram', s.dcs, 1, testNumber(1), 'Watcher'),
    ]);
    const { channel: created } = await createChannel(owner.g, { title: 'Rights', kind: 'broadcast' });
    channel = refOf(created);
    chan = channel.id.toString();
    username = channelUsername('tern_rights');
    await owner.g.client.invoke(
      new owner.g.Api.channels.UpdateUsername({ channel: inputChannel(owner.g, channel), username }),
    );
    for (const m of [poster, banned, watcher]) {
      const ref = refOf((await resolveChannel(m.g, username)).channel);
      refs.set(m, ref);
      await m.g.client.invoke(new m.g.Api.channels.JoinChannel({ channel: inputChannel(m.g, ref) }));
    }
  }, 200_000);
  afterAll(async () => {
    for (const m of [owner, poster, banned, watcher]) await m?.g.client.destroy();
  });

  it('a subscriber may not post in a broadcast channel, nor ban anyone', async () => {
    await expect(post(poster.g, refs.get(poster)!, text('not mine to post'))).rejects.toEqual(
      rpcError('CHAT_ADMIN_REQUIRED'),
    );
    const { Api } = poster.g;
    await expect(
      poster.g.client.invoke(
        new Api.channels.EditBanned({
          channel: inputChannel(poster.g, refs.get(poster)!),
          participant: inputPeerOfUser(poster.g, await inputUserOf(poster.g, watcher.g)),
          bannedRights: new Api.ChatBannedRights({ viewMessages: true, untilDate: 0 }),
        }),
      ),
    ).rejects.toEqual(rpcError('CHAT_ADMIN_REQUIRED'));
    const h = await history(watcher.g, refs.get(watcher)!, 5);
    expect((h.messages as Obj[]).map((m) => m.message)).not.toContain(text('not mine to post'));
  });

  it('channels.editAdmin with post_messages lets the subscriber post; the others receive it', async () => {
    const { Api } = owner.g;
    await owner.g.client.invoke(
      new Api.channels.EditAdmin({
        channel: inputChannel(owner.g, channel),
        userId: await inputUserOf(owner.g, poster.g),
        adminRights: new Api.ChatAdminRights({ postMessages: true }),
        rank: '',
      }),
    );
    const seen = (await poster.g.client.invoke(
      new poster.g.Api.channels.GetChannels({ id: [inputChannel(poster.g, refs.get(poster)!)] }),
    )) as unknown as Obj;
    const mine = channelIn(seen.chats as unknown[], chan);
    expect((mine.adminRights as Obj | undefined)?.postMessages).toBe(true);
    expect(mine.creator).toBeFalsy();

    const sent = await post(poster.g, refs.get(poster)!, text('posted by the new admin'));
    expect(sent.message.post).toBe(true);
    for (const m of [watcher, banned]) {
      const u = await waitFor(m, newChannelMessage(chan, text('posted by the new admin')), 'admin post');
      expect(u.pts).toBe(sent.pts);
    }
  });

  it('a subscriber banned with view_messages loses the channel: CHANNEL_PRIVATE, no more posts', async () => {
    const { Api } = owner.g;
    const target = inputPeerOfUser(owner.g, await inputUserOf(owner.g, banned.g));
    await owner.g.client.invoke(
      new Api.channels.EditBanned({
        channel: inputChannel(owner.g, channel),
        participant: target,
        bannedRights: new Api.ChatBannedRights({ viewMessages: true, untilDate: 0 }),
      }),
    );
    // The banned user is told, as Telegram does, with updateChannel.
    await waitFor(
      banned,
      (u) => (cls(u) === 'UpdateChannel' && channelOf(u) === chan ? u : undefined),
      'ban',
    );

    const ref = refs.get(banned)!;
    const b = banned.g.Api;
    const seen = (await banned.g.client.invoke(
      new b.channels.GetChannels({ id: [inputChannel(banned.g, ref)] }),
    )) as unknown as Obj;
    expect(cls(channelIn(seen.chats as unknown[], chan))).toBe('ChannelForbidden');
    await expect(history(banned.g, ref, 5)).rejects.toEqual(rpcError('CHANNEL_PRIVATE'));
    // Joining again: CHANNEL_PRIVATE ("... or you were banned from it") or USER_BANNED_IN_CHANNEL.
    await expect(
      banned.g.client.invoke(new b.channels.JoinChannel({ channel: inputChannel(banned.g, ref) })),
    ).rejects.toEqual(rpcErrorOneOf('CHANNEL_PRIVATE', 'USER_BANNED_IN_CHANNEL'));
    await expect(
      banned.g.client.invoke(
        new b.updates.GetChannelDifference({
          channel: inputChannel(banned.g, ref),
          filter: new b.ChannelMessagesFilterEmpty(),
          pts: 1,
          limit: 10,
        }),
      ),
    ).rejects.toEqual(rpcError('CHANNEL_PRIVATE'));

    const after = await post(owner.g, channel, text('after the ban'));
    await waitFor(watcher, newChannelMessage(chan, after.message.message as string), 'post after ban');
    await quietFor(3000);
    expect(
      banned.seen.some((u) => newChannelMessage(chan, after.message.message as string)(u) !== undefined),
    ).toBe(false);
    // Banned users are listed as such for admins.
    const kicked = (await owner.g.client.invoke(
      new Api.channels.GetParticipants({
        channel: inputChannel(owner.g, channel),
        filter: new Api.ChannelParticipantsKicked({ q: '' }),
        offset: 0,
        limit: 10,
        hash: big(0),
      }),
    )) as unknown as Obj;
    expect((kicked.participants as Obj[]).map((p) => [cls(p), String((p.peer as Obj).userId)])).toEqual([
      ['ChannelParticipantBanned', banned.id.toString()],
    ]);
  });

  it('lifting the ban lets the user join again and receive posts', async () => {
    const { Api } = owner.g;
    await owner.g.client.invoke(
      new Api.channels.EditBanned({
        channel: inputChannel(owner.g, channel),
        participant: inputPeerOfUser(owner.g, await inputUserOf(owner.g, banned.g)),
        bannedRights: new Api.ChatBannedRights({ untilDate: 0 }),
      }),
    );
    const ref = refOf((await resolveChannel(banned.g, username)).channel);
    await banned.g.client.invoke(
      new banned.g.Api.channels.JoinChannel({ channel: inputChannel(banned.g, ref) }),
    );
    const back = await post(owner.g, channel, text('welcome back'));
    const u = await waitFor(
      banned,
      newChannelMessage(chan, back.message.message as string),
      'post after unban',
    );
    expect(u.pts).toBe(back.pts);
  });
});
