/**
 * Users and their profiles: users.getUsers, users.getFullUser, account.updateProfile, usernames
 * (account.checkUsername/updateUsername, contacts.resolveUsername) and the cross-DC GetProfiles.
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
import type { UsernameStore } from '../storage/usernames';

export interface ProfileDeps {
  dcId: number;
  login: LoginStore;
  directory: Directory;
  usernames: UsernameStore;
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

  /** Whether `name`'s claim by `owner` is left over from an interrupted change (no profile shows it). */
  async function staleClaim(name: string, owner: { userId: bigint; since: number }): Promise<boolean> {
    if (Date.now() - owner.since < USERNAME_CLAIM_GRACE_MS) return false;
    const p = (await profiles(owner.userId, [owner.userId])).get(owner.userId);
    return !p || p.user.username.toLowerCase() !== name.toLowerCase();
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
      const owner = await d.usernames.owner(name);
      return { available: !owner || owner.userId === userId || (await staleClaim(name, owner)) };
    },

    async updateUsername(req) {
      const userId = requireUser(req.context);
      const profile = await ownProfile(userId);
      const old = profile.username;
      const wanted = req.username.trim();
      if (wanted === old) throw errors.badRequest('USERNAME_NOT_MODIFIED');
      if (wanted !== '') {
        const name = checkUsername(wanted);
        // Claim first, then show it on the profile, then give the old one up: a crash in between
        // leaves at worst a claim no profile shows, which staleClaim() lets others take later.
        let owner = await d.usernames.claim(name, userId);
        if (owner !== userId) {
          const holder = await d.usernames.owner(name);
          if (!holder || !(await staleClaim(name, holder))) throw errors.badRequest('USERNAME_OCCUPIED');
          owner = await d.usernames.claim(name, userId, holder.userId);
          if (owner !== userId) throw errors.badRequest('USERNAME_OCCUPIED');
        }
      }
      await writeProfile(userId, { username: wanted });
      d.notices?.profile(userId);
      if (old && old.toLowerCase() !== wanted.toLowerCase()) await d.usernames.release(old, userId);
      return { user: userOf(await ownProfile(userId), d.dcId, userId) };
    },

    async resolveUsername(req) {
      const viewer = requireUser(req.context);
      const name = req.username.trim().replace(/^@/, '');
      if (!/^[A-Za-z0-9_]{1,32}$/.test(name)) throw errors.badRequest('USERNAME_INVALID');
      const owner = await d.usernames.owner(name);
      const found = owner && (await profiles(viewer, [owner.userId])).get(owner.userId);
      if (!found || found.user.username.toLowerCase() !== name.toLowerCase())
        throw errors.badRequest('USERNAME_NOT_OCCUPIED');
      return { peer: { kind: { $case: 'userId', value: found.user.id } }, user: found.user };
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
