/**
 * tern.media.v1.MediaService: every RPC of proto/tern/media/v1/media.proto, one handler module per
 * area, built on the pieces of internal/ and storage/:
 *
 *   uploads.ts         SaveFilePart, CompleteUpload
 *   message-media.ts   UploadMedia
 *   downloads.ts       GetFile
 *   metadata.ts        GetFileMetadata
 *   grants.ts          GrantAccess
 *   profile-photos.ts  UploadProfilePhoto, ReleaseProfilePhotos
 *
 * Bytes never pass through this process whole: parts (≤ 512 KiB) are objects of their own, a
 * completion reads them once to hash them and copies them server-side into stored content (once
 * per DC, by SHA-256), and a download reads at most 1 MiB. The storage layout is described in
 * storage/objects.ts (the bucket) and storage/files.ts (the tables); photos are the exception that
 * is decoded whole, bounded (internal/completion.ts, internal/renditions.ts).
 *
 * A file lives in the DC that received the upload; its id carries that DC (newFileId), so any DC
 * can answer FILE_MIGRATE_X without a lookup.
 */
import type { Client as MinioClient } from 'minio';
import type { AsyncImplOf, FileReferences, Logger } from '../../../shared/src';
import type { MediaServiceService } from '../../../shared/src/gen/tern/media/v1/media';
import { FileAccess, type ChannelCheck, type PeerCheck } from '../internal/access';
import { Completion } from '../internal/completion';
import { Contents } from '../internal/content';
import type { FileStore } from '../storage/files';
import { FileObjects } from '../storage/objects';
import { downloadHandlers } from './downloads';
import { grantHandlers } from './grants';
import { messageMediaHandlers } from './message-media';
import { metadataHandlers } from './metadata';
import { profilePhotoHandlers } from './profile-photos';
import { uploadHandlers } from './uploads';

export type { ChannelCheck, PeerCheck } from '../internal/access';

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
  /** Whether a user may read a channel a file was posted in: the channel service decides. */
  channels: ChannelCheck;
  log: Logger;
}

/** The implementation of every RPC of MediaService (a missing or extra one is a compile error). */
export type MediaHandlers = AsyncImplOf<typeof MediaServiceService>;

/**
 * The handlers of one process. Called once at start: the pieces made here are shared by every call
 * (the bound on photos decoded at once belongs to the one Completion).
 */
export function mediaHandlers(d: MediaDeps): MediaHandlers {
  const { dcId, store } = d;
  const objects = new FileObjects(d.objects, d.bucket);
  const contents = new Contents(store, objects);
  const completion = new Completion({ dcId, store, objects, contents, log: d.log });
  const access = new FileAccess({
    dcId,
    dcIds: d.dcIds,
    store,
    references: d.references,
    peers: d.peers,
    channels: d.channels,
  });

  const uploads = uploadHandlers({ dcId, store, objects, completion });
  const messageMedia = messageMediaHandlers({ dcId, completion, access });
  const downloads = downloadHandlers({ access, contents });
  const metadata = metadataHandlers({ dcId, store });
  const grants = grantHandlers({ dcId, store, access });
  const profilePhotos = profilePhotoHandlers({ dcId, store, completion, access });

  // Listed one by one, each from the module that serves it: no RPC can be left out or served twice.
  return {
    saveFilePart: uploads.saveFilePart,
    completeUpload: uploads.completeUpload,
    uploadMedia: messageMedia.uploadMedia,
    getFile: downloads.getFile,
    getFileMetadata: metadata.getFileMetadata,
    grantAccess: grants.grantAccess,
    uploadProfilePhoto: profilePhotos.uploadProfilePhoto,
    releaseProfilePhotos: profilePhotos.releaseProfilePhotos,
    uploadChatPhoto: profilePhotos.uploadChatPhoto,
  } satisfies MediaHandlers;
}
