/**
 * Media between TL and proto: the InputMedia a client sends and the file locations it downloads
 * (TL → tern.common.v1), and the MessageMedia / Document / Photo it is shown (proto → layer-neutral TL, written in each client's layer by
 * the codec). Translation only; the media service decides what is valid.
 */
import { errors } from '../../../shared/src';
import type {
  Document,
  DocumentAttribute,
  InputDocument,
  InputFile,
  InputFileLocation,
  InputMedia,
  InputPhoto,
  MessageMedia,
  Photo,
  PhotoSize,
} from '../../../shared/src/gen/tern/common/v1/media';
import type { TlObject } from '../mtproto/tl-types';
import { currentFileReference } from './file-references';
import { inputPeer } from './peers';
import { text } from './users';

const num = (v: unknown): number => Number(v ?? 0);

/** A duration as whole seconds that fits every layer's int (NaN, infinities and huge values too). */
const wholeSeconds = (d: number): number =>
  Number.isFinite(d) ? Math.min(0x7fffffff, Math.max(0, Math.round(d))) : 0;
const bytes = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.alloc(0));

/** TL InputFile / inputFileBig → proto; MEDIA_INVALID for anything else. */
export function inputFileOf(v: unknown): InputFile {
  const f = v as TlObject | undefined;
  if (f?._ !== 'inputFile' && f?._ !== 'inputFileBig') throw errors.badRequest('MEDIA_INVALID');
  return {
    id: f.id as bigint,
    parts: num(f.parts),
    name: text(f.name),
    md5Checksum: text(f.md5_checksum),
    big: f._ === 'inputFileBig',
  };
}

/** TL DocumentAttribute → proto; kinds Tern does not keep (stickers, custom emoji...) are dropped. */
export function attributeOf(a: TlObject): DocumentAttribute | undefined {
  switch (a._) {
    case 'documentAttributeFilename':
      return { kind: { $case: 'fileName', value: text(a.file_name) } };
    case 'documentAttributeImageSize':
      return { kind: { $case: 'imageSize', value: { w: num(a.w), h: num(a.h) } } };
    case 'documentAttributeAnimated':
      return { kind: { $case: 'animated', value: true } };
    case 'documentAttributeVideo':
      return {
        kind: {
          $case: 'video',
          value: {
            duration: num(a.duration),
            w: num(a.w),
            h: num(a.h),
            roundMessage: a.round_message === true,
            supportsStreaming: a.supports_streaming === true,
          },
        },
      };
    case 'documentAttributeAudio':
      return {
        kind: {
          $case: 'audio',
          value: {
            duration: num(a.duration),
            voice: a.voice === true,
            title: text(a.title),
            performer: text(a.performer),
            waveform: bytes(a.waveform),
          },
        },
      };
    default:
      return undefined;
  }
}

function inputDocumentOf(v: unknown): InputDocument {
  const d = v as TlObject | undefined;
  if (d?._ !== 'inputDocument') throw errors.badRequest('MEDIA_INVALID');
  return { id: d.id as bigint, accessHash: d.access_hash as bigint, fileReference: bytes(d.file_reference) };
}

function inputPhotoOf(v: unknown): InputPhoto {
  const p = v as TlObject | undefined;
  if (p?._ !== 'inputPhoto') throw errors.badRequest('MEDIA_INVALID');
  return { id: p.id as bigint, accessHash: p.access_hash as bigint, fileReference: bytes(p.file_reference) };
}

/**
 * TL InputMedia → proto: uploaded photos and documents, and photos and documents already stored;
 * others MEDIA_INVALID. Stickers attached to a photo, spoilers and live photos are not kept.
 */
export function inputMediaOf(v: unknown): InputMedia {
  const m = v as TlObject | undefined;
  switch (m?._) {
    case 'inputMediaUploadedDocument':
      return {
        kind: {
          $case: 'uploadedDocument',
          value: {
            file: inputFileOf(m.file),
            ...(m.thumb ? { thumb: inputFileOf(m.thumb) } : {}),
            mimeType: text(m.mime_type),
            attributes: ((m.attributes as TlObject[] | undefined) ?? [])
              .map(attributeOf)
              .filter((a) => a !== undefined),
            forceFile: m.force_file === true,
            ttlSeconds: num(m.ttl_seconds),
          },
        },
      };
    case 'inputMediaDocument':
      return { kind: { $case: 'document', value: inputDocumentOf(m.id) } };
    case 'inputMediaUploadedPhoto':
      return {
        kind: {
          $case: 'uploadedPhoto',
          value: { file: inputFileOf(m.file), ttlSeconds: num(m.ttl_seconds) },
        },
      };
    case 'inputMediaPhoto':
      return { kind: { $case: 'photo', value: inputPhotoOf(m.id) } };
    default:
      throw errors.badRequest('MEDIA_INVALID');
  }
}

export function tlAttribute(a: DocumentAttribute): TlObject | undefined {
  const k = a.kind;
  switch (k?.$case) {
    case 'fileName':
      return { _: 'documentAttributeFilename', file_name: k.value };
    case 'imageSize':
      return { _: 'documentAttributeImageSize', w: k.value.w, h: k.value.h };
    case 'animated':
      return { _: 'documentAttributeAnimated' };
    case 'video':
      return {
        _: 'documentAttributeVideo',
        round_message: k.value.roundMessage || undefined,
        supports_streaming: k.value.supportsStreaming || undefined,
        // Whole seconds: layers before 160-odd carry an int here, newer ones a double, and one
        // layer-neutral object is written for every layer.
        duration: wholeSeconds(k.value.duration),
        w: k.value.w,
        h: k.value.h,
      };
    case 'audio':
      return {
        _: 'documentAttributeAudio',
        voice: k.value.voice || undefined,
        duration: k.value.duration,
        title: k.value.title || undefined,
        performer: k.value.performer || undefined,
        waveform: k.value.waveform.length > 0 ? Buffer.from(k.value.waveform) : undefined,
      };
    default:
      return undefined;
  }
}

/** A stored document (TL document): its bytes are downloaded from DC `dc_id`. */
export function tlDocument(d: Document): TlObject {
  return {
    _: 'document',
    id: d.id,
    access_hash: d.accessHash,
    // Issued now: a client that met FILE_REFERENCE_EXPIRED refetches the message for this.
    file_reference: currentFileReference(d.id, d.fileReference),
    date: d.date,
    mime_type: d.mimeType,
    size: d.size,
    dc_id: d.dcId,
    attributes: d.attributes.map(tlAttribute).filter((a) => a !== undefined),
  };
}

/**
 * One size of a photo: a rendition downloaded with upload.getFile (TL photoSize), or the stripped
 * thumbnail carried inline (photoStrippedSize), which is the one with bytes.
 */
export function tlPhotoSize(z: PhotoSize): TlObject {
  if (z.bytes.length > 0) return { _: 'photoStrippedSize', type: z.type, bytes: Buffer.from(z.bytes) };
  return { _: 'photoSize', type: z.type, w: z.w, h: z.h, size: z.size };
}

/** A stored photo (TL photo): its sizes are downloaded from DC `dc_id`. */
export function tlPhoto(p: Photo): TlObject {
  return {
    _: 'photo',
    id: p.id,
    access_hash: p.accessHash,
    file_reference: currentFileReference(p.id, p.fileReference),
    date: p.date,
    sizes: p.sizes.map(tlPhotoSize),
    dc_id: p.dcId,
  };
}

/**
 * TL ChatPhoto of a channel's photo (chatPhotoEmpty for none): its id and DC (clients download it
 * from there with inputPeerPhotoFileLocation naming the channel) and its stripped thumbnail.
 */
export function tlChatPhoto(p: Photo | undefined): TlObject {
  if (!p) return { _: 'chatPhotoEmpty' };
  const stripped = p.sizes.find((z) => z.bytes.length > 0);
  return {
    _: 'chatPhoto',
    photo_id: p.id,
    stripped_thumb: stripped ? Buffer.from(stripped.bytes) : undefined,
    dc_id: p.dcId,
  };
}

/** TL MessageMedia of a stored message (undefined when there is none). */
export function tlMessageMedia(m: MessageMedia | undefined): TlObject | undefined {
  const k = m?.kind;
  if (k?.$case === 'photo')
    return { _: 'messageMediaPhoto', photo: tlPhoto(k.value), ttl_seconds: m?.ttlSeconds || undefined };
  if (k?.$case !== 'document') return undefined;
  const video = k.value.attributes.some((a) => a.kind?.$case === 'video');
  const voice = k.value.attributes.some((a) => a.kind?.$case === 'audio' && a.kind.value.voice);
  return {
    _: 'messageMediaDocument',
    video: video || undefined,
    voice: voice || undefined,
    document: tlDocument(k.value),
    ttl_seconds: m?.ttlSeconds || undefined,
  };
}

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
    fileReference: bytes(loc.file_reference),
    thumbSize: text(loc.thumb_size),
  };
  return loc._ === 'inputPhotoFileLocation'
    ? { kind: { $case: 'photo', value } }
    : { kind: { $case: 'document', value } };
}
