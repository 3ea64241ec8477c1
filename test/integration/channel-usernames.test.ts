/**
 * Channel usernames in the one global username namespace, against the real Cassandra of the local
 * stack: auth's global migrations (0003 adds `usernames.channel_id`) applied to a throwaway
 * keyspace, the real UsernameStore's lightweight transactions under the auth handlers
 * (SetChannelUsername, UpdateUsername, CheckUsername, ResolveUsername). Users' profiles are kept in
 * memory: only the namespace is under test.
 *   - a channel claims a name (idempotently), renames (the old name is released), releases it,
 *   - users and channels cannot take each other's names,
 *   - ResolveUsername answers a channel's name with the channel peer only,
 *   - two channels (and a user and a channel) racing for one name: exactly one wins.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Client } from 'cassandra-driver';
import {
  applyMigrations,
  connectWithRetry,
  createCassandraClient,
  createLogger,
  ensureKeyspace,
  loadMigrations,
  TernError,
} from '../../services/shared/src';
import type { RequestContext } from '../../services/shared/src/gen/tern/common/v1/context';
import { profileHandlers } from '../../services/auth/src/api/profile';
import { userOf, type ProfileReader, type ProfileView } from '../../services/auth/src/internal/profiles';
import type { Directory } from '../../services/auth/src/storage/directory';
import type { LoginStore, UserProfile } from '../../services/auth/src/storage/login';
import { UsernameStore } from '../../services/auth/src/storage/usernames';
import { cassandraSettings, stack } from '../support/stack';

const log = createLogger({ level: 'warn', base: { test: 'channel-usernames' } });

const context = (userId: bigint): RequestContext => ({
  authKeyId: 1n,
  sessionId: 1n,
  userId,
  dcId: 1,
  layer: 198,
  clientIp: '127.0.0.1',
  msgId: 0n,
});
/** The gRPC call object, which the handlers do not use. */
const noCall = undefined as never;

/** The Telegram error name `p` rejects with, or OK. */
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (err: unknown) => (err instanceof TernError ? err.telegramName : String(err)),
  );

/** A valid username no earlier run used (the keyspace is fresh anyway). */
let counter = 0;
const uniqueName = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 10)}${counter++}`;

describe('channel usernames (real Cassandra)', () => {
  const s = stack();
  const settings = cassandraSettings(s);
  const keyspace = `tern_test_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  let ddl: Client;
  let db: Client;
  let store: UsernameStore;
  const users = new Map<bigint, UserProfile>();
  let h: ReturnType<typeof profileHandlers>;

  const addUser = (userId: bigint) =>
    users.set(userId, {
      userId,
      accessHash: 7n,
      phone: `99966${userId}`,
      firstName: 'u',
      lastName: '',
      username: '',
      about: '',
    });
  const setChannel = (channelId: bigint, username: string, previous = '', checkOnly = false) =>
    h.setChannelUsername({ context: context(0n), channelId, username, previous, checkOnly }, noCall);
  const setUser = (userId: bigint, username: string) =>
    h.updateUsername({ context: context(userId), username }, noCall);
  const holder = async (name: string) => {
    const o = await store.owner(name);
    return o && { kind: o.kind, id: o.id };
  };

  beforeAll(async () => {
    ddl = createCassandraClient(settings);
    await connectWithRetry(ddl, 30);
    await ensureKeyspace(ddl, keyspace, { class: 'SimpleStrategy', replication_factor: 1 });
    db = createCassandraClient(settings, keyspace);
    await connectWithRetry(db, 5);
    const migrations = loadMigrations(join(__dirname, '..', '..', 'services'), 'global').filter(
      (m) => m.service === 'auth',
    );
    expect(migrations.map((m) => m.name)).toContain('channel_usernames');
    await applyMigrations(db, keyspace, migrations, log);
    store = new UsernameStore(db);
    const login = {
      profile: (id: bigint) => Promise.resolve(users.get(id)),
      updateProfile: (id: bigint, change: Partial<UserProfile>) => {
        const p = users.get(id);
        if (p) users.set(id, { ...p, ...change });
        return Promise.resolve(p !== undefined);
      },
    } as unknown as LoginStore;
    const reader = {
      read: (viewer: bigint, ids: bigint[]) => {
        const out = new Map<bigint, ProfileView>();
        for (const id of ids) {
          const p = users.get(id);
          if (p) out.set(id, { user: userOf(p, 1, viewer), about: p.about });
        }
        return Promise.resolve(out);
      },
    } as unknown as ProfileReader;
    const directory = { byId: () => Promise.resolve(undefined) } as unknown as Directory;
    h = profileHandlers({ dcId: 1, login, directory, usernames: store, reader });
  }, 120_000);

  afterAll(async () => {
    await db?.shutdown();
    await ddl?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await ddl?.shutdown();
  });

  it('a channel claims a name, idempotently and in any case; check_only claims nothing', async () => {
    const name = uniqueName('news');
    await expect(setChannel(101n, name, '', true)).resolves.toEqual({});
    expect(await holder(name)).toBeUndefined();
    await expect(setChannel(101n, name)).resolves.toEqual({});
    await expect(setChannel(101n, name.toUpperCase())).resolves.toEqual({});
    expect(await holder(name.toUpperCase())).toEqual({ kind: 'channel', id: 101n });
    await expect(setChannel(101n, name, '', true)).resolves.toEqual({});
    expect(await outcome(setChannel(102n, name, '', true))).toBe('USERNAME_OCCUPIED');
    expect(await outcome(setChannel(102n, name))).toBe('USERNAME_OCCUPIED');
    expect(await outcome(setChannel(101n, 'bad__name'))).toBe('USERNAME_INVALID');
  });

  it('users and channels cannot take each other’s names', async () => {
    addUser(201n);
    const userName = uniqueName('alice');
    await setUser(201n, userName);
    expect(await outcome(setChannel(103n, userName))).toBe('USERNAME_OCCUPIED');
    expect(await outcome(setChannel(103n, userName, '', true))).toBe('USERNAME_OCCUPIED');
    expect(await holder(userName)).toEqual({ kind: 'user', id: 201n });

    const channelName = uniqueName('chan');
    await setChannel(103n, channelName);
    expect(await h.checkUsername({ context: context(201n), username: channelName }, noCall)).toEqual({
      available: false,
    });
    expect(await outcome(setUser(201n, channelName))).toBe('USERNAME_OCCUPIED');
    expect(users.get(201n)!.username).toBe(userName);
    expect(await holder(channelName)).toEqual({ kind: 'channel', id: 103n });
  });

  it('a rename holds the new name and releases the old; an empty name releases', async () => {
    const first = uniqueName('first');
    const second = uniqueName('second');
    await setChannel(104n, first);
    await setChannel(104n, second, first);
    expect(await holder(second)).toEqual({ kind: 'channel', id: 104n });
    expect(await holder(first)).toBeUndefined();
    // The old name is free for anyone now, a user included.
    addUser(202n);
    await setUser(202n, first);
    expect(await holder(first)).toEqual({ kind: 'user', id: 202n });
    // `previous` that is not the channel's own is left alone.
    await setChannel(104n, '', first);
    expect(await holder(first)).toEqual({ kind: 'user', id: 202n });
    await setChannel(104n, '', second);
    expect(await holder(second)).toBeUndefined();
  });

  it('ResolveUsername answers a channel’s name with the channel peer only', async () => {
    const name = uniqueName('resolve');
    await setChannel(105n, name);
    expect(
      await h.resolveUsername({ context: context(201n), username: `@${name.toUpperCase()}` }, noCall),
    ).toEqual({
      peer: { kind: { $case: 'channelId', value: 105n } },
    });
    await setChannel(105n, '', name);
    expect(await outcome(h.resolveUsername({ context: context(201n), username: name }, noCall))).toBe(
      'USERNAME_NOT_OCCUPIED',
    );
  });

  it('the store: a stale user claim can pass to a channel, a channel’s claim never to a user', async () => {
    const name = uniqueName('stale');
    expect(await store.claim(name, { kind: 'user', id: 204n })).toEqual({ kind: 'user', id: 204n });
    // Taking over from another user than the holder is refused and names the holder.
    expect(await store.claim(name, { kind: 'channel', id: 106n }, 999n)).toEqual({ kind: 'user', id: 204n });
    expect(await store.claim(name, { kind: 'channel', id: 106n }, 204n)).toEqual({
      kind: 'channel',
      id: 106n,
    });
    const row = (
      await db.execute('SELECT user_id, channel_id FROM usernames WHERE username = ?', [name.toLowerCase()], {
        prepare: true,
      })
    ).first();
    expect(row.get('user_id')).toBeNull();
    expect(String(row.get('channel_id'))).toBe('106');
    // The user's takeover condition (user_id = its id) fails on a channel's row.
    expect(await store.claim(name, { kind: 'user', id: 204n }, 204n)).toEqual({ kind: 'channel', id: 106n });
    expect(await store.claim(name, { kind: 'user', id: 204n })).toEqual({ kind: 'channel', id: 106n });
    // Releasing as the user (same id, other kind) leaves the channel's name alone.
    await store.release(name, { kind: 'user', id: 106n });
    expect(await holder(name)).toEqual({ kind: 'channel', id: 106n });
    await store.release(name, { kind: 'channel', id: 106n });
    expect(await holder(name)).toBeUndefined();
  });

  it('two channels racing for one name: exactly one wins, every time', async () => {
    for (let round = 0; round < 20; round++) {
      const name = uniqueName('race');
      const [a, b] = await Promise.all([outcome(setChannel(301n, name)), outcome(setChannel(302n, name))]);
      expect([a, b].sort()).toEqual(['OK', 'USERNAME_OCCUPIED']);
      expect(await holder(name)).toEqual({ kind: 'channel', id: a === 'OK' ? 301n : 302n });
    }
  });

  it('eight channels and a user racing for one name: exactly one wins', async () => {
    addUser(203n);
    for (let round = 0; round < 5; round++) {
      const name = uniqueName('crowd');
      const channels = Array.from({ length: 8 }, (_, i) => BigInt(400 + i));
      const results = await Promise.all([
        ...channels.map((id) => outcome(setChannel(id, name))),
        outcome(setUser(203n, name)),
      ]);
      expect(results.filter((r) => r === 'OK')).toHaveLength(1);
      expect(results.filter((r) => r !== 'OK').every((r) => r === 'USERNAME_OCCUPIED')).toBe(true);
      const winner = results.indexOf('OK');
      expect(await holder(name)).toEqual(
        winner < channels.length ? { kind: 'channel', id: channels[winner] } : { kind: 'user', id: 203n },
      );
      // A user that won shows it; release it for the next round.
      if (winner === channels.length) await setUser(203n, '');
    }
  });
});
