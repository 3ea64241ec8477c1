/**
 * THE registry of NATS streams and subjects. Every subject Tern publishes or
 * subscribes to is built here and nowhere else, so a reader can see the whole event
 * bus on one page (and `migrate` creates exactly these streams).
 *
 * Each DC has its own namespace `tern.dc<N>.…` and its own streams `DC<N>_…`: a DC's
 * events never mix with another's. Cross-DC delivery goes through the target DC's
 * services over gRPC, which then publish into the target DC's own namespace.
 *
 * One exception, `globalSubjects`: notices about the global keyspace (the user directory), which
 * every DC caches, so every DC must hear of a change. They are core NATS and only shorten how long
 * a cache is stale; correctness never depends on them (each says what covers a missed one). When
 * DCs get NATS clusters of their own, these subjects are the ones to route between them (NATS
 * gateways do so by subject interest); without that the caches' lifetimes still hold.
 */
import { RetentionPolicy, StorageType, DiscardPolicy, type StreamConfig } from 'nats';

/** The JetStream streams of one DC, keyed by a stable short name. */
export interface StreamSpec {
  /** Stream name, e.g. DC2_USER_UPDATES. */
  name: string;
  /** Subject filter(s) the stream captures. */
  subjects: string[];
  /** Why the stream exists and who reads it. */
  description: string;
  config: Partial<StreamConfig>;
}

const DAY_NS = 24 * 60 * 60 * 1e9;

/** Subject builders for DC `dc`. */
export function subjectsFor(dc: number) {
  const root = `tern.dc${dc}`;
  return {
    /** Per-user update events (pts log appends): messaging → gateways of this DC. */
    userUpdates: (userId: bigint | string) => `${root}.updates.user.${userId}`,
    userUpdatesAll: `${root}.updates.user.*`,
    /** Channel events: channel service → gateways (fan-out is lazy, per channel). */
    channelUpdates: (channelId: bigint | string) => `${root}.updates.channel.${channelId}`,
    channelUpdatesAll: `${root}.updates.channel.*`,
    /**
     * Deliveries to boxes in DC `toDc` that could not be made at once (the DC was unreachable):
     * messaging → this DC's outbox consumers, which replay them until the other DC answers.
     */
    outbox: (toDc: number) => `${root}.outbox.dc${toDc}`,
    outboxAll: `${root}.outbox.>`,
    /** Push requests for users with no online session: messaging → push worker. */
    pushRequests: `${root}.push.requests`,
    /**
     * New channel posts to notify (ChannelPushEvent): the channel service's post path → the push
     * fan-out worker of the same DC's channel service, which pages through the participants and
     * publishes PushRequestEvents to each member's home DC's `pushRequests`.
     */
    channelPush: `${root}.channel.push`,
    /**
     * Membership notices (RecordMembershipRequest) for users homed in DC `toDc` that could not be
     * delivered at once: the channel service of a channel's home DC → its own membership consumers,
     * which replay them to `toDc`'s RecordMembership (idempotent by version) until it answers.
     */
    channelMemberships: (toDc: number) => `${root}.channel.memberships.dc${toDc}`,
    channelMembershipsAll: `${root}.channel.memberships.>`,
    /**
     * Auth keys logged out, reset or destroyed (AuthKeyRevokedEvent): auth → gateways of this DC,
     * which forget the cached login. Core NATS: a gateway that misses one re-reads the login
     * within its cache lifetime (gateway api/context.ts).
     */
    authKeyRevoked: `${root}.auth.revoked`,
    /** Session presence and typing: ephemeral core NATS, not persisted. */
    ephemeral: (topic: string) => `${root}.ephemeral.${topic}`,
    /** Integration-test probe subject (see test/integration). */
    probe: (name: string) => `${root}.probe.${name}`,
    probeAll: `${root}.probe.>`,
  };
}

/**
 * How long messaging may use a directory entry (home DC, move fence) it read, counted from when it
 * asked. Part of the directory.changed contract: a move publishes the fence and then waits longer
 * than this before copying the box (auth api/move.ts), so a replica that missed the notice has
 * re-read the entry by then. Short, because a stale entry delays a moved user's calls (FLOOD_WAIT or
 * USER_MIGRATE to the old home) for up to this long when a notice is missed.
 */
export const DIRECTORY_CACHE_TTL_MS = 10_000;

/** Subjects shared by every DC (see the top of this file): notices about the global keyspace. */
export const globalSubjects = {
  /**
   * DirectoryChangedEvent (core NATS): a user's directory entry (signed up, move fence set or
   * cleared, home switched) or what viewers see of the user (profile, photo, contacts, status)
   * changed. Published once by the service that made the change (auth of the user's home DC;
   * messaging for contacts and status), heard by the messaging service of every DC, which drops
   * its cached copies (messaging internal/directory-cache.ts). A process that misses one re-reads
   * within DIRECTORY_CACHE_TTL_MS (entries) or the profile cache's lifetime (profiles); a reconnect
   * drops everything, since anything may have been missed meanwhile.
   */
  directoryChanged: 'tern.global.directory.changed',
} as const;

/** Update streams feed live delivery only (the durable logs are in Cassandra): a week, oldest dropped. */
const LIVE_DELIVERY = {
  retention: RetentionPolicy.Limits,
  storage: StorageType.File,
  max_age: 7 * DAY_NS,
  discard: DiscardPolicy.Old,
  duplicate_window: 2 * 60 * 1e9,
};

/**
 * Work queues: each entry is consumed once, then gone; kept at most `maxAgeNs` if nobody takes it.
 * Publishers set a Nats-Msg-Id, which the 2-minute window dedupes (JetStream's default, said here).
 */
const workQueue = (maxAgeNs: number) => ({
  retention: RetentionPolicy.Workqueue,
  storage: StorageType.File,
  max_age: maxAgeNs,
  discard: DiscardPolicy.Old,
  duplicate_window: 2 * 60 * 1e9,
});

/** The streams `migrate` creates in DC `dc`. */
export function streamsFor(dc: number): StreamSpec[] {
  const s = subjectsFor(dc);
  return [
    {
      name: `DC${dc}_USER_UPDATES`,
      subjects: [s.userUpdatesAll],
      description: 'Per-user update events for live delivery; the durable log itself is in Cassandra.',
      config: LIVE_DELIVERY,
    },
    {
      name: `DC${dc}_CHANNEL_UPDATES`,
      subjects: [s.channelUpdatesAll],
      description: 'Channel events for live delivery to subscribers connected to this DC.',
      config: LIVE_DELIVERY,
    },
    {
      name: `DC${dc}_PUSH`,
      subjects: [s.pushRequests],
      description: 'Work queue of push notifications for offline users.',
      config: workQueue(DAY_NS),
    },
    {
      name: `DC${dc}_OUTBOX`,
      subjects: [s.outboxAll],
      description:
        'Durable cross-DC deliveries (DeliverToBoxRequest) waiting for their DC; one ordered consumer per target DC.',
      config: workQueue(7 * DAY_NS),
    },
    {
      name: `DC${dc}_CHANNEL_PUSH`,
      subjects: [s.channelPush],
      description:
        'Work queue of channel posts to notify: one event per post, then one per page of participants (push fan-out).',
      config: workQueue(DAY_NS),
    },
    {
      name: `DC${dc}_CHANNEL_MEMBERSHIPS`,
      subjects: [s.channelMembershipsAll],
      description:
        "Membership notices (RecordMembershipRequest) waiting for the member's home DC; one consumer per DC.",
      config: workQueue(7 * DAY_NS),
    },
    {
      name: `DC${dc}_PROBE`,
      subjects: [s.probeAll],
      description: 'Health probes and integration tests of the event bus; short retention.',
      config: {
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: 60 * 60 * 1e9,
        max_msgs: 10_000,
        discard: DiscardPolicy.Old,
      },
    },
  ];
}

/**
 * The presence bucket of DC `dc` (NATS KV): which users have a live MTProto connection to one of
 * the DC's gateways right now. Key `<user id>.<gateway instance>`, one per user per gateway
 * process, so gateways never overwrite each other's entries. Gateways put a key when a user's
 * first connection there is seen, delete it when the last one closes, and re-put every online
 * key every `heartbeatMs`; the bucket's TTL (`ttlMs`) drops the keys of a gateway that died.
 * The push worker of the DC reads it to skip users who get the update live
 * (docs/decisions/0008-push-and-presence.md). Gateways and the push worker create it if absent.
 */
export function presenceBucketFor(dc: number): { name: string; ttlMs: number; heartbeatMs: number } {
  return { name: `tern_dc${dc}_presence`, ttlMs: 60_000, heartbeatMs: 20_000 };
}

/**
 * The NATS KV buckets of messaging's box ownership in DC `dc` (services/shared/src/ownership,
 * docs/decisions/0017-one-writer-per-box.md): `replicas` holds one key per running messaging
 * replica, re-put as a heartbeat, so every replica knows the live set; `leases` holds one key per
 * box shard (`shard.<s>`) naming the replica that alone may write that shard's boxes, taken and
 * renewed by compare-and-set. Messaging creates both if absent.
 */
export function boxOwnershipBucketsFor(dc: number): { replicas: string; leases: string } {
  return { replicas: `tern_dc${dc}_messaging_replicas`, leases: `tern_dc${dc}_box_leases` };
}

/**
 * The NATS KV buckets of the channel service's channel ownership in DC `dc`: as
 * {@link boxOwnershipBucketsFor}, with channels sharded by channel id. One replica of the DC's
 * channel service writes a channel's log, allocating its pts and message ids in memory
 * (docs/decisions/0018-channels.md). The channel service creates both if absent.
 */
export function channelOwnershipBucketsFor(dc: number): { replicas: string; leases: string } {
  return { replicas: `tern_dc${dc}_channel_replicas`, leases: `tern_dc${dc}_channel_leases` };
}
