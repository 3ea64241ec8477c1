import type { EventBus } from '../../../shared/src';
import { globalSubjects } from '../../../shared/src';
import type { DirectoryEntry } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import { DirectoryChange, DirectoryChangedEvent } from '../../../shared/src/gen/tern/events/v1/events';
import {
  announceContactsChanged,
  announceDirectoryChange,
  DirectoryCache,
  ProfileCache,
  subscribeInvalidations,
} from './directory-cache';

const entry = (userId: bigint, homeDcId: number, movingToDcId = 0): DirectoryEntry => ({
  userId,
  phoneNumber: `99966${userId}`,
  homeDcId,
  movingToDcId,
});

const user = (id: bigint, viewer: bigint, firstName = 'u'): User => ({
  id,
  accessHash: 7n,
  firstName,
  lastName: '',
  username: '',
  phone: '',
  dcId: 0,
  isSelf: id === viewer,
  contact: false,
  mutualContact: false,
  deleted: false,
  bot: false,
});

/** A directory of auth's LookupUserDc, recording each call. */
function fakeLookup(homes: Map<bigint, DirectoryEntry>) {
  const calls: bigint[][] = [];
  const lookup = (ids: bigint[]): Promise<DirectoryEntry[]> => {
    calls.push(ids);
    return Promise.resolve(ids.flatMap((id) => (homes.has(id) ? [homes.get(id)!] : [])));
  };
  return { calls, lookup };
}

/** A controllable promise, for answers that arrive later. */
function later<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('DirectoryCache', () => {
  it('batches concurrent misses into one LookupUserDc call and merges repeats', async () => {
    const { calls, lookup } = fakeLookup(new Map([1n, 2n, 3n].map((id) => [id, entry(id, 1)])));
    const cache = new DirectoryCache(lookup);
    const [a, b, c, again] = await Promise.all([
      cache.entry(1n),
      cache.entry(2n),
      cache.homes([2n, 3n]),
      cache.entry(1n),
    ]);
    expect(calls).toEqual([[1n, 2n, 3n]]);
    expect(a?.homeDcId).toBe(1);
    expect(b?.userId).toBe(2n);
    expect(c).toEqual(
      new Map([
        [2n, 1],
        [3n, 1],
      ]),
    );
    expect(again).toBe(a);
  });

  it('splits a batch at LookupUserDc’s 1000 ids', async () => {
    const ids = Array.from({ length: 1500 }, (_, i) => BigInt(i + 1));
    const { calls, lookup } = fakeLookup(new Map(ids.map((id) => [id, entry(id, 2)])));
    const found = await new DirectoryCache(lookup).homes(ids);
    expect(found.size).toBe(1500);
    expect(calls.map((c) => c.length)).toEqual([1000, 500]);
  });

  it('serves hits until the lifetime, counted from when the value was asked for', async () => {
    let t = 0;
    const slow = later<DirectoryEntry[]>();
    let n = 0;
    const cache = new DirectoryCache(
      () => {
        n++;
        return n === 1 ? slow.promise : Promise.resolve([entry(1n, 1)]);
      },
      { ttlMs: 10_000, now: () => t },
    );
    const first = cache.entry(1n);
    await turn();
    t = 4_000; // the answer took 4 s: it may be used for 6 s more, not 10
    slow.resolve([entry(1n, 1)]);
    await first;
    t = 9_999;
    await cache.entry(1n);
    expect(n).toBe(1);
    t = 10_000;
    await cache.entry(1n);
    expect(n).toBe(2);
    expect(cache.stats).toMatchObject({ hits: 1, misses: 2, fetches: 2 });
  });

  it('does not cache users the directory does not have', async () => {
    const { calls, lookup } = fakeLookup(new Map());
    const cache = new DirectoryCache(lookup);
    expect(await cache.entry(5n)).toBeUndefined();
    expect(await cache.entry(5n)).toBeUndefined();
    expect(calls).toHaveLength(2);
  });

  it('invalidation drops the entry, and an answer already on its way is neither cached nor shared', async () => {
    const homes = new Map([[1n, entry(1n, 1)]]);
    const pending = later<void>();
    const calls: bigint[][] = [];
    const cache = new DirectoryCache(async (ids) => {
      calls.push(ids);
      const snapshot = ids.flatMap((id) => (homes.has(id) ? [homes.get(id)!] : []));
      if (calls.length === 1) await pending.promise; // read before the fence, answered after
      return snapshot;
    });
    const stale = cache.entry(1n);
    await turn();
    // The move fence is set and announced while the first answer is still on its way.
    homes.set(1n, entry(1n, 1, 3));
    cache.invalidate([1n]);
    const fresh = cache.entry(1n); // must not join the stale flight
    pending.resolve();
    expect((await stale)?.movingToDcId).toBe(0);
    expect((await fresh)?.movingToDcId).toBe(3);
    expect((await cache.entry(1n))?.movingToDcId).toBe(3);
    expect(calls).toHaveLength(2);
  });

  it('fails every waiter of a failed call and caches nothing', async () => {
    let fail = true;
    const cache = new DirectoryCache((ids) =>
      fail ? Promise.reject(new Error('auth down')) : Promise.resolve(ids.map((id) => entry(id, 1))),
    );
    await expect(Promise.all([cache.entry(1n), cache.entry(2n)])).rejects.toThrow('auth down');
    fail = false;
    expect((await cache.entry(1n))?.homeDcId).toBe(1);
  });

  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const { calls, lookup } = fakeLookup(new Map([1n, 2n, 3n].map((id) => [id, entry(id, 1)])));
    const cache = new DirectoryCache(lookup, { maxEntries: 2 });
    await cache.entry(1n);
    await cache.entry(2n);
    await cache.entry(1n); // 1 is now the most recently used
    await cache.entry(3n); // drops 2
    calls.length = 0;
    await cache.homes([1n, 3n]);
    expect(calls).toEqual([]);
    await cache.entry(2n);
    expect(calls).toEqual([[2n]]);
  });

  it('invalidateAll drops everything', async () => {
    const { calls, lookup } = fakeLookup(new Map([[1n, entry(1n, 1)]]));
    const cache = new DirectoryCache(lookup);
    await cache.entry(1n);
    cache.invalidateAll();
    await cache.entry(1n);
    expect(calls).toHaveLength(2);
  });
});

describe('ProfileCache', () => {
  function setup(down: number[] = []) {
    const homes = new Map<bigint, number>([
      [1n, 1],
      [2n, 2],
      [3n, 2],
      [4n, 3],
    ]);
    const calls: { dc: number; viewer: bigint; ids: bigint[] }[] = [];
    const names = new Map<bigint, string>();
    const cache = new ProfileCache(
      (ids) => Promise.resolve(new Map(ids.flatMap((id) => (homes.has(id) ? [[id, homes.get(id)!]] : [])))),
      (dc, viewer, ids) => {
        calls.push({ dc, viewer, ids });
        if (down.includes(dc)) return Promise.reject(new Error(`dc ${dc} down`));
        return Promise.resolve(ids.map((id) => user(id, viewer, names.get(id))));
      },
    );
    return { cache, calls, names };
  }

  it('asks each home DC once per viewer and answers in the order asked', async () => {
    const { cache, calls } = setup();
    const [a, b] = await Promise.all([cache.profiles(10n, [3n, 1n, 2n, 3n, 99n]), cache.profiles(10n, [4n])]);
    expect(a.map((u) => u.id)).toEqual([3n, 1n, 2n]);
    expect(b.map((u) => u.id)).toEqual([4n]);
    expect(calls.map((c) => [c.dc, c.ids]).sort()).toEqual([
      [1, [1n]],
      [2, [3n, 2n]],
      [3, [4n]],
    ]);
    calls.length = 0;
    await cache.profiles(10n, [1n, 2n, 3n, 4n]);
    expect(calls).toEqual([]);
  });

  it('keeps viewers apart', async () => {
    const { cache, calls } = setup();
    const [mine, theirs] = await Promise.all([cache.profiles(1n, [1n]), cache.profiles(2n, [1n])]);
    expect(mine[0]?.isSelf).toBe(true);
    expect(theirs[0]?.isSelf).toBe(false);
    expect(calls.map((c) => c.viewer).sort()).toEqual([1n, 2n]);
  });

  it('a DC that cannot be asked fails only the calls that need it', async () => {
    const { cache } = setup([3]);
    const [ok, bad] = await Promise.allSettled([cache.profiles(10n, [1n, 2n]), cache.profiles(10n, [4n])]);
    expect(ok.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
  });

  it('invalidating a user drops it for every viewer and nobody else', async () => {
    const { cache, calls, names } = setup();
    await Promise.all([cache.profiles(10n, [1n, 2n]), cache.profiles(11n, [1n])]);
    names.set(1n, 'renamed');
    cache.invalidate([1n]);
    calls.length = 0;
    const [a, b] = await Promise.all([cache.profiles(10n, [1n, 2n]), cache.profiles(11n, [1n])]);
    expect(a.map((u) => u.firstName)).toEqual(['renamed', 'u']);
    expect(b[0]?.firstName).toBe('renamed');
    expect(calls.flatMap((c) => c.ids)).toEqual([1n, 1n]);
  });
});

describe('directory.changed events', () => {
  function fakeBus() {
    const sent: { subject: string; data: Uint8Array }[] = [];
    const listeners = new Map<string, (data: Uint8Array) => void>();
    let emitStatus: ((s: { type: string }) => void) | undefined;
    const bus = {
      notify: (subject: string, data: Uint8Array) => sent.push({ subject, data }),
      listen: (subject: string, handler: (data: Uint8Array) => void) => listeners.set(subject, handler),
      nc: {
        status: () => ({
          async *[Symbol.asyncIterator]() {
            for (;;) yield await new Promise<{ type: string }>((r) => (emitStatus = r));
          },
        }),
      },
    };
    return {
      bus: bus as unknown as EventBus,
      sent,
      deliver: (data: Uint8Array) => listeners.get(globalSubjects.directoryChanged)?.(data),
      status: (type: string) => emitStatus?.({ type }),
    };
  }

  function spyCaches() {
    const seen: string[] = [];
    return {
      seen,
      caches: {
        directory: {
          invalidate: (ids: Iterable<bigint>) => seen.push(`dir ${[...ids].join(',')}`),
          invalidateAll: () => seen.push('dir all'),
        },
        profiles: {
          invalidate: (ids: Iterable<bigint>) => seen.push(`prof ${[...ids].join(',')}`),
          invalidateAll: () => seen.push('prof all'),
        },
      },
    };
  }

  it('announces on the global subject and applies locally at once', () => {
    const { bus, sent } = fakeBus();
    const { seen, caches } = spyCaches();
    announceDirectoryChange(bus, 2, [5n], DirectoryChange.HOME, caches);
    expect(seen).toEqual(['dir 5', 'prof 5']);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.subject).toBe('tern.global.directory.changed');
    expect(DirectoryChangedEvent.decode(sent[0]!.data)).toMatchObject({
      meta: { originDcId: 2 },
      userIds: [5n],
      change: DirectoryChange.HOME,
    });
  });

  it('a contact change drops both sides’ profiles but no directory entry', () => {
    const { bus, sent } = fakeBus();
    const { seen, caches } = spyCaches();
    announceContactsChanged(bus, 1, 7n, [8n, 9n], caches);
    expect(seen).toEqual(['prof 7,8,9']);
    expect(DirectoryChangedEvent.decode(sent[0]!.data).change).toBe(DirectoryChange.CONTACTS);
  });

  it('the subscriber applies events and drops everything on a reconnect', async () => {
    const { bus, deliver, status } = fakeBus();
    const { seen, caches } = spyCaches();
    subscribeInvalidations(bus, caches);
    const profileOnly = DirectoryChangedEvent.encode({
      userIds: [3n],
      change: DirectoryChange.PROFILE,
    }).finish();
    deliver(profileOnly);
    const unknownKind = DirectoryChangedEvent.encode({
      userIds: [4n],
      change: DirectoryChange.UNSPECIFIED,
    }).finish();
    deliver(unknownKind);
    await turn();
    status('reconnect');
    await turn();
    expect(seen).toEqual(['prof 3', 'dir 4', 'prof 4', 'dir all', 'prof all']);
  });
});
