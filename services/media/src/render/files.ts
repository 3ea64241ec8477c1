/**
 * Stored files as callers get them: the TL-shaped protos (tern.common.v1 Document and Photo) the
 * gateway turns into TL objects, and the FileMetadata of GetFileMetadata / CompleteUpload. The file
 * reference in them is the stored one; gateways replace it with one issued when they show the file.
 */
import type { Document, Photo } from '../../../shared/src/gen/tern/common/v1/media';
import { FileType, type FileMetadata } from '../../../shared/src/gen/tern/media/v1/media';
import { STRIPPED_TYPE } from '../internal/renditions';
import type { StoredDocument, StoredPhoto } from '../storage/files';
import { contentKey } from '../storage/objects';

/** upload.getFile's storage.FileType of a document, by MIME type (storage.filePartial otherwise). */
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

export const fileTypeOf = (mimeType: string): FileType => FILE_TYPES[mimeType] ?? FileType.PARTIAL;

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

/** A document's metadata. */
export function metadataOf(d: StoredDocument, dcId: number): FileMetadata {
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
export function photoMetadataOf(p: StoredPhoto, size: bigint, dcId: number): FileMetadata {
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
