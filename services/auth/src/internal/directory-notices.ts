/**
 * Telling every DC that a user's directory entry or profile changed (DirectoryChangedEvent on
 * `tern.global.directory.changed`): each DC's messaging caches entries (home DC, move fence) and
 * profiles as viewers see them, and drops its copies of the users named.
 *
 * The notices are core NATS and only make changes show sooner: a cache that misses one re-reads
 * within its lifetime, and the one case where a stale entry could do harm — a write to a box that
 * a move is copying — is covered by the mover waiting out that lifetime (MOVE_FENCE_WAIT_MS).
 */
import { DIRECTORY_CACHE_TTL_MS, globalSubjects, type EventBus } from '../../../shared/src';
import { DirectoryChange, DirectoryChangedEvent } from '../../../shared/src/gen/tern/events/v1/events';

/**
 * How long a move waits between setting the fence and copying the box: longer than any replica of
 * any DC may use a directory entry it read before the fence (messaging counts an entry's lifetime
 * from when it asked, which was before the fence was written). The extra second covers timers of
 * two processes running at slightly different rates and a call that checked its entry just before
 * it expired; writes that finish during the copy are taken by ImportBox's repeated passes.
 */
export const MOVE_FENCE_WAIT_MS = DIRECTORY_CACHE_TTL_MS + 1_000;

/** Publishes DirectoryChangedEvent for this DC's auth service. */
export class DirectoryNotices {
  /** @param bus absent in tools and tests without NATS: then nothing is published. */
  constructor(
    private readonly dcId: number,
    private readonly bus: EventBus | undefined,
  ) {}

  /** `ids` changed as `change` says (best effort: a lost notice is covered by cache lifetimes). */
  changed(ids: bigint[], change: DirectoryChange): void {
    if (!this.bus || ids.length === 0) return;
    const event = DirectoryChangedEvent.encode({
      meta: { originDcId: this.dcId, emittedAtMs: BigInt(Date.now()) },
      userIds: ids,
      change,
    }).finish();
    this.bus.notify(globalSubjects.directoryChanged, event);
  }

  /** Name, username, about or profile photo of `userId` changed. */
  profile(userId: bigint): void {
    this.changed([userId], DirectoryChange.PROFILE);
  }

  /** Where `userId` lives changed: signed up, a move's fence set, the home switched, removed. */
  home(userId: bigint): void {
    this.changed([userId], DirectoryChange.HOME);
  }
}
