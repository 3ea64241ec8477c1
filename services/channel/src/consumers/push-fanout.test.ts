/**
 * The channel push fan-out with fakes: who is notified (poster left out, large supergroups only
 * replies and mentions), the loc_keys, paging through the member index as a chain of work items,
 * and pacing per destination DC. The path through NATS, the push worker and the webhook is
 * test/e2e/channel-push.test.ts.
 */
import { createLogger, subjectsFor } from '../../../shared/src';
import { MessageEntity_Type, Message } from '../../../shared/src/gen/tern/common/v1/message';
import { ChannelPushEvent, PushRequestEvent } from '../../../shared/src/gen/tern/events/v1/events';
import { fanoutMsgId, MAX_PREVIEW_CHARS, pushEventOf } from '../producers/push';
import type { MemberKey } from './member-pages';
import {
  audienceOf,
  isLargeGroup,
  largeGroupCandidates,
  nextCursor,
  PushFanout,
  pushKeyOf,
  pushMsgId,
  type FanoutChannel,
  type FanoutDeps,
} from './push-fanout';
import { RateLimits, TokenBucket, type Clock } from './token-bucket';

const log = createLogger({ level: 'fatal', base: {} });
const CHANNEL = (7n << 10n) | 1n;

const members = (n: number): MemberKey[] =>
  // Newest first: key n+1-i for user 100+i.
  Array.from({ length: n }, (_, i) => ({ userId: BigInt(100 + i), recentKey: BigInt(n - i) }));

function event(over: Partial<ChannelPushEvent> = {}): ChannelPushEvent {
  return ChannelPushEvent.create({
    meta: { originDcId: 1, emittedAtMs: BigInt(Date.now()) },
    channelId: CHANNEL,
    messageId: 5,
    senderId: 100n,
    senderName: 'Alice',
    text: 'hello',
    ...over,
  });
}

/** A fan-out over `all` members (homes: even ids DC 1, odd DC 2) with a recording bus. */
function setup(all: MemberKey[], ch: Partial<FanoutChannel> = {}, over: Partial<FanoutDeps> = {}) {
  const published: { subject: string; data: Uint8Array; msgId?: string }[] = [];
  const taken: { dc: number; n: number }[] = [];
  const deps: FanoutDeps = {
    dcId: 1,
    bus: {
      publish: (subject: string, data: Uint8Array, opts: { msgId?: string } = {}) => {
        published.push({ subject, data, ...opts });
        return Promise.resolve({ seq: published.length, stream: 'x' });
      },
    } as unknown as FanoutDeps['bus'],
    channel: () =>
      Promise.resolve({
        megagroup: false,
        title: 'News',
        participantsCount: all.length,
        deleted: false,
        ...ch,
      }),
    members: {
      page: (_id, before, limit) =>
        Promise.resolve(all.filter((m) => before === 0n || m.recentKey < before).slice(0, limit)),
    },
    membersAmong: (_id, ids) => Promise.resolve(ids.filter((u) => all.some((m) => m.userId === u))),
    authorOf: () => Promise.resolve(0n),
    homes: (ids) => Promise.resolve(new Map(ids.map((u) => [u, u % 2n === 0n ? 1 : 2]))),
    limits: {
      take: (dc, n) => {
        taken.push({ dc, n });
        return Promise.resolve();
      },
    },
    log,
    pageSize: 3,
    largeGroup: 1000,
    concurrency: 1,
    ...over,
  };
  const requests = () =>
    published
      .filter((p) => p.subject.endsWith('.push.requests'))
      .map((p) => ({ ...p, e: PushRequestEvent.decode(p.data) }));
  const items = () =>
    published
      .filter((p) => p.subject === subjectsFor(1).channelPush)
      .map((p) => ChannelPushEvent.decode(p.data));
  return { fanout: new PushFanout(deps), published, taken, requests, items };
}

/** Runs a post's chain of work items to its end, as the queue would. */
async function runChain(f: ReturnType<typeof setup>, first: ChannelPushEvent): Promise<number> {
  let item: ChannelPushEvent | undefined = first;
  let steps = 0;
  while (item) {
    const before = f.items().length;
    await f.fanout.handle(item);
    steps++;
    item = f.items().length > before ? f.items().at(-1) : undefined;
  }
  return steps;
}

describe('who a post notifies', () => {
  it('leaves the poster out of a page', () => {
    expect(audienceOf(members(3), 101n)).toEqual([100n, 102n]);
  });

  it('continues after a full page only, below its last key', () => {
    expect(nextCursor(members(3), 3)).toBe(1n);
    expect(nextCursor(members(2), 3)).toBeUndefined();
    expect(nextCursor([], 3)).toBeUndefined();
  });

  it('counts only supergroups above the threshold as large', () => {
    expect(isLargeGroup({ megagroup: true, participantsCount: 1001 }, 1000)).toBe(true);
    expect(isLargeGroup({ megagroup: true, participantsCount: 1000 }, 1000)).toBe(false);
    expect(isLargeGroup({ megagroup: false, participantsCount: 1e6 }, 1000)).toBe(false);
  });

  it('in a large group: the replied-to author and the mentioned, never the poster', () => {
    expect(largeGroupCandidates({ senderId: 1n, mentionedUserIds: [2n, 1n, 3n] }, 4n).sort()).toEqual([
      2n,
      3n,
      4n,
    ]);
    expect(largeGroupCandidates({ senderId: 1n, mentionedUserIds: [] }, 1n)).toEqual([]);
  });
});

describe("Telegram's loc_keys for posts", () => {
  it('broadcast: CHANNEL_MESSAGE_* with the channel title', () => {
    const ch = { megagroup: false, title: 'News' };
    expect(pushKeyOf({ senderName: 'A', text: 'hi', media: '' }, ch)).toEqual({
      locKey: 'CHANNEL_MESSAGE_TEXT',
      locArgs: ['News', 'hi'],
    });
    expect(pushKeyOf({ senderName: 'A', text: '', media: 'photo' }, ch)).toEqual({
      locKey: 'CHANNEL_MESSAGE_PHOTO',
      locArgs: ['News'],
    });
    expect(pushKeyOf({ senderName: 'A', text: '', media: 'document' }, ch).locKey).toBe(
      'CHANNEL_MESSAGE_DOC',
    );
  });

  it('supergroup: CHAT_MESSAGE_* with sender, title and text', () => {
    expect(
      pushKeyOf({ senderName: 'Alice', text: 'hi', media: '' }, { megagroup: true, title: 'G' }),
    ).toEqual({
      locKey: 'CHAT_MESSAGE_TEXT',
      locArgs: ['Alice', 'G', 'hi'],
    });
    expect(pushKeyOf({ senderName: 'Alice', text: '', media: '' }, { megagroup: true, title: 'G' })).toEqual({
      locKey: 'CHAT_MESSAGE_NOTEXT',
      locArgs: ['Alice', 'G'],
    });
  });

  it("the post's event: a bounded preview, mentions, media kind, cursor at the start", () => {
    const m = Message.create({
      id: 9,
      message: 'x'.repeat(5000),
      replyToMsgId: 4,
      entities: [
        { type: MessageEntity_Type.MENTION_NAME, offset: 0, length: 1, userId: 8n, url: '', language: '' },
        { type: MessageEntity_Type.BOLD, offset: 0, length: 1, userId: 0n, url: '', language: '' },
      ],
    });
    const e = pushEventOf(1, CHANNEL, m, 3n, [{ id: 3n, firstName: 'Al', lastName: 'Ice' } as never]);
    expect(e.text).toHaveLength(MAX_PREVIEW_CHARS);
    expect(e).toMatchObject({ senderName: 'Al Ice', mentionedUserIds: [8n], replyToMsgId: 4, media: '' });
    expect(e.beforeRecentKey).toBe(0n);
    expect(fanoutMsgId(e)).toBe(`channel-push:${CHANNEL}:9:0`);
  });
});

describe('PushFanout.handle', () => {
  it("pages through every member as a chain of items, one request each to their home DC's queue", async () => {
    const f = setup(members(7));
    const steps = await runChain(f, event());
    expect(steps).toBe(3); // 3 + 3 + 1
    const got = f.requests();
    expect(got.map((r) => r.e.userId).sort()).toEqual([101n, 102n, 103n, 104n, 105n, 106n]);
    for (const r of got) {
      expect(r.subject).toBe(subjectsFor(r.e.userId % 2n === 0n ? 1 : 2).pushRequests);
      expect(r.msgId).toBe(pushMsgId(r.e.userId, CHANNEL, 5));
      expect(r.e).toMatchObject({
        locKey: 'CHANNEL_MESSAGE_TEXT',
        locArgs: ['News', 'hello'],
        peer: { kind: { $case: 'channelId', value: CHANNEL } },
        messageId: 5,
      });
    }
    // Each continuation has its own dedupe id; the cursor moves down the index.
    expect(f.items().map((i) => i.beforeRecentKey)).toEqual([5n, 2n]);
    expect(new Set(f.published.map((p) => p.msgId)).size).toBe(f.published.length);
    // Every publish took its tokens from its DC's bucket.
    const tokens = (dc: number) => f.taken.filter((t) => t.dc === dc).reduce((a, t) => a + t.n, 0);
    expect(tokens(1) + tokens(2)).toBe(6);
  });

  it('a redelivered item repeats only its own page, with the same dedupe ids', async () => {
    const f = setup(members(7));
    const second = event({ beforeRecentKey: 5n });
    await f.fanout.handle(second);
    await f.fanout.handle(second);
    const ids = f.published.map((p) => p.msgId);
    expect(ids.slice(0, ids.length / 2)).toEqual(ids.slice(ids.length / 2));
    const users = f.requests().map((r) => r.e.userId);
    expect(users.slice(0, 3).sort()).toEqual([103n, 104n, 105n]);
    expect(users.slice(3)).toEqual(users.slice(0, 3));
  });

  it('supergroups name the sender: CHAT_MESSAGE_TEXT [sender, title, text]', async () => {
    const f = setup(members(2), { megagroup: true, title: 'Group' });
    await f.fanout.handle(event());
    expect(f.requests().map((r) => [r.e.userId, r.e.locKey, r.e.locArgs])).toEqual([
      [101n, 'CHAT_MESSAGE_TEXT', ['Alice', 'Group', 'hello']],
    ]);
  });

  it('a large supergroup notifies the replied-to author and mentioned members only, without paging', async () => {
    const authorOf = jest.fn(() => Promise.resolve(104n));
    const f = setup(members(7), { megagroup: true, participantsCount: 5000 }, { authorOf });
    const r = await f.fanout.handle(event({ replyToMsgId: 3, mentionedUserIds: [102n, 999n, 100n] }));
    expect(authorOf).toHaveBeenCalledWith(CHANNEL, 3);
    expect(r).toMatchObject({ large: true, notified: 2 });
    expect(
      f
        .requests()
        .map((x) => x.e.userId)
        .sort(),
    ).toEqual([102n, 104n]); // 999 is no member
    expect(f.items()).toHaveLength(0);
  });

  it('a large supergroup post without reply or mention notifies nobody', async () => {
    const f = setup(members(7), { megagroup: true, participantsCount: 5000 });
    expect(await f.fanout.handle(event())).toMatchObject({ notified: 0 });
    expect(f.published).toHaveLength(0);
  });

  it('skips deleted channels and stale posts', async () => {
    const gone = setup(members(3), { deleted: true });
    expect(await gone.fanout.handle(event())).toMatchObject({ skipped: 'gone' });
    const stale = setup(members(3));
    const old = event({ meta: { originDcId: 1, emittedAtMs: BigInt(Date.now() - 2 * 3600_000) } });
    expect(await stale.fanout.handle(old)).toMatchObject({ skipped: 'stale' });
    expect([...gone.published, ...stale.published]).toHaveLength(0);
  });

  it('fails the item (to be redelivered) when a publish fails, before moving the cursor', async () => {
    const f = setup(
      members(7),
      {},
      {
        bus: { publish: () => Promise.reject(new Error('nats away')) } as unknown as FanoutDeps['bus'],
      },
    );
    await expect(f.fanout.handle(event())).rejects.toThrow('nats away');
  });
});

describe('token buckets', () => {
  /** A clock that advances only when someone sleeps. */
  function fakeClock(): Clock & { t: number } {
    const c = {
      t: 0,
      now: () => c.t,
      sleep: (ms: number) => {
        c.t += ms;
        return Promise.resolve();
      },
    };
    return c;
  }

  it('hands out the burst at once, then the rate', async () => {
    const clock = fakeClock();
    const b = new TokenBucket(100, 100, clock);
    await b.take(100);
    expect(clock.t).toBe(0);
    await b.take(50);
    expect(clock.t).toBe(500);
    await b.take(100);
    expect(clock.t).toBe(1500);
  });

  it('paces 10,000 requests at 1,000 a second: about 9 s after the first second’s burst', async () => {
    const clock = fakeClock();
    const limits = new RateLimits(1000, clock);
    for (let i = 0; i < 200; i++) await limits.take(1, 50);
    expect(clock.t).toBeGreaterThanOrEqual(9000);
    expect(clock.t).toBeLessThan(9100);
  });

  it('keeps one bucket per DC', async () => {
    const clock = fakeClock();
    const limits = new RateLimits(10, clock);
    await limits.take(1, 10);
    await limits.take(2, 10);
    expect(clock.t).toBe(0);
    await limits.take(1, 10);
    expect(clock.t).toBe(1000);
  });
});
