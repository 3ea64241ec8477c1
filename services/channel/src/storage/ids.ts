/**
 * Pure arithmetic of the channel store: channel ids, partition buckets, invite hashes.
 *
 * Channel ids are `(n << 10) | home_dc`, as basic groups (docs/decisions/0010, 0018): any DC
 * finds a channel's home from the id alone. `n` is derived from the creator and the gateway's
 * random_id and claimed with INSERT ... IF NOT EXISTS, so a retried createChannel lands on the
 * row its first attempt wrote.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GROUP_ID_DC_BITS, groupHomeDc } from '../../../shared/src/peers/group-ids';

/** Low bits of a channel id that name the home DC (the layout shared with basic groups). */
export const DC_BITS = GROUP_ID_DC_BITS;
/**
 * Bits of the per-DC part: ids stay below 2^39, as basic groups' do, so clients that keep ids in
 * doubles or mark them as -100<id> never see an ambiguous or too large value.
 */
export const SEQ_BITS = 29;
/** Messages per channel_messages partition (bucket = id / MESSAGE_BUCKET). */
export const MESSAGE_BUCKET = 10_000;
/** pts per channel_log partition (bucket = pts / LOG_BUCKET). */
export const LOG_BUCKET = 10_000;
/** Partitions of one channel's participants. */
export const PARTICIPANT_BUCKETS = 64;

/** The DC whose channel service owns `channelId`. */
export const channelDc = (channelId: bigint): number => groupHomeDc(channelId);

/**
 * The `attempt`-th candidate id for a channel created by `creator` with `randomId` on DC `dc`.
 * Deterministic (a retry finds its own row). Ids whose decimal form starts with "100" are skipped:
 * some clients read a marked id -100… as a channel id of a different number.
 */
export function channelIdCandidate(creator: bigint, randomId: bigint, dc: number, attempt: number): bigint {
  for (let salt = 0; ; salt++) {
    const h = createHash('sha256').update(`channel:${creator}:${randomId}:${attempt}:${salt}`).digest();
    const n = (h.readBigUInt64LE(0) % ((1n << BigInt(SEQ_BITS)) - 1n)) + 1n;
    const id = (n << BigInt(DC_BITS)) | BigInt(dc);
    if (!id.toString().startsWith('100')) return id;
  }
}

/** What identifies one createChannel call: a retry carries the same key. */
export function createKey(creator: bigint, randomId: bigint): bigint {
  return createHash('sha256').update(`create-channel:${creator}:${randomId}`).digest().readBigInt64LE(0);
}

/**
 * The createChannel random_id standing for messages.migrateChat of basic group `chatId`: the same
 * chat always becomes the same supergroup, so a retried migration finds the channel it made.
 */
export function migrationRandomId(chatId: bigint): bigint {
  return createHash('sha256').update(`migrate-chat:${chatId}`).digest().readBigInt64LE(0);
}

export const messageBucket = (id: number): number => Math.floor(id / MESSAGE_BUCKET);
export const logBucket = (pts: number): number => Math.floor(pts / LOG_BUCKET);

/** The participant partition of `userId` (a stable hash, so one user's row is always found). */
export function participantBucket(userId: bigint): number {
  const h = createHash('sha256').update(`p:${userId}`).digest();
  return h.readUInt32LE(0) % PARTICIPANT_BUCKETS;
}

/** A fresh random access hash (one per channel, the same for every viewer: events carry it). */
export const newAccessHash = (): bigint => randomBytes(8).readBigInt64LE(0);

const INVITE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';

/**
 * A new invite hash for a channel of DC `dc`: the DC in decimal, a '.', then 16 random URL-safe
 * characters. Any DC reads the home from the prefix and passes the hash on (decision 0018).
 */
export function newInviteHash(dc: number): string {
  const bytes = randomBytes(16);
  let s = '';
  for (const b of bytes) s += INVITE_ALPHABET[b & 63];
  return `${dc}.${s}`;
}

/** The home DC an invite hash names, or undefined when the hash is malformed. */
export function inviteDc(hash: string): number | undefined {
  const m = /^(\d{1,4})\.[A-Za-z0-9_-]{8,64}$/.exec(hash);
  return m ? Number(m[1]) : undefined;
}

/** Strips t.me link forms a client may pass instead of the bare hash. */
export function bareInviteHash(hash: string): string {
  const s = hash.trim();
  const m = /(?:joinchat\/|\+)([^/?#]+)$/.exec(s);
  return m ? m[1]! : s;
}
