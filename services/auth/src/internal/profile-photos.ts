/**
 * The rules of a user's profile photo list, apart from storage: its order (current first), the
 * current photo every rendering of the user shows, and photos.getUserPhotos' paging.
 *
 * Photo ids are random (their top bits name the DC), not increasing as on Telegram, so `max_id`
 * is read as a position: the page starts after the photo with that id. That keeps what clients
 * use it for working — `max_id = id, offset = -1, limit = 1` fetches that photo again for a fresh
 * file reference.
 */
import type { Photo } from '../../../shared/src/gen/tern/common/v1/media';
import type { UserProfilePhoto } from '../../../shared/src/gen/tern/common/v1/user';

/** Photos a profile may hold (ALBUM_PHOTOS_TOO_MANY beyond): bounds the partition and each read. */
export const MAX_PROFILE_PHOTOS = 100;
/** Most photos one photos.getUserPhotos page returns. */
export const MAX_PHOTOS_PAGE = 100;
/** Type letter of the stripped thumbnail among a photo's sizes. */
const STRIPPED = 'i';

export interface ProfilePhotoRow {
  photo: Photo;
  /** Unix ms it was last made current. */
  setAtMs: bigint;
}

/** Current first: the latest set, ties (same millisecond) by id so the order is stable. */
export function orderPhotos(rows: ProfilePhotoRow[]): ProfilePhotoRow[] {
  return [...rows].sort((a, b) =>
    a.setAtMs !== b.setAtMs ? (b.setAtMs > a.setAtMs ? 1 : -1) : a.photo.id < b.photo.id ? -1 : 1,
  );
}

/** What users show of their current photo (TL userProfilePhoto); undefined without one. */
export function currentPhotoOf(rows: ProfilePhotoRow[]): UserProfilePhoto | undefined {
  const p = orderPhotos(rows)[0]?.photo;
  if (!p) return undefined;
  const stripped = p.sizes.find((z) => z.type === STRIPPED && z.bytes.length > 0);
  return {
    photoId: p.id,
    dcId: p.dcId,
    strippedThumb: stripped ? Buffer.from(stripped.bytes) : Buffer.alloc(0),
  };
}

/**
 * One page of photos.getUserPhotos over the ordered list: from the start (`maxId` 0) or after the
 * photo `maxId` (none when it is not on the list), skipping `offset` (-1 steps back onto it), at
 * most `limit` (capped at MAX_PHOTOS_PAGE; 0 asks for the count alone). `count` is the whole
 * list's length.
 */
export function pageOf(
  ordered: ProfilePhotoRow[],
  offset: number,
  maxId: bigint,
  limit: number,
): { photos: Photo[]; count: number } {
  const count = ordered.length;
  let start = 0;
  if (maxId !== 0n) {
    const at = ordered.findIndex((r) => r.photo.id === maxId);
    if (at < 0) return { photos: [], count };
    start = at + 1;
  }
  start = Math.max(0, start + offset);
  const size = Math.min(Math.max(0, limit), MAX_PHOTOS_PAGE);
  return { photos: ordered.slice(start, start + size).map((r) => r.photo), count };
}
