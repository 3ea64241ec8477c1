/**
 * One writer per key (docs/decisions/0017-one-writer-per-box.md): shards, their leases, and the
 * replica-side {@link ShardOwnership} a write path asks before every write. Used by messaging (users'
 * boxes) and the channel service (channels).
 */
export {
  ShardOwnership,
  type ShardOwnershipOptions,
  type Fence,
  type LossReason,
  type OwnershipHooks,
  type Route,
} from './shard-ownership';
export { DEFAULT_TIMINGS, type OwnershipTimings } from './lease';
export { SHARD_COUNT, shardOf } from './shards';
