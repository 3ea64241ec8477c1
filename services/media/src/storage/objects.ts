/**
 * The DC's bucket: where the bytes of uploads and stored content live (storage/files.ts holds the
 * rows that say which objects make up what). Two kinds of objects:
 *
 *   uploads/<owner>/<file_id, 16 hex digits>/<part>  one part of an unfinished upload (≤ 512 KiB),
 *                                                    as the client sent it; expires after 2 days
 *   files/<sha256 hex>/<i>                           part i of stored content, once per DC
 *
 * Stored content keeps the upload's parts as its objects rather than one composed object: S3's
 * server-side compose needs source parts of at least 5 MiB, and Telegram parts are at most 512 KiB.
 * Bytes made here (a photo rendition) are content of one object, `files/<sha256>/0`.
 */
import type { Client as MinioClient } from 'minio';
import { limiter } from '../../../shared/src';

/** Server-side copies in flight during one completion. */
const COPY_CONCURRENCY = 4;

export const uploadKey = (owner: bigint, fileId: bigint, part: number): string =>
  `uploads/${owner}/${BigInt.asUintN(64, fileId).toString(16)}/${part}`;
export const contentKey = (sha256: Buffer, part: number): string => `files/${sha256.toString('hex')}/${part}`;

/** The objects of one DC's bucket, by what they are rather than by key. */
export class FileObjects {
  constructor(
    private readonly client: MinioClient,
    private readonly bucket: string,
  ) {}

  /** Stores one part of an upload; a repeated part overwrites the earlier one. */
  async putPart(owner: bigint, fileId: bigint, part: number, bytes: Buffer): Promise<void> {
    await this.client.putObject(this.bucket, uploadKey(owner, fileId, part), bytes, bytes.length);
  }

  /** The bytes of an upload's parts 0 … `parts` − 1, in order, read one part at a time. */
  async *uploadBytes(owner: bigint, fileId: bigint, parts: number): AsyncGenerator<Buffer> {
    for (let i = 0; i < parts; i++) {
      const stream = await this.client.getObject(this.bucket, uploadKey(owner, fileId, i));
      for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
    }
  }

  /**
   * Copies an upload's `parts` part objects server-side to the objects of content `sha256`, at most
   * COPY_CONCURRENCY at a time. Fails fast: the first failed copy rejects at once, without waiting
   * for copies in flight or queued (they run on and are harmless: content objects are only read
   * once the content row is written, and a retry writes the same bytes again).
   */
  async copyUploadToContent(owner: bigint, fileId: bigint, parts: number, sha256: Buffer): Promise<void> {
    const slot = limiter(COPY_CONCURRENCY);
    await Promise.all(
      Array.from({ length: parts }, (_, i) =>
        slot(async () => {
          await this.client.copyObject(
            this.bucket,
            contentKey(sha256, i),
            `/${this.bucket}/${uploadKey(owner, fileId, i)}`,
          );
        }),
      ),
    );
  }

  /** Stores bytes made here as the one object of content `sha256`. */
  async putContent(sha256: Buffer, bytes: Buffer): Promise<void> {
    await this.client.putObject(this.bucket, contentKey(sha256, 0), bytes, bytes.length);
  }

  /** `length` bytes from `from` of part `part` of content `sha256` (one ranged GET). */
  async contentRange(
    sha256: Buffer,
    part: number,
    from: number,
    length: number,
  ): Promise<AsyncIterable<Buffer>> {
    return (await this.client.getPartialObject(
      this.bucket,
      contentKey(sha256, part),
      from,
      length,
    )) as AsyncIterable<Buffer>;
  }

  /** Removes the part objects of an upload. */
  async removeParts(owner: bigint, fileId: bigint, parts: Iterable<number>): Promise<void> {
    await this.client.removeObjects(
      this.bucket,
      [...parts].map((p) => uploadKey(owner, fileId, p)),
    );
  }
}
