/**
 * DC-local caches of what messaging asks other services on almost every call: where users live
 * (auth LookupUserDc: home DC and move fence) and how a viewer sees them (GetProfiles at each
 * user's home DC, which itself asks that DC's messaging for contact links). Without them a private
 * message costs about ten internal calls; with them a steady-state send makes only the delivery.
 *
 * Both caches are bounded (least recently used out first), expire entries after a fixed lifetime
 * counted from when the value was *asked for* (so a slow answer never lives longer than a fast one),
 * merge concurrent misses into one call (single flight, and the misses of one event-loop turn are
 * batched), and are invalidated by DirectoryChangedEvent on `tern.global.directory.changed`
 * (services/shared/src/nats/subjects.ts). The events are core NATS: a missed one is covered by the
 * lifetimes, and the move fence never depends on them (the mover waits out DIRECTORY_CACHE_TTL_MS,
 * docs/decisions/0007 "Addendum: the directory cache").
 *
 * Absent users (not in the directory, no profile) are never cached: a user who just signed up must
 * be found at once, and unknown ids are rare enough to ask about each time.
 */
import { performance } from 'node:perf_hooks';
import { Events } from 'nats';
import { DIRECTORY_CACHE_TTL_MS, globalSubjects, type EventBus, type Logger } from '../../../shared/src';
import type { DirectoryEntry } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import { DirectoryChange, DirectoryChangedEvent } from '../../../shared/src/gen/tern/events/v1/events';

/**
 * At most this many entries per cache (directory entries; (viewer, user) profiles). A directory
 * entry is ~100 bytes and a rendered profile well under 1 KiB, so a full cache is tens of MiB per
 * process: enough for the active users of a DC's working set, small enough not to be a setting.
 */
export const MAX_CACHE_ENTRIES = 100_000;

/**
 * How long a rendered profile is used. Longer than directory entries: a stale profile only shows an
 * old name, photo or contact flag for a while (clients cache users themselves and tolerate that),
 * while a stale entry misroutes writes; every change of a profile is announced, so this bounds only
 * what a missed notice leaves behind. Status is part of a profile: messaging announces online and
 * offline transitions (DIRECTORY_CHANGE_STATUS), and an "online until" that has passed reads as
 * offline on every client, so a missed refresh cannot show a user online for long.
 */
export const PROFILE_CACHE_TTL_MS = 60_000;

/** LookupUserDc answers at most this many ids per call (auth api/profile.ts). */
const LOOKUP_MAX_IDS = 1000;
/** GetProfiles answers at most this many ids per call (auth api/profile.ts). */
const PROFILES_MAX_IDS = 200;

/** A monotonic clock in milliseconds: lifetimes must not jump with the wall clock. */
export type Clock = () => number;
const monotonic: Clock = () => performance.now();

interface Entry<V> {
  value: V;
  /** The invalidation clock when the value was asked for (see LoadingCache.fresh). */
  seq: number;
  expiresAt: number;
}

interface Flight<V> {
  seq: number;
  askedAt: number;
  promise: Promise<V | undefined>;
  resolve: (v: V | undefined) => void;
  reject: (err: unknown) => void;
  /** Still waiting for the batch to be sent: a late joiner may refresh `seq` and `askedAt`. */
  queued: boolean;
}

/** What a batch fetch returns: values found, and the keys whose part failed (with the error). */
export interface FetchResult<K, V> {
  found: Map<K, V>;
  failed?: Map<K, unknown>;
}

interface LoadingCacheOptions<K, V, E> {
  ttlMs: number;
  maxEntries: number;
  now: Clock;
  /** The key invalidations name (the user id): a user's change drops every key of that user. */
  subjectOf: (key: K) => E;
  /** Keys of one group are fetched together (e.g. one viewer's profiles). */
  groupOf: (key: K) => string;
  /** At most this many keys per fetch call. */
  batchMax: number;
  fetch: (keys: K[]) => Promise<FetchResult<K, V>>;
}

/**
 * A bounded, expiring cache with batched single-flight loading and invalidation by subject.
 *
 * Invalidation uses a clock rather than deleting: `invalidate(s)` ticks the clock and records the
 * tick for `s`; a value (cached or still being fetched) is fresh only if it was asked for at or
 * after the latest tick of its subject. So an answer that was already on its way when the change
 * was announced is neither cached nor shared with later callers, whichever arrives first, and
 * invalidating a user drops all of its (viewer, user) keys without an index. The ticks are bounded
 * like the entries: dropping the oldest raises a floor that every value must pass instead, which
 * can only make values stale early, never fresh too long.
 */
class LoadingCache<K, V, E> {
  private readonly entries = new Map<K, Entry<V>>();
  private readonly flights = new Map<K, Flight<V>>();
  private readonly ticks = new Map<E, number>();
  private queue: [K, Flight<V>][] = [];
  private clock = 0;
  private floor = 0;
  /** Counters for tests and metrics. */
  readonly stats = { hits: 0, misses: 0, fetches: 0 };

  constructor(private readonly o: LoadingCacheOptions<K, V, E>) {}

  /** Values of `keys` (unknown keys are absent): cached, joined in flight, or fetched in batches. */
  async getMany(keys: Iterable<K>): Promise<Map<K, V>> {
    const out = new Map<K, V>();
    const waits: Promise<void>[] = [];
    const t = this.o.now();
    for (const key of new Set(keys)) {
      const e = this.entries.get(key);
      if (e && e.expiresAt > t && this.fresh(key, e.seq)) {
        // Re-inserting moves the key to the young end of the Map's order (LRU).
        this.entries.delete(key);
        this.entries.set(key, e);
        this.stats.hits++;
        out.set(key, e.value);
        continue;
      }
      if (e) this.entries.delete(key);
      this.stats.misses++;
      waits.push(
        this.load(key, t).then((v) => {
          if (v !== undefined) out.set(key, v);
        }),
      );
    }
    await Promise.all(waits);
    return out;
  }

  /** Drops what is cached or in flight about `subject`. */
  invalidate(subject: E): void {
    this.clock++;
    this.ticks.delete(subject);
    this.ticks.set(subject, this.clock);
    if (this.ticks.size > this.o.maxEntries) {
      const [oldest, tick] = this.ticks.entries().next().value!;
      this.ticks.delete(oldest);
      this.floor = Math.max(this.floor, tick);
    }
  }

  /** Drops everything (e.g. after a NATS reconnect, when notices may have been missed). */
  invalidateAll(): void {
    this.clock++;
    this.floor = this.clock;
    this.ticks.clear();
    this.entries.clear();
  }

  /** Cached entries (for tests). */
  get size(): number {
    return this.entries.size;
  }

  private fresh(key: K, seq: number): boolean {
    return seq >= Math.max(this.floor, this.ticks.get(this.o.subjectOf(key)) ?? 0);
  }

  private load(key: K, t: number): Promise<V | undefined> {
    const f = this.flights.get(key);
    if (f?.queued) {
      // Not sent yet, so its answer will be as new as ours: ask from now on.
      f.seq = this.clock;
      f.askedAt = t;
      return f.promise;
    }
    if (f && this.fresh(key, f.seq)) return f.promise;
    let resolve!: (v: V | undefined) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<V | undefined>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const flight: Flight<V> = { seq: this.clock, askedAt: t, promise, resolve, reject, queued: true };
    this.flights.set(key, flight);
    this.queue.push([key, flight]);
    // Every miss of this event-loop turn (e.g. the parallel lookups of one request, or of many)
    // goes out in one call per group.
    if (this.queue.length === 1) setImmediate(() => this.flush());
    return promise;
  }

  private flush(): void {
    const queued = this.queue;
    this.queue = [];
    const groups = new Map<string, [K, Flight<V>][]>();
    for (const item of queued) {
      item[1].queued = false;
      const g = this.o.groupOf(item[0]);
      const list = groups.get(g);
      if (list) list.push(item);
      else groups.set(g, [item]);
    }
    for (const items of groups.values())
      for (let i = 0; i < items.length; i += this.o.batchMax)
        void this.fetchBatch(items.slice(i, i + this.o.batchMax));
  }

  private async fetchBatch(items: [K, Flight<V>][]): Promise<void> {
    this.stats.fetches++;
    let result: FetchResult<K, V>;
    try {
      result = await this.o.fetch(items.map(([k]) => k));
    } catch (err) {
      result = { found: new Map(), failed: new Map(items.map(([k]) => [k, err])) };
    }
    for (const [key, flight] of items) {
      if (this.flights.get(key) === flight) this.flights.delete(key);
      const failure = result.failed?.get(key);
      if (result.failed?.has(key)) {
        flight.reject(failure);
        continue;
      }
      const value = result.found.get(key);
      if (value !== undefined && this.fresh(key, flight.seq)) this.store(key, value, flight);
      flight.resolve(value);
    }
  }

  private store(key: K, value: V, flight: Flight<V>): void {
    this.entries.delete(key);
    this.entries.set(key, { value, seq: flight.seq, expiresAt: flight.askedAt + this.o.ttlMs });
    if (this.entries.size > this.o.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** Options shared by both caches; the defaults are the constants above. */
export interface CacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: Clock;
}

/**
 * The directory as messaging uses it: each user's entry (home DC, `movingToDcId` while a move
 * fences the box), from this DC's auth LookupUserDc.
 */
export class DirectoryCache {
  private readonly cache: LoadingCache<bigint, DirectoryEntry, bigint>;

  /**
   * @param lookup LookupUserDc of this DC's auth: the entries of `ids` that exist (at most 1000
   *   ids are passed per call).
   */
  constructor(lookup: (ids: bigint[]) => Promise<DirectoryEntry[]>, o: CacheOptions = {}) {
    this.cache = new LoadingCache({
      ttlMs: o.ttlMs ?? DIRECTORY_CACHE_TTL_MS,
      maxEntries: o.maxEntries ?? MAX_CACHE_ENTRIES,
      now: o.now ?? monotonic,
      subjectOf: (id) => id,
      groupOf: () => '',
      batchMax: LOOKUP_MAX_IDS,
      fetch: async (ids) => ({ found: new Map((await lookup(ids)).map((e) => [e.userId, e])) }),
    });
  }

  /** The user's entry, or undefined when the directory has none. */
  async entry(userId: bigint): Promise<DirectoryEntry | undefined> {
    return (await this.cache.getMany([userId])).get(userId);
  }

  /** The entries of `ids` that exist. */
  entries(ids: Iterable<bigint>): Promise<Map<bigint, DirectoryEntry>> {
    return this.cache.getMany(ids);
  }

  /** Home DCs of `ids` (unknown ids are absent): what core.ts `homes` answers. */
  async homes(ids: Iterable<bigint>): Promise<Map<bigint, number>> {
    const found = await this.cache.getMany(ids);
    return new Map([...found].map(([id, e]) => [id, e.homeDcId]));
  }

  /** Forgets the entries of `ids` (a home or fence changed). */
  invalidate(ids: Iterable<bigint>): void {
    for (const id of ids) this.cache.invalidate(id);
  }

  /** Forgets every entry. */
  invalidateAll(): void {
    this.cache.invalidateAll();
  }

  /** Hits, misses and fetch calls so far. */
  get stats(): Readonly<{ hits: number; misses: number; fetches: number }> {
    return this.cache.stats;
  }
}

/**
 * Profiles as a viewer sees them (names, photo, contact flags, phone and status as the user's
 * privacy shows them to that viewer), from GetProfiles at each user's home DC. Keyed by
 * (viewer, user); a change of a user drops it for every viewer.
 */
export class ProfileCache {
  private readonly cache: LoadingCache<string, User, bigint>;

  /**
   * @param homes where users live (normally DirectoryCache.homes).
   * @param getProfiles GetProfiles of DC `dc`'s auth: the users of `ids` found there as `viewer`
   *   sees them (at most 200 ids per call).
   */
  constructor(
    homes: (ids: bigint[]) => Promise<Map<bigint, number>>,
    getProfiles: (dc: number, viewer: bigint, ids: bigint[]) => Promise<User[]>,
    o: CacheOptions = {},
  ) {
    this.cache = new LoadingCache({
      ttlMs: o.ttlMs ?? PROFILE_CACHE_TTL_MS,
      maxEntries: o.maxEntries ?? MAX_CACHE_ENTRIES,
      now: o.now ?? monotonic,
      subjectOf: (key) => splitKey(key).userId,
      groupOf: (key) => key.slice(0, key.indexOf(':')),
      // One viewer's misses of one turn; fetch() splits them by DC and GetProfiles' limit.
      batchMax: Number.MAX_SAFE_INTEGER,
      fetch: async (keys) => {
        const viewer = splitKey(keys[0]!).viewer;
        const ids = keys.map((k) => splitKey(k).userId);
        const byDc = new Map<number, bigint[]>();
        for (const [id, dc] of await homes(ids)) {
          const list = byDc.get(dc);
          if (list) list.push(id);
          else byDc.set(dc, [id]);
        }
        const found = new Map<string, User>();
        const failed = new Map<string, unknown>();
        // Each DC answers for its own users: one DC down fails only the keys homed there.
        await Promise.all(
          [...byDc].flatMap(([dc, list]) =>
            chunks(list, PROFILES_MAX_IDS).map(async (part) => {
              try {
                for (const u of await getProfiles(dc, viewer, part)) found.set(keyOf(viewer, u.id), u);
              } catch (err) {
                for (const id of part) failed.set(keyOf(viewer, id), err);
              }
            }),
          ),
        );
        return { found, failed };
      },
    });
  }

  /**
   * The users `ids` as `viewer` sees them, in the order of `ids` (repeats once); unknown users
   * are left out. Fails if a DC holding one of them cannot be asked (as before the cache).
   */
  async profiles(viewer: bigint, ids: Iterable<bigint>): Promise<User[]> {
    const unique = [...new Set(ids)];
    const found = await this.cache.getMany(unique.map((id) => keyOf(viewer, id)));
    return unique.flatMap((id) => {
      const u = found.get(keyOf(viewer, id));
      return u ? [u] : [];
    });
  }

  /** Forgets how every viewer sees `ids`. */
  invalidate(ids: Iterable<bigint>): void {
    for (const id of ids) this.cache.invalidate(id);
  }

  /** Forgets every profile. */
  invalidateAll(): void {
    this.cache.invalidateAll();
  }

  /** Hits, misses and fetch calls so far. */
  get stats(): Readonly<{ hits: number; misses: number; fetches: number }> {
    return this.cache.stats;
  }
}

const keyOf = (viewer: bigint, id: bigint): string => `${viewer}:${id}`;

function splitKey(key: string): { viewer: bigint; userId: bigint } {
  const i = key.indexOf(':');
  return { viewer: BigInt(key.slice(0, i)), userId: BigInt(key.slice(i + 1)) };
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** The caches one messaging process keeps (either may be left out, e.g. in tests). */
export interface DirectoryCaches {
  directory?: Pick<DirectoryCache, 'invalidate' | 'invalidateAll'>;
  profiles?: Pick<ProfileCache, 'invalidate' | 'invalidateAll'>;
}

/**
 * Applies one change to the caches: a home change (or one of an unknown kind) drops entries and
 * profiles; anything else only profiles, since where the user lives is unchanged.
 */
export function applyDirectoryChange(caches: DirectoryCaches, ids: bigint[], change: DirectoryChange): void {
  if (
    change !== DirectoryChange.PROFILE &&
    change !== DirectoryChange.CONTACTS &&
    change !== DirectoryChange.STATUS
  )
    caches.directory?.invalidate(ids);
  caches.profiles?.invalidate(ids);
}

/**
 * Keeps the caches in step with `tern.global.directory.changed`: each DirectoryChangedEvent drops
 * what it names, and a NATS reconnect drops everything (core NATS keeps nothing for a process
 * that was away). Listens until the bus closes. Every replica subscribes on its own (no queue
 * group): each has its own caches.
 */
export function subscribeInvalidations(bus: EventBus, caches: DirectoryCaches, log?: Logger): void {
  bus.listen(globalSubjects.directoryChanged, (data) => {
    const event = DirectoryChangedEvent.decode(data);
    applyDirectoryChange(caches, event.userIds, event.change);
  });
  void (async () => {
    for await (const s of bus.nc.status()) {
      if (s.type !== Events.Reconnect) continue;
      log?.info('nats reconnected: directory caches dropped');
      caches.directory?.invalidateAll();
      caches.profiles?.invalidateAll();
    }
  })();
}

/**
 * Announces a change to every DC's messaging (this process included, asynchronously) and applies
 * it to `local` at once, so the caller's next read here already sees it. Best effort: without a
 * bus, or if the publish is lost, the caches' lifetimes bound how long other DCs see the old state.
 */
export function announceDirectoryChange(
  bus: EventBus | undefined,
  originDcId: number,
  ids: bigint[],
  change: DirectoryChange,
  local?: DirectoryCaches,
): void {
  if (ids.length === 0) return;
  if (local) applyDirectoryChange(local, ids, change);
  if (!bus) return;
  const event = DirectoryChangedEvent.encode({
    meta: { originDcId, emittedAtMs: BigInt(Date.now()) },
    userIds: ids,
    change,
  }).finish();
  bus.notify(globalSubjects.directoryChanged, event);
}

/**
 * For contacts.ts: `owner`'s contact list gained or lost `contactIds`. That changes how the owner
 * sees them (contact, phone, status) and how they see the owner (mutual_contact, the owner's phone
 * and exact status), in every DC: both sides are dropped for every viewer (coarse, but contact
 * changes are rare next to reads).
 */
export function announceContactsChanged(
  bus: EventBus | undefined,
  originDcId: number,
  owner: bigint,
  contactIds: bigint[],
  local?: DirectoryCaches,
): void {
  if (contactIds.length === 0) return;
  announceDirectoryChange(bus, originDcId, [owner, ...contactIds], DirectoryChange.CONTACTS, local);
}
