/**
 * MediaService: uploads in parts, completion into stored (deduplicated) content, documents and
 * photos, download grants and ranged downloads.
 *
 * Bytes never pass through this process whole. A part (≤ 512 KiB) is one object
 * `uploads/<owner>/<file_id>/<part>`; completion streams the parts once in order to hash them,
 * then copies them server-side to `files/<sha256>/<i>` (skipped when that content is already
 * stored: dedup), and a download reads at most 1 MiB as ranged GETs of the part objects it covers.
 * Parts are kept as the stored layout rather than composed into one object because S3's
 * server-side compose needs source parts of at least 5 MiB, and Telegram parts are at most 512 KiB.
 *
 * A file lives in the DC that received the upload; its id carries that DC (newFileId), so any DC
 * can answer FILE_MIGRATE_X without a lookup.
 *
 * A photo is different in one way: the server makes what clients download (photos.ts). Its
 * upload is stored as content like a document's (the original, kept so renditions can be remade),
 * and each JPEG rendition is stored as content of its own, `files/<its sha256>/0`, so a photo's
 * sizes are downloaded with the same ranged reads as documents and identical renditions are
 * stored once. Content addressing also means a rendition's bytes never change under a message
 * that advertises their size, even if a later encoder would make them differently.
 *
 * Profile photos are photos made with square profile sizes (photos.ts) and marked with the user
 * whose profile shows them: while marked, any logged-in user may download them (by
 * inputPhotoFileLocation with the access hash and a reference, or by inputPeerPhotoFileLocation,
 * which names the user instead); the auth service keeps the user's list and releases a photo when
 * it leaves the profile.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Client as MinioClient } from 'minio';
import {
  dcOfFileId,
  errors,
  newFileId,
  type AsyncService,
  type FileReferences,
  type Logger,
} from '../../../shared/src';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import type { InputPeer } from '../../../shared/src/gen/tern/common/v1/peer';
import type {
  Document,
  DocumentAttribute,
  InputFile,
  MessageMedia,
  Photo,
} from '../../../shared/src/gen/tern/common/v1/media';
import {
  FileType,
  type FileMetadata,
  type MediaServiceServer,
} from '../../../shared/src/gen/tern/media/v1/media';
import type {
  FileStore,
  StoredContent,
  StoredDocument,
  StoredPhoto,
  StoredPhotoSize,
} from '../storage/files';
import {
  makePhoto,
  makeProfilePhoto,
  MAX_PHOTO_BYTES,
  PROFILE_BIG,
  PROFILE_SMALL,
  STRIPPED_TYPE,
  type MadePhoto,
} from './photos';
import { checkCompletion, checkPart, checkRange, partsOfRange, type Layout } from './rules';

export interface MediaDeps {
  dcId: number;
  /** DC ids of the deployment: an id naming an unknown DC is FILE_ID_INVALID, not a redirect. */
  dcIds: readonly number[];
  store: FileStore;
  objects: MinioClient;
  bucket: string;
  /** Checks the references clients present (issued by gateways with the deployment's key). */
  references: FileReferences;
  /** Whether a caller may address a user (inputPeerPhotoFileLocation): the auth service decides. */
  peers: PeerCheck;
  log: Logger;
}

/**
 * The access check of a user named by a client: the owner of users is the auth service (access
 * hashes, and wherever the user lives), so the media service asks it rather than keeping hashes.
 */
export interface PeerCheck {
  /** Whether the caller (`context`) addressed `userId` with the access hash it was given. */
  userAddressable(context: RequestContext | undefined, userId: bigint, accessHash: bigint): Promise<boolean>;
}

/** Longest MIME type and file name accepted (Telegram's are similar). */
const MAX_MIME = 255;
const MAX_NAME = 255;
/** Attributes per document: the kinds Tern knows fit many times over. */
const MAX_ATTRIBUTES = 16;
/** Users one GrantAccess call may add (a basic group's size is the largest fan-out today). */
const MAX_GRANTS = 1000;
/** Photos one ReleaseProfilePhotos call looks at (photos.deletePhotos takes a client's list). */
const MAX_RELEASE = 200;
/** Server-side copies in flight during one completion. */
const COPY_CONCURRENCY = 4;
/**
 * Photos decoded at once by one process: each holds up to 10 MB of upload and its decoded pixels
 * (up to 25 Mpx), so this bounds the memory photos take however many arrive together.
 */
const PHOTO_CONCURRENCY = 2;

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
  | 'saveFilePart'
  | 'completeUpload'
  | 'uploadMedia'
  | 'getFile'
  | 'getFileMetadata'
  | 'grantAccess'
  | 'uploadProfilePhoto'
  | 'releaseProfilePhotos'
>;

/** A stored file someone may hold: a document or a photo (same id space, same access rules). */
interface Held {
  id: bigint;
  accessHash: bigint;
  fileReference: Buffer;
  ownerId: bigint;
  /** Set (non-zero) on a photo a profile shows: then anyone logged in may download it. */
  profileUserId?: bigint;
}

/** Whether `user` may download `file` without a grant: the uploader, or anyone for a profile photo. */
const openTo = (file: Held, user: bigint): boolean =>
  file.ownerId === user || (file.profileUserId ?? 0n) !== 0n;

/** How a client names a stored file: InputDocument, InputPhoto, or a file location. */
interface FileRef {
  id: bigint;
  accessHash: bigint;
  fileReference: Uint8Array;
}

/** Runs at most `n` of the functions given to it at once; the rest wait their turn. */
function limiter(n: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async (fn) => {
    while (active >= n) await new Promise<void>((wake) => waiting.push(wake));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

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

/**
 * The photo as clients see it (TL photo): the stripped thumbnail first, then the renditions
 * smallest first, as Telegram lists them.
 */
export function photoOf(p: StoredPhoto, dcId: number): Photo {
  const stripped =
    p.stripped.length > 0 ? [{ type: STRIPPED_TYPE, w: 0, h: 0, size: 0, bytes: p.stripped }] : [];
  return {
    id: p.id,
    accessHash: p.accessHash,
    fileReference: p.fileReference,
    date: p.date,
    sizes: [
      ...stripped,
      ...p.sizes.map((z) => ({ type: z.type, w: z.w, h: z.h, size: z.size, bytes: Buffer.alloc(0) })),
    ],
    dcId,
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

/** A photo's metadata: its original upload (`size` bytes), as uploaded. */
function photoMetadataOf(p: StoredPhoto, size: bigint, dcId: number): FileMetadata {
  return {
    id: p.id,
    accessHash: p.accessHash,
    dcId,
    size,
    mimeType: p.mimeType,
    objectKey: contentKey(p.sha256, 0),
    date: p.date,
    md5Checksum: '',
    ownerUserId: p.ownerId,
    name: '',
    fileReference: p.fileReference,
    sha256: p.sha256,
    attributes: [{ kind: { $case: 'imageSize', value: { w: p.w, h: p.h } } }],
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
  const photoSlot = limiter(PHOTO_CONCURRENCY);

  /** Runs `fn` over `items` with at most `n` in flight. */
  async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) await fn(items[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  }

  /** The parts of a finished upload, checked against what the client declared. */
  async function finishedUpload(
    owner: bigint,
    file: InputFile,
  ): Promise<{ parts: number[]; layout: Layout }> {
    const upload = await store.upload(owner, file.id);
    const layout = checkCompletion(upload.sizes, file.parts, upload, file.big);
    return { parts: [...upload.sizes.keys()], layout };
  }

  /**
   * Reads an upload once, a part at a time: its SHA-256 and MD5 (checked against the client's
   * checksum), and with `keep` its bytes (photos only: they are bounded and decoded whole).
   */
  async function hashUpload(owner: bigint, file: InputFile, layout: Layout, keep: boolean) {
    const sha = createHash('sha256');
    const md5 = createHash('md5');
    const chunks: Buffer[] = [];
    let size = 0;
    for (let i = 0; i < layout.parts; i++) {
      const stream = await objects.getObject(bucket, uploadKey(owner, file.id, i));
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        sha.update(chunk);
        md5.update(chunk);
        if (keep) chunks.push(chunk);
        size += chunk.length;
      }
    }
    if (size !== layout.size) throw errors.internal(new Error('upload parts changed while completing'));
    const hashed = { sha256: sha.digest(), md5: md5.digest('hex') };
    if (!file.big && file.md5Checksum && file.md5Checksum.toLowerCase() !== hashed.md5)
      throw errors.badRequest('MD5_CHECKSUM_INVALID');
    return { ...hashed, bytes: keep ? Buffer.concat(chunks, size) : undefined };
  }

  /**
   * Copies an upload's parts server-side to its content objects, unless that content is already
   * stored (dedup). The content row is written only once every object is in place.
   */
  async function storeUpload(
    owner: bigint,
    fileId: bigint,
    layout: Layout,
    sha256: Buffer,
  ): Promise<StoredContent> {
    const stored = await store.content(sha256);
    if (stored) return stored;
    const parts = Array.from({ length: layout.parts }, (_, i) => i);
    await pool(parts, COPY_CONCURRENCY, async (i) => {
      await objects.copyObject(bucket, contentKey(sha256, i), `/${bucket}/${uploadKey(owner, fileId, i)}`);
    });
    const content = { ...layout, sha256 };
    await store.putContent(content);
    return content;
  }

  /** Stores bytes made here (a photo rendition) as one-object content, unless already stored. */
  async function storeBytes(bytes: Buffer): Promise<Buffer> {
    const sha256 = createHash('sha256').update(bytes).digest();
    if (await store.content(sha256)) return sha256;
    await objects.putObject(bucket, contentKey(sha256, 0), bytes, bytes.length);
    await store.putContent({ sha256, size: bytes.length, partSize: bytes.length, parts: 1 });
    return sha256;
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
    const { parts, layout } = await finishedUpload(owner, file);
    const hashed = await hashUpload(owner, file, layout, false);
    const content = await storeUpload(owner, file.id, layout, hashed.sha256);
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
    await dropUpload(owner, file.id, parts);
    return doc;
  }

  /**
   * Turns a finished upload into a stored photo: decodes it and makes the renditions and the
   * stripped thumbnail (photos.ts) before anything is written, so a picture that fails leaves only
   * parts that expire. Idempotent per (owner, file id) like documents.
   */
  async function completePhoto(
    owner: bigint,
    file: InputFile,
    make: (bytes: Buffer) => Promise<MadePhoto> = makePhoto,
    profileUserId = 0n,
  ): Promise<StoredPhoto> {
    const done = await store.completed(owner, file.id);
    if (done !== undefined) {
      const photo = await store.photo(done);
      // One upload makes one photo: a retry gets it back; the same upload used once as a message
      // photo and then as a profile photo (or the other way) has no parts left to make it again.
      if (photo && photo.profileUserId === profileUserId) return photo;
      if (photo) throw errors.badRequest(profileUserId ? 'PHOTO_FILE_MISSING' : 'MEDIA_INVALID');
    }
    const { parts, layout } = await finishedUpload(owner, file);
    // Telegram's limit; a client sends bigger pictures as documents.
    if (layout.size > MAX_PHOTO_BYTES) throw errors.badRequest('PHOTO_SAVE_FILE_INVALID');
    const { hashed, made } = await photoSlot(async () => {
      const hashed = await hashUpload(owner, file, layout, true);
      return { hashed, made: await make(hashed.bytes!) };
    });
    await storeUpload(owner, file.id, layout, hashed.sha256);
    const sizes: StoredPhotoSize[] = [];
    for (const r of made.renditions)
      sizes.push({ type: r.type, w: r.w, h: r.h, size: r.jpeg.length, sha256: await storeBytes(r.jpeg) });
    const photo: StoredPhoto = {
      id: newFileId(d.dcId),
      accessHash: randomBytes(8).readBigInt64LE(),
      fileReference: randomBytes(16),
      ownerId: owner,
      date: Math.floor(Date.now() / 1000),
      mimeType: made.mimeType,
      sha256: hashed.sha256,
      w: made.w,
      h: made.h,
      sizes,
      stripped: made.stripped,
      profileUserId,
    };
    await store.putPhoto(photo);
    await store.markCompleted(owner, file.id, photo.id);
    await dropUpload(owner, file.id, parts);
    return photo;
  }

  /**
   * A stored document or photo (`load` reads which) `user` may use: the id is this DC's
   * (FILE_MIGRATE_X otherwise), the access hash matches, the user uploaded it, was granted it or
   * it is on a profile, and the file reference is current. Unknown files and files the user may not see answer the
   * same FILE_ID_INVALID, so ids cannot be probed.
   */
  async function usable<T extends Held>(
    user: bigint,
    ref: FileRef,
    load: (id: bigint) => Promise<T | undefined>,
  ): Promise<T> {
    const dc = dcOfFileId(ref.id);
    if (dc !== d.dcId) {
      if (d.dcIds.includes(dc)) throw errors.migrate('FILE', dc);
      throw errors.badRequest('FILE_ID_INVALID');
    }
    const file = await load(ref.id);
    if (!file || file.accessHash !== ref.accessHash) throw errors.badRequest('FILE_ID_INVALID');
    if (!openTo(file, user) && !(await store.granted(file.id, user)))
      throw errors.badRequest('FILE_ID_INVALID');
    // References are issued by the gateway each time it shows the file and expire after a while
    // (shared/src/files/file-reference.ts). Forged ones get the same answer as expired ones: either
    // way the client's way out is to fetch the message again for a fresh reference.
    if (d.references.check(file.id, ref.fileReference) !== 'valid')
      throw errors.badRequest('FILE_REFERENCE_EXPIRED');
    return file;
  }

  const loadDocument = (id: bigint) => store.document(id);
  const loadPhoto = (id: bigint) => store.photo(id);
  /** A document or photo by id, whichever it is (they share one id space). */
  const loadHeld = async (id: bigint): Promise<Held | undefined> =>
    (await store.document(id)) ?? (await store.photo(id));

  /** Up to `limit` bytes of stored content from `offset`, as ranged GETs of its part objects. */
  async function readRange(sha256: Buffer, offset: number, limit: number): Promise<Buffer> {
    const content = await store.content(sha256);
    if (!content) throw errors.internal(new Error(`content ${sha256.toString('hex')} is not stored`));
    const ranges = offset >= content.size ? [] : partsOfRange(offset, limit, content);
    const bytes = Buffer.alloc(ranges.reduce((n, r) => n + r.length, 0));
    let at = 0;
    for (const r of ranges) {
      const stream = await objects.getPartialObject(bucket, contentKey(sha256, r.part), r.from, r.length);
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (at + chunk.length > bytes.length) throw errors.internal(new Error('object longer than recorded'));
        chunk.copy(bytes, at);
        at += chunk.length;
      }
    }
    if (at !== bytes.length) throw errors.internal(new Error('object shorter than recorded'));
    return bytes;
  }

  /**
   * The profile photo inputPeerPhotoFileLocation names: a photo of this DC (FILE_MIGRATE_X
   * otherwise) on the profile of the user `peer` names, which the caller must be able to address
   * (PEER_ID_INVALID). Clients ask with the photo id the user showed when they fetched it, so any
   * photo still on the profile is served, not only the current one. The location carries no file
   * reference: the peer check takes its place, as on Telegram.
   */
  async function profilePhotoOf(
    context: RequestContext | undefined,
    user: bigint,
    peer: InputPeer | undefined,
    photoId: bigint,
  ): Promise<StoredPhoto> {
    const dc = dcOfFileId(photoId);
    if (dc !== d.dcId) {
      if (d.dcIds.includes(dc)) throw errors.migrate('FILE', dc);
      throw errors.badRequest('LOCATION_INVALID');
    }
    let owner: bigint;
    if (peer?.kind?.$case === 'self') owner = user;
    else if (peer?.kind?.$case === 'user') {
      const { userId, accessHash } = peer.kind.value;
      // One's own profile needs no access hash (and asking auth would send a user who moved to
      // USER_MIGRATE_X while its old photos stay here).
      if (userId !== user && !(await d.peers.userAddressable(context, userId, accessHash)))
        throw errors.badRequest('PEER_ID_INVALID');
      owner = userId;
    } else throw errors.badRequest('PEER_ID_INVALID'); // chat photos are not made yet
    const photo = await store.photo(photoId);
    if (!photo || photo.profileUserId !== owner) throw errors.badRequest('LOCATION_INVALID');
    return photo;
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
      let file: Held;
      let media: MessageMedia;
      switch (m?.$case) {
        case 'uploadedDocument': {
          const v = m.value;
          if (!v.file) throw errors.badRequest('MEDIA_INVALID');
          const doc = await complete(
            owner,
            v.file,
            checkMime(v.mimeType),
            checkAttributes(v.attributes, v.file.name),
          );
          file = doc;
          media = { kind: { $case: 'document', value: documentOf(doc, d.dcId) }, ttlSeconds: v.ttlSeconds };
          break;
        }
        case 'document': {
          // Re-sending a document the sender can already see (e.g. one it received).
          const doc = await usable(owner, m.value, loadDocument);
          file = doc;
          media = { kind: { $case: 'document', value: documentOf(doc, d.dcId) }, ttlSeconds: 0 };
          break;
        }
        case 'uploadedPhoto': {
          const v = m.value;
          if (!v.file) throw errors.badRequest('MEDIA_INVALID');
          const photo = await completePhoto(owner, v.file);
          file = photo;
          media = { kind: { $case: 'photo', value: photoOf(photo, d.dcId) }, ttlSeconds: v.ttlSeconds };
          break;
        }
        case 'photo': {
          // Re-sending a photo the sender can already see.
          const photo = await usable(owner, m.value, loadPhoto);
          file = photo;
          media = { kind: { $case: 'photo', value: photoOf(photo, d.dcId) }, ttlSeconds: 0 };
          break;
        }
        default:
          throw errors.badRequest('MEDIA_INVALID');
      }
      await grant(file.id, file.ownerId, [...req.grantUserIds, owner]);
      return { media };
    },

    async getFile(req) {
      const user = loggedIn(req.context);
      const loc = req.location?.kind;
      // Documents are downloaded whole (their thumbnails are not made yet); photos by rendition.
      if (loc?.$case === 'document' && loc.value.thumbSize === '') {
        checkRange(req.offset, req.limit, req.precise);
        const doc = await usable(user, loc.value, loadDocument);
        const bytes = await readRange(doc.sha256, Number(req.offset), req.limit);
        return { type: FILE_TYPES[doc.mimeType] ?? FileType.PARTIAL, mtime: doc.date, bytes };
      }
      if (loc?.$case === 'photo') {
        checkRange(req.offset, req.limit, req.precise);
        const photo = await usable(user, loc.value, loadPhoto);
        // The stripped thumbnail travels inside the message; only renditions are files.
        const size = photo.sizes.find((z) => z.type === loc.value.thumbSize);
        if (!size) throw errors.badRequest('LOCATION_INVALID');
        const bytes = await readRange(size.sha256, Number(req.offset), req.limit);
        return { type: FileType.JPEG, mtime: photo.date, bytes };
      }
      if (loc?.$case === 'peerPhoto') {
        checkRange(req.offset, req.limit, req.precise);
        const v = loc.value;
        const photo = await profilePhotoOf(req.context, user, v.peer, v.photoId);
        const want = v.big ? PROFILE_BIG : PROFILE_SMALL;
        const size = photo.sizes.find((z) => z.type === want);
        if (!size) throw errors.badRequest('LOCATION_INVALID');
        const bytes = await readRange(size.sha256, Number(req.offset), req.limit);
        return { type: FileType.JPEG, mtime: photo.date, bytes };
      }
      throw errors.badRequest('LOCATION_INVALID');
    },

    async uploadProfilePhoto(req) {
      const owner = loggedIn(req.context);
      if (!req.file) throw errors.badRequest('PHOTO_FILE_MISSING');
      const photo = await completePhoto(owner, req.file, makeProfilePhoto, owner);
      return { photo: photoOf(photo, d.dcId) };
    },

    async releaseProfilePhotos(req) {
      for (const id of new Set(req.photoIds.slice(0, MAX_RELEASE))) {
        if (dcOfFileId(id) !== d.dcId) continue;
        const photo = await store.photo(id);
        if (photo && photo.profileUserId === req.userId && req.userId !== 0n)
          await store.releaseProfilePhoto(id, req.userId);
      }
      return {};
    },

    async getFileMetadata(req) {
      const dc = dcOfFileId(req.fileId);
      if (dc !== d.dcId) throw errors.migrate('FILE', dc);
      const doc = await store.document(req.fileId);
      if (doc) return { file: metadataOf(doc, d.dcId) };
      const photo = await store.photo(req.fileId);
      if (!photo) throw errors.badRequest('FILE_ID_INVALID');
      const original = await store.content(photo.sha256);
      return { file: photoMetadataOf(photo, BigInt(original?.size ?? 0), d.dcId) };
    },

    async grantAccess(req) {
      const dc = dcOfFileId(req.fileId);
      if (dc !== d.dcId) throw errors.migrate('FILE', dc);
      const user = loggedIn(req.context);
      const file = await loadHeld(req.fileId);
      // Only someone who may see the file can pass it on.
      if (!file || (!openTo(file, user) && !(await store.granted(file.id, user))))
        throw errors.badRequest('FILE_ID_INVALID');
      await grant(file.id, file.ownerId, req.userIds);
      return {};
    },
  };
}
