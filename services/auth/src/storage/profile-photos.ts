/**
 * The profile photos of users whose home is this DC (migrations/dc/0006_profile_photos.cql): one
 * partition per user, the photos' metadata as their media service made it. The current photo is
 * the one set last; the users row keeps a copy of it for rendering (LoginStore.setCurrentPhoto).
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';
import { Photo } from '../../../shared/src/gen/tern/common/v1/media';
import { orderPhotos, type ProfilePhotoRow } from '../internal/profile-photos';

const opts = { prepare: true } as const;

export class ProfilePhotoStore {
  constructor(private readonly db: Client) {}

  /** The user's profile photos, current first. */
  async list(userId: bigint): Promise<ProfilePhotoRow[]> {
    // At most MAX_PROFILE_PHOTOS rows in one partition: one page.
    const rs = await this.db.execute(
      'SELECT set_at_ms, photo FROM profile_photos WHERE user_id = ?',
      [toLong(userId)],
      { ...opts, fetchSize: 1000 },
    );
    return orderPhotos(
      rs.rows.map((r) => ({ photo: Photo.decode(r.photo as Buffer), setAtMs: fromLong(r.set_at_ms) })),
    );
  }

  /** Adds a photo, or makes a listed one current again (a later `setAtMs`). */
  async put(userId: bigint, row: ProfilePhotoRow): Promise<void> {
    await this.db.execute(
      'INSERT INTO profile_photos (user_id, photo_id, set_at_ms, photo) VALUES (?, ?, ?, ?)',
      [
        toLong(userId),
        toLong(row.photo.id),
        toLong(row.setAtMs),
        Buffer.from(Photo.encode(row.photo).finish()),
      ],
      opts,
    );
  }

  async remove(userId: bigint, photoIds: readonly bigint[]): Promise<void> {
    if (photoIds.length === 0) return;
    await this.db.execute(
      'DELETE FROM profile_photos WHERE user_id = ? AND photo_id IN ?',
      [toLong(userId), photoIds.map(toLong)],
      opts,
    );
  }

  /** Drops the whole list (MoveUser's cleanup on the DC the user left, and before an import). */
  async removeAll(userId: bigint): Promise<void> {
    await this.db.execute('DELETE FROM profile_photos WHERE user_id = ?', [toLong(userId)], opts);
  }
}
