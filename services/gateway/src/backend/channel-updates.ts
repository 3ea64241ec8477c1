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
 */
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

/** One channel subject's subscription; unsubscribing stops delivery at once. */
export interface ChannelSubscription {
  unsubscribe(): void;
}

/** What the manager needs of NATS: core subscriptions it can end one by one. */
export interface ChannelBus {
  subscribe(subject: string, handler: (data: Uint8Array) => void): ChannelSubscription;
}

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
    this.add(userId, user, channel.id, channel.dcId || channelHomeDc(channel.id));
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

  private add(userId: bigint, user: OnlineUser, channelId: bigint, dcId: number): void {
    if (user.channels.has(channelId)) return;
    if (user.channels.size >= MAX_CHANNELS_PER_USER) {
      this.d.log.warn({ userId: userId.toString(), channelId: channelId.toString() }, 'channel cap reached');
      return;
    }
    user.channels.add(channelId);
    let f = this.channels.get(channelId);
    if (!f) {
      const sub = this.d.bus.subscribe(subjectsFor(dcId).channelUpdates(channelId), (data) =>
        this.deliver(channelId, data),
      );
      this.channels.set(channelId, (f = { sub, members: new Set() }));
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
  private deliver(channelId: bigint, data: Uint8Array): void {
    const f = this.channels.get(channelId);
    if (!f) return;
    const event = ChannelUpdateEvent.decode(data);
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
