/**
 * The media tables of this DC's keyspace (migrations/dc/0001_files.cql, 0002_photos.cql,
 * 0003_profile_photos.cql): upload
 * parts seen, stored content by SHA-256, documents, photos, completed uploads and download
 * grants. Bytes live in the DC's bucket (objects.ts); these rows say which objects make up what.
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';
import type { DocumentAttribute } from '../../../shared/src/gen/tern/common/v1/media';
import { FileMetadata } from '../../../shared/src/gen/tern/media/v1/media';
import type { Layout } from '../internal/rules';

export interface UploadState {
  /** part → bytes. */
  sizes: Map<number, number>;
  big: boolean;
  totalParts: number;
}

export interface StoredDocument {
  id: bigint;
  accessHash: bigint;
  fileReference: Buffer;
  ownerId: bigint;
  date: number;
  mimeType: string;
  size: bigint;
  sha256: Buffer;
  name: string;
  md5Checksum: string;
  attributes: DocumentAttribute[];
}

/** One rendition of a photo; its bytes are the content named by `sha256`. */
export interface StoredPhotoSize {
  type: string;
  w: number;
  h: number;
  size: number;
  sha256: Buffer;
}

export interface StoredPhoto {
  id: bigint;
  accessHash: bigint;
  fileReference: Buffer;
  ownerId: bigint;
  date: number;
  /** Format of the original upload. */
  mimeType: string;
  /** Content of the original upload. */
  sha256: Buffer;
  /** Upright size of the original. */
  w: number;
  h: number;
  /** Smallest first. */
  sizes: StoredPhotoSize[];
  /** Stripped thumbnail data. */
  stripped: Buffer;
  /** The user whose profile shows the photo (anyone may download it); 0 for none. */
  profileUserId: bigint;
}

export interface StoredContent extends Layout {
  sha256: Buffer;
}

const opts = { prepare: true } as const;

export class FileStore {
  constructor(private readonly db: Client) {}

  async savePart(
    owner: bigint,
    fileId: bigint,
    part: number,
    size: number,
    big: boolean,
    totalParts: number,
  ) {
    await this.db.execute(
      'INSERT INTO upload_parts (owner_id, file_id, part, size, big, total_parts) VALUES (?, ?, ?, ?, ?, ?)',
      [toLong(owner), toLong(fileId), part, size, big, totalParts],
      opts,
    );
  }

  async upload(owner: bigint, fileId: bigint): Promise<UploadState> {
    const state: UploadState = { sizes: new Map(), big: false, totalParts: 0 };
    // At most MAX_PARTS rows, in one partition: one page.
    const rs = await this.db.execute(
      'SELECT part, size, big, total_parts FROM upload_parts WHERE owner_id = ? AND file_id = ?',
      [toLong(owner), toLong(fileId)],
      { ...opts, fetchSize: 5000 },
    );
    for (const r of rs.rows) {
      state.sizes.set(r.part as number, r.size as number);
      state.big = r.big === true;
      state.totalParts = (r.total_parts as number | null) ?? 0;
    }
    return state;
  }

  async dropUpload(owner: bigint, fileId: bigint): Promise<void> {
    await this.db.execute(
      'DELETE FROM upload_parts WHERE owner_id = ? AND file_id = ?',
      [toLong(owner), toLong(fileId)],
      opts,
    );
  }

  async content(sha256: Buffer): Promise<StoredContent | undefined> {
    const r = (
      await this.db.execute(
        'SELECT size, part_size, parts FROM file_contents WHERE sha256 = ?',
        [sha256],
        opts,
      )
    ).first();
    if (!r) return undefined;
    return {
      sha256,
      size: Number(fromLong(r.size)),
      partSize: r.part_size as number,
      parts: r.parts as number,
    };
  }

  /** Records content whose objects are all in place; the first writer wins (same bytes anyway). */
  async putContent(c: StoredContent): Promise<void> {
    await this.db.execute(
      'INSERT INTO file_contents (sha256, size, part_size, parts, created_at) VALUES (?, ?, ?, ?, ?) IF NOT EXISTS',
      [c.sha256, toLong(BigInt(c.size)), c.partSize, c.parts, new Date()],
      opts,
    );
  }

  async completed(owner: bigint, fileId: bigint): Promise<bigint | undefined> {
    const r = (
      await this.db.execute(
        'SELECT document_id FROM completed_uploads WHERE owner_id = ? AND file_id = ?',
        [toLong(owner), toLong(fileId)],
        opts,
      )
    ).first();
    return r ? fromLong(r.document_id) : undefined;
  }

  async markCompleted(owner: bigint, fileId: bigint, documentId: bigint): Promise<void> {
    await this.db.execute(
      'INSERT INTO completed_uploads (owner_id, file_id, document_id) VALUES (?, ?, ?)',
      [toLong(owner), toLong(fileId), toLong(documentId)],
      opts,
    );
  }

  async putDocument(d: StoredDocument): Promise<void> {
    await this.db.execute(
      `INSERT INTO documents (id, access_hash, file_reference, owner_id, date, mime_type, size, sha256, name,
         md5_checksum, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        toLong(d.id),
        toLong(d.accessHash),
        d.fileReference,
        toLong(d.ownerId),
        d.date,
        d.mimeType,
        toLong(d.size),
        d.sha256,
        d.name,
        d.md5Checksum,
        // Stored as a FileMetadata carrying only the attributes: a proto message, so it evolves.
        Buffer.from(FileMetadata.encode(FileMetadata.fromPartial({ attributes: d.attributes })).finish()),
      ],
      opts,
    );
  }

  async document(id: bigint): Promise<StoredDocument | undefined> {
    const r = (await this.db.execute('SELECT * FROM documents WHERE id = ?', [toLong(id)], opts)).first();
    if (!r) return undefined;
    return {
      id,
      accessHash: fromLong(r.access_hash),
      fileReference: r.file_reference as Buffer,
      ownerId: fromLong(r.owner_id),
      date: r.date as number,
      mimeType: (r.mime_type as string | null) ?? '',
      size: fromLong(r.size),
      sha256: r.sha256 as Buffer,
      name: (r.name as string | null) ?? '',
      md5Checksum: (r.md5_checksum as string | null) ?? '',
      attributes: decodeAttributes((r.attributes as Buffer | null) ?? Buffer.alloc(0)),
    };
  }

  async putPhoto(p: StoredPhoto): Promise<void> {
    await this.db.execute(
      `INSERT INTO photos (id, access_hash, file_reference, owner_id, date, mime_type, sha256, w, h, sizes,
         stripped, profile_user_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        toLong(p.id),
        toLong(p.accessHash),
        p.fileReference,
        toLong(p.ownerId),
        p.date,
        p.mimeType,
        p.sha256,
        p.w,
        p.h,
        p.sizes.map((z) => ({ letter: z.type, w: z.w, h: z.h, size: z.size, sha256: z.sha256 })),
        p.stripped,
        p.profileUserId === 0n ? null : toLong(p.profileUserId),
      ],
      opts,
    );
  }

  /**
   * Takes a photo off `userId`'s profile (photos.deletePhotos): only if it is that user's profile
   * photo now (a conditional update never creates a row, and a newer owner is left alone).
   */
  async releaseProfilePhoto(id: bigint, userId: bigint): Promise<void> {
    await this.db.execute(
      'UPDATE photos SET profile_user_id = null WHERE id = ? IF profile_user_id = ?',
      [toLong(id), toLong(userId)],
      opts,
    );
  }

  async photo(id: bigint): Promise<StoredPhoto | undefined> {
    const r = (await this.db.execute('SELECT * FROM photos WHERE id = ?', [toLong(id)], opts)).first();
    if (!r) return undefined;
    const sizes = (r.sizes as Array<Record<string, unknown>> | null) ?? [];
    return {
      id,
      accessHash: fromLong(r.access_hash),
      fileReference: r.file_reference as Buffer,
      ownerId: fromLong(r.owner_id),
      date: r.date as number,
      mimeType: (r.mime_type as string | null) ?? '',
      sha256: r.sha256 as Buffer,
      w: (r.w as number | null) ?? 0,
      h: (r.h as number | null) ?? 0,
      sizes: sizes.map((z) => ({
        type: z.letter as string,
        w: z.w as number,
        h: z.h as number,
        size: z.size as number,
        sha256: z.sha256 as Buffer,
      })),
      stripped: (r.stripped as Buffer | null) ?? Buffer.alloc(0),
      profileUserId: r.profile_user_id == null ? 0n : fromLong(r.profile_user_id),
    };
  }

  async grant(fileId: bigint, userIds: readonly bigint[]): Promise<void> {
    await Promise.all(
      userIds.map((u) =>
        this.db.execute(
          'INSERT INTO file_grants (file_id, user_id) VALUES (?, ?)',
          [toLong(fileId), toLong(u)],
          opts,
        ),
      ),
    );
  }

  /** Lets the readers of `channelIds` download the file (file_channel_grants). */
  async grantChannels(fileId: bigint, channelIds: readonly bigint[]): Promise<void> {
    await Promise.all(
      channelIds.map((c) =>
        this.db.execute(
          'INSERT INTO file_channel_grants (file_id, channel_id) VALUES (?, ?)',
          [toLong(fileId), toLong(c)],
          opts,
        ),
      ),
    );
  }

  /** Up to `limit` channels the file was granted to. */
  async grantedChannels(fileId: bigint, limit: number): Promise<bigint[]> {
    const rs = await this.db.execute(
      'SELECT channel_id FROM file_channel_grants WHERE file_id = ? LIMIT ?',
      [toLong(fileId), limit],
      opts,
    );
    return rs.rows.map((r) => fromLong(r.channel_id));
  }

  async granted(fileId: bigint, userId: bigint): Promise<boolean> {
    const rs = await this.db.execute(
      'SELECT user_id FROM file_grants WHERE file_id = ? AND user_id = ?',
      [toLong(fileId), toLong(userId)],
      opts,
    );
    return rs.rowLength > 0;
  }
}

function decodeAttributes(buf: Buffer): DocumentAttribute[] {
  return FileMetadata.decode(buf).attributes;
}
