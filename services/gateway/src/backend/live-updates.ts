/**
 * Live delivery: the messaging service publishes a UserUpdateEvent for every change to a user's
 * log (tern.dc<N>.updates.user.<id>, stream DC<N>_USER_UPDATES); each gateway of the DC receives
 * them all over a core NATS subscription and pushes each to the sessions it holds for that user.
 * Delivery is at most once by design: a session that misses one sees a pts gap and catches up
 * with updates.getDifference from the durable log in Cassandra.
 */
import { subjectsFor, type EventBus, type Logger } from '../../../shared/src';
import { UserUpdateEvent } from '../../../shared/src/gen/tern/events/v1/events';
import type { TlObject } from '../mtproto/tl-types';
import { tlLiveUpdates } from '../convert/updates';

export interface UpdateSink {
  pushToUser(userId: bigint, excludeAuthKeyId: bigint, encode: (layer: number) => Buffer): number;
}

export function followUserUpdates(
  bus: EventBus,
  dcId: number,
  sink: UpdateSink,
  encodeObject: (layer: number, obj: TlObject) => Buffer,
  log: Logger,
): void {
  bus.listen(subjectsFor(dcId).userUpdatesAll, (data) => {
    const event = UserUpdateEvent.decode(data);
    const tl = tlLiveUpdates(event);
    if (!tl) return;
    const sessions = sink.pushToUser(event.userId, event.excludeAuthKeyId, (layer) =>
      encodeObject(layer, tl),
    );
    log.debug({ userId: event.userId.toString(), pts: event.update?.pts, sessions }, 'live update');
  });
}
