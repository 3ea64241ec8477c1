/**
 * Users vectors for answers and events: who lives where (this DC's auth LookupUserDc, kept a few
 * seconds) and how a viewer sees them (GetProfiles at each user's home DC, batched per DC). The
 * channel service renders few users per call (authors of a page, a participants page), so a short
 * cache of homes is all it keeps; profiles are asked each time, in one call per home DC.
 */
import { performance } from 'node:perf_hooks';
import { DIRECTORY_CACHE_TTL_MS, unary, type DcClients } from '../../../shared/src';
import type { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';

/** GetProfiles answers at most this many ids per call (auth api/profile.ts). */
const PROFILES_MAX_IDS = 200;
/** LookupUserDc answers at most this many ids per call. */
const LOOKUP_MAX_IDS = 1000;
const MAX_HOMES = 100_000;

/** Where users live and how a viewer sees them. */
export interface Profiles {
  /** Home DC of each known user (unknown users are absent). */
  homes(ids: bigint[]): Promise<Map<bigint, number>>;
  /** The users as `viewer` sees them (unknown ids left out), in no particular order. */
  users(viewer: bigint, ids: bigint[]): Promise<User[]>;
}

const chunks = <T>(xs: T[], n: number): T[][] =>
  Array.from({ length: Math.ceil(xs.length / n) }, (_, i) => xs.slice(i * n, i * n + n));

/** Profiles through auth: `local` is this DC's auth, `authOf` every DC's. */
export function authProfiles(local: AuthServiceClient, authOf: DcClients<AuthServiceClient>): Profiles {
  const homes = new Map<bigint, { dc: number; until: number }>();

  async function lookup(ids: bigint[]): Promise<Map<bigint, number>> {
    const now = performance.now();
    const out = new Map<bigint, number>();
    const missing: bigint[] = [];
    for (const id of new Set(ids)) {
      const h = homes.get(id);
      if (h && h.until > now) out.set(id, h.dc);
      else missing.push(id);
    }
    for (const part of chunks(missing, LOOKUP_MAX_IDS)) {
      const res = await unary(local.lookupUserDc.bind(local), { userIds: part });
      for (const e of res.entries) {
        out.set(e.userId, e.homeDcId);
        homes.set(e.userId, { dc: e.homeDcId, until: now + DIRECTORY_CACHE_TTL_MS });
      }
    }
    if (homes.size > MAX_HOMES) homes.clear();
    return out;
  }

  return {
    homes: lookup,
    async users(viewer, ids) {
      const wanted = [...new Set(ids.filter((id) => id > 0n))];
      if (wanted.length === 0) return [];
      const where = await lookup(wanted);
      const byDc = new Map<number, bigint[]>();
      for (const id of wanted) {
        const dc = where.get(id);
        if (dc !== undefined) byDc.set(dc, [...(byDc.get(dc) ?? []), id]);
      }
      const parts = await Promise.all(
        [...byDc].flatMap(([dc, list]) =>
          chunks(list, PROFILES_MAX_IDS).map(async (part) => {
            const auth = authOf.forDc(dc);
            const res = await unary(auth.getProfiles.bind(auth), { viewerId: viewer, userIds: part });
            return res.profiles.flatMap((p) => (p.user ? [p.user] : []));
          }),
        ),
      );
      return parts.flat();
    },
  };
}
