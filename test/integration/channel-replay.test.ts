/**
 * The gateway's replay of a channel's recent events (services/gateway/src/backend/channel-updates.ts)
 * against the stack's real NATS JetStream: an event published on a channel subject before anyone
 * subscribed (the invite's service message racing the invitee's membership notice) is read back
 * from the DC's channel update stream by time, oldest first; older events are not; a subject with
 * nothing kept resolves at once.
 */
import { randomInt } from 'node:crypto';
import { EventBus, createLogger, streamsFor, subjectsFor } from '../../services/shared/src';
import { natsChannelBus } from '../../services/gateway/src/backend/channel-updates';
import { stack } from '../support/stack';

const s = stack();
const DC = 1;

describe('replay of a channel subject from its JetStream stream (real NATS)', () => {
  let bus: EventBus;
  const log = createLogger({ level: 'error', base: { test: 'channel-replay' } });

  beforeAll(async () => {
    bus = await EventBus.connect({ servers: s.natsUrl.split(','), name: 'test-channel-replay', log });
    await bus.ensureStreams(streamsFor(DC).filter((x) => /_CHANNEL_UPDATES$/.test(x.name)));
  });
  afterAll(async () => {
    await bus?.close();
  });

  it('hands back the events kept since a time, in order, and nothing older', async () => {
    const channelId = BigInt(randomInt(1, 2 ** 30)) * 1024n + BigInt(DC);
    const subject = subjectsFor(DC).channelUpdates(channelId);
    const channelBus = natsChannelBus(bus, log);
    await bus.publish(subject, Buffer.from('before'));
    await new Promise((r) => setTimeout(r, 50));
    const since = Date.now();
    for (const text of ['one', 'two', 'three']) await bus.publish(subject, Buffer.from(text));
    const got: string[] = [];
    await channelBus.replay(subject, since, (data) => got.push(Buffer.from(data).toString()));
    expect(got).toEqual(['one', 'two', 'three']);

    const quiet = subjectsFor(DC).channelUpdates(channelId + 1024n);
    const started = Date.now();
    const none: string[] = [];
    await channelBus.replay(quiet, since, (data) => none.push(Buffer.from(data).toString()));
    expect(none).toEqual([]);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
