/**
 * Files: upload.saveFilePart / saveBigFilePart / getFile (documents, photo sizes, profile photos) and
 * messages.sendMedia. Translation only. Parts go to this DC's media service: a file lives in the
 * DC the client uploaded it to (its home DC's connection), and getFile on another DC answers
 * FILE_MIGRATE_X, after which clients export their authorization to the file's DC and download
 * there.
 */
import { errors, unary } from '../../../shared/src';
import type { InputFileLocation } from '../../../shared/src/gen/tern/common/v1/media';
import { FileType, type MediaServiceClient } from '../../../shared/src/gen/tern/media/v1/media';
import type { CallContext } from '../mtproto/engine';
import type { TlObject } from '../mtproto/tl-types';
import { requestContext } from './context';
import { text } from './convert';
import { tlUpdates } from './updates-tl';
import { inputMediaOf, tlMessageMedia } from './media-tl';
import { inputPeer, type MessagingDeps } from './messages';

export interface MediaDeps extends MessagingDeps {
  media: MediaServiceClient;
}

const bytesOf = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.alloc(0));

async function loggedInContext(ctx: CallContext, d: MediaDeps) {
  const context = await requestContext(ctx, d.auth, d.dcId);
  if (context.userId === 0n) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
  return context;
}

export async function saveFilePart(call: TlObject, ctx: CallContext, d: MediaDeps): Promise<boolean> {
  await unary(d.media.saveFilePart.bind(d.media), {
    context: await loggedInContext(ctx, d),
    fileId: call.file_id as bigint,
    filePart: Number(call.file_part),
    big: false,
    fileTotalParts: 0,
    bytes: bytesOf(call.bytes),
  });
  return true;
}

export async function saveBigFilePart(call: TlObject, ctx: CallContext, d: MediaDeps): Promise<boolean> {
  await unary(d.media.saveFilePart.bind(d.media), {
    context: await loggedInContext(ctx, d),
    fileId: call.file_id as bigint,
    filePart: Number(call.file_part),
    big: true,
    fileTotalParts: Number(call.file_total_parts),
    bytes: bytesOf(call.bytes),
  });
  return true;
}

const STORAGE_TYPES: Partial<Record<FileType, string>> = {
  [FileType.JPEG]: 'storage.fileJpeg',
  [FileType.GIF]: 'storage.fileGif',
  [FileType.PNG]: 'storage.filePng',
  [FileType.PDF]: 'storage.filePdf',
  [FileType.MP3]: 'storage.fileMp3',
  [FileType.MOV]: 'storage.fileMov',
  [FileType.MP4]: 'storage.fileMp4',
  [FileType.WEBP]: 'storage.fileWebp',
  [FileType.UNKNOWN]: 'storage.fileUnknown',
};

/**
 * TL InputFileLocation → proto: documents, photo sizes and users' profile photos; other locations
 * LOCATION_INVALID.
 */
export function fileLocationOf(v: unknown): InputFileLocation {
  const loc = v as TlObject | undefined;
  if (loc?._ === 'inputPeerPhotoFileLocation')
    return {
      kind: {
        $case: 'peerPhoto',
        value: { peer: inputPeer(loc.peer), photoId: loc.photo_id as bigint, big: loc.big === true },
      },
    };
  if (loc?._ !== 'inputDocumentFileLocation' && loc?._ !== 'inputPhotoFileLocation')
    throw errors.badRequest('LOCATION_INVALID');
  const value = {
    id: loc.id as bigint,
    accessHash: loc.access_hash as bigint,
    fileReference: bytesOf(loc.file_reference),
    thumbSize: text(loc.thumb_size),
  };
  return loc._ === 'inputPhotoFileLocation'
    ? { kind: { $case: 'photo', value } }
    : { kind: { $case: 'document', value } };
}

export async function getFile(call: TlObject, ctx: CallContext, d: MediaDeps): Promise<TlObject> {
  const location = fileLocationOf(call.location);
  const res = await unary(d.media.getFile.bind(d.media), {
    context: await loggedInContext(ctx, d),
    location,
    offset: BigInt(call.offset as bigint | number),
    limit: Number(call.limit),
    precise: call.precise === true,
  });
  return {
    _: 'upload.file',
    type: { _: STORAGE_TYPES[res.type] ?? 'storage.filePartial' },
    mtime: res.mtime,
    bytes: Buffer.from(res.bytes),
  };
}

/** messages.sendMedia: the messaging service completes the upload through this DC's media service. */
export async function sendMedia(call: TlObject, ctx: CallContext, d: MediaDeps): Promise<TlObject> {
  const res = await unary(
    d.messaging.sendMessage.bind(d.messaging),
    {
      context: await loggedInContext(ctx, d),
      peer: inputPeer(call.peer),
      message: text(call.message),
      randomId: call.random_id as bigint,
      entities: [],
      replyToMsgId: 0,
      silent: call.silent === true,
      noWebpage: true,
      clearDraft: call.clear_draft === true,
      media: inputMediaOf(call.media),
    },
    // Completing a large upload reads and copies it inside the DC.
    { deadlineMs: 150_000 },
  );
  return tlUpdates(res.updates);
}

/**
 * messages.uploadMedia: stores an upload (or checks a stored file) without sending it, so a client
 * can send it later by reference (inputMediaDocument / inputMediaPhoto), perhaps many times. Only
 * the uploader may use it until a message grants it to others; `peer` is where the client means to
 * send it, which Tern does not need to know yet.
 */
export async function uploadMedia(call: TlObject, ctx: CallContext, d: MediaDeps): Promise<TlObject> {
  const res = await unary(
    d.media.uploadMedia.bind(d.media),
    { context: await loggedInContext(ctx, d), media: inputMediaOf(call.media), grantUserIds: [] },
    { deadlineMs: 150_000 },
  );
  const media = tlMessageMedia(res.media);
  if (!media) throw errors.badRequest('MEDIA_INVALID');
  return media;
}
