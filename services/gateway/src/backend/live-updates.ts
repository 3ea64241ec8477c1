/**
 * Live delivery: the messaging service publishes a UserUpdateEvent for every change to a user's
 * log (tern.dc<N>.updates.user.<id>, stream DC<N>_USER_UPDATES); each gateway of the DC receives
 * them all over a core NATS subscription and pushes each to the sessions it holds for that user.
 * Delivery is at most once by design: a session that misses one sees a pts gap and catches up
 * with updates.getDifference from the durable log in Cassandra.
 *
 * Channel events travel on per-channel subjects instead (channel-updates.ts); the user events
 * here tell it when a user's memberships change (`observe`).
 */
import { subjectsFor, type EventBus, type Logger } from '../../../shared/src';
import { UserUpdateEvent } from '../../../shared/src/gen/tern/events/v1/events';
import type { TlObject } from '../mtproto/tl-types';
import { tlLiveUpdates } from '../convert/updates';

/** Where live updates go: the sessions of a user held by this gateway (the MTProto engine). */
export interface UpdateSink {
  /** Pushes to every session of `userId` except those of `excludeAuthKeyId`; returns how many. */
  pushToUser(userId: bigint, excludeAuthKeyId: bigint, encode: (layer: number) => Buffer): number;
}

/**
 * Pushes every user event of DC `dcId` to the sessions held here. `observe` sees each event
 * first, whether or not a session here gets it (channel subscriptions follow joins and leaves).
 */
export function followUserUpdates(
  bus: EventBus,
  dcId: number,
  sink: UpdateSink,
  encodeObject: (layer: number, obj: TlObject) => Buffer,
  log: Logger,
  observe?: (event: UserUpdateEvent) => void,
): void {
  bus.listen(subjectsFor(dcId).userUpdatesAll, (data) => {
    const event = UserUpdateEvent.decode(data);
    observe?.(event);
    const tl = tlLiveUpdates(event);
    if (!tl) return;
    const sessions = sink.pushToUser(event.userId, event.excludeAuthKeyId, (layer) =>
      encodeObject(layer, tl),
    );
    log.debug({ userId: event.userId.toString(), pts: event.update?.pts, sessions }, 'live update');
  });
}
