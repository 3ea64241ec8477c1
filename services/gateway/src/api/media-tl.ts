/**
 * Media between TL and proto: the InputMedia a client sends (TL → tern.common.v1) and the
 * MessageMedia / Document it is shown (proto → layer-neutral TL, written in each client's layer by
 * the codec). Translation only; the media service decides what is valid.
 */
import { errors } from '../../../shared/src';
import type {
  Document,
  DocumentAttribute,
  InputDocument,
  InputFile,
  InputMedia,
  MessageMedia,
} from '../../../shared/src/gen/tern/common/v1/media';
import type { TlObject } from '../mtproto/tl-types';
import { text } from './convert';

const num = (v: unknown): number => Number(v ?? 0);
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

/** TL InputMedia → proto: uploaded documents and documents already stored; others MEDIA_INVALID. */
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
        duration: Math.round(k.value.duration),
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
    file_reference: Buffer.from(d.fileReference),
    date: d.date,
    mime_type: d.mimeType,
    size: d.size,
    dc_id: d.dcId,
    attributes: d.attributes.map(tlAttribute).filter((a) => a !== undefined),
  };
}

/** TL MessageMedia of a stored message (undefined when there is none). */
export function tlMessageMedia(m: MessageMedia | undefined): TlObject | undefined {
  const k = m?.kind;
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
