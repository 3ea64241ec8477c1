/**
 * Reading profiles wherever they live: a user's profile is kept only by its home DC (directory),
 * so profiles of users homed elsewhere come from that DC's auth service (GetProfiles).
 */
import { unary, type DcClients } from '../../../shared/src';
import type { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type { Directory } from '../storage/directory';
import type { LoginStore, UserProfile } from '../storage/login';

/** A profile as `viewer` sees it. */
export function userOf(p: UserProfile, homeDc: number, viewer: bigint): User {
  const isSelf = p.userId === viewer;
  return {
    id: p.userId,
    accessHash: p.accessHash,
    firstName: p.firstName,
    lastName: p.lastName,
    username: p.username,
    phone: isSelf ? p.phone : '',
    dcId: homeDc,
    isSelf,
    contact: false,
    mutualContact: false,
    deleted: false,
    bot: false,
  };
}

export interface ProfileView {
  user: User;
  about: string;
}

export class ProfileReader {
  constructor(
    private readonly dcId: number,
    private readonly login: LoginStore,
    private readonly directory: Directory,
    private readonly authOf: DcClients<AuthServiceClient>,
  ) {}

  /** Profiles of `ids` from their home DCs, as `viewer` sees them; unknown ids are left out. */
  async read(viewer: bigint, ids: bigint[]): Promise<Map<bigint, ProfileView>> {
    const out = new Map<bigint, ProfileView>();
    const byDc = new Map<number, bigint[]>();
    for (const id of new Set(ids)) {
      const entry = await this.directory.byId(id);
      if (entry) byDc.set(entry.homeDc, [...(byDc.get(entry.homeDc) ?? []), id]);
    }
    for (const [dc, dcIds] of byDc) {
      if (dc === this.dcId) {
        for (const v of await this.local(viewer, dcIds)) out.set(v.user.id, v);
        continue;
      }
      const auth = this.authOf.forDc(dc);
      const res = await unary(auth.getProfiles.bind(auth), { viewerId: viewer, userIds: dcIds });
      for (const p of res.profiles) if (p.user) out.set(p.user.id, { user: p.user, about: p.about });
    }
    return out;
  }

  /** Profiles kept in this DC. */
  async local(viewer: bigint, ids: bigint[]): Promise<ProfileView[]> {
    const out: ProfileView[] = [];
    for (const id of ids) {
      const p = await this.login.profile(id);
      if (p) out.push({ user: userOf(p, this.dcId, viewer), about: p.about });
    }
    return out;
  }
}
