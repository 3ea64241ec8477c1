import { MessageEntity_Type } from '../../../shared/src/gen/tern/common/v1/message';
import type { UserUpdateEvent } from '../../../shared/src/gen/tern/events/v1/events';
import { loadTlRuntime } from '../tl-runtime';
import { tlLiveUpdates } from './updates-tl';

const tl = loadTlRuntime();

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
        user_id: 9n,
        pts: 12,
        message: 'hello **there**',
      });
      expect((decoded.entities as Array<{ _: string }>)[0]!._).toBe('messageEntityBold');
    },
  );

  it.each(tl.layers)('a group message is `updates` with updateNewMessage in layer %i', (layer) => {
    const decoded = tl.decodeApi(layer, tl.encodeObject(layer, tlLiveUpdates(event(false))!));
    expect(decoded._).toBe('updates');
    expect((decoded.updates as Array<{ _: string; pts: number }>)[0]).toMatchObject({
      _: 'updateNewMessage',
      pts: 12,
    });
  });
});
