/**
 * Durable membership notices with fakes: applied at once, queued when the member's DC does not
 * answer, refusals passed on, and replays acknowledged only once applied (negatively with a
 * growing delay before). The queue itself on the real NATS and Cassandra:
 * test/integration/channel-memberships.test.ts.
 */
import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { createLogger, errors, subjectsFor } from '../../../shared/src';
import { RecordMembershipRequest } from '../../../shared/src/gen/tern/channel/v1/channel';
import {
  backoffMs,
  isRefusal,
  MembershipDelivery,
  type MembershipDeliveryDeps,
  type QueuedNotice,
} from './memberships';

const log = createLogger({ level: 'fatal', base: {} });

const grpcError = (code: status): ServiceError =>
  Object.assign(new Error(`code ${code}`), { code, details: '', metadata: new Metadata() });

const req = RecordMembershipRequest.create({ userId: 42n, channelId: 1025n, member: true, version: 7n });

function setup(apply: MembershipDeliveryDeps['apply'], publish?: () => Promise<unknown>) {
  const queued: { subject: string; data: Uint8Array; msgId?: string }[] = [];
  const delivery = new MembershipDelivery({
    dcId: 1,
    dcIds: [1, 2],
    bus: {
      publish:
        publish ??
        ((subject: string, data: Uint8Array, opts: { msgId?: string } = {}) => {
          queued.push({ subject, data, ...opts });
          return Promise.resolve({ seq: 1, stream: 'x' });
        }),
    } as unknown as MembershipDeliveryDeps['bus'],
    apply,
    homeOf: () => Promise.resolve(undefined),
    log,
  });
  return { delivery, queued };
}

/** A queued notice that records what the consumer did with it. */
function notice(redeliveryCount = 0, data = RecordMembershipRequest.encode(req).finish()) {
  const done: string[] = [];
  const m: QueuedNotice = {
    data,
    subject: subjectsFor(1).channelMemberships(2),
    info: { redeliveryCount },
    ack: () => done.push('ack'),
    nak: (ms) => done.push(`nak ${ms}`),
    term: () => done.push('term'),
  };
  return { m, done };
}

describe('MembershipDelivery.deliver', () => {
  it('applies at once when the DC answers, queues nothing', async () => {
    const apply = jest.fn(() => Promise.resolve());
    const { delivery, queued } = setup(apply);
    expect(await delivery.deliver(req, 2)).toBe('applied');
    expect(apply).toHaveBeenCalledWith(req, 2);
    expect(queued).toHaveLength(0);
  });

  it.each([status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.INTERNAL])(
    'queues for the DC when it fails with gRPC %s, deduplicated per version',
    async (code) => {
      const { delivery, queued } = setup(() => Promise.reject(grpcError(code)));
      expect(await delivery.deliver(req, 2)).toBe('queued');
      expect(queued).toHaveLength(1);
      expect(queued[0]!.subject).toBe(subjectsFor(1).channelMemberships(2));
      expect(queued[0]!.msgId).toBe('membership:42:1025:7');
      expect(RecordMembershipRequest.decode(queued[0]!.data)).toEqual(req);
    },
  );

  it('queues a local write that failed (Cassandra), not a refusal', async () => {
    const local = setup(() => Promise.reject(new Error('NoHostAvailable')));
    expect(await local.delivery.deliver(req, 1)).toBe('queued');
    const refused = setup(() => Promise.reject(errors.badRequest('CHANNEL_INVALID')));
    await expect(refused.delivery.deliver(req, 1)).rejects.toThrow('CHANNEL_INVALID');
    expect(refused.queued).toHaveLength(0);
  });

  it("throws the DC's error when the queue is away too (the caller's retry sends it again)", async () => {
    const { delivery } = setup(
      () => Promise.reject(grpcError(status.UNAVAILABLE)),
      () => Promise.reject(new Error('nats away')),
    );
    await expect(delivery.deliver(req, 2)).rejects.toMatchObject({ code: status.UNAVAILABLE });
  });

  it('tells refusals from outages', () => {
    expect(isRefusal(grpcError(status.INVALID_ARGUMENT))).toBe(true);
    expect(isRefusal(grpcError(status.UNAVAILABLE))).toBe(false);
    expect(isRefusal(errors.badRequest('CHANNEL_INVALID'))).toBe(true);
    expect(isRefusal(new Error('timeout'))).toBe(false);
  });
});

describe('MembershipDelivery.replay', () => {
  it('retries with growing delays until the DC answers, then acknowledges once', async () => {
    let calls = 0;
    const { delivery } = setup(() =>
      ++calls <= 4 ? Promise.reject(grpcError(status.UNAVAILABLE)) : Promise.resolve(),
    );
    const log: string[] = [];
    for (let n = 0; n < 5; n++) {
      const { m, done } = notice(n);
      await delivery.replay(m, 2);
      log.push(...done);
    }
    expect(log).toEqual([
      `nak ${backoffMs(1)}`,
      `nak ${backoffMs(2)}`,
      `nak ${backoffMs(3)}`,
      `nak ${backoffMs(4)}`,
      'ack',
    ]);
    expect(backoffMs(1)).toBeLessThan(backoffMs(4));
    expect(backoffMs(100)).toBe(backoffMs(4));
  });

  it("delivers to the member's home DC of now when they moved", async () => {
    const apply = jest.fn(() => Promise.resolve());
    const d = new MembershipDelivery({
      dcId: 1,
      dcIds: [1, 2, 3],
      bus: {} as MembershipDeliveryDeps['bus'],
      apply,
      homeOf: () => Promise.resolve(3),
      log,
    });
    const { m, done } = notice();
    expect(await d.replay(m, 2)).toBe('applied');
    expect(apply).toHaveBeenCalledWith(req, 3);
    expect(done).toEqual(['ack']);
  });

  it('drops refused and undecodable notices', async () => {
    const { delivery } = setup(() => Promise.reject(grpcError(status.INVALID_ARGUMENT)));
    const refused = notice();
    expect(await delivery.replay(refused.m, 2)).toBe('refused');
    expect(refused.done).toEqual(['term']);
    const junk = notice(0, new Uint8Array([0xff, 0xff, 0xff]));
    expect(await delivery.replay(junk.m, 2)).toBe('refused');
    expect(junk.done).toEqual(['term']);
  });
});
