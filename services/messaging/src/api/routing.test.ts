import { Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import { MessagingServiceService } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import type { AsyncImplOf } from '../../../shared/src';
import { boxOf, FORWARDED_HEADER, ReplicaClients, routeToOwners, type BoxRoutes } from './routing';
import type { Route } from '../../../shared/src';

type Impl = AsyncImplOf<typeof MessagingServiceService>;

/** An implementation whose every method answers with its own name. */
function namedImpl(): Impl {
  const impl: Record<string, () => Promise<string>> = {};
  for (const name of Object.keys(MessagingServiceService)) impl[name] = () => Promise.resolve(name);
  return impl as unknown as Impl;
}

const call = (forwarded = false) => {
  const metadata = new Metadata();
  if (forwarded) metadata.set(FORWARDED_HEADER, '1');
  return { metadata, getDeadline: () => Infinity } as unknown as ServerUnaryCall<never, never>;
};

function routes(route: Route): BoxRoutes & { asked: bigint[] } {
  const asked: bigint[] = [];
  return {
    asked,
    waitForRoute: (userId) => {
      asked.push(userId);
      return Promise.resolve(route);
    },
  };
}

const here: Route = { kind: 'here', fence: { shard: 1, epoch: 1n, valid: () => true } };

describe('routing calls to the owner of their box', () => {
  it('finds the box a call is about', () => {
    expect(boxOf({ context: { userId: 42n } })).toBe(42n);
    expect(boxOf({ ownerUserId: 7n, actorUserId: 9n })).toBe(7n);
    expect(boxOf({ context: { userId: 0n } })).toBeUndefined();
    expect(boxOf({ viewerId: 5n })).toBeUndefined();
    expect(boxOf(undefined)).toBeUndefined();
  });

  it('runs a call here when this replica owns the box, and a call about no box wherever it lands', async () => {
    const r = routes(here);
    const impl = routeToOwners(MessagingServiceService, namedImpl(), r, new ReplicaClients());
    await expect(impl.sendMessage({ context: { userId: 42n } } as never, call())).resolves.toBe(
      'sendMessage',
    );
    await expect(impl.deliverToBox({ ownerUserId: 7n } as never, call())).resolves.toBe('deliverToBox');
    await expect(impl.importBox({ userId: 9n, sourceDcId: 2 }, call())).resolves.toBe('importBox');
    await expect(impl.linkContacts({} as never, call())).resolves.toBe('linkContacts');
    expect(r.asked).toEqual([42n, 7n, 9n]);
  });

  it('answers UNAVAILABLE while the box changes hands, and never passes a passed-on call on again', async () => {
    const changing = routeToOwners(
      MessagingServiceService,
      namedImpl(),
      routes({ kind: 'unavailable' }),
      new ReplicaClients(),
    );
    await expect(changing.sendMessage({ context: { userId: 42n } } as never, call())).rejects.toMatchObject({
      telegramName: 'Timeout',
    });
    const elsewhere = routeToOwners(
      MessagingServiceService,
      namedImpl(),
      routes({ kind: 'forward', address: '127.0.0.1:1', ownerId: 'other' }),
      new ReplicaClients(),
    );
    await expect(
      elsewhere.sendMessage({ context: { userId: 42n } } as never, call(true)),
    ).rejects.toMatchObject({
      telegramName: 'Timeout',
    });
  });
});
