/**
 * Live events of the channel service. The durable record is the channel's log in Cassandra;
 * these only let online sessions see a change at once (decision 0018):
 *
 * - ChannelUpdateEvent on tern.dc<home>.updates.channel.<id> (stream DC<home>_CHANNEL_UPDATES),
 *   once per log event, Nats-Msg-Id `<channel>:<pts>` so a repeated publish is a no-op. Gateways
 *   holding sessions of members deliver it.
 * - UserUpdateEvent on tern.dc<N>.updates.user.<id> of the member's home DC: membership changes
 *   (updateChannel) and read markers (updateReadChannelInbox), outside the user's pts sequence.
 *
 * A failed publish is logged, never thrown: the write it announces has happened.
 */
import { subjectsFor, type EventBus, type Logger } from '../../../shared/src';
import type { Channel } from '../../../shared/src/gen/tern/common/v1/chat';
import type { Update } from '../../../shared/src/gen/tern/common/v1/update';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import { ChannelUpdateEvent, UserUpdateEvent } from '../../../shared/src/gen/tern/events/v1/events';

export class UpdatePublisher {
  constructor(
    private readonly dcId: number,
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  /** Publishes one event of the channel's log (or a pts-less channel notice, pts 0). */
  async channelUpdate(
    channelId: bigint,
    update: Update,
    entities: { users: User[]; channels: Channel[] },
    excludeAuthKeyId = 0n,
  ): Promise<void> {
    const date = Math.floor(Date.now() / 1000);
    const event = ChannelUpdateEvent.encode({
      meta: { originDcId: this.dcId, emittedAtMs: BigInt(Date.now()) },
      channelId,
      update,
      excludeAuthKeyId,
      users: entities.users,
      channels: entities.channels,
      date,
    }).finish();
    // At most LIVE_PUBLISH_WAIT_MS of a NATS outage reaches the caller: the channel's log is the record.
    await this.bus.publishLive(subjectsFor(this.dcId).channelUpdates(channelId), event, {
      ...(update.pts > 0 ? { msgId: `${channelId}:${update.pts}` } : {}),
      what: 'channel update',
      context: { channelId: channelId.toString(), pts: update.pts },
    });
  }

  /** Publishes a user-level update (no user pts) to the user's sessions in this DC. */
  async userUpdate(
    userId: bigint,
    update: Update,
    entities: { users: User[]; channels: Channel[] },
    excludeAuthKeyId = 0n,
  ): Promise<void> {
    const event = UserUpdateEvent.encode({
      meta: { originDcId: this.dcId, emittedAtMs: BigInt(Date.now()) },
      userId,
      update,
      excludeAuthKeyId,
      users: entities.users,
      chats: [],
      channels: entities.channels,
      date: Math.floor(Date.now() / 1000),
    }).finish();
    await this.bus.publishLive(subjectsFor(this.dcId).userUpdates(userId), event, {
      what: 'user update',
      context: { userId: userId.toString() },
    });
  }
}
