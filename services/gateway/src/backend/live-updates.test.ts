import pino from 'pino';
import type { EventBus } from '../../../shared/src';
import { UserUpdateEvent } from '../../../shared/src/gen/tern/events/v1/events';
import type { TlObject } from '../mtproto/tl-types';
import { followUserUpdates } from './live-updates';

describe('user updates with channel memberships', () => {
  it('lets the channel subscriptions see updateChannel and still delivers it with the channel', () => {
    let handler: ((data: Uint8Array) => void) | undefined;
    const bus = {
      listen: (_s: string, h: (data: Uint8Array) => void) => (handler = h),
    } as unknown as EventBus;
    const pushed: TlObject[] = [];
    const observed: UserUpdateEvent[] = [];
    followUserUpdates(
      bus,
      1,
      {
        pushToUser: (_u, _x, encode) => {
          encode(200);
          return 1;
        },
      },
      (_layer, obj) => {
        pushed.push(obj);
        return Buffer.alloc(0);
      },
      pino({ level: 'silent' }),
      (e) => observed.push(e),
    );
    const channelId = (3n << 10n) | 1n;
    const event: UserUpdateEvent = {
      userId: 7n,
      excludeAuthKeyId: 0n,
      users: [],
      chats: [],
      channels: [
        {
          id: channelId,
          accessHash: 5n,
          title: 'c',
          username: '',
          date: 0,
          broadcast: false,
          megagroup: true,
          creator: false,
          left: false,
          participantsCount: 2,
          dcId: 1,
          signatures: false,
          slowmodeSeconds: 0,
          forbidden: false,
          migratedFromChatId: 0n,
        },
      ],
      date: 1,
      update: { pts: 0, ptsCount: 0, kind: { $case: 'channel', value: { channelId } } },
    };
    handler!(UserUpdateEvent.encode(event).finish());
    expect(observed.map((e) => e.userId)).toEqual([7n]);
    expect(pushed).toEqual([
      expect.objectContaining({
        _: 'updates',
        updates: [{ _: 'updateChannel', channel_id: channelId }],
        chats: [expect.objectContaining({ _: 'channel', id: channelId, megagroup: true, access_hash: 5n })],
      }),
    ]);
  });
});
