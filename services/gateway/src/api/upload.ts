/**
 * upload.*: saveFilePart, saveBigFilePart, getFile (documents, photo sizes, profile photos).
 * Translation only. Parts go to this DC's media service: a file lives in the DC the client
 * uploaded it to (its home DC's connection), and getFile on another DC answers FILE_MIGRATE_X,
 * after which clients export their authorization to the file's DC and download there.
 */
import { unary } from '../../../shared/src';
import { FileType } from '../../../shared/src/gen/tern/media/v1/media';
import type { CallContext } from '../mtproto/invocation';
import type { TlObject } from '../mtproto/tl-types';
import { fileLocationOf } from '../convert/media';
import { requestContext, type MediaDeps } from './context';

const bytesOf = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.alloc(0));

export async function saveFilePart(call: TlObject, ctx: CallContext, d: MediaDeps): Promise<boolean> {
  await unary(d.media.saveFilePart.bind(d.media), {
    context: await requestContext(ctx, d.auth, d.dcId),
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
    context: await requestContext(ctx, d.auth, d.dcId),
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

export async function getFile(call: TlObject, ctx: CallContext, d: MediaDeps): Promise<TlObject> {
  const location = fileLocationOf(call.location);
  const res = await unary(d.media.getFile.bind(d.media), {
    context: await requestContext(ctx, d.auth, d.dcId),
    location,
    offset: BigInt(call.offset as bigint | number),
    limit: Number(call.limit),
    precise: call.precise === true,
  });
  return {
    _: 'upload.file',
    type: { _: STORAGE_TYPES[res.type] ?? 'storage.filePartial' },
    mtime: res.mtime,
    // A view, not a copy: the answer's 1 MiB is copied once, into the rpc_result.
    bytes: Buffer.from(res.bytes.buffer, res.bytes.byteOffset, res.bytes.byteLength),
  };
}
