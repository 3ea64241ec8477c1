import {
  ChannelParticipant_Role,
  GetParticipantsRequest_Filter,
  type ChannelParticipant,
} from '../../../shared/src/gen/tern/channel/v1/channel';
import type { Channel, ChannelFull } from '../../../shared/src/gen/tern/common/v1/chat';
import type { Message } from '../../../shared/src/gen/tern/common/v1/message';
import type { ChannelUpdateEvent } from '../../../shared/src/gen/tern/events/v1/events';
import type { TlObject } from '../mtproto/tl-types';
import { loadTlRuntime } from '../tl-runtime';
import {
  adminRightsOf,
  bannedRightsOf,
  channelHomeDc,
  channelOfPeer,
  inputChannel,
  participantsFilterOf,
  tlChannel,
  tlChannelFull,
  tlChannelParticipant,
  tlMinChannel,
} from './channels';
import { tlChannelDifference, tlChannelMessages, tlDialog } from './dialogs';
import { tlChannelLiveUpdates, tlMessage, tlPinnedChannelMessages, tlUpdate, tlUpdates } from './updates';

const tl = loadTlRuntime();

const CHANNEL_ID = (77n << 10n) | 2n;

function channel(over: Partial<Channel> = {}): Channel {
  return {
    id: CHANNEL_ID,
    accessHash: -1234567890123n,
    title: 'News',
    username: 'news',
    date: 1_700_000_000,
    broadcast: true,
    megagroup: false,
    creator: false,
    left: false,
    participantsCount: 42,
    dcId: 2,
    signatures: true,
    slowmodeSeconds: 0,
    forbidden: false,
    migratedFromChatId: 0n,
    ...over,
  };
}

function message(over: Partial<Message> = {}): Message {
  return {
    id: 10,
    peer: { kind: { $case: 'channelId', value: CHANNEL_ID } },
    out: false,
    date: 1_700_000_100,
    message: 'post',
    entities: [],
    replyToMsgId: 0,
    editDate: 0,
    mentioned: false,
    mediaUnread: false,
    silent: false,
    post: true,
    views: 7,
    postAuthor: 'Ann Lee',
    pinned: false,
    ...over,
  };
}

/** What a layer's client reads back from what the gateway writes for it. */
const roundTrip = (layer: number, obj: TlObject): TlObject =>
  tl.decodeApi(layer, tl.encodeObject(layer, obj));

describe('channels in TL', () => {
  it('names the home DC from the id and reads InputChannel, inputPeerChannel included', () => {
    expect(channelHomeDc(CHANNEL_ID)).toBe(2);
    expect(inputChannel({ _: 'inputChannel', channel_id: 5n, access_hash: 6n })).toEqual({
      channelId: 5n,
      accessHash: 6n,
    });
    expect(inputChannel({ _: 'inputPeerChannel', channel_id: 5n, access_hash: 6n }).channelId).toBe(5n);
    // Layer 131 reads ids as ints.
    expect(inputChannel({ _: 'inputChannel', channel_id: 5, access_hash: 6n }).channelId).toBe(5n);
    for (const bad of [undefined, { _: 'inputChannelEmpty' }, { _: 'inputChannel' }, { _: 'inputPeerUser' }])
      expect(() => inputChannel(bad)).toThrow('CHANNEL_INVALID');
    expect(channelOfPeer({ _: 'inputPeerUser', user_id: 1n, access_hash: 2n })).toBeUndefined();
    expect(channelOfPeer({ _: 'inputPeerChannel', channel_id: 5n, access_hash: 6n })?.channelId).toBe(5n);
  });

  it('writes a channel with its access hash, kind, rights and counters', () => {
    const c = tlChannel(
      channel({
        creator: true,
        adminRights: adminRightsOf({ _: 'chatAdminRights', post_messages: true, add_admins: true }),
        slowmodeSeconds: 30,
      }),
    );
    expect(c).toMatchObject({
      _: 'channel',
      broadcast: true,
      megagroup: false,
      creator: true,
      left: false,
      signatures: true,
      slowmode_enabled: true,
      access_hash: -1234567890123n,
      username: 'news',
      participants_count: 42,
      admin_rights: { _: 'chatAdminRights', post_messages: true, add_admins: true, ban_users: false },
    });
    const left = tlChannel(
      channel({
        left: true,
        bannedRights: { viewMessages: false, sendMessages: true, sendMedia: true, untilDate: 0 },
      }),
    );
    expect(left).toMatchObject({ left: true, banned_rights: { _: 'chatBannedRights', send_messages: true } });
    expect(tlChannel(channel({ forbidden: true, megagroup: true, broadcast: false }))).toEqual({
      _: 'channelForbidden',
      broadcast: false,
      megagroup: true,
      id: CHANNEL_ID,
      access_hash: -1234567890123n,
      title: 'News',
      until_date: undefined,
    });
  });

  it.each(tl.layers)('layer %i reads channel, channelForbidden and channelFull back', (layer) => {
    const c = roundTrip(layer, tlChannel(channel({ creator: true })));
    expect(c).toMatchObject({
      _: 'channel',
      broadcast: true,
      creator: true,
      title: 'News',
      username: 'news',
    });
    expect(BigInt(c.access_hash as bigint)).toBe(-1234567890123n);
    expect(roundTrip(layer, tlChannel(channel({ forbidden: true })))._).toBe('channelForbidden');
    const full: ChannelFull = {
      id: CHANNEL_ID,
      about: 'about',
      participantsCount: 42,
      adminsCount: 1,
      readInboxMaxId: 9,
      readOutboxMaxId: 10,
      unreadCount: 1,
      pts: 31,
      pinnedMsgId: 10,
      slowmodeSeconds: 0,
      kickedCount: 0,
      bannedCount: 0,
      migratedFromChatId: 0n,
      migratedFromMaxId: 0,
      exportedInviteLink: '',
    };
    const answer = {
      _: 'messages.chatFull',
      full_chat: tlChannelFull(full, channel({ creator: true })),
      chats: [tlChannel(channel())],
      users: [],
    };
    const back = tl.decodeApi(layer, tl.encodeApi(layer, answer, 'channels.getFullChannel'));
    expect(back.full_chat).toMatchObject({
      _: 'channelFull',
      about: 'about',
      pts: 31,
      read_inbox_max_id: 9,
      unread_count: 1,
      pinned_msg_id: 10,
      can_view_participants: true,
    });
  });

  it('writes each participant role as its TL variant', () => {
    const p = (
      role: ChannelParticipant_Role,
      over: Partial<ChannelParticipant> = {},
    ): ChannelParticipant => ({
      userId: 5n,
      role,
      date: 100,
      inviterId: 6n,
      rank: '',
      actorId: 7n,
      isSelf: false,
      ...over,
    });
    expect(tlChannelParticipant(p(ChannelParticipant_Role.MEMBER))).toEqual({
      _: 'channelParticipant',
      user_id: 5n,
      date: 100,
    });
    expect(tlChannelParticipant(p(ChannelParticipant_Role.MEMBER, { isSelf: true }))._).toBe(
      'channelParticipantSelf',
    );
    expect(tlChannelParticipant(p(ChannelParticipant_Role.CREATOR, { rank: 'boss' }))).toMatchObject({
      _: 'channelParticipantCreator',
      rank: 'boss',
      admin_rights: { _: 'chatAdminRights' },
    });
    expect(
      tlChannelParticipant(
        p(ChannelParticipant_Role.ADMIN, { adminRights: adminRightsOf({ ban_users: true }) }),
      ),
    ).toMatchObject({ _: 'channelParticipantAdmin', promoted_by: 7n, admin_rights: { ban_users: true } });
    expect(
      tlChannelParticipant(
        p(ChannelParticipant_Role.BANNED, { bannedRights: bannedRightsOf({ view_messages: true }) }),
      ),
    ).toMatchObject({
      _: 'channelParticipantBanned',
      left: true,
      peer: { _: 'peerUser', user_id: 5n },
      kicked_by: 7n,
      banned_rights: { view_messages: true },
    });
    expect(tlChannelParticipant(p(ChannelParticipant_Role.RESTRICTED))).toMatchObject({
      _: 'channelParticipantBanned',
      left: false,
    });
    expect(tlChannelParticipant(p(ChannelParticipant_Role.LEFT))._).toBe('channelParticipantLeft');
  });

  it('maps participant filters; bots are always none', () => {
    expect(participantsFilterOf({ _: 'channelParticipantsRecent' }).filter).toBe(
      GetParticipantsRequest_Filter.RECENT,
    );
    expect(participantsFilterOf({ _: 'channelParticipantsAdmins' }).filter).toBe(
      GetParticipantsRequest_Filter.ADMINS,
    );
    expect(participantsFilterOf({ _: 'channelParticipantsKicked', q: '' }).filter).toBe(
      GetParticipantsRequest_Filter.KICKED,
    );
    expect(participantsFilterOf({ _: 'channelParticipantsBanned', q: 'x' })).toEqual({
      filter: GetParticipantsRequest_Filter.BANNED,
      q: 'x',
    });
    expect(participantsFilterOf({ _: 'channelParticipantsSearch', q: 'ann' })).toEqual({
      filter: GetParticipantsRequest_Filter.SEARCH,
      q: 'ann',
    });
    expect(participantsFilterOf({ _: 'channelParticipantsBots' }).none).toBe(true);
  });
});

describe('channel messages and updates in TL', () => {
  it('writes a broadcast post without from_id, with post, views and signature', () => {
    expect(tlMessage(message({ from: { kind: { $case: 'userId', value: 5n } } }))).toMatchObject({
      _: 'message',
      post: true,
      from_id: undefined,
      peer_id: { _: 'peerChannel', channel_id: CHANNEL_ID },
      views: 7,
      post_author: 'Ann Lee',
    });
    const group = tlMessage(
      message({ post: false, views: 0, postAuthor: '', from: { kind: { $case: 'userId', value: 5n } } }),
    );
    expect(group).toMatchObject({ from_id: { _: 'peerUser', user_id: 5n }, views: undefined, post: false });
    expect(tlMessage(message({ pinned: true })).pinned).toBe(true);
    expect(tlMessage({ ...message(), peer: undefined, date: 0 })).toEqual({ _: 'messageEmpty', id: 10 });
    const fwd = tlMessage(
      message({
        fwdFrom: { from: { kind: { $case: 'channelId', value: 9n } }, fromName: '', date: 5, channelPost: 3 },
      }),
    );
    expect(fwd.fwd_from).toMatchObject({ from_id: { _: 'peerChannel', channel_id: 9n }, channel_post: 3 });
  });

  it('writes the channel service actions', () => {
    const action = (a: Message['action'], over: Partial<Message> = {}) =>
      tlMessage(message({ action: a, message: '', ...over })) as TlObject & { action: TlObject };
    expect(action({ kind: { $case: 'channelCreate', value: { title: 'News' } } }).action).toEqual({
      _: 'messageActionChannelCreate',
      title: 'News',
    });
    expect(action({ kind: { $case: 'chatMigrateTo', value: CHANNEL_ID } }).action).toEqual({
      _: 'messageActionChatMigrateTo',
      channel_id: CHANNEL_ID,
    });
    expect(
      action({ kind: { $case: 'channelMigrateFrom', value: { title: 'Old', chatId: 3n } } }).action,
    ).toEqual({
      _: 'messageActionChannelMigrateFrom',
      title: 'Old',
      chat_id: 3n,
    });
    const pin = action({ kind: { $case: 'pinMessage', value: true } }, { replyToMsgId: 4 });
    expect(pin).toMatchObject({
      _: 'messageService',
      post: true,
      action: { _: 'messageActionPinMessage' },
      reply_to: { _: 'messageReplyHeader', reply_to_msg_id: 4 },
    });
    expect(action({ kind: { $case: 'chatJoinedByLink', value: 6n } }).action).toEqual({
      _: 'messageActionChatJoinedByLink',
      inviter_id: 6n,
    });
    expect(action({ kind: { $case: 'chatAddUser', value: { userIds: [5n] } } }).action._).toBe(
      'messageActionChatAddUser',
    );
    expect(action({ kind: { $case: 'chatDeleteUser', value: { userId: 5n } } }).action._).toBe(
      'messageActionChatDeleteUser',
    );
    expect(action({ kind: { $case: 'chatEditTitle', value: { title: 'T' } } }).action._).toBe(
      'messageActionChatEditTitle',
    );
  });

  it('writes each channel update kind with the channel pts', () => {
    expect(
      tlUpdate({ pts: 11, ptsCount: 1, kind: { $case: 'newChannelMessage', value: { message: message() } } }),
    ).toMatchObject({
      _: 'updateNewChannelMessage',
      pts: 11,
      pts_count: 1,
      message: { _: 'message', id: 10 },
    });
    expect(
      tlUpdate({ pts: 12, ptsCount: 1, kind: { $case: 'editChannelMessage', value: { message: message() } } })
        ?._,
    ).toBe('updateEditChannelMessage');
    expect(
      tlUpdate({
        pts: 14,
        ptsCount: 2,
        kind: { $case: 'deleteChannelMessages', value: { channelId: CHANNEL_ID, messages: [1, 2] } },
      }),
    ).toEqual({
      _: 'updateDeleteChannelMessages',
      channel_id: CHANNEL_ID,
      messages: [1, 2],
      pts: 14,
      pts_count: 2,
    });
    expect(
      tlUpdate({ pts: 0, ptsCount: 0, kind: { $case: 'channel', value: { channelId: CHANNEL_ID } } }),
    ).toEqual({
      _: 'updateChannel',
      channel_id: CHANNEL_ID,
    });
    expect(
      tlUpdate({
        pts: 0,
        ptsCount: 0,
        kind: { $case: 'channelTooLong', value: { channelId: CHANNEL_ID, pts: 40 } },
      }),
    ).toEqual({ _: 'updateChannelTooLong', channel_id: CHANNEL_ID, pts: 40 });
    expect(
      tlUpdate({
        pts: 0,
        ptsCount: 0,
        kind: {
          $case: 'readChannelInbox',
          value: { channelId: CHANNEL_ID, maxId: 9, stillUnreadCount: 1, pts: 40 },
        },
      }),
    ).toEqual({
      _: 'updateReadChannelInbox',
      channel_id: CHANNEL_ID,
      max_id: 9,
      still_unread_count: 1,
      pts: 40,
    });
    expect(tlPinnedChannelMessages(CHANNEL_ID, [10], true, 41, 1)).toEqual({
      _: 'updatePinnedChannelMessages',
      pinned: true,
      channel_id: CHANNEL_ID,
      messages: [10],
      pts: 41,
      pts_count: 1,
    });
  });

  it('shows a channel of a shared event without the standing of any one viewer in it', () => {
    const c = tlMinChannel(
      channel({ creator: true, adminRights: adminRightsOf({ post_messages: true }), left: false }),
    );
    expect(c).toMatchObject({ _: 'channel', min: true, creator: false, admin_rights: undefined });
    expect(tlMinChannel(channel({ forbidden: true }))._).toBe('channelForbidden');
  });

  it.each(tl.layers)('layer %i reads a live channel post and a call answer with channels back', (layer) => {
    const event: ChannelUpdateEvent = {
      channelId: CHANNEL_ID,
      excludeAuthKeyId: 0n,
      users: [],
      channels: [channel({ creator: true })],
      date: 1_700_000_100,
      update: { pts: 11, ptsCount: 1, kind: { $case: 'newChannelMessage', value: { message: message() } } },
    };
    const live = roundTrip(layer, tlChannelLiveUpdates(event)!);
    expect(live._).toBe('updates');
    const [u] = live.updates as TlObject[];
    expect(u).toMatchObject({ _: 'updateNewChannelMessage', pts: 11, pts_count: 1 });
    expect(u!.message).toMatchObject({
      _: 'message',
      post: true,
      views: 7,
      post_author: 'Ann Lee',
      message: 'post',
    });
    expect((live.chats as TlObject[])[0]).toMatchObject({ _: 'channel', title: 'News', min: true });
    const answer = tlUpdates({
      updates: [
        { pts: 0, ptsCount: 0, kind: { $case: 'messageId', value: { id: 10, randomId: 5n } } },
        { pts: 11, ptsCount: 1, kind: { $case: 'newChannelMessage', value: { message: message() } } },
        {
          pts: 0,
          ptsCount: 0,
          kind: {
            $case: 'readChannelInbox',
            value: { channelId: CHANNEL_ID, maxId: 9, stillUnreadCount: 0, pts: 11 },
          },
        },
      ],
      users: [],
      chats: [],
      channels: [channel()],
      date: 1,
      seq: 0,
    });
    const back = roundTrip(layer, answer);
    expect((back.updates as TlObject[]).map((x) => x._)).toEqual([
      'updateMessageID',
      'updateNewChannelMessage',
      'updateReadChannelInbox',
    ]);
    expect((back.chats as TlObject[]).map((x) => x._)).toEqual(['channel']);
    expect(roundTrip(layer, tlPinnedChannelMessages(CHANNEL_ID, [10], true, 41, 1))._).toBe(
      'updatePinnedChannelMessages',
    );
  });

  it.each(tl.layers)(
    'layer %i reads each updates.channelDifference variant and channelMessages back',
    (layer) => {
      const method = 'updates.getChannelDifference';
      const read = (obj: TlObject) => tl.decodeApi(layer, tl.encodeApi(layer, obj, method));
      expect(
        read(
          tlChannelDifference({ result: { $case: 'empty', value: { pts: 5, final: true, timeout: 30 } } }),
        ),
      ).toMatchObject({ _: 'updates.channelDifferenceEmpty', final: true, pts: 5, timeout: 30 });
      const diff = read(
        tlChannelDifference({
          result: {
            $case: 'difference',
            value: {
              pts: 12,
              final: false,
              timeout: 0,
              newMessages: [message()],
              otherUpdates: [
                {
                  pts: 12,
                  ptsCount: 1,
                  kind: { $case: 'deleteChannelMessages', value: { channelId: CHANNEL_ID, messages: [3] } },
                },
              ],
              channels: [channel()],
              users: [],
            },
          },
        }),
      );
      expect(diff).toMatchObject({ _: 'updates.channelDifference', pts: 12 });
      expect((diff.other_updates as TlObject[])[0]!._).toBe('updateDeleteChannelMessages');
      const tooLong = read(
        tlChannelDifference({
          result: {
            $case: 'tooLong',
            value: {
              dialog: {
                peer: { kind: { $case: 'channelId', value: CHANNEL_ID } },
                topMessage: 10,
                readInboxMaxId: 9,
                readOutboxMaxId: 10,
                unreadCount: 1,
                unreadMentionsCount: 0,
                pts: 40,
                pinned: false,
                folderId: 0,
              },
              messages: [message()],
              channels: [channel()],
              users: [],
              timeout: 0,
            },
          },
        }),
      );
      expect(tooLong).toMatchObject({
        _: 'updates.channelDifferenceTooLong',
        dialog: { _: 'dialog', pts: 40, top_message: 10 },
      });
      const page = tl.decodeApi(
        layer,
        tl.encodeApi(
          layer,
          tlChannelMessages({
            messages: [message()],
            count: 1,
            users: [],
            chats: [],
            channels: [channel()],
            pts: 40,
            notModified: false,
          }),
          'messages.getHistory',
        ),
      );
      expect(page).toMatchObject({ _: 'messages.channelMessages', pts: 40, count: 1 });
    },
  );

  it('gives a channel dialog its pts and others none', () => {
    const d = {
      topMessage: 1,
      readInboxMaxId: 0,
      readOutboxMaxId: 0,
      unreadCount: 0,
      unreadMentionsCount: 0,
      pts: 40,
      pinned: false,
      folderId: 0,
    };
    expect(tlDialog({ ...d, peer: { kind: { $case: 'channelId', value: CHANNEL_ID } } }).pts).toBe(40);
    expect(tlDialog({ ...d, peer: { kind: { $case: 'userId', value: 5n } } }).pts).toBeUndefined();
  });
});
