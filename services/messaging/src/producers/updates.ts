/**
 * Announces appended updates for live delivery: a UserUpdateEvent on tern.dc<N>.updates.user.<id>
 * (stream DC<N>_USER_UPDATES). The durable record is the update log in Cassandra; this event only
 * lets online sessions see the update at once. The Nats-Msg-Id (user:pts) makes a repeated
 * publish of the same update a no-op inside the stream's duplicate window.
 */
import { subjectsFor, type EventBus, type Logger } from '../../../shared/src';
import type { Chat } from '../../../shared/src/gen/tern/common/v1/chat';
import type { Update } from '../../../shared/src/gen/tern/common/v1/update';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import { UserUpdateEvent } from '../../../shared/src/gen/tern/events/v1/events';

export class UpdatePublisher {
  constructor(
    private readonly dcId: number,
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  /**
   * Publishes `update` of `userId`'s log, waiting for NATS at most LIVE_PUBLISH_WAIT_MS; a failure
   * is logged, not thrown (the log is the record; a client that missed it asks getDifference).
   */
  async userUpdate(
    userId: bigint,
    update: Update,
    users: User[],
    excludeAuthKeyId: bigint,
    /** Chats the update mentions, as the user sees them (a group message: its chat). */
    chats: Chat[] = [],
  ): Promise<void> {
    const event = UserUpdateEvent.encode({
      meta: { originDcId: this.dcId, emittedAtMs: BigInt(Date.now()) },
      userId,
      update,
      excludeAuthKeyId,
      users,
      chats,
      channels: [],
      date: Math.floor(Date.now() / 1000),
    }).finish();
    // Updates outside the log (pts 0: typing, status) have no identity to deduplicate on.
    await this.bus.publishLive(subjectsFor(this.dcId).userUpdates(userId), event, {
      ...(update.pts > 0 ? { msgId: `${userId}:${update.pts}` } : {}),
      what: 'live update',
      context: { userId: userId.toString(), pts: update.pts },
    });
  }
}
