/**
 * Users and their profiles: users.getUsers, users.getFullUser, account.updateProfile, usernames
 * (account.checkUsername/updateUsername, contacts.resolveUsername, and channels' SetChannelUsername:
 * users and channels share one namespace) and the cross-DC GetProfiles.
 *
 * A profile lives only in its user's home DC. A call about the caller's own account on another DC
 * answers USER_MIGRATE_<home>; other users' profiles are fetched from their home DC over gRPC.
 */
import { errors, type AsyncService, requireUser } from '../../../shared/src';
import type { AuthServiceServer } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { InputUser } from '../../../shared/src/gen/tern/common/v1/peer';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import { userOf, type ProfileReader } from '../internal/profiles';
import type { DirectoryNotices } from '../internal/directory-notices';
import { checkUsername, USERNAME_CLAIM_GRACE_MS } from '../internal/username';
import type { Directory } from '../storage/directory';
import type { LoginStore, UserProfile } from '../storage/login';
import {
  sameHolder,
  type UsernameClaim,
  type UsernameHolder,
  type UsernameStore,
} from '../storage/usernames';

export interface ProfileDeps {
  dcId: number;
  login: LoginStore;
  directory: Directory;
  usernames: Pick<UsernameStore, 'owner' | 'claim' | 'release'>;
  reader: ProfileReader;
  /** Tells every DC's messaging to drop its cached copies of a changed profile. */
  notices?: DirectoryNotices;
}

type Handlers = Pick<
  AsyncService<AuthServiceServer>,
  | 'getUsers'
  | 'getFullUser'
  | 'getProfiles'
  | 'updateProfile'
  | 'checkUsername'
  | 'updateUsername'
  | 'resolveUsername'
  | 'setChannelUsername'
  | 'lookupPhone'
  | 'lookupUserDc'
>;

/** The caller's own profile: only its home DC has it (USER_MIGRATE_X elsewhere). */
export async function ownProfileOf(
  d: Pick<ProfileDeps, 'dcId' | 'login' | 'directory'>,
  userId: bigint,
): Promise<UserProfile> {
  const profile = await d.login.profile(userId);
  if (profile && profile.movingTo === undefined) return profile;
  const entry = await d.directory.byId(userId);
  if (entry && entry.homeDc !== d.dcId) throw errors.migrate('USER', entry.homeDc);
  if (profile) return profile; // a move is starting; reads are still served here
  throw errors.unauthorized('AUTH_KEY_UNREGISTERED'); // the user is gone
}

const ABOUT_MAX = 70;
const NAME_MAX = 64;

export function profileHandlers(d: ProfileDeps): Handlers {
  const ownProfile = (userId: bigint) => ownProfileOf(d, userId);

  const profiles = (viewer: bigint, ids: bigint[]) => d.reader.read(viewer, ids);

  /** Resolves an InputUser the caller named; a wrong access_hash reads as unknown. */
  async function resolveInput(viewer: bigint, input: InputUser | undefined) {
    if (!input?.kind) return undefined;
    if (input.kind.$case === 'self' || input.kind.value.userId === viewer) {
      const p = await ownProfile(viewer);
      return { user: userOf(p, d.dcId, viewer), about: p.about };
    }
    const { userId, accessHash } = input.kind.value;
    const found = (await profiles(viewer, [userId])).get(userId);
    return found && found.user.accessHash === accessHash ? found : undefined;
  }

  /**
   * Whether `name`'s claim by a user is left over from an interrupted change (no profile shows it).
   * A channel's claim is never stale here: only the channel service knows the channel's name.
   */
  async function staleClaim(name: string, owner: UsernameClaim): Promise<boolean> {
    if (owner.kind !== 'user' || Date.now() - owner.since < USERNAME_CLAIM_GRACE_MS) return false;
    const p = (await profiles(owner.id, [owner.id])).get(owner.id);
    return !p || p.user.username.toLowerCase() !== name.toLowerCase();
  }

  /** Whether `holder` may take `name`: nobody holds it, `holder` does, or its claim is stale. */
  async function available(name: string, holder: UsernameHolder): Promise<boolean> {
    const owner = await d.usernames.owner(name);
    return !owner || sameHolder(owner, holder) || (await staleClaim(name, owner));
  }

  /**
   * Claims `name` for `holder` (idempotent: a holder claiming its own name succeeds), taking a stale
   * user claim over. Returns false when someone else holds it.
   */
  async function claim(name: string, holder: UsernameHolder): Promise<boolean> {
    // A name released between two steps is simply claimed again, a few times at most.
    for (let attempt = 0; attempt < 3; attempt++) {
      const after = await d.usernames.claim(name, holder);
      if (sameHolder(after, holder)) return true;
      if (!after) continue;
      const current = await d.usernames.owner(name);
      if (!current) continue;
      if (sameHolder(current, holder)) return true;
      if (current.kind !== 'user' || !(await staleClaim(name, current))) return false;
      if (sameHolder(await d.usernames.claim(name, holder, current.id), holder)) return true;
    }
    return false;
  }

  async function writeProfile(userId: bigint, change: Parameters<LoginStore['updateProfile']>[1]) {
    if (await d.login.updateProfile(userId, change)) return;
    await ownProfile(userId); // USER_MIGRATE_X if the move finished meanwhile
    throw errors.floodWait(3); // a move is under way: the client retries shortly
  }

  return {
    async getUsers(req) {
      const viewer = requireUser(req.context);
      const users: User[] = [];
      for (const input of req.users) {
        const found = await resolveInput(viewer, input);
        if (found) users.push(found.user);
      }
      return { users };
    },

    async getFullUser(req) {
      const viewer = requireUser(req.context);
      const found = await resolveInput(viewer, req.user);
      if (!found) throw errors.badRequest('USER_ID_INVALID');
      return { user: found.user, about: found.about };
    },

    async getProfiles(req) {
      return { profiles: await d.reader.local(req.viewerId, req.userIds.slice(0, 200)) };
    },

    async updateProfile(req) {
      const userId = requireUser(req.context);
      await ownProfile(userId);
      const firstName = req.firstName?.trim();
      if (firstName !== undefined && (firstName.length === 0 || firstName.length > NAME_MAX))
        throw errors.badRequest('FIRSTNAME_INVALID');
      const lastName = req.lastName?.trim();
      if (lastName !== undefined && lastName.length > NAME_MAX) throw errors.badRequest('LASTNAME_INVALID');
      if (req.about !== undefined && req.about.length > ABOUT_MAX) throw errors.badRequest('ABOUT_TOO_LONG');
      await writeProfile(userId, { firstName, lastName, about: req.about });
      d.notices?.profile(userId);
      return { user: userOf(await ownProfile(userId), d.dcId, userId) };
    },

    async checkUsername(req) {
      const userId = requireUser(req.context);
      const name = checkUsername(req.username);
      // A name a channel holds is occupied too (one namespace).
      return { available: await available(name, { kind: 'user', id: userId }) };
    },

    async updateUsername(req) {
      const userId = requireUser(req.context);
      const profile = await ownProfile(userId);
      const old = profile.username;
      const wanted = req.username.trim();
      if (wanted === old) throw errors.badRequest('USERNAME_NOT_MODIFIED');
      const self = { kind: 'user', id: userId } as const;
      if (wanted !== '') {
        const name = checkUsername(wanted);
        // Claim first, then show it on the profile, then give the old one up: a crash in between
        // leaves at worst a claim no profile shows, which staleClaim() lets others take later.
        // A channel's name is never taken (USERNAME_OCCUPIED).
        if (!(await claim(name, self))) throw errors.badRequest('USERNAME_OCCUPIED');
      }
      await writeProfile(userId, { username: wanted });
      d.notices?.profile(userId);
      if (old && old.toLowerCase() !== wanted.toLowerCase()) await d.usernames.release(old, self);
      return { user: userOf(await ownProfile(userId), d.dcId, userId) };
    },

    async resolveUsername(req) {
      const viewer = requireUser(req.context);
      const name = req.username.trim().replace(/^@/, '');
      if (!/^[A-Za-z0-9_]{1,32}$/.test(name)) throw errors.badRequest('USERNAME_INVALID');
      const owner = await d.usernames.owner(name);
      // A channel's name: only the peer; the caller asks the channel service for the rest.
      if (owner?.kind === 'channel') return { peer: { kind: { $case: 'channelId', value: owner.id } } };
      const found = owner && (await profiles(viewer, [owner.id])).get(owner.id);
      if (!found || found.user.username.toLowerCase() !== name.toLowerCase())
        throw errors.badRequest('USERNAME_NOT_OCCUPIED');
      return { peer: { kind: { $case: 'userId', value: found.user.id } }, user: found.user };
    },

    /**
     * A channel's public username (the channel service has checked the caller's rights). Claim the
     * new name first, then give `previous` up: a crash in between leaves the channel holding both,
     * and the channel service's retry (same request) finishes the change.
     */
    async setChannelUsername(req) {
      const channel = { kind: 'channel', id: req.channelId } as const;
      if (req.checkOnly) {
        // channel_id 0: a channel about to be created (channels.checkUsername without a channel).
        const name = checkUsername(req.username);
        if (!(await available(name, channel))) throw errors.badRequest('USERNAME_OCCUPIED');
        return {};
      }
      if (req.channelId <= 0n) throw errors.badRequest('CHANNEL_INVALID');
      const wanted = req.username.trim();
      const name = wanted === '' ? '' : checkUsername(wanted);
      if (name !== '' && !(await claim(name, channel))) throw errors.badRequest('USERNAME_OCCUPIED');
      const previous = req.previous.trim().replace(/^@/, '');
      // Only if it is still this channel's (the release is conditional), and not a change of case.
      if (previous !== '' && previous.toLowerCase() !== name.toLowerCase())
        await d.usernames.release(previous, channel);
      return {};
    },

    async lookupPhone(req) {
      const entries = [];
      for (const phone of req.phoneNumbers.slice(0, 1000)) {
        const e = await d.directory.byPhone(phone);
        if (e)
          entries.push({
            userId: e.userId,
            phoneNumber: e.phone,
            homeDcId: e.homeDc,
            movingToDcId: e.movingTo ?? 0,
          });
      }
      return { entries };
    },

    async lookupUserDc(req) {
      const entries = [];
      for (const id of req.userIds.slice(0, 1000)) {
        const e = await d.directory.byId(id);
        if (e)
          entries.push({
            userId: e.userId,
            phoneNumber: e.phone,
            homeDcId: e.homeDc,
            movingToDcId: e.movingTo ?? 0,
          });
      }
      return { entries };
    },
  };
}
