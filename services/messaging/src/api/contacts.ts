/**
 * Contacts and status: contacts.importContacts / getContacts / deleteContacts, account.updateStatus,
 * and the service-to-service calls that let any DC render a user as a given viewer may see it
 * (GetContactLinks, LinkContacts, AnnounceUserStatus). docs/decisions/0009-contacts-and-status.md
 * says why it is split this way.
 *
 * The owner's list lives in the owner's home DC; the home DC of each contact keeps a reverse index
 * (who has this user). So the home DC of any user answers, from its own keyspace, both questions a
 * profile needs: does the viewer have this user (TL `contact`, and the importer sees the number it
 * imported) and does this user have the viewer (`mutual_contact`, and this user's privacy — phone
 * and exact status for its contacts only, Telegram's "My contacts" setting).
 */
import { errors, unary, type AsyncService, type Logger } from '../../../shared/src';
import { UserStatus_Kind, type User, type UserStatus } from '../../../shared/src/gen/tern/common/v1/user';
import type { InputUser } from '../../../shared/src/gen/tern/common/v1/peer';
import type { MessagingServiceServer } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import type { ContactRow, ContactStore, StatusRow } from '../storage/contacts';
import { now, type BoxCore } from './core';

type Handlers = Pick<
  AsyncService<MessagingServiceServer>,
  | 'importContacts'
  | 'getContacts'
  | 'deleteContacts'
  | 'updateStatus'
  | 'getContactLinks'
  | 'linkContacts'
  | 'announceUserStatus'
>;

/** Contacts one user may keep: bounds getContacts (one partition, every profile rendered). */
export const MAX_CONTACTS = 5000;
/** Contacts handled per importContacts call; the rest come back in retry_contacts. */
export const MAX_IMPORT = 500;
/** Users per deleteContacts call (LIMIT_INVALID beyond). */
export const MAX_DELETE = 500;
/** What auth's GetProfiles answers at most per call. */
const PROFILES_PER_CALL = 200;
/** Ids per service-to-service call (GetContactLinks, LinkContacts, AnnounceUserStatus). */
const IDS_PER_CALL = 1000;
const NAME_MAX = 64;
/**
 * How long account.updateStatus(offline=false) keeps a user online: help.getConfig's
 * online_cloud_timeout_ms. Clients refresh every online_update_period_ms (210 s), before it ends.
 */
export const ONLINE_SECONDS = 300;
/**
 * A refresh that moves the online expiry by less than this is not announced again: several
 * sessions of one user refreshing together would otherwise tell every contact each time.
 */
const ANNOUNCE_MIN_EXTENSION = 30;
const DAY = 86_400;

/** Digits of a phone number as the directory keys it; '' when it cannot be one. */
export function normalizePhone(phone: string): string {
  const digits = phone.replace(/[^\d]/g, '');
  return digits.length >= 5 && digits.length <= 15 ? digits : '';
}

/**
 * Telegram's list hash (the "usual" 64-bit algorithm over ascending contact ids): a client that
 * sends the hash of the list it holds gets contacts.contactsNotModified while it is current.
 */
export function contactsHash(ids: readonly bigint[]): bigint {
  let h = 0n;
  for (const id of [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    h ^= h >> 21n;
    h ^= BigInt.asUintN(64, h << 35n);
    h ^= h >> 4n;
    h = BigInt.asUintN(64, h + BigInt.asUintN(64, id));
  }
  return BigInt.asIntN(64, h);
}

/**
 * A stored status as `viewer` may see it. Exact (online until / last seen) when `exact`; otherwise
 * only how long ago, in Telegram's coarse steps, so strangers cannot follow someone's activity.
 * A user who never reported a status shows as "recently".
 */
export function statusFor(s: StatusRow | undefined, exact: boolean, at: number): UserStatus {
  const kind = (k: UserStatus_Kind, expires = 0, wasOnline = 0): UserStatus => ({
    kind: k,
    expires,
    wasOnline,
  });
  if (!s) return kind(UserStatus_Kind.RECENTLY);
  const online = s.onlineUntil > at;
  if (exact) {
    if (online) return kind(UserStatus_Kind.ONLINE, s.onlineUntil);
    return s.wasOnline > 0 ? kind(UserStatus_Kind.OFFLINE, 0, s.wasOnline) : kind(UserStatus_Kind.RECENTLY);
  }
  const age = at - (online ? at : s.wasOnline);
  if (age <= 3 * DAY) return kind(UserStatus_Kind.RECENTLY);
  if (age <= 7 * DAY) return kind(UserStatus_Kind.LAST_WEEK);
  if (age <= 30 * DAY) return kind(UserStatus_Kind.LAST_MONTH);
  return kind(UserStatus_Kind.EMPTY);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const cleanName = (v: string): string => v.trim().slice(0, NAME_MAX);

/**
 * @param contactsChanged how `owner` sees `ids` changed (names, mutual contact): profile caches
 *   of every DC forget them (internal/directory-cache.ts), this replica's at once.
 */
export function contactHandlers(
  core: BoxCore,
  store: ContactStore,
  log: Logger,
  contactsChanged: (owner: bigint, ids: bigint[]) => void = () => undefined,
): Handlers {
  /** Profiles as `viewer` sees them, in GetProfiles-sized calls (a contact list can be long). */
  async function render(viewer: bigint, ids: bigint[]): Promise<User[]> {
    const parts = await Promise.all(
      chunks([...new Set(ids)], PROFILES_PER_CALL).map((c) => core.users(viewer, c)),
    );
    return parts.flat();
  }

  /** `ids` grouped by home DC (ids unknown to the directory are dropped). */
  async function byHome(ids: bigint[]): Promise<Map<number, bigint[]>> {
    const out = new Map<number, bigint[]>();
    for (const [id, dc] of await core.homes([...new Set(ids)])) out.set(dc, [...(out.get(dc) ?? []), id]);
    return out;
  }

  /** The reverse index of the users among `ids` homed here (LinkContacts). */
  async function linkHere(owner: bigint, ids: bigint[], linked: boolean, atMs: number): Promise<void> {
    const here = [...(await core.homes(ids))].filter(([, dc]) => dc === core.dcId).map(([id]) => id);
    await store.link(owner, here, linked, atMs);
  }

  /** Keeps the reverse index in each contact's home DC in step with `owner`'s list. */
  async function link(owner: bigint, ids: bigint[], linked: boolean, atMs: number): Promise<void> {
    await Promise.all(
      [...(await byHome(ids))].flatMap(([dc, users]) =>
        chunks(users, IDS_PER_CALL).map(async (part) => {
          const req = { ownerUserId: owner, userIds: part, linked, atMs: BigInt(atMs) };
          if (dc === core.dcId) return linkHere(req.ownerUserId, part, linked, atMs);
          const m = core.messagingOf.forDc(dc);
          return unary(m.linkContacts.bind(m), req);
        }),
      ),
    );
  }

  /** The users a deleteContacts call names, access hashes checked (CONTACT_ID_INVALID otherwise). */
  async function resolveUsers(owner: bigint, inputs: InputUser[]): Promise<bigint[]> {
    const wanted: { userId: bigint; accessHash: bigint }[] = [];
    for (const input of inputs) {
      if (input.kind?.$case !== 'user') throw errors.badRequest('CONTACT_ID_INVALID');
      if (input.kind.value.userId === owner) continue; // one is never one's own contact
      wanted.push(input.kind.value);
    }
    const found = new Map(
      (
        await render(
          owner,
          wanted.map((w) => w.userId),
        )
      ).map((u) => [u.id, u]),
    );
    for (const w of wanted)
      if (found.get(w.userId)?.accessHash !== w.accessHash) throw errors.badRequest('CONTACT_ID_INVALID');
    return [...new Set(wanted.map((w) => w.userId))];
  }

  /** Tells the viewers allowed to see `owner`'s exact status (its contacts) that it changed. */
  async function announceStatus(owner: bigint, status: UserStatus): Promise<void> {
    const recipients = (await store.list(owner)).map((c) => c.contactId);
    const results = await Promise.allSettled(
      [...(await byHome(recipients))].flatMap(([dc, users]) =>
        chunks(users, IDS_PER_CALL).map(async (part) => {
          if (dc === core.dcId) {
            await Promise.all(
              part.map((r) =>
                core.announce(r, { $case: 'userStatus', value: { userId: owner, status } }, []),
              ),
            );
            return;
          }
          const m = core.messagingOf.forDc(dc);
          await unary(m.announceUserStatus.bind(m), { userId: owner, status, recipientUserIds: part });
        }),
      ),
    );
    // Live status is best effort: a contact that misses it sees the status on its next profile read.
    for (const r of results)
      if (r.status === 'rejected') {
        const err: unknown = r.reason;
        log.warn({ err, userId: owner.toString() }, 'status not announced');
      }
  }

  const handlers: Handlers = {
    async importContacts(req) {
      const owner = await core.ownBox(req.context);
      const retry: bigint[] = req.contacts.slice(MAX_IMPORT).map((c) => c.clientId);
      const batch = req.contacts.slice(0, MAX_IMPORT).flatMap((c) => {
        const phone = normalizePhone(c.phone);
        return phone ? [{ ...c, phone }] : [];
      });
      const found = (
        await unary(core.auth.lookupPhone.bind(core.auth), {
          phoneNumbers: [...new Set(batch.map((c) => c.phone))],
        })
      ).entries;
      const userOfPhone = new Map(found.map((e) => [e.phoneNumber, e.userId]));

      const existing = new Set((await store.list(owner)).map((c) => c.contactId));
      const rows = new Map<bigint, ContactRow>();
      const imported: { userId: bigint; clientId: bigint }[] = [];
      let added = 0;
      for (const c of batch) {
        const userId = userOfPhone.get(c.phone);
        if (userId === undefined || userId === owner) continue; // not on Tern, or oneself
        const isNew = !existing.has(userId) && !rows.has(userId);
        if (isNew && existing.size + added >= MAX_CONTACTS) {
          retry.push(c.clientId); // the list is full
          continue;
        }
        if (isNew) added++;
        rows.set(userId, {
          contactId: userId,
          phone: c.phone,
          firstName: cleanName(c.firstName),
          lastName: cleanName(c.lastName),
        });
        imported.push({ userId, clientId: c.clientId });
      }

      // The owner's list first, then the reverse index: a failure in between is repaired by the
      // client's retry, and until then the other side only lacks the new relation.
      const atMs = Date.now();
      await store.add(owner, [...rows.values()], atMs);
      await link(owner, [...rows.keys()], true, atMs);
      contactsChanged(owner, [...rows.keys()]);
      const users = await render(owner, [...rows.keys()]);
      const shown = new Set(users.map((u) => u.id));
      return {
        imported: imported.filter((i) => shown.has(i.userId)),
        retryContacts: retry,
        users,
      };
    },

    async getContacts(req) {
      const owner = await core.ownBox(req.context);
      const ids = (await store.list(owner)).map((c) => c.contactId);
      if (req.hash !== 0n && req.hash === contactsHash(ids))
        return { contacts: [], savedCount: 0, users: [], notModified: true };
      const users = await render(owner, ids);
      return {
        contacts: users.map((u) => ({ userId: u.id, mutual: u.mutualContact })),
        savedCount: 0,
        users,
        notModified: false,
      };
    },

    async deleteContacts(req) {
      const owner = await core.ownBox(req.context);
      if (req.ids.length > MAX_DELETE) throw errors.badRequest('LIMIT_INVALID');
      const ids = await resolveUsers(owner, req.ids);
      const atMs = Date.now();
      // Unlinked whether or not the owner's row was there, so a retry after a partial failure
      // still clears the reverse index.
      await store.remove(owner, ids, atMs);
      await link(owner, ids, false, atMs);
      contactsChanged(owner, ids);
      return {
        updates: {
          updates: [],
          users: await render(owner, ids),
          chats: [],
          channels: [],
          date: now(),
          seq: 0,
        },
      };
    },

    async updateStatus(req) {
      const owner = await core.ownBox(req.context);
      const at = now();
      const before = (await store.statuses([owner])).get(owner);
      const after: StatusRow = req.offline
        ? { onlineUntil: 0, wasOnline: at }
        : { onlineUntil: at + ONLINE_SECONDS, wasOnline: at };
      await store.setStatus(owner, after);
      const wasOnline = before !== undefined && before.onlineUntil > at;
      const changed =
        wasOnline === req.offline ||
        (!req.offline && after.onlineUntil - (before?.onlineUntil ?? 0) >= ANNOUNCE_MIN_EXTENSION);
      if (changed) await announceStatus(owner, statusFor(after, true, at));
      return {};
    },

    async getContactLinks(req) {
      const viewer = req.viewerId;
      const ids = [...new Set(req.userIds)].slice(0, IDS_PER_CALL);
      const [userHas, viewerHas, statuses] = await Promise.all([
        store.ownersHaving(ids, viewer),
        store.usersHadBy(ids, viewer),
        store.statuses(ids),
      ]);
      const at = now();
      return {
        links: ids.map((id) => ({
          userId: id,
          userHasViewer: userHas.has(id),
          viewerHasUser: viewerHas.has(id),
          status: statusFor(statuses.get(id), id === viewer || userHas.has(id), at),
        })),
      };
    },

    async linkContacts(req) {
      await linkHere(req.ownerUserId, req.userIds.slice(0, IDS_PER_CALL), req.linked, Number(req.atMs));
      return {};
    },

    async announceUserStatus(req) {
      const ids = req.recipientUserIds.slice(0, IDS_PER_CALL);
      const here = [...(await core.homes(ids))].filter(([, dc]) => dc === core.dcId).map(([id]) => id);
      // Only viewers the user has in its contacts may see its exact status (reverse index here).
      const allowed = [...(await store.usersHadBy(here, req.userId))];
      await Promise.all(
        allowed.map((r) =>
          core.announce(r, { $case: 'userStatus', value: { userId: req.userId, status: req.status } }, []),
        ),
      );
      return { announced: allowed.length };
    },
  };
  return handlers;
}
