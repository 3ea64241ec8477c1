/**
 * Live delivery of channel events (docs/decisions/0018-channels.md, "Live fan-out at the
 * gateways"). A channel's owner publishes each event of its sequence once, as a
 * ChannelUpdateEvent on `tern.dc<home>.updates.channel.<id>`; this gateway holds one core NATS
 * subscription per channel that has at least one member online here, and pushes each event to
 * the sessions of those members. Nothing is stored per member; a session that misses an event
 * sees a channel pts gap and calls updates.getChannelDifference.
 *
 * Which users are online follows the same signal as presence (a transport connection that
 * carried a message of a session logged in as the user: `seen` / `closed`). When a user's first
 * connection here is seen, the user's channels are read once (ChannelService.GetUserChannels at
 * the user's home DC, which is this one); joins and leaves afterwards arrive as updateChannel on
 * the user's own subject (the member's home DC publishes one for every membership change) and
 * from the session's own join/create answers, so the list is never polled.
 *
 * Memory is bounded by who is online here: a user's entry and its channels are dropped when
 * their last connection closes, and a channel's subscription when its last online member goes.
 *
 * A subscription made because of a membership change (a join, an invite, a create) may reach the
 * NATS server after the channel's next event: an invite's "X added Y" service message is posted
 * right after the invitee's membership notice, and between regions interest takes a while to
 * propagate. So such a new subscription also reads the channel's recent events from its
 * JetStream stream (from REPLAY_SLACK_MS before the follow) once; events are delivered once per
 * pts whichever way they came first.
 */
import { DeliverPolicy } from 'nats';
import { subjectsFor, type EventBus, type Logger } from '../../../shared/src';
import type { ChannelRef } from '../../../shared/src/gen/tern/channel/v1/channel';
import type { Channel } from '../../../shared/src/gen/tern/common/v1/chat';
import { ChannelUpdateEvent, type UserUpdateEvent } from '../../../shared/src/gen/tern/events/v1/events';
import { channelHomeDc } from '../convert/channels';
import { tlChannelLiveUpdates } from '../convert/updates';
import type { TlObject } from '../mtproto/tl-types';
import type { UpdateSink } from './live-updates';

/** Telegram's limit on channels and supergroups one user may be in; more are not followed live. */
export const MAX_CHANNELS_PER_USER = 500;

/**
 * How far back a new subscription made by a membership change reads the channel's stream: the
 * change's own events are at most this much older than the follow (publish, notice, this
 * gateway), clocks of the DCs' NATS servers included.
 */
export const REPLAY_SLACK_MS = 2_000;
/** Channel pts remembered per followed channel, to deliver each event once. */
const DELIVERED_REMEMBERED = 256;

/** One channel subject's subscription; unsubscribing stops delivery at once. */
export interface ChannelSubscription {
  unsubscribe(): void;
}

/** What the manager needs of NATS: core subscriptions it can end one by one. */
export interface ChannelBus {
  subscribe(subject: string, handler: (data: Uint8Array) => void): ChannelSubscription;
  /**
   * Hands `handler` the events the stream kept on `subject` since `sinceMs`, oldest first, and
   * resolves when it has caught up (or gave up: replay is a best effort, the client's
   * getChannelDifference is the record).
   */
  replay(subject: string, sinceMs: number, handler: (data: Uint8Array) => void): Promise<void>;
}

/** Batches a replay reads at most: a channel's last seconds, bounded. */
const REPLAY_MAX_BATCHES = 4;
const REPLAY_BATCH = 256;

/** The real bus: core NATS (interest-based, routed between regions by the super-cluster). */
export function natsChannelBus(bus: EventBus, log: Logger): ChannelBus {
  return {
    subscribe(subject, handler) {
      return bus.nc.subscribe(subject, {
        callback: (err, msg) => {
          if (err) {
            log.warn({ err, subject }, 'channel subscription failed');
            return;
          }
          try {
            handler(msg.data);
          } catch (e) {
            log.warn({ err: e, subject }, 'channel update not delivered');
          }
        },
      });
    },
    async replay(subject, sinceMs, handler) {
      try {
        const stream = await bus.jsm.streams.find(subject);
        // An ordered consumer: ephemeral, server-side state only while it reads.
        const consumer = await bus.js.consumers.get(stream, {
          filterSubjects: [subject],
          deliver_policy: DeliverPolicy.StartTime,
          opt_start_time: new Date(sinceMs).toISOString(),
        });
        try {
          for (let batch = 0; batch < REPLAY_MAX_BATCHES; batch++) {
            let read = 0;
            let pending = -1;
            for await (const m of await consumer.fetch({ max_messages: REPLAY_BATCH, expires: 1_000 })) {
              read++;
              pending = m.info.pending;
              handler(m.data);
              if (pending === 0) break;
            }
            if (read === 0 || pending === 0) return;
          }
        } finally {
          await consumer.delete().catch(() => undefined);
        }
      } catch (err) {
        log.warn({ err, subject }, 'channel events since the follow not replayed');
      }
    },
  };
}

/** Told by handlers when their caller's own call made them a member (or not) of a channel. */
export interface ChannelFollower {
  /** `channel` as `userId` now sees it: followed unless `left` or `forbidden`. */
  follow(userId: bigint, channel: Channel): void;
}

export interface ChannelUpdatesDeps {
  bus: ChannelBus;
  /** Where sessions are (the MTProto engine). */
  sink: UpdateSink;
  /** The user's channels (ChannelService.GetUserChannels of this DC). */
  userChannels(userId: bigint): Promise<ChannelRef[]>;
  /** Serializes a layer-neutral object in a layer (the TL runtime). */
  encodeObject(layer: number, obj: TlObject): Buffer;
  log: Logger;
}

interface OnlineUser {
  conns: Set<number>;
  channels: Set<bigint>;
  /** Channels left while GetUserChannels was in flight: its (older) answer must not re-add them. */
  leftWhileLoading?: Set<bigint>;
}

interface Followed {
  sub: ChannelSubscription;
  members: Set<bigint>;
  /** The pts of events delivered lately (subscription and replay), oldest first. */
  delivered: number[];
}

/** The ref-counted channel subscriptions of one gateway process. */
export class ChannelUpdates implements ChannelFollower {
  private readonly byConn = new Map<number, Set<bigint>>();
  private readonly users = new Map<bigint, OnlineUser>();
  private readonly channels = new Map<bigint, Followed>();

  constructor(private readonly d: ChannelUpdatesDeps) {}

  /** A message of a session logged in as `userId` arrived on connection `connId` (presence hook). */
  seen(userId: bigint, connId: number): void {
    if (userId === 0n) return;
    let users = this.byConn.get(connId);
    if (users?.has(userId)) return;
    if (!users) this.byConn.set(connId, (users = new Set()));
    users.add(userId);
    let user = this.users.get(userId);
    if (user) {
      user.conns.add(connId);
      return;
    }
    user = { conns: new Set([connId]), channels: new Set(), leftWhileLoading: new Set() };
    this.users.set(userId, user);
    void this.load(userId, user);
  }

  /** Connection `connId` is gone (presence hook). */
  closed(connId: number): void {
    const users = this.byConn.get(connId);
    if (!users) return;
    this.byConn.delete(connId);
    for (const u of users) {
      const user = this.users.get(u);
      if (!user) continue;
      user.conns.delete(connId);
      if (user.conns.size > 0) continue;
      this.users.delete(u);
      for (const c of user.channels) this.drop(u, c);
    }
  }

  follow(userId: bigint, channel: Channel): void {
    const user = this.users.get(userId);
    if (!user) return;
    if (channel.left || channel.forbidden) {
      user.leftWhileLoading?.add(channel.id);
      if (user.channels.delete(channel.id)) this.drop(userId, channel.id);
      return;
    }
    user.leftWhileLoading?.delete(channel.id);
    this.add(
      userId,
      user,
      channel.id,
      channel.dcId || channelHomeDc(channel.id),
      Date.now() - REPLAY_SLACK_MS,
    );
  }

  /**
   * Every user event of this DC passes here (live-updates.ts): an updateChannel with the channel
   * it names is a membership change of that user (RecordMembership publishes one per change).
   */
  onUserEvent(e: UserUpdateEvent): void {
    const k = e.update?.kind;
    if (k?.$case !== 'channel') return;
    const channel = e.channels.find((c) => c.id === k.value.channelId);
    if (channel) this.follow(e.userId, channel);
  }

  /** Users online here and channels followed (for tests and metrics). */
  get size(): { users: number; channels: number } {
    return { users: this.users.size, channels: this.channels.size };
  }

  /** The online members here of a channel (for tests). */
  membersOf(channelId: bigint): bigint[] {
    return [...(this.channels.get(channelId)?.members ?? [])];
  }

  /** Graceful shutdown: every subscription ends. */
  close(): void {
    for (const f of this.channels.values()) f.sub.unsubscribe();
    this.channels.clear();
    this.users.clear();
    this.byConn.clear();
  }

  private async load(userId: bigint, user: OnlineUser): Promise<void> {
    let refs: ChannelRef[];
    try {
      refs = await this.d.userChannels(userId);
    } catch (err) {
      // Without the list only channels joined from now on are live; the others catch up with
      // getChannelDifference when the client opens them (the user's next login retries).
      this.d.log.warn({ err, userId: userId.toString() }, 'channels of an online user not read');
      refs = [];
    }
    const left = user.leftWhileLoading;
    user.leftWhileLoading = undefined;
    // The user went offline (and perhaps came back as a new entry) while the list was read.
    if (this.users.get(userId) !== user) return;
    for (const r of refs)
      if (!left?.has(r.channelId)) this.add(userId, user, r.channelId, r.dcId || channelHomeDc(r.channelId));
  }

  /**
   * `replaySince`: the follow comes from a membership change (not from the list read when the
   * user came online, whose client catches up itself), so a new subscription also replays.
   */
  private add(userId: bigint, user: OnlineUser, channelId: bigint, dcId: number, replaySince?: number): void {
    if (user.channels.has(channelId)) return;
    if (user.channels.size >= MAX_CHANNELS_PER_USER) {
      this.d.log.warn({ userId: userId.toString(), channelId: channelId.toString() }, 'channel cap reached');
      return;
    }
    user.channels.add(channelId);
    const f = this.channels.get(channelId);
    if (!f) {
      const subject = subjectsFor(dcId).channelUpdates(channelId);
      const sub = this.d.bus.subscribe(subject, (data) => this.deliver(channelId, data));
      const followed: Followed = { sub, members: new Set([userId]), delivered: [] };
      this.channels.set(channelId, followed);
      if (replaySince !== undefined)
        // Only events of the channel's sequence: pts-less notices are of the moment.
        void this.d.bus.replay(subject, replaySince, (data) => {
          if (this.channels.get(channelId) === followed) this.deliver(channelId, data, true);
        });
      return;
    }
    f.members.add(userId);
  }

  private drop(userId: bigint, channelId: bigint): void {
    const f = this.channels.get(channelId);
    if (!f) return;
    f.members.delete(userId);
    if (f.members.size > 0) return;
    f.sub.unsubscribe();
    this.channels.delete(channelId);
  }

  /** One event: converted once, serialized once per layer, pushed to each online member here. */
  private deliver(channelId: bigint, data: Uint8Array, replayed = false): void {
    const f = this.channels.get(channelId);
    if (!f) return;
    const event = ChannelUpdateEvent.decode(data);
    const pts = event.update?.pts ?? 0;
    if (pts === 0 && replayed) return;
    if (pts > 0) {
      if (f.delivered.includes(pts)) return;
      f.delivered.push(pts);
      if (f.delivered.length > DELIVERED_REMEMBERED) f.delivered.shift();
    }
    const tl = tlChannelLiveUpdates(event);
    if (!tl) return;
    const encoded = new Map<number, Buffer>();
    const encode = (layer: number): Buffer => {
      let b = encoded.get(layer);
      if (!b) encoded.set(layer, (b = this.d.encodeObject(layer, tl)));
      return b;
    };
    let sessions = 0;
    for (const u of f.members) sessions += this.d.sink.pushToUser(u, event.excludeAuthKeyId, encode);
    this.d.log.debug(
      { channelId: channelId.toString(), pts: event.update?.pts, members: f.members.size, sessions },
      'live channel update',
    );
  }
}
