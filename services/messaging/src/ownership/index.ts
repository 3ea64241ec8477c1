/**
 * One writer per box (docs/decisions/0017-one-writer-per-box.md): box shards, their leases, and
 * the replica-side {@link BoxOwnership} the write path asks before every box write.
 */
export {
  BoxOwnership,
  type BoxOwnershipOptions,
  type Fence,
  type LossReason,
  type OwnershipHooks,
  type Route,
} from './box-ownership';
export { DEFAULT_TIMINGS, type OwnershipTimings } from './lease';
export { SHARD_COUNT, shardOf } from './shards';
