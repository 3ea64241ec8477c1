import { MessageEntity_Type, SendMessageAction_Kind } from '../../../shared/src/gen/tern/common/v1/message';
import type { UserUpdateEvent } from '../../../shared/src/gen/tern/events/v1/events';
import { loadTlRuntime } from '../tl-runtime';
import { loadTlRegistry } from '../tl/registry';
import { tlLiveUpdates } from './updates';

const tl = loadTlRuntime();
const registry = loadTlRegistry();

/** Ids were ints before layer 133: the oldest held layers read them back as numbers. */
const id = (layer: number, n: bigint): bigint | number =>
  registry.forLayer(layer).byName('peerUser')!.params[0]!.type === 'int' ? Number(n) : n;

function event(peerUser: boolean): UserUpdateEvent {
  return {
    userId: 7n,
    excludeAuthKeyId: 0n,
    date: 1_700_000_000,
    users: [],
    chats: [],
    channels: [],
    update: {
      pts: 12,
      ptsCount: 1,
      kind: {
        $case: 'newMessage',
        value: {
          message: {
            id: 5,
            peer: { kind: peerUser ? { $case: 'userId', value: 9n } : { $case: 'chatId', value: 3n } },
            from: { kind: { $case: 'userId', value: 9n } },
            out: false,
            date: 1_700_000_000,
            message: 'hello **there**',
            entities: [
              { type: MessageEntity_Type.BOLD, offset: 6, length: 9, url: '', userId: 0n, language: '' },
            ],
            replyToMsgId: 0,
            editDate: 0,
            mentioned: false,
            mediaUnread: false,
            silent: false,
            post: false,
            views: 0,
            postAuthor: '',
            pinned: false,
          },
        },
      },
    },
  };
}

describe('live updates in TL', () => {
  it.each(tl.layers)(
    'a private message is an updateShortMessage that layer %i can encode and decode',
    (layer) => {
      const obj = tlLiveUpdates(event(true))!;
      expect(obj._).toBe('updateShortMessage');
      const decoded = tl.decodeApi(layer, tl.encodeObject(layer, obj));
      expect(decoded).toMatchObject({
        _: 'updateShortMessage',
        id: 5,
        user_id: id(layer, 9n),
        pts: 12,
        message: 'hello **there**',
      });
      expect((decoded.entities as Array<{ _: string }>)[0]!._).toBe('messageEntityBold');
    },
  );

  it.each(tl.layers)('plain text in a group is an updateShortChatMessage in layer %i', (layer) => {
    const decoded = tl.decodeApi(layer, tl.encodeObject(layer, tlLiveUpdates(event(false))!));
    expect(decoded).toMatchObject({
      _: 'updateShortChatMessage',
      id: 5,
      chat_id: id(layer, 3n),
      from_id: id(layer, 9n),
      pts: 12,
    });
  });

  it.each(tl.layers)(
    'an edit is `updates` with updateEditMessage and a forward header in layer %i',
    (layer) => {
      const e = event(true);
      const message = e.update!.kind!.$case === 'newMessage' ? e.update!.kind.value.message! : undefined;
      const edited: UserUpdateEvent = {
        ...e,
        update: {
          pts: 13,
          ptsCount: 1,
          kind: {
            $case: 'editMessage',
            value: {
              message: {
                ...message!,
                editDate: 1_700_000_100,
                fwdFrom: {
                  from: { kind: { $case: 'userId', value: 4n } },
                  fromName: '',
                  date: 1_600_000_000,
                  channelPost: 0,
                },
              },
            },
          },
        },
      };
      const decoded = tl.decodeApi(layer, tl.encodeObject(layer, tlLiveUpdates(edited)!));
      expect(decoded._).toBe('updates');
      const update = (
        decoded.updates as Array<{ _: string; pts: number; message: Record<string, unknown> }>
      )[0]!;
      expect(update).toMatchObject({ _: 'updateEditMessage', pts: 13 });
      expect(update.message).toMatchObject({ id: 5, edit_date: 1_700_000_100, message: 'hello **there**' });
      expect(update.message.fwd_from).toMatchObject({ from_id: { _: 'peerUser', user_id: id(layer, 4n) } });
    },
  );

  it.each(tl.layers)('typing is updateUserTyping in layer %i', (layer) => {
    const typing: UserUpdateEvent = {
      ...event(true),
      update: {
        pts: 0,
        ptsCount: 0,
        kind: {
          $case: 'userTyping',
          value: { userId: 9n, action: { kind: SendMessageAction_Kind.TYPING, progress: 0 } },
        },
      },
    };
    const decoded = tl.decodeApi(layer, tl.encodeObject(layer, tlLiveUpdates(typing)!));
    expect((decoded.updates as Array<Record<string, unknown>>)[0]).toMatchObject({
      _: 'updateUserTyping',
      user_id: id(layer, 9n),
      action: { _: 'sendMessageTypingAction' },
    });
  });
});
