/**
 * Completion: a finished upload (its parts in the bucket) becomes a stored document or photo.
 *
 * Idempotent per (uploader, InputFile.id): completed_uploads remembers what an upload became, so a
 * retry gets the same file back. Every check comes before anything is written, and a content row
 * only once its objects are all in place, so a failure leaves at most parts, which expire.
 *
 * A document is its upload's content. A photo is made here (renditions.ts): the upload is decoded
 * and made into JPEG renditions and a stripped thumbnail; the upload is still stored as content
 * (the original, kept so renditions can be remade) and each rendition is content of its own, so a
 * photo's sizes are downloaded with the same ranged reads as documents and identical renditions
 * are stored once. Content addressing also means a rendition's bytes never change under a message
 * that advertises their size, even if a later encoder would make them differently.
 */
import { randomBytes } from 'node:crypto';
import { errors, limiter, newFileId, type Logger } from '../../../shared/src';
import type { DocumentAttribute, InputFile } from '../../../shared/src/gen/tern/common/v1/media';
import type { FileStore, StoredDocument, StoredPhoto, StoredPhotoSize } from '../storage/files';
import type { FileObjects } from '../storage/objects';
import type { Contents } from './content';
import { makePhoto, MAX_PHOTO_BYTES, type MadePhoto } from './renditions';
import { checkCompletion, MAX_NAME, type Layout } from './rules';

/**
 * Photos decoded at once by one process: each holds up to 10 MB of upload and its decoded pixels
 * (up to 25 Mpx), so this bounds the memory photos take however many arrive together.
 */
const PHOTO_CONCURRENCY = 2;

export interface CompletionDeps {
  dcId: number;
  store: FileStore;
  objects: FileObjects;
  contents: Contents;
  log: Logger;
}

/**
 * What the documents and photos tables keep in `file_reference`: nothing. References are issued by
 * the gateways when they show a file and checked against the deployment's key
 * (docs/decisions/0013-file-references.md); a stored one is never read, so none is made.
 */
const noStoredReference = (): Buffer => Buffer.alloc(0);

/** A new access hash: what a client must present with the id (random, never shown to others). */
const newAccessHash = (): bigint => randomBytes(8).readBigInt64LE();

const now = (): number => Math.floor(Date.now() / 1000);

export class Completion {
  /** Shared by every completion of this instance; the service makes one per process. */
  private readonly photoSlot = limiter(PHOTO_CONCURRENCY);

  constructor(private readonly d: CompletionDeps) {}

  /** Turns a finished upload into a stored document (a second call returns the same one). */
  async document(
    owner: bigint,
    file: InputFile,
    mimeType: string,
    attributes: DocumentAttribute[],
  ): Promise<StoredDocument> {
    const { store, contents } = this.d;
    const done = await store.completed(owner, file.id);
    if (done !== undefined) {
      const doc = await store.document(done);
      if (doc) return doc;
    }
    const { parts, layout } = await this.finishedUpload(owner, file);
    const hashed = await contents.hashUpload(owner, file, layout, false);
    const content = await contents.storeUpload(owner, file.id, layout, hashed.sha256);
    const doc: StoredDocument = {
      id: newFileId(this.d.dcId),
      accessHash: newAccessHash(),
      fileReference: noStoredReference(),
      ownerId: owner,
      date: now(),
      mimeType,
      size: BigInt(content.size),
      sha256: hashed.sha256,
      name: file.name.slice(0, MAX_NAME),
      md5Checksum: file.big ? '' : hashed.md5,
      attributes,
    };
    await store.putDocument(doc);
    await store.markCompleted(owner, file.id, doc.id);
    await this.dropUpload(owner, file.id, parts);
    return doc;
  }

  /**
   * Turns a finished upload into a stored photo: decodes it with `make` (a message photo's sizes,
   * or a profile photo's) and makes the renditions and the stripped thumbnail before anything is
   * written, so a picture that fails leaves only parts that expire. `profileUserId` marks a profile
   * photo with the user whose profile shows it.
   */
  async photo(
    owner: bigint,
    file: InputFile,
    make: (bytes: Buffer) => Promise<MadePhoto> = makePhoto,
    profileUserId = 0n,
  ): Promise<StoredPhoto> {
    const { store, contents } = this.d;
    const done = await store.completed(owner, file.id);
    if (done !== undefined) {
      const photo = await store.photo(done);
      // One upload makes one photo: a retry gets it back; the same upload used once as a message
      // photo and then as a profile photo (or the other way) has no parts left to make it again.
      if (photo && photo.profileUserId === profileUserId) return photo;
      if (photo) throw errors.badRequest(profileUserId ? 'PHOTO_FILE_MISSING' : 'MEDIA_INVALID');
    }
    const { parts, layout } = await this.finishedUpload(owner, file);
    // Telegram's limit; a client sends bigger pictures as documents.
    if (layout.size > MAX_PHOTO_BYTES) throw errors.badRequest('PHOTO_SAVE_FILE_INVALID');
    const { hashed, made } = await this.photoSlot(async () => {
      const hashed = await contents.hashUpload(owner, file, layout, true);
      return { hashed, made: await make(hashed.bytes!) };
    });
    await contents.storeUpload(owner, file.id, layout, hashed.sha256);
    const sizes: StoredPhotoSize[] = [];
    for (const r of made.renditions)
      sizes.push({
        type: r.type,
        w: r.w,
        h: r.h,
        size: r.jpeg.length,
        sha256: await contents.storeBytes(r.jpeg),
      });
    const photo: StoredPhoto = {
      id: newFileId(this.d.dcId),
      accessHash: newAccessHash(),
      fileReference: noStoredReference(),
      ownerId: owner,
      date: now(),
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
    await this.dropUpload(owner, file.id, parts);
    return photo;
  }

  /** The parts of a finished upload, checked against what the client declared (rules.ts). */
  private async finishedUpload(owner: bigint, file: InputFile): Promise<{ parts: number[]; layout: Layout }> {
    const upload = await this.d.store.upload(owner, file.id);
    const layout = checkCompletion(upload.sizes, file.parts, upload, file.big);
    return { parts: [...upload.sizes.keys()], layout };
  }

  /** Deletes an upload's parts (rows, then objects); best effort, they expire anyway. */
  private async dropUpload(owner: bigint, fileId: bigint, parts: Iterable<number>): Promise<void> {
    try {
      await this.d.store.dropUpload(owner, fileId);
      await this.d.objects.removeParts(owner, fileId, parts);
    } catch (err) {
      this.d.log.warn(
        { err, fileId: String(fileId) },
        'upload cleanup failed; parts expire with the lifecycle rule',
      );
    }
  }
}
