/**
 * A channel post is O(1) in its subscribers (docs/decisions/0018-channels.md: "A post is O(1)
 * writes whatever the number of subscribers"): a post to a channel with 10 subscribers and one to a
 * channel with N subscribers (homed on all three DCs, none online) run the same Cassandra statements,
 * as the spans of their SendChannelMessage traces in the stack's Jaeger show (the services' Cassandra
 * spans carry the CQL text).
 *
 * Everything here goes straight to the services over gRPC, with the context a gateway builds, so
 * that hundreds of members join in seconds; N is TERN_CHANNEL_COST_SUBSCRIBERS (default 1000; 10000
 * takes about 5 minutes, mostly sign-ups and joins, and is recorded in docs/benchmarks.md).
 */
import { randomInt } from 'node:crypto';
import {
  CreateChannelRequest,
  ExportChannelInviteRequest,
  SendChannelMessageRequest,
  type CreateChannelResponse,
  type ExportChannelInviteResponse,
  type SendChannelMessageResponse,
} from '../../services/shared/src/gen/tern/channel/v1/channel';
import { stack } from '../support/stack';
import { randomLong } from './support/direct';
import {
  cassandraStatements,
  directUsers,
  DirectChannels,
  newTrace,
  settledTrace,
  type DirectUser,
  type JaegerTrace,
} from './support/channels';

const s = stack();
const N = Number(process.env.TERN_CHANNEL_COST_SUBSCRIBERS ?? 1000);
const SEND_OP = 'grpc.tern.channel.v1.ChannelService/SendChannelMessage';

describe(`a channel post costs the same with 10 and with ${N} subscribers`, () => {
  const direct = new DirectChannels(s);
  let creator: DirectUser;
  let small: { channelId: bigint; accessHash: bigint };
  let large: { channelId: bigint; accessHash: bigint };
  afterAll(() => direct.close());

  /** `n` spread over the three DCs. */
  const third = (n: number) => {
    const a = Math.ceil(n / 3);
    const b = Math.ceil((n - a) / 2);
    return [a, b, n - a - b];
  };

  async function channelWith(members: DirectUser[], title: string) {
    const created = await direct.call<CreateChannelRequest, CreateChannelResponse>(
      creator,
      'createChannel',
      CreateChannelRequest,
      { title, about: '', broadcast: true, megagroup: false, randomId: randomLong() },
    );
    const c = created.channel!;
    expect(c.dcId).toBe(1);
    const ref = { channelId: c.id, accessHash: c.accessHash };
    const invite = await direct.call<ExportChannelInviteRequest, ExportChannelInviteResponse>(
      creator,
      'exportChannelInvite',
      ExportChannelInviteRequest,
      { channel: ref },
    );
    await direct.joinByInvite(members, invite.hash);
    return ref;
  }

  const send = (
    channel: { channelId: bigint; accessHash: bigint },
    text: string,
    md?: ReturnType<typeof newTrace>['metadata'],
  ) =>
    direct.call<SendChannelMessageRequest, SendChannelMessageResponse>(
      creator,
      'sendChannelMessage',
      SendChannelMessageRequest,
      { channel, message: text, randomId: randomLong(), noWebpage: true },
      md,
    );

  /** The Cassandra statements of one traced post (after the channel's owner has warmed up). */
  async function costOfPost(
    channel: { channelId: bigint; accessHash: bigint },
    label: string,
  ): Promise<string[]> {
    const { traceId, metadata } = newTrace();
    const res = await send(channel, `${label} ${randomInt(0, 1e9)}`, metadata);
    expect(res.message?.id).toBeGreaterThan(0);
    const ready = (t: JaegerTrace) =>
      t.spans.some((sp) => sp.operationName === SEND_OP) &&
      t.spans.some((sp) => sp.operationName.startsWith('cassandra-driver.'));
    return cassandraStatements(await settledTrace(s, traceId, ready));
  }

  beforeAll(async () => {
    const smallMembers = await directUsers(s, [4, 3, 3]);
    const largeMembers = await directUsers(s, third(N));
    expect(largeMembers.length).toBe(N);
    // The creator must not be one of the members (test numbers are drawn at random, and a creator
    // joining its own channel is USER_ALREADY_PARTICIPANT, as Telegram answers it).
    const members = new Set([...smallMembers, ...largeMembers].map((u) => u.userId));
    do creator = (await directUsers(s, [1, 0, 0]))[0]!;
    while (members.has(creator.userId));
    small = await channelWith(smallMembers, 'ten subscribers');
    large = await channelWith(largeMembers, `${N} subscribers`);
    // The owner reads a channel's pts once, on its first write after taking the shard.
    for (const c of [small, large]) for (let i = 0; i < 2; i++) await send(c, `warm-up ${i}`);
  }, 600_000);

  it('runs the same Cassandra statements for either post, a handful of them', async () => {
    const tenA = await costOfPost(small, 'to ten');
    const manyA = await costOfPost(large, `to ${N}`);
    const tenB = await costOfPost(small, 'to ten again');
    const manyB = await costOfPost(large, `to ${N} again`);
    // Stable per channel, equal across channels: nothing depends on the number of subscribers.
    expect(tenB).toEqual(tenA);
    expect(manyB).toEqual(manyA);
    expect(manyA).toEqual(tenA);
    expect(tenA.length).toBeGreaterThan(0);
    expect(tenA.length).toBeLessThanOrEqual(8);
    // Per-member tables are touched only to read the poster's own participant row (its rights): one
    // row by its full key, never a scan of the members, and nothing is written per member.
    for (const cql of tenA) {
      expect(cql).not.toMatch(/channel_memberships/);
      if (/channel_participants/.test(cql))
        expect(cql).toMatch(/^EXECUTE SELECT .* WHERE channel_id = \? AND bucket = \? AND user_id = \?$/);
    }
  }, 120_000);
});
