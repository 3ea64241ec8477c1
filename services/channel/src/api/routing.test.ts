import { Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import type { AsyncImplOf } from '../../../shared/src';
import { ChannelServiceService } from '../../../shared/src/gen/tern/channel/v1/channel';
import { DC_FORWARDED_HEADER, keyOf, RawClients, routeChannels } from './routing';

const channelOfDc = (n: bigint, dc: number): bigint => (n << 10n) | BigInt(dc);

describe('keyOf', () => {
  it('routes calls by their channel, invite calls by the hash, member-side calls where they arrive', () => {
    const id = channelOfDc(5n, 2);
    expect(keyOf('sendChannelMessage', { channel: { channelId: id, accessHash: 0n } })).toEqual({
      kind: 'channel',
      channelId: id,
    });
    expect(keyOf('importChannelInvite', { hash: 'https://t.me/+3.abcdefghijklmnop' })).toEqual({
      kind: 'invite',
      dcId: 3,
    });
    expect(() => keyOf('checkChannelInvite', { hash: 'bad' })).toThrow('INVITE_HASH_INVALID');
    for (const local of [
      'getChannelDialogs',
      'recordMembership',
      'getChannelTops',
      'readChannelHistory',
      'createChannel',
    ])
      expect(keyOf(local, { channel: { channelId: id } })).toEqual({ kind: 'here' });
    // No channel named (checkUsername for a channel about to be created).
    expect(keyOf('checkChannelUsername', { username: 'x' })).toEqual({ kind: 'here' });
  });
});

describe('routeChannels', () => {
  const calls: string[] = [];
  const impl = Object.fromEntries(
    Object.keys(ChannelServiceService).map((name) => [
      name,
      () => {
        calls.push(name);
        return Promise.resolve({});
      },
    ]),
  ) as unknown as AsyncImplOf<typeof ChannelServiceService>;
  const clients = new RawClients();
  afterAll(() => clients.close());
  const call = (md = new Metadata()) =>
    ({ metadata: md, getDeadline: () => Infinity }) as unknown as ServerUnaryCall<unknown, unknown>;

  it('runs a channel of this DC on this replica when it owns it, and refuses unknown DCs', async () => {
    const routed = routeChannels(ChannelServiceService, impl, {
      dcId: 2,
      dcAddress: (dc) => (dc === 2 ? '127.0.0.1:1' : undefined),
      routes: {
        waitForRoute: () =>
          Promise.resolve({ kind: 'here', fence: { shard: 0, epoch: 1n, valid: () => true } }),
      },
      clients,
      inviteChannel: () => Promise.resolve(undefined),
    });
    await routed.getFullChannel(
      { channel: { channelId: channelOfDc(9n, 2), accessHash: 0n } },
      call() as never,
    );
    expect(calls).toEqual(['getFullChannel']);
    await expect(
      routed.getFullChannel({ channel: { channelId: channelOfDc(9n, 7), accessHash: 0n } }, call() as never),
    ).rejects.toThrow('CHANNEL_INVALID');
    // A call already passed on by another DC is never passed on again.
    const md = new Metadata();
    md.set(DC_FORWARDED_HEADER, '1');
    const loop = routeChannels(ChannelServiceService, impl, {
      dcId: 2,
      dcAddress: () => '127.0.0.1:1',
      routes: { waitForRoute: () => Promise.resolve({ kind: 'unavailable' }) },
      clients,
      inviteChannel: () => Promise.resolve(undefined),
    });
    await expect(
      loop.getFullChannel({ channel: { channelId: channelOfDc(9n, 3), accessHash: 0n } }, call(md) as never),
    ).rejects.toThrow('CHANNEL_INVALID');
    // A channel changing owners: retryable.
    await expect(
      loop.getFullChannel({ channel: { channelId: channelOfDc(9n, 2), accessHash: 0n } }, call() as never),
    ).rejects.toThrow('Timeout');
  });
});
