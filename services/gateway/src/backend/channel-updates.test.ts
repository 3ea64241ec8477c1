import pino from 'pino';
import type { ChannelRef } from '../../../shared/src/gen/tern/channel/v1/channel';
import type { Channel } from '../../../shared/src/gen/tern/common/v1/chat';
import { ChannelUpdateEvent, type UserUpdateEvent } from '../../../shared/src/gen/tern/events/v1/events';
import type { TlObject } from '../mtproto/tl-types';
import { ChannelUpdates, MAX_CHANNELS_PER_USER, type ChannelBus } from './channel-updates';

/** A bus that records subscriptions and lets the test publish on them. */
class FakeBus implements ChannelBus {
  readonly active = new Map<string, (data: Uint8Array) => void>();
  /** What the stream keeps of each subject, with the time it was published. */
  readonly kept = new Map<string, { at: number; data: Uint8Array }[]>();
  readonly replays: { subject: string; sinceMs: number }[] = [];
  subscribes = 0;
  replay(subject: string, sinceMs: number, handler: (data: Uint8Array) => void): Promise<void> {
    this.replays.push({ subject, sinceMs });
    for (const e of this.kept.get(subject) ?? []) if (e.at >= sinceMs) handler(e.data);
    return Promise.resolve();
  }
  subscribe(subject: string, handler: (data: Uint8Array) => void) {
    if (this.active.has(subject)) throw new Error(`subscribed twice to ${subject}`);
    this.subscribes++;
    this.active.set(subject, handler);
    return { unsubscribe: () => this.active.delete(subject) };
  }
  publish(subject: string, e: ChannelUpdateEvent): void {
    const data = ChannelUpdateEvent.encode(e).finish();
    this.kept.set(subject, [...(this.kept.get(subject) ?? []), { at: Date.now(), data }]);
    this.active.get(subject)?.(data);
  }
}

const subject = (id: bigint, dc = Number(id & 1023n)) => `tern.dc${dc}.updates.channel.${id}`;
const A = (1n << 10n) | 1n;
const B = (2n << 10n) | 2n;

function channelOf(id: bigint, over: Partial<Channel> = {}): Channel {
  return {
    id,
    accessHash: 1n,
    title: 't',
    username: '',
    date: 0,
    broadcast: true,
    megagroup: false,
    creator: false,
    left: false,
    participantsCount: 0,
    dcId: Number(id & 1023n),
    signatures: false,
    slowmodeSeconds: 0,
    forbidden: false,
    migratedFromChatId: 0n,
    ...over,
  };
}

function post(channelId: bigint, exclude = 0n): ChannelUpdateEvent {
  return {
    channelId,
    excludeAuthKeyId: exclude,
    users: [],
    channels: [],
    date: 5,
    update: {
      pts: 3,
      ptsCount: 1,
      kind: {
        $case: 'newChannelMessage',
        value: {
          message: {
            id: 3,
            peer: { kind: { $case: 'channelId', value: channelId } },
            out: false,
            date: 5,
            message: 'hi',
            entities: [],
            replyToMsgId: 0,
            editDate: 0,
            mentioned: false,
            mediaUnread: false,
            silent: false,
            post: true,
            views: 1,
            postAuthor: '',
            pinned: false,
          },
        },
      },
    },
  };
}

function setup(channels: Record<string, ChannelRef[]> = {}) {
  const bus = new FakeBus();
  const pushed: { userId: bigint; exclude: bigint; body: Buffer }[] = [];
  const encodes: number[] = [];
  let pending: (() => void)[] = [];
  const gate = { hold: false };
  const m = new ChannelUpdates({
    bus,
    sink: {
      pushToUser(userId, exclude, encode) {
        pushed.push({ userId, exclude, body: encode(200) });
        return 1;
      },
    },
    userChannels: (userId) => {
      const refs = channels[userId.toString()] ?? [];
      if (!gate.hold) return Promise.resolve(refs);
      return new Promise((resolve) => pending.push(() => resolve(refs)));
    },
    encodeObject: (layer: number, obj: TlObject) => {
      encodes.push(layer);
      return Buffer.from(JSON.stringify(obj, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    },
    log: pino({ level: 'silent' }),
  });
  const release = () => {
    const p = pending;
    pending = [];
    for (const r of p) r();
  };
  return { bus, m, pushed, encodes, gate, release };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('channel subscriptions of a gateway', () => {
  it("subscribes to a user's channels when their first connection is seen and drops them with the last", async () => {
    const { bus, m } = setup({
      '7': [
        { channelId: A, dcId: 1 },
        { channelId: B, dcId: 2 },
      ],
    });
    m.seen(7n, 1);
    await flush();
    expect([...bus.active.keys()].sort()).toEqual([subject(A), subject(B)].sort());
    m.seen(7n, 2);
    m.closed(1);
    expect(bus.active.size).toBe(2);
    m.closed(2);
    expect(bus.active.size).toBe(0);
    expect(m.size).toEqual({ users: 0, channels: 0 });
  });

  it('keeps one subscription per channel however many members are online, and ends it with the last', async () => {
    const { bus, m } = setup({ '7': [{ channelId: A, dcId: 1 }], '8': [{ channelId: A, dcId: 1 }] });
    m.seen(7n, 1);
    m.seen(8n, 2);
    await flush();
    expect(bus.subscribes).toBe(1);
    expect(m.membersOf(A).sort()).toEqual([7n, 8n]);
    m.closed(1);
    expect(bus.active.has(subject(A))).toBe(true);
    m.closed(2);
    expect(bus.active.has(subject(A))).toBe(false);
  });

  it('pushes each event to every online member, encoded once per layer, skipping the excluded key', async () => {
    const { bus, m, pushed, encodes } = setup({
      '7': [{ channelId: A, dcId: 1 }],
      '8': [{ channelId: A, dcId: 1 }],
    });
    m.seen(7n, 1);
    m.seen(8n, 2);
    await flush();
    bus.publish(subject(A), post(A, 99n));
    expect(pushed.map((p) => p.userId).sort()).toEqual([7n, 8n]);
    expect(pushed.every((p) => p.exclude === 99n)).toBe(true);
    expect(encodes).toEqual([200]);
    const body = JSON.parse(pushed[0]!.body.toString()) as TlObject;
    expect(body).toMatchObject({
      _: 'updates',
      updates: [{ _: 'updateNewChannelMessage', pts: 3, pts_count: 1 }],
    });
  });

  it('follows joins and leaves from updateChannel on the user subject, and from the own answers', async () => {
    const { bus, m } = setup();
    m.seen(7n, 1);
    await flush();
    const event = (channel: Channel): UserUpdateEvent => ({
      userId: 7n,
      excludeAuthKeyId: 0n,
      users: [],
      chats: [],
      channels: [channel],
      date: 1,
      update: { pts: 0, ptsCount: 0, kind: { $case: 'channel', value: { channelId: channel.id } } },
    });
    m.onUserEvent(event(channelOf(A)));
    expect(bus.active.has(subject(A))).toBe(true);
    m.onUserEvent(event(channelOf(A, { left: true })));
    expect(bus.active.has(subject(A))).toBe(false);
    m.follow(7n, channelOf(B));
    expect(bus.active.has(subject(B))).toBe(true);
    m.follow(7n, channelOf(B, { forbidden: true }));
    expect(bus.active.size).toBe(0);
    // Users not online here are not followed.
    m.follow(8n, channelOf(A));
    m.onUserEvent({ ...event(channelOf(A)), userId: 9n });
    expect(bus.active.size).toBe(0);
  });

  it('replays what a new subscription made by a membership change may have missed, once per pts', async () => {
    const { bus, m, pushed } = setup({ '7': [{ channelId: B, dcId: 2 }] });
    m.seen(7n, 1);
    await flush();
    // The list read when the user came online replays nothing: the client catches up itself.
    expect(bus.replays).toEqual([]);
    // The invite's service message is published before this gateway's subscription exists.
    bus.publish(subject(A), post(A));
    expect(pushed).toHaveLength(0);
    m.onUserEvent({
      userId: 7n,
      excludeAuthKeyId: 0n,
      users: [],
      chats: [],
      channels: [channelOf(A)],
      date: 1,
      update: { pts: 0, ptsCount: 0, kind: { $case: 'channel', value: { channelId: A } } },
    });
    expect(bus.replays).toEqual([{ subject: subject(A), sinceMs: expect.any(Number) as number }]);
    expect(pushed.map((p) => p.userId)).toEqual([7n]);
    // The same event arriving again (the subscription, a second replay) is not pushed twice; the
    // next pts is, and a pts-less notice always is.
    bus.publish(subject(A), post(A));
    expect(pushed).toHaveLength(1);
    bus.publish(subject(A), { ...post(A), update: { ...post(A).update!, pts: 4 } });
    bus.publish(subject(A), {
      ...post(A),
      update: { pts: 0, ptsCount: 0, kind: { $case: 'channel', value: { channelId: A } } },
    });
    expect(pushed).toHaveLength(3);
    // A follow that finds the subscription there replays nothing more.
    m.seen(8n, 2);
    await flush();
    m.follow(8n, channelOf(A));
    expect(bus.replays).toHaveLength(1);
  });

  it('does not re-add a channel left while the list was being read, nor keep a user gone meanwhile', async () => {
    const { bus, m, gate, release } = setup({
      '7': [
        { channelId: A, dcId: 1 },
        { channelId: B, dcId: 2 },
      ],
    });
    gate.hold = true;
    m.seen(7n, 1);
    m.follow(7n, channelOf(A, { left: true }));
    release();
    await flush();
    expect([...bus.active.keys()]).toEqual([subject(B)]);
    m.closed(1);
    m.seen(8n, 2);
    m.closed(2);
    m.seen(7n, 3);
    m.closed(3);
    release();
    await flush();
    expect(bus.active.size).toBe(0);
    expect(m.size).toEqual({ users: 0, channels: 0 });
  });

  it('follows at most MAX_CHANNELS_PER_USER channels of one user', async () => {
    const refs = Array.from({ length: MAX_CHANNELS_PER_USER + 20 }, (_, i) => ({
      channelId: (BigInt(i + 1) << 10n) | 1n,
      dcId: 1,
    }));
    const { bus, m } = setup({ '7': refs });
    m.seen(7n, 1);
    await flush();
    expect(bus.active.size).toBe(MAX_CHANNELS_PER_USER);
    m.close();
    expect(bus.active.size).toBe(0);
  });
});
