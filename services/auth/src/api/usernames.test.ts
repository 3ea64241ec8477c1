/**
 * The username RPCs over one namespace shared by users and channels, with an in-memory store that
 * keeps the rules of the real one (a conditional claim per lower-cased name, conditional release).
 * The real table is exercised by test/integration/channel-usernames.test.ts.
 */
import { cassandraTypes, TernError } from '../../../shared/src';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import type { ProfileReader, ProfileView } from '../internal/profiles';
import { userOf } from '../internal/profiles';
import { USERNAME_CLAIM_GRACE_MS } from '../internal/username';
import type { Directory } from '../storage/directory';
import type { LoginStore, UserProfile } from '../storage/login';
import {
  holderOf,
  sameHolder,
  type UsernameClaim,
  type UsernameHolder,
  type UsernameStore,
} from '../storage/usernames';
import { profileHandlers } from './profile';

type Store = Pick<UsernameStore, 'owner' | 'claim' | 'release'>;

/** The rules of storage/usernames.ts, in memory. */
class MemoryUsernames implements Store {
  readonly rows = new Map<string, UsernameClaim>();

  owner(name: string): Promise<UsernameClaim | undefined> {
    return Promise.resolve(this.rows.get(name.toLowerCase()));
  }

  claim(name: string, holder: UsernameHolder, replacingUser?: bigint): Promise<UsernameHolder | undefined> {
    const key = name.toLowerCase();
    const row = this.rows.get(key);
    const take = replacingUser === undefined ? !row : row?.kind === 'user' && row.id === replacingUser;
    if (take) this.rows.set(key, { ...holder, since: Date.now() });
    const after = this.rows.get(key);
    return Promise.resolve(after && { kind: after.kind, id: after.id });
  }

  release(name: string, holder: UsernameHolder): Promise<void> {
    if (sameHolder(this.rows.get(name.toLowerCase()), holder)) this.rows.delete(name.toLowerCase());
    return Promise.resolve();
  }
}

const context = (userId: bigint): RequestContext => ({
  authKeyId: 1n,
  sessionId: 1n,
  userId,
  dcId: 1,
  layer: 198,
  clientIp: '127.0.0.1',
  msgId: 0n,
});

function setup() {
  const usernames = new MemoryUsernames();
  const users = new Map<bigint, UserProfile>();
  const addUser = (userId: bigint, username = '') =>
    users.set(userId, {
      userId,
      accessHash: 7n,
      phone: '99966' + String(userId),
      firstName: 'u',
      lastName: '',
      username,
      about: '',
    });
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
  const h = profileHandlers({ dcId: 1, login, directory, usernames, reader });
  const setChannel = (channelId: bigint, username: string, previous = '', checkOnly = false) =>
    h.setChannelUsername({ context: context(0n), channelId, username, previous, checkOnly }, noCall);
  return { usernames, users, addUser, h, setChannel };
}

/** The Telegram error name `p` rejects with. */
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (err: unknown) => (err instanceof TernError ? err.telegramName : String(err)),
  );

/** The gRPC call object, which the handlers do not use. */
const noCall = undefined as never;

const channel = (id: bigint): UsernameHolder => ({ kind: 'channel', id });

describe('holderOf / sameHolder', () => {
  it('reads the holder from the row, user or channel', () => {
    const long = cassandraTypes.Long.fromString('42');
    expect(holderOf(long, null)).toEqual({ kind: 'user', id: 42n });
    expect(holderOf(null, long)).toEqual({ kind: 'channel', id: 42n });
    expect(holderOf(undefined, long)).toEqual({ kind: 'channel', id: 42n });
    expect(holderOf(null, null)).toBeUndefined();
  });

  it('tells a user from a channel with the same id', () => {
    expect(sameHolder({ kind: 'user', id: 1n }, { kind: 'user', id: 1n })).toBe(true);
    expect(sameHolder({ kind: 'user', id: 1n }, { kind: 'channel', id: 1n })).toBe(false);
    expect(sameHolder(undefined, { kind: 'channel', id: 1n })).toBe(false);
  });
});

describe('SetChannelUsername', () => {
  it('claims a name, idempotently, in any case', async () => {
    const t = setup();
    await expect(t.setChannel(10n, 'news_room')).resolves.toEqual({});
    await expect(t.setChannel(10n, 'News_Room')).resolves.toEqual({});
    expect(await t.usernames.owner('NEWS_ROOM')).toMatchObject(channel(10n));
  });

  it('refuses a name another channel or a user holds', async () => {
    const t = setup();
    await t.setChannel(10n, 'news_room');
    expect(await refusal(t.setChannel(11n, 'NEWS_room'))).toBe('USERNAME_OCCUPIED');
    t.addUser(5n, 'alice');
    await t.usernames.claim('alice', { kind: 'user', id: 5n });
    expect(await refusal(t.setChannel(11n, 'Alice'))).toBe('USERNAME_OCCUPIED');
    expect(await t.usernames.owner('alice')).toMatchObject({ kind: 'user', id: 5n });
  });

  it('refuses bad syntax with USERNAME_INVALID, the user rules', async () => {
    const t = setup();
    for (const bad of ['abcd', '1news', 'news_', 'ne__ws', 'x'.repeat(33)]) {
      expect(await refusal(t.setChannel(10n, bad))).toBe('USERNAME_INVALID');
      expect(await refusal(t.setChannel(10n, bad, '', true))).toBe('USERNAME_INVALID');
    }
    expect(t.usernames.rows.size).toBe(0);
  });

  it('renames: the new name is held, then the previous released', async () => {
    const t = setup();
    await t.setChannel(10n, 'old_name');
    await t.setChannel(10n, 'new_name', 'old_name');
    expect(await t.usernames.owner('new_name')).toMatchObject(channel(10n));
    expect(await t.usernames.owner('old_name')).toBeUndefined();
  });

  it('keeps the name on a change of case only', async () => {
    const t = setup();
    await t.setChannel(10n, 'news_room');
    await t.setChannel(10n, 'News_Room', 'news_room');
    expect(await t.usernames.owner('news_room')).toMatchObject(channel(10n));
  });

  it('a refused rename keeps the previous name', async () => {
    const t = setup();
    await t.setChannel(10n, 'old_name');
    await t.setChannel(11n, 'taken_name');
    expect(await refusal(t.setChannel(10n, 'taken_name', 'old_name'))).toBe('USERNAME_OCCUPIED');
    expect(await t.usernames.owner('old_name')).toMatchObject(channel(10n));
  });

  it('an empty name releases the previous only, and never what someone else holds', async () => {
    const t = setup();
    await t.setChannel(10n, 'mine_name');
    await t.setChannel(11n, 'their_name');
    await t.setChannel(10n, '', 'their_name');
    expect(await t.usernames.owner('their_name')).toMatchObject(channel(11n));
    await t.setChannel(10n, '', '@mine_name');
    expect(await t.usernames.owner('mine_name')).toBeUndefined();
  });

  it('check_only answers without claiming', async () => {
    const t = setup();
    await expect(t.setChannel(10n, 'free_name', '', true)).resolves.toEqual({});
    expect(t.usernames.rows.size).toBe(0);
    await t.setChannel(10n, 'mine_name');
    await expect(t.setChannel(10n, 'mine_name', '', true)).resolves.toEqual({});
    expect(await refusal(t.setChannel(11n, 'mine_name', '', true))).toBe('USERNAME_OCCUPIED');
    // channel_id 0: a channel about to be created.
    await expect(t.setChannel(0n, 'free_name', '', true)).resolves.toEqual({});
    expect(await refusal(t.setChannel(0n, 'mine_name', '', true))).toBe('USERNAME_OCCUPIED');
  });

  it('claims need a channel', async () => {
    const t = setup();
    expect(await refusal(t.setChannel(0n, 'free_name'))).toBe('CHANNEL_INVALID');
  });

  it('takes over a stale user claim (no profile shows it), never a fresh one', async () => {
    const t = setup();
    t.addUser(5n, '');
    await t.usernames.claim('left_over', { kind: 'user', id: 5n });
    expect(await refusal(t.setChannel(10n, 'left_over'))).toBe('USERNAME_OCCUPIED');
    t.usernames.rows.get('left_over')!.since = Date.now() - USERNAME_CLAIM_GRACE_MS - 1;
    await expect(t.setChannel(10n, 'left_over', '', true)).resolves.toEqual({});
    await t.setChannel(10n, 'left_over');
    expect(await t.usernames.owner('left_over')).toMatchObject(channel(10n));
  });
});

describe('user username RPCs and channel names', () => {
  it('CheckUsername says a channel-held name is not available, even an old claim', async () => {
    const t = setup();
    t.addUser(5n);
    await t.setChannel(10n, 'news_room');
    t.usernames.rows.get('news_room')!.since = 0;
    expect(await t.h.checkUsername({ context: context(5n), username: 'News_Room' }, noCall)).toEqual({
      available: false,
    });
    expect(await t.h.checkUsername({ context: context(5n), username: 'other_name' }, noCall)).toEqual({
      available: true,
    });
  });

  it('UpdateUsername refuses a channel-held name and keeps the old one', async () => {
    const t = setup();
    t.addUser(5n, 'alice');
    await t.usernames.claim('alice', { kind: 'user', id: 5n });
    await t.setChannel(10n, 'news_room');
    t.usernames.rows.get('news_room')!.since = 0;
    expect(await refusal(t.h.updateUsername({ context: context(5n), username: 'news_room' }, noCall))).toBe(
      'USERNAME_OCCUPIED',
    );
    expect(t.users.get(5n)!.username).toBe('alice');
    expect(await t.usernames.owner('alice')).toMatchObject({ kind: 'user', id: 5n });
    expect(await t.usernames.owner('news_room')).toMatchObject(channel(10n));
  });

  it('UpdateUsername still claims, renames and releases for users', async () => {
    const t = setup();
    t.addUser(5n);
    await t.h.updateUsername({ context: context(5n), username: 'alice' }, noCall);
    await t.h.updateUsername({ context: context(5n), username: 'alice_two' }, noCall);
    expect(await t.usernames.owner('alice')).toBeUndefined();
    expect(await t.usernames.owner('alice_two')).toMatchObject({ kind: 'user', id: 5n });
    expect(await refusal(t.setChannel(10n, 'alice_two'))).toBe('USERNAME_OCCUPIED');
  });

  it('ResolveUsername answers a channel with only its peer', async () => {
    const t = setup();
    t.addUser(5n, 'alice');
    await t.usernames.claim('alice', { kind: 'user', id: 5n });
    await t.setChannel(10n, 'news_room');
    expect(await t.h.resolveUsername({ context: context(5n), username: '@News_Room' }, noCall)).toEqual({
      peer: { kind: { $case: 'channelId', value: 10n } },
    });
    const user = await t.h.resolveUsername({ context: context(5n), username: 'alice' }, noCall);
    expect(user.peer).toEqual({ kind: { $case: 'userId', value: 5n } });
    expect(user.user?.id).toBe(5n);
    expect(
      await refusal(t.h.resolveUsername({ context: context(5n), username: 'nobody_here' }, noCall)),
    ).toBe('USERNAME_NOT_OCCUPIED');
  });
});
