/**
 * Reading profiles wherever they live: a user's profile is kept only by its home DC (directory),
 * so profiles of users homed elsewhere come from that DC's auth service (GetProfiles).
 *
 * What a viewer sees of a user also depends on their contact relation and the user's status, both
 * kept by the messaging service of the user's home DC — the same DC as the profile, so rendering
 * asks only its own DC's messaging service (GetContactLinks; docs/decisions/0009-contacts-and-status.md).
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { isServiceError, unary, type DcClients, type Logger } from '../../../shared/src';
import type { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type {
  ContactLink,
  MessagingServiceClient,
} from '../../../shared/src/gen/tern/messaging/v1/messaging';
import type { Directory } from '../storage/directory';
import type { LoginStore, UserProfile } from '../storage/login';

/**
 * A profile as `viewer` sees it. With the contact relation (`link`): `contact` when the viewer has
 * the user, `mutual_contact` when both have each other, the phone when the viewer has the user (it
 * imported that number) or the user has the viewer (Telegram's default phone privacy, "My
 * contacts"), and the status as the user's home DC decided the viewer may see it. Without a link
 * (the user itself at login, or no relation known) only the user itself sees its number.
 */
export function userOf(p: UserProfile, homeDc: number, viewer: bigint, link?: ContactLink): User {
  const isSelf = p.userId === viewer;
  const contact = !isSelf && link?.viewerHasUser === true;
  const theyHaveViewer = !isSelf && link?.userHasViewer === true;
  return {
    id: p.userId,
    accessHash: p.accessHash,
    firstName: p.firstName,
    lastName: p.lastName,
    username: p.username,
    phone: isSelf || contact || theyHaveViewer ? p.phone : '',
    dcId: homeDc,
    ...(link?.status ? { status: link.status } : {}),
    isSelf,
    contact,
    mutualContact: contact && theyHaveViewer,
    deleted: false,
    bot: false,
    // Everyone who can see the user sees its photo (Tern has no privacy settings for photos).
    ...(p.photo ? { photo: p.photo } : {}),
  };
}

/** Contact relations and statuses of users homed in this DC, as one viewer may see them. */
export interface ContactLinks {
  links(viewer: bigint, ids: bigint[]): Promise<Map<bigint, ContactLink>>;
}

/**
 * ContactLinks from this DC's messaging service, which keeps contacts and statuses. When that
 * service does not answer, profiles render with no relation (as to a stranger: no phone, no exact
 * status) rather than fail: showing less is safe, and sign-in, username lookups and messages from
 * other DCs keep working while messaging is down.
 */
export function messagingLinks(messaging: MessagingServiceClient, log?: Logger): ContactLinks {
  return {
    async links(viewer, ids) {
      if (ids.length === 0) return new Map();
      try {
        const res = await unary(messaging.getContactLinks.bind(messaging), {
          viewerId: viewer,
          userIds: ids,
        });
        return new Map(res.links.map((l) => [l.userId, l]));
      } catch (err) {
        if (!isServiceError(err) || err.code !== GrpcStatus.UNAVAILABLE) throw err;
        log?.warn({ err }, 'messaging unavailable: profiles shown without contact relations');
        return new Map();
      }
    },
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
    /**
     * Where relations and statuses come from; without it every other user renders as a stranger
     * with no status (tools and tests that need no messaging service).
     */
    private readonly contactLinks?: ContactLinks,
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

  /**
   * Profiles kept in this DC. A failure to read relations fails the call rather than showing a
   * contact as a stranger: clients cache users, and a wrong `contact` flag would stick.
   */
  async local(viewer: bigint, ids: bigint[]): Promise<ProfileView[]> {
    const found: UserProfile[] = [];
    for (const id of ids) {
      const p = await this.login.profile(id);
      if (p) found.push(p);
    }
    const links =
      (await this.contactLinks?.links(
        viewer,
        found.map((p) => p.userId),
      )) ?? new Map<bigint, ContactLink>();
    return found.map((p) => ({ user: userOf(p, this.dcId, viewer, links.get(p.userId)), about: p.about }));
  }
}
