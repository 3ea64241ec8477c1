/**
 * MediaService: uploads in parts, completion into stored (deduplicated) content, documents,
 * download grants and ranged downloads.
 *
 * Bytes never pass through this process whole. A part (≤ 512 KiB) is one object
 * `uploads/<owner>/<file_id>/<part>`; completion streams the parts once in order to hash them,
 * then copies them server-side to `files/<sha256>/<i>` (skipped when that content is already
 * stored: dedup), and a download reads at most 1 MiB as ranged GETs of the part objects it covers.
 * Parts are kept as the stored layout rather than composed into one object because S3's
 * server-side compose needs source parts of at least 5 MiB, and Telegram parts are at most 512 KiB.
 *
 * A file lives in the DC that received the upload; its id carries that DC (idOf), so any DC can
 * answer FILE_MIGRATE_X without a lookup.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Client as MinioClient } from 'minio';
import { errors, type AsyncService, type Logger } from '../../../shared/src';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import type {
  Document,
  DocumentAttribute,
  InputDocument,
  InputFile,
  MessageMedia,
} from '../../../shared/src/gen/tern/common/v1/media';
import {
  FileType,
  type FileMetadata,
  type MediaServiceServer,
} from '../../../shared/src/gen/tern/media/v1/media';
import type { FileStore, StoredContent, StoredDocument } from '../storage/files';
import { checkCompletion, checkPart, checkRange, partsOfRange } from './rules';

export interface MediaDeps {
  dcId: number;
  /** DC ids of the deployment: an id naming an unknown DC is FILE_ID_INVALID, not a redirect. */
  dcIds: readonly number[];
  store: FileStore;
  objects: MinioClient;
  bucket: string;
  log: Logger;
}

/** Longest MIME type and file name accepted (Telegram's are similar). */
const MAX_MIME = 255;
const MAX_NAME = 255;
/** Attributes per document: the kinds Tern knows fit many times over. */
const MAX_ATTRIBUTES = 16;
/** Users one GrantAccess call may add (a basic group's size is the largest fan-out today). */
const MAX_GRANTS = 1000;
/** Server-side copies in flight during one completion. */
const COPY_CONCURRENCY = 4;

const DC_SHIFT = 56n;

/** A new photo/document id: the holding DC in bits 56..62, 56 random bits below. */
export function newFileId(dcId: number): bigint {
  return (BigInt(dcId) << DC_SHIFT) | (randomBytes(8).readBigUInt64BE() & ((1n << DC_SHIFT) - 1n));
}

/** The DC a photo/document id was issued by (newFileId). */
export const dcOfFileId = (id: bigint): number => Number(id >> DC_SHIFT);

export const uploadKey = (owner: bigint, fileId: bigint, part: number): string =>
  `uploads/${owner}/${BigInt.asUintN(64, fileId).toString(16)}/${part}`;
export const contentKey = (sha256: Buffer, part: number): string => `files/${sha256.toString('hex')}/${part}`;

const FILE_TYPES: Record<string, FileType> = {
  'image/jpeg': FileType.JPEG,
  'image/gif': FileType.GIF,
  'image/png': FileType.PNG,
  'image/webp': FileType.WEBP,
  'application/pdf': FileType.PDF,
  'audio/mpeg': FileType.MP3,
  'video/quicktime': FileType.MOV,
  'video/mp4': FileType.MP4,
};

type Handlers = Pick<
  AsyncService<MediaServiceServer>,
  'saveFilePart' | 'completeUpload' | 'uploadMedia' | 'getFile' | 'getFileMetadata' | 'grantAccess'
>;

function loggedIn(ctx: RequestContext | undefined): bigint {
  const id = ctx?.userId ?? 0n;
  if (id === 0n) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
  return id;
}

/** The document as clients see it (TL document). */
export function documentOf(d: StoredDocument, dcId: number): Document {
  return {
    id: d.id,
    accessHash: d.accessHash,
    fileReference: d.fileReference,
    date: d.date,
    mimeType: d.mimeType,
    size: d.size,
    thumbs: [],
    dcId,
    attributes: d.attributes,
  };
}

function metadataOf(d: StoredDocument, dcId: number): FileMetadata {
  return {
    id: d.id,
    accessHash: d.accessHash,
    dcId,
    size: d.size,
    mimeType: d.mimeType,
    objectKey: contentKey(d.sha256, 0),
    date: d.date,
    md5Checksum: d.md5Checksum,
    ownerUserId: d.ownerId,
    name: d.name,
    fileReference: d.fileReference,
    sha256: d.sha256,
    attributes: d.attributes,
  };
}

/** MIME types look like type/subtype; anything else is refused rather than stored and echoed. */
function checkMime(mime: string): string {
  const m = mime.trim().toLowerCase() || 'application/octet-stream';
  if (m.length > MAX_MIME || !/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(m))
    throw errors.badRequest('MIME_TYPE_INVALID');
  return m;
}

function checkAttributes(attrs: DocumentAttribute[], name: string): DocumentAttribute[] {
  if (attrs.length > MAX_ATTRIBUTES) throw errors.badRequest('MEDIA_INVALID');
  const out = attrs.filter((a) => a.kind !== undefined);
  for (const a of out) {
    if (a.kind?.$case === 'fileName' && a.kind.value.length > MAX_NAME)
      throw errors.badRequest('MEDIA_INVALID');
    if (a.kind?.$case === 'audio' && a.kind.value.waveform.length > 1024)
      throw errors.badRequest('MEDIA_INVALID');
  }
  // A document always shows a name when the upload had one (GramJS sends it on both).
  if (name && !out.some((a) => a.kind?.$case === 'fileName'))
    out.push({ kind: { $case: 'fileName', value: name.slice(0, MAX_NAME) } });
  return out;
}

export function mediaHandlers(d: MediaDeps): Handlers {
  const { store, objects, bucket } = d;

  /** Runs `fn` over `items` with at most `n` in flight. */
  async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) await fn(items[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  }

  /** SHA-256 and MD5 of the upload, reading its parts one at a time. */
  async function hashUpload(owner: bigint, fileId: bigint, parts: number) {
    const sha = createHash('sha256');
    const md5 = createHash('md5');
    let size = 0;
    for (let i = 0; i < parts; i++) {
      const stream = await objects.getObject(bucket, uploadKey(owner, fileId, i));
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        sha.update(chunk);
        md5.update(chunk);
        size += chunk.length;
      }
    }
    return { sha256: sha.digest(), md5: md5.digest('hex'), size };
  }

  /** Deletes an upload's parts (rows and objects); best effort, they expire anyway. */
  async function dropUpload(owner: bigint, fileId: bigint, parts: Iterable<number>): Promise<void> {
    try {
      await store.dropUpload(owner, fileId);
      await objects.removeObjects(
        bucket,
        [...parts].map((p) => uploadKey(owner, fileId, p)),
      );
    } catch (err) {
      d.log.warn(
        { err, fileId: String(fileId) },
        'upload cleanup failed; parts expire with the lifecycle rule',
      );
    }
  }

  /**
   * Turns a finished upload into a stored document. Idempotent per (owner, file id). Every check
   * comes before anything is written, and the content row is written only once its objects are
   * all in place, so a failure leaves at most parts that expire.
   */
  async function complete(
    owner: bigint,
    file: InputFile,
    mimeType: string,
    attributes: DocumentAttribute[],
  ): Promise<StoredDocument> {
    const done = await store.completed(owner, file.id);
    if (done !== undefined) {
      const doc = await store.document(done);
      if (doc) return doc;
    }
    const upload = await store.upload(owner, file.id);
    const layout = checkCompletion(upload.sizes, file.parts, upload, file.big);
    const hashed = await hashUpload(owner, file.id, layout.parts);
    if (hashed.size !== layout.size)
      throw errors.internal(new Error('upload parts changed while completing'));
    if (!file.big && file.md5Checksum && file.md5Checksum.toLowerCase() !== hashed.md5)
      throw errors.badRequest('MD5_CHECKSUM_INVALID');

    let content: StoredContent | undefined = await store.content(hashed.sha256);
    if (!content) {
      const parts = Array.from({ length: layout.parts }, (_, i) => i);
      await pool(parts, COPY_CONCURRENCY, async (i) => {
        await objects.copyObject(
          bucket,
          contentKey(hashed.sha256, i),
          `/${bucket}/${uploadKey(owner, file.id, i)}`,
        );
      });
      content = { ...layout, sha256: hashed.sha256 };
      await store.putContent(content);
    }
    const doc: StoredDocument = {
      id: newFileId(d.dcId),
      accessHash: randomBytes(8).readBigInt64LE(),
      fileReference: randomBytes(16),
      ownerId: owner,
      date: Math.floor(Date.now() / 1000),
      mimeType,
      size: BigInt(content.size),
      sha256: hashed.sha256,
      name: file.name.slice(0, MAX_NAME),
      md5Checksum: file.big ? '' : hashed.md5,
      attributes,
    };
    await store.putDocument(doc);
    await store.markCompleted(owner, file.id, doc.id);
    await dropUpload(owner, file.id, upload.sizes.keys());
    return doc;
  }

  /**
   * A stored document `user` may use: the id is this DC's (FILE_MIGRATE_X otherwise), the access
   * hash matches, the user uploaded it or was granted it, and the file reference is current.
   * Unknown files and files the user may not see answer the same FILE_ID_INVALID, so ids cannot
   * be probed.
   */
  async function usable(user: bigint, ref: InputDocument): Promise<StoredDocument> {
    const dc = dcOfFileId(ref.id);
    if (dc !== d.dcId) {
      if (d.dcIds.includes(dc)) throw errors.migrate('FILE', dc);
      throw errors.badRequest('FILE_ID_INVALID');
    }
    const doc = await store.document(ref.id);
    if (!doc || doc.accessHash !== ref.accessHash) throw errors.badRequest('FILE_ID_INVALID');
    if (doc.ownerId !== user && !(await store.granted(doc.id, user)))
      throw errors.badRequest('FILE_ID_INVALID');
    // References are per file today; a rotation (new reference written to the row) makes every
    // copy a client holds stale, and it refetches the message (messages.getMessages) for a new one.
    if (!doc.fileReference.equals(Buffer.from(ref.fileReference)))
      throw errors.badRequest('FILE_REFERENCE_EXPIRED');
    return doc;
  }

  async function grant(fileId: bigint, owner: bigint, users: readonly bigint[]): Promise<void> {
    const others = [...new Set(users)].filter((u) => u !== owner && u !== 0n);
    if (others.length > MAX_GRANTS) throw errors.badRequest('USERS_TOO_MUCH');
    if (others.length > 0) await store.grant(fileId, others);
  }

  return {
    async saveFilePart(req) {
      const owner = loggedIn(req.context);
      const size = req.bytes.length;
      checkPart({ part: req.filePart, size, big: req.big, totalParts: req.fileTotalParts });
      // The object first, then the row: a row always names a stored part.
      await objects.putObject(
        bucket,
        uploadKey(owner, req.fileId, req.filePart),
        Buffer.from(req.bytes),
        size,
      );
      await store.savePart(owner, req.fileId, req.filePart, size, req.big, req.big ? req.fileTotalParts : 0);
      return {};
    },

    async completeUpload(req) {
      const owner = loggedIn(req.context);
      if (!req.file) throw errors.badRequest('FILE_PARTS_INVALID');
      const doc = await complete(
        owner,
        req.file,
        checkMime(req.mimeType),
        checkAttributes([], req.file.name),
      );
      return { file: metadataOf(doc, d.dcId) };
    },

    async uploadMedia(req) {
      const owner = loggedIn(req.context);
      const m = req.media?.kind;
      let doc: StoredDocument;
      let ttl = 0;
      switch (m?.$case) {
        case 'uploadedDocument': {
          const v = m.value;
          if (!v.file) throw errors.badRequest('MEDIA_INVALID');
          doc = await complete(
            owner,
            v.file,
            checkMime(v.mimeType),
            checkAttributes(v.attributes, v.file.name),
          );
          ttl = v.ttlSeconds;
          break;
        }
        case 'document':
          // Re-sending a document the sender can already see (e.g. one it received).
          doc = await usable(owner, m.value);
          break;
        default:
          // Photos need server-made sizes (not built yet).
          throw errors.badRequest('MEDIA_INVALID');
      }
      await grant(doc.id, doc.ownerId, [...req.grantUserIds, owner]);
      const media: MessageMedia = {
        kind: { $case: 'document', value: documentOf(doc, d.dcId) },
        ttlSeconds: ttl,
      };
      return { media };
    },

    async getFile(req) {
      const user = loggedIn(req.context);
      const loc = req.location?.kind;
      if (loc?.$case !== 'document' || loc.value.thumbSize !== '')
        throw errors.badRequest('LOCATION_INVALID');
      checkRange(req.offset, req.limit, req.precise);
      const doc = await usable(user, loc.value);
      const content = await store.content(doc.sha256);
      if (!content) throw errors.internal(new Error(`document ${doc.id} has no content`));
      const offset = Number(req.offset);
      const ranges = offset >= content.size ? [] : partsOfRange(offset, req.limit, content);
      const bytes = Buffer.alloc(ranges.reduce((n, r) => n + r.length, 0));
      let at = 0;
      for (const r of ranges) {
        const stream = await objects.getPartialObject(
          bucket,
          contentKey(doc.sha256, r.part),
          r.from,
          r.length,
        );
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (at + chunk.length > bytes.length)
            throw errors.internal(new Error('object longer than recorded'));
          chunk.copy(bytes, at);
          at += chunk.length;
        }
      }
      if (at !== bytes.length) throw errors.internal(new Error('object shorter than recorded'));
      return { type: FILE_TYPES[doc.mimeType] ?? FileType.PARTIAL, mtime: doc.date, bytes };
    },

    async getFileMetadata(req) {
      const dc = dcOfFileId(req.fileId);
      if (dc !== d.dcId) throw errors.migrate('FILE', dc);
      const doc = await store.document(req.fileId);
      if (!doc) throw errors.badRequest('FILE_ID_INVALID');
      return { file: metadataOf(doc, d.dcId) };
    },

    async grantAccess(req) {
      const dc = dcOfFileId(req.fileId);
      if (dc !== d.dcId) throw errors.migrate('FILE', dc);
      const user = loggedIn(req.context);
      const doc = await store.document(req.fileId);
      // Only someone who may see the file can pass it on.
      if (!doc || (doc.ownerId !== user && !(await store.granted(doc.id, user))))
        throw errors.badRequest('FILE_ID_INVALID');
      await grant(doc.id, doc.ownerId, req.userIds);
      return {};
    },
  };
}
