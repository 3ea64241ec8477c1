/**
 * The channel handlers against fake backends: which RPC each TL call becomes, what it is asked,
 * and the shape of the answer for the client's layer.
 */
import type { AuthServiceClient } from '../../../../shared/src/gen/tern/auth/v1/auth';
import type { ChannelServiceClient } from '../../../../shared/src/gen/tern/channel/v1/channel';
import type { Channel } from '../../../../shared/src/gen/tern/common/v1/chat';
import type { Message } from '../../../../shared/src/gen/tern/common/v1/message';
import type { MessagingServiceClient } from '../../../../shared/src/gen/tern/messaging/v1/messaging';
import type { ChannelFollower } from '../../backend/channel-updates';
import type { CallContext } from '../../mtproto/invocation';
import type { Session } from '../../mtproto/sessions';
import type { TlObject } from '../../mtproto/tl-types';
import { loadTlRuntime } from '../../tl-runtime';
import { resolveUsername } from '../contacts';
import { getDialogs } from '../messages/dialogs';
import { forwardMessages, sendMessage } from '../messages/send';
import { readHistory } from '../messages/history';
import { getChannelDifference } from '../updates';
import { getChannels, inviteToChannel, joinChannel } from './channels';
import type { ChannelApiDeps } from './common';
import { checkChatInvite, exportChatInvite, importChatInvite } from './invites';
import { getAdminLog } from './messages';
import { migrateChat } from './migrate';
import { getParticipants } from './participants';
import { ChannelParticipant_Role } from '../../../../shared/src/gen/tern/channel/v1/channel';

const tl = loadTlRuntime();
const CH = (5n << 10n) | 1n;

type Calls = Record<string, unknown[]>;

/** A fake gRPC client: each method answers `answers[name]` (or its result for the request). */
function fake<T>(answers: Record<string, unknown>, calls: Calls): T {
  return new Proxy(
    {},
    {
      get:
        (_t, name: string) =>
        (req: unknown, _md: unknown, _opts: unknown, cb: (e: Error | null, r?: unknown) => void) => {
          (calls[name] ??= []).push(req);
          const a = answers[name];
          if (a === undefined) cb(new Error(`unexpected call ${name}`));
          else cb(null, typeof a === 'function' ? (a as (r: unknown) => unknown)(req) : a);
        },
    },
  ) as T;
}

function channel(over: Partial<Channel> = {}): Channel {
  return {
    id: CH,
    accessHash: 77n,
    title: 'News',
    username: 'news',
    date: 1,
    broadcast: true,
    megagroup: false,
    creator: false,
    left: false,
    participantsCount: 3,
    dcId: 1,
    signatures: false,
    slowmodeSeconds: 0,
    forbidden: false,
    migratedFromChatId: 0n,
    ...over,
  };
}

function message(peer: Message['peer'], id: number, date: number): Message {
  return {
    id,
    peer,
    from: { kind: { $case: 'userId', value: 42n } },
    out: true,
    date,
    message: `m${id}`,
    entities: [],
    replyToMsgId: 0,
    editDate: 0,
    mentioned: false,
    mediaUnread: false,
    silent: false,
    post: false,
    views: 0,
    postAuthor: '',
    pinned: false,
  };
}

const postUpdates = (id: number) => ({
  updates: [
    { pts: 0, ptsCount: 0, kind: { $case: 'messageId', value: { id, randomId: 1n } } },
    {
      pts: id,
      ptsCount: 1,
      kind: {
        $case: 'newChannelMessage',
        value: { message: message({ kind: { $case: 'channelId', value: CH } }, id, 5) },
      },
    },
  ],
  users: [],
  chats: [],
  channels: [channel()],
  date: 5,
  seq: 0,
});

function setup(channelAnswers: Record<string, unknown>, messagingAnswers: Record<string, unknown> = {}) {
  const calls: Calls = {};
  const followed: [bigint, Channel][] = [];
  const live: ChannelFollower = { follow: (u, c) => followed.push([u, c]) };
  const d: ChannelApiDeps = {
    dcId: 1,
    auth: fake<AuthServiceClient>(
      {
        getAuthKeyUser: { userId: 42n },
        getUsers: { users: [{ id: 42n, firstName: 'Ann', lastName: 'Lee' }] },
        resolveUsername: { peer: { kind: { $case: 'channelId', value: CH } } },
      },
      calls,
    ),
    messaging: fake<MessagingServiceClient>(messagingAnswers, calls),
    channel: fake<ChannelServiceClient>(channelAnswers, calls),
    channelLive: live,
    tl,
  };
  return { d, calls, followed };
}

const call = (layer = tl.newestLayer): CallContext => ({
  msgId: 4n,
  session: { id: 5n } as Session,
  authKey: { id: 9n, idBytes: Buffer.alloc(8), key: Buffer.alloc(256), temporary: false, expiresAt: 0 },
  layer,
  remoteAddress: '',
});

const inputChannel = { _: 'inputChannel', channel_id: CH, access_hash: 77n };
const inputPeerChannel = { _: 'inputPeerChannel', channel_id: CH, access_hash: 77n };

describe('channel handlers', () => {
  it('migrateChat invites a member added between its first read and the close', async () => {
    const chat = { id: 7n, title: 'Club', creator: true, deactivated: false, migratedToChannelId: 0n };
    const members = (ids: bigint[]) => ({
      fullChat: { participants: ids.map((userId) => ({ userId })) },
      chats: [chat],
    });
    let reads = 0;
    const { d, calls } = setup(
      { migrateChat: { channel: channel({ megagroup: true, broadcast: false }), updates: postUpdates(1) } },
      {
        // The second read is of the closed chat, with the member added meanwhile.
        getFullChat: () => (++reads === 1 ? members([42n, 5n]) : members([42n, 5n, 6n])),
        getHistory: { page: { messages: [{ id: 9 }] } },
        markChatMigrated: { updates: undefined },
      },
    );
    await migrateChat({ _: 'messages.migrateChat', chat_id: 7n }, call(), d);
    expect(calls.migrateChat!.map((r) => (r as { memberIds: bigint[] }).memberIds)).toEqual([
      [42n, 5n],
      [42n, 6n],
    ]);
    // The close came between the two reads.
    expect(calls.markChatMigrated).toHaveLength(1);
    expect(reads).toBe(2);
  });

  it('migrateChat asks the channel once when nobody joined meanwhile', async () => {
    const chat = { id: 7n, title: 'Club', creator: true, deactivated: false, migratedToChannelId: 0n };
    const { d, calls } = setup(
      { migrateChat: { channel: channel({ megagroup: true, broadcast: false }), updates: postUpdates(1) } },
      {
        getFullChat: { fullChat: { participants: [{ userId: 42n }, { userId: 5n }] }, chats: [chat] },
        getHistory: { page: { messages: [] } },
        markChatMigrated: { updates: undefined },
      },
    );
    await migrateChat({ _: 'messages.migrateChat', chat_id: 7n }, call(), d);
    expect(calls.migrateChat).toHaveLength(1);
  });

  it('answers joinChannel as chatInviteJoinResultOk where the layer has it, and follows the channel', async () => {
    const shapes = new Set<string>();
    for (const layer of tl.layers) {
      const { d, calls, followed } = setup({ joinChannel: { updates: { ...postUpdates(1), updates: [] } } });
      const answer = await joinChannel({ _: 'channels.joinChannel', channel: inputChannel }, call(layer), d);
      const has = tl.resultType(layer, 'channels.joinChannel') === 'messages.ChatInviteJoinResult';
      expect(answer._).toBe(has ? 'messages.chatInviteJoinResultOk' : 'updates');
      expect(tl.encodeApi(layer, answer, 'channels.joinChannel').length).toBeGreaterThan(0);
      expect(calls.joinChannel![0]).toMatchObject({ channel: { channelId: CH, accessHash: 77n } });
      expect(followed).toEqual([[42n, channel()]]);
      shapes.add(answer._);
    }
    expect(shapes.size).toBe(2);
  });

  it('answers inviteToChannel as messages.invitedUsers where the layer has it', async () => {
    for (const layer of [tl.layers[0]!, tl.newestLayer]) {
      const { d } = setup({ inviteToChannel: { updates: postUpdates(1), missingInvitees: [8n] } });
      const answer = await inviteToChannel(
        {
          _: 'channels.inviteToChannel',
          channel: inputChannel,
          users: [{ _: 'inputUser', user_id: 8n, access_hash: 1n }],
        },
        call(layer),
        d,
      );
      const has = tl.resultType(layer, 'channels.inviteToChannel') === 'messages.InvitedUsers';
      expect(answer._).toBe(has ? 'messages.invitedUsers' : 'updates');
      expect(tl.encodeApi(layer, answer, 'channels.inviteToChannel').length).toBeGreaterThan(0);
    }
  });

  it('refuses a malformed InputChannel with CHANNEL_INVALID before asking the service', async () => {
    const { d, calls } = setup({});
    await expect(
      getChannels({ _: 'channels.getChannels', id: [{ _: 'inputChannelEmpty' }] }, call(), d),
    ).rejects.toThrow('CHANNEL_INVALID');
    expect(calls.getChannels).toBeUndefined();
  });

  it('sends to a channel peer through the channel service, with the author name for signatures', async () => {
    const { d, calls } = setup({ sendChannelMessage: { updates: postUpdates(9) } });
    const answer = await sendMessage(
      { _: 'messages.sendMessage', peer: inputPeerChannel, message: 'hello', random_id: 1n },
      call(),
      d,
    );
    expect(calls.sendChannelMessage![0]).toMatchObject({
      channel: { channelId: CH },
      message: 'hello',
      randomId: 1n,
      postAuthor: 'Ann Lee',
    });
    expect(answer._).toBe('updates');
    expect((answer.updates as TlObject[]).map((u) => u._)).toEqual([
      'updateMessageID',
      'updateNewChannelMessage',
    ]);
    expect(tl.encodeApi(tl.newestLayer, answer, 'messages.sendMessage').length).toBeGreaterThan(0);
  });

  it('forwards from a private chat into a channel: reads the box, posts each copy with its header', async () => {
    const user = { kind: { $case: 'userId' as const, value: 8n } };
    const { d, calls } = setup(
      { sendChannelMessage: (req: { randomId: bigint }) => ({ updates: postUpdates(Number(req.randomId)) }) },
      {
        getMessages: {
          page: {
            messages: [message(user, 3, 100), message(user, 4, 101)],
            count: 2,
            users: [],
            chats: [],
            channels: [],
            pts: 0,
            notModified: false,
          },
        },
      },
    );
    const answer = await forwardMessages(
      {
        _: 'messages.forwardMessages',
        from_peer: { _: 'inputPeerUser', user_id: 8n, access_hash: 1n },
        to_peer: inputPeerChannel,
        id: [3, 4],
        random_id: [31n, 32n],
      },
      call(),
      d,
    );
    expect(calls.getMessages![0]).toMatchObject({ ids: [3, 4] });
    expect(calls.sendChannelMessage!.map((r) => (r as { randomId: bigint }).randomId)).toEqual([31n, 32n]);
    expect(calls.sendChannelMessage![0]).toMatchObject({
      message: 'm3',
      fwdFrom: { from: { kind: { $case: 'userId', value: 42n } }, date: 100 },
    });
    expect((answer.updates as TlObject[]).filter((u) => u._ === 'updateNewChannelMessage')).toHaveLength(2);
  });

  it('forwards from a channel to a user: reads the channel, sends each copy through messaging', async () => {
    const chan = { kind: { $case: 'channelId' as const, value: CH } };
    const { d, calls } = setup(
      {
        getChannelMessages: {
          page: {
            messages: [message(chan, 7, 100)],
            count: 1,
            users: [],
            chats: [],
            channels: [],
            pts: 9,
            notModified: false,
          },
        },
      },
      { sendMessage: { updates: { updates: [], users: [], chats: [], channels: [], date: 1, seq: 0 } } },
    );
    await forwardMessages(
      {
        _: 'messages.forwardMessages',
        from_peer: inputPeerChannel,
        to_peer: { _: 'inputPeerUser', user_id: 8n, access_hash: 1n },
        id: [7],
        random_id: [70n],
      },
      call(),
      d,
    );
    expect(calls.getChannelMessages![0]).toMatchObject({ channel: { channelId: CH }, ids: [7] });
    expect(calls.sendMessage![0]).toMatchObject({
      message: 'm7',
      randomId: 70n,
      peer: { kind: { $case: 'user' } },
    });
  });

  it('reads a channel for messages.readHistory and answers at the unchanged user pts', async () => {
    const { d, calls } = setup({ readChannelHistory: {} }, { getState: { state: { pts: 17 } } });
    const answer = await readHistory(
      { _: 'messages.readHistory', peer: inputPeerChannel, max_id: 4 },
      call(),
      d,
    );
    expect(calls.readChannelHistory![0]).toMatchObject({ channel: { channelId: CH }, maxId: 4 });
    expect(answer).toEqual({ _: 'messages.affectedMessages', pts: 17, pts_count: 0 });
  });

  it('merges the box and the channel dialogs for messages.getDialogs', async () => {
    const user = { kind: { $case: 'userId' as const, value: 8n } };
    const chan = { kind: { $case: 'channelId' as const, value: CH } };
    const dialog = (peer: Message['peer'], top: number) => ({
      peer,
      topMessage: top,
      readInboxMaxId: 0,
      readOutboxMaxId: 0,
      unreadCount: 0,
      unreadMentionsCount: 0,
      pts: 9,
      pinned: false,
      folderId: 0,
    });
    const { d, calls } = setup(
      {
        getChannelDialogs: {
          dialogs: [dialog(chan, 2)],
          messages: [message(chan, 2, 200)],
          users: [],
          channels: [channel()],
          count: 1,
        },
      },
      {
        getDialogs: {
          dialogs: [dialog(user, 5)],
          messages: [message(user, 5, 100)],
          users: [],
          chats: [],
          channels: [],
          count: 1,
          notModified: false,
          drafts: [
            {
              peer: user,
              draft: { message: 'not sent yet', entities: [], replyToMsgId: 0, noWebpage: false, date: 99 },
            },
          ],
        },
      },
    );
    const answer = await getDialogs({ _: 'messages.getDialogs', offset_date: 0, limit: 20 }, call(), d);
    expect(calls.getChannelDialogs![0]).toMatchObject({ offsetDate: 0, limit: 20 });
    expect(answer._).toBe('messages.dialogs');
    expect((answer.dialogs as TlObject[]).map((x) => x.peer)).toEqual([
      { _: 'peerChannel', channel_id: CH },
      { _: 'peerUser', user_id: 8n },
    ]);
    expect((answer.dialogs as TlObject[])[0]!.pts).toBe(9);
    // The box's draft sits in its dialog; the channel's dialog has none.
    expect((answer.dialogs as TlObject[])[1]!.draft).toMatchObject({
      _: 'draftMessage',
      message: 'not sent yet',
      date: 99,
    });
    expect((answer.dialogs as TlObject[])[0]!.draft).toBeUndefined();
    expect((answer.chats as TlObject[]).map((c) => c._)).toEqual(['channel']);
    expect(tl.encodeApi(tl.newestLayer, answer, 'messages.getDialogs').length).toBeGreaterThan(0);
  });

  it('resolves a channel username to the channel fetched from the channel service', async () => {
    const { d, calls } = setup({ getChannels: { channels: [channel()] } });
    const answer = await resolveUsername({ _: 'contacts.resolveUsername', username: 'news' }, call(), d);
    expect(calls.getChannels![0]).toMatchObject({ channels: [{ channelId: CH }] });
    expect(answer).toMatchObject({
      _: 'contacts.resolvedPeer',
      peer: { _: 'peerChannel', channel_id: CH },
      chats: [{ _: 'channel', id: CH, access_hash: 77n }],
      users: [],
    });
  });

  it('asks getChannelDifference with a bounded limit and answers its variant', async () => {
    const { d, calls } = setup({
      getChannelDifference: { result: { $case: 'empty', value: { pts: 5, final: true, timeout: 0 } } },
    });
    const answer = await getChannelDifference(
      {
        _: 'updates.getChannelDifference',
        channel: inputChannel,
        filter: { _: 'channelMessagesFilterEmpty' },
        pts: 5,
        limit: 100000,
      },
      call(),
      d,
    );
    expect(calls.getChannelDifference![0]).toMatchObject({ pts: 5, limit: 100 });
    expect(answer).toMatchObject({ _: 'updates.channelDifferenceEmpty', pts: 5, final: true });
  });

  it('answers getParticipants for bots with nothing, without asking', async () => {
    const { d, calls } = setup({});
    const answer = await getParticipants(
      {
        _: 'channels.getParticipants',
        channel: inputChannel,
        filter: { _: 'channelParticipantsBots' },
        offset: 0,
        limit: 10,
        hash: 0n,
      },
      call(),
      d,
    );
    expect(answer).toMatchObject({ _: 'channels.channelParticipants', count: 0 });
    expect(calls.getParticipants).toBeUndefined();
  });

  it.each(tl.layers)('layer %i reads the invite, participant and admin log answers back', async (layer) => {
    const participant = {
      userId: 8n,
      role: ChannelParticipant_Role.ADMIN,
      date: 3,
      inviterId: 0n,
      rank: '',
      actorId: 42n,
      isSelf: false,
    };
    const { d } = setup({
      exportChannelInvite: {
        link: 'https://t.me/+1abc',
        hash: '1abc',
        adminId: 42n,
        date: 3,
        permanent: true,
      },
      checkChannelInvite: {
        title: 'News',
        about: '',
        broadcast: true,
        megagroup: false,
        public: false,
        participantsCount: 3,
        participants: [],
      },
      importChannelInvite: { updates: postUpdates(1) },
      getParticipants: { count: 1, participants: [participant], users: [], notModified: false },
      getAdminLog: {
        events: [
          { id: 1n, date: 3, userId: 42n, action: { $case: 'changedTitle', value: 'New' } },
          { id: 2n, date: 4, userId: 42n, action: { $case: 'participantAdminChanged', value: participant } },
          {
            id: 3n,
            date: 5,
            userId: 42n,
            action: {
              $case: 'messagePinned',
              value: message({ kind: { $case: 'channelId', value: CH } }, 2, 5),
            },
          },
        ],
        users: [],
        channels: [channel()],
      },
    });
    const read = (answer: TlObject, method: string) =>
      tl.decodeApi(layer, tl.encodeApi(layer, answer, method));
    expect(
      read(
        await exportChatInvite({ _: 'messages.exportChatInvite', peer: inputPeerChannel }, call(layer), d),
        'messages.exportChatInvite',
      ),
    ).toMatchObject({ _: 'chatInviteExported', link: 'https://t.me/+1abc', permanent: true });
    expect(
      read(
        await checkChatInvite({ _: 'messages.checkChatInvite', hash: '1abc' }, call(layer), d),
        'messages.checkChatInvite',
      ),
    ).toMatchObject({
      _: 'chatInvite',
      channel: true,
      broadcast: true,
      title: 'News',
      participants_count: 3,
    });
    const joined = await importChatInvite({ _: 'messages.importChatInvite', hash: '1abc' }, call(layer), d);
    expect(read(joined, 'messages.importChatInvite')._).toBe(
      tl.resultType(layer, 'messages.importChatInvite') === 'messages.ChatInviteJoinResult'
        ? 'messages.chatInviteJoinResultOk'
        : 'updates',
    );
    const parts = read(
      await getParticipants(
        {
          _: 'channels.getParticipants',
          channel: inputChannel,
          filter: { _: 'channelParticipantsAdmins' },
          offset: 0,
          limit: 10,
          hash: 0n,
        },
        call(layer),
        d,
      ),
      'channels.getParticipants',
    );
    expect((parts.participants as TlObject[])[0]).toMatchObject({ _: 'channelParticipantAdmin' });
    const log = read(
      await getAdminLog(
        { _: 'channels.getAdminLog', channel: inputChannel, q: '', max_id: 0n, min_id: 0n, limit: 10 },
        call(layer),
        d,
      ),
      'channels.getAdminLog',
    );
    expect((log.events as TlObject[]).map((e) => (e.action as TlObject)._)).toEqual([
      'channelAdminLogEventActionChangeTitle',
      'channelAdminLogEventActionParticipantToggleAdmin',
      'channelAdminLogEventActionUpdatePinned',
    ]);
  });
});
