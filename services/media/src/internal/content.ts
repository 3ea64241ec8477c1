/**
 * Stored content: bytes kept once per DC under their SHA-256, whatever documents and photos name
 * them. An upload becomes content by being read once (to hash it) and copied server-side, so no
 * process ever holds a whole document; a download reads at most 1 MiB of it as ranged GETs of the
 * part objects it covers. Identical uploads and identical renditions are stored once (dedup).
 */
import { createHash } from 'node:crypto';
import { BoundedMap, cachedLoad, errors, forEachLimited } from '../../../shared/src';
import type { InputFile } from '../../../shared/src/gen/tern/common/v1/media';
import type { FileStore, StoredContent } from '../storage/files';
import type { FileObjects } from '../storage/objects';
import { partsOfRange, type Layout } from './rules';

/** An upload read once: its hashes, and its bytes when they were asked for. */
export interface HashedUpload {
  sha256: Buffer;
  /** Hex, as clients send md5_checksum. */
  md5: string;
  bytes: Buffer | undefined;
}

/**
 * Ranged GETs one download request runs at once: all of a 1 MiB request of 128 KiB parts, and a
 * bound for documents uploaded in small parts (a 1 MiB request of 1 KiB parts is 1,024 GETs).
 */
const PART_READS_IN_FLIGHT = 8;
/** Content layouts kept in memory: a row never changes once written, and each download reads it. */
const LAYOUTS_CACHED = 10_000;

export class Contents {
  private readonly layouts = new BoundedMap<string, StoredContent>(LAYOUTS_CACHED);

  constructor(
    private readonly store: FileStore,
    private readonly objects: FileObjects,
  ) {}

  /**
   * Reads an upload once, a part at a time: its SHA-256 and MD5 (checked against the client's
   * checksum, MD5_CHECKSUM_INVALID), and with `keep` its bytes (photos only: they are bounded and
   * decoded whole).
   */
  async hashUpload(owner: bigint, file: InputFile, layout: Layout, keep: boolean): Promise<HashedUpload> {
    const sha = createHash('sha256');
    const md5 = createHash('md5');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.objects.uploadBytes(owner, file.id, layout.parts)) {
      sha.update(chunk);
      md5.update(chunk);
      if (keep) chunks.push(chunk);
      size += chunk.length;
    }
    if (size !== layout.size) throw errors.internal(new Error('upload parts changed while completing'));
    const hashed = { sha256: sha.digest(), md5: md5.digest('hex') };
    if (!file.big && file.md5Checksum && file.md5Checksum.toLowerCase() !== hashed.md5)
      throw errors.badRequest('MD5_CHECKSUM_INVALID');
    return { ...hashed, bytes: keep ? Buffer.concat(chunks, size) : undefined };
  }

  /**
   * Makes an upload's parts the objects of content `sha256`, unless that content is already
   * stored (dedup). The content row is written only once every object is in place.
   */
  async storeUpload(owner: bigint, fileId: bigint, layout: Layout, sha256: Buffer): Promise<StoredContent> {
    const stored = await this.store.content(sha256);
    if (stored) return stored;
    await this.objects.copyUploadToContent(owner, fileId, layout.parts, sha256);
    const content = { ...layout, sha256 };
    await this.store.putContent(content);
    return content;
  }

  /** Stores bytes made here (a photo rendition) as one-object content, unless already stored. */
  async storeBytes(bytes: Buffer): Promise<Buffer> {
    const sha256 = createHash('sha256').update(bytes).digest();
    if (await this.store.content(sha256)) return sha256;
    await this.objects.putContent(sha256, bytes);
    await this.store.putContent({ sha256, size: bytes.length, partSize: bytes.length, parts: 1 });
    return sha256;
  }

  /**
   * Up to `limit` bytes of stored content from `offset`, as ranged GETs of its part objects. The
   * GETs run side by side, up to PART_READS_IN_FLIGHT (a 1 MiB request of a 128 KiB-part document
   * is 8 of them; one after the other, their round trips added up), each into its own slice.
   */
  async readRange(sha256: Buffer, offset: number, limit: number): Promise<Buffer> {
    const content = await cachedLoad(this.layouts, sha256.toString('hex'), () => this.store.content(sha256));
    if (!content) throw errors.internal(new Error(`content ${sha256.toString('hex')} is not stored`));
    const ranges = offset >= content.size ? [] : partsOfRange(offset, limit, content);
    const bytes = Buffer.allocUnsafe(ranges.reduce((n, r) => n + r.length, 0));
    let start = 0;
    const slices = ranges.map((r) => {
      const at = start;
      start += r.length;
      return { r, into: bytes.subarray(at, at + r.length) };
    });
    await forEachLimited(slices, PART_READS_IN_FLIGHT, ({ r, into }) => this.readPart(sha256, r, into));
    return bytes;
  }

  /** One ranged GET into `into`, which it must fill exactly. */
  private async readPart(
    sha256: Buffer,
    r: { part: number; from: number; length: number },
    into: Buffer,
  ): Promise<void> {
    let at = 0;
    for await (const chunk of await this.objects.contentRange(sha256, r.part, r.from, r.length)) {
      if (at + chunk.length > into.length) throw errors.internal(new Error('object longer than recorded'));
      chunk.copy(into, at);
      at += chunk.length;
    }
    if (at !== into.length) throw errors.internal(new Error('object shorter than recorded'));
  }
}
