import type { Message } from '../../../shared/src/gen/tern/common/v1/message';
import { loadTlRuntime } from '../tl-runtime';
import { inputMediaOf, tlMessageMedia } from './media';
import { tlMessage } from './updates';

const tl = loadTlRuntime();

const withDocument: Message = {
  id: 5,
  peer: { kind: { $case: 'userId', value: 7n } },
  from: { kind: { $case: 'userId', value: 8n } },
  out: false,
  date: 1_700_000_000,
  message: 'caption',
  entities: [],
  replyToMsgId: 0,
  editDate: 0,
  mentioned: false,
  mediaUnread: false,
  post: false,
  views: 0,
  postAuthor: '',
  pinned: false,
  silent: false,
  media: {
    ttlSeconds: 0,
    kind: {
      $case: 'document',
      value: {
        id: (2n << 56n) | 12345n,
        accessHash: -5n,
        fileReference: Buffer.from('0123456789abcdef'),
        date: 1_700_000_000,
        mimeType: 'video/mp4',
        size: 3_000_000_000n, // over 2 GiB: a long
        thumbs: [],
        dcId: 2,
        attributes: [
          { kind: { $case: 'fileName', value: 'clip.mp4' } },
          {
            kind: {
              $case: 'video',
              value: { duration: 1.5, w: 640, h: 480, roundMessage: false, supportsStreaming: true },
            },
          },
          {
            kind: {
              $case: 'audio',
              value: { duration: 3, voice: true, title: '', performer: '', waveform: Buffer.alloc(0) },
            },
          },
        ],
      },
    },
  },
};

describe('media in TL', () => {
  it('renders a document message that every served layer can encode', () => {
    const m = tlMessage(withDocument);
    const media = m.media as { _: string; document: { dc_id: number; size: bigint } };
    expect(media._).toBe('messageMediaDocument');
    expect(media.document.dc_id).toBe(2);
    expect(media.document.size).toBe(3_000_000_000n);
    for (const layer of tl.layers) expect(tl.encodeObject(layer, m).length).toBeGreaterThan(100);
  });

  it('renders a photo message with its sizes and stripped thumbnail in every served layer', () => {
    const sizes = [
      { type: 'i', w: 0, h: 0, size: 0, bytes: Buffer.from([1, 30, 40, 0xaa]) },
      { type: 's', w: 100, h: 75, size: 2_000, bytes: Buffer.alloc(0) },
      { type: 'y', w: 1280, h: 960, size: 200_000, bytes: Buffer.alloc(0) },
    ];
    const photo = {
      id: (2n << 56n) | 7n,
      accessHash: -3n,
      fileReference: Buffer.alloc(16, 1),
      date: 1,
      sizes,
      dcId: 2,
    };
    const m = tlMessage({
      ...withDocument,
      media: { ttlSeconds: 0, kind: { $case: 'photo', value: photo } },
    });
    const media = m.media as {
      _: string;
      photo: { dc_id: number; sizes: Array<{ _: string; type: string }> };
    };
    expect(media._).toBe('messageMediaPhoto');
    expect(media.photo.dc_id).toBe(2);
    expect(media.photo.sizes.map((z) => `${z._}:${z.type}`)).toEqual([
      'photoStrippedSize:i',
      'photoSize:s',
      'photoSize:y',
    ]);
    for (const layer of tl.layers) expect(tl.encodeObject(layer, m).length).toBeGreaterThan(100);
    const sent = inputMediaOf({
      _: 'inputMediaPhoto',
      id: { _: 'inputPhoto', id: 5n, access_hash: 6n, file_reference: Buffer.alloc(1) },
    });
    expect(sent.kind?.$case).toBe('photo');
    const uploaded = inputMediaOf({
      _: 'inputMediaUploadedPhoto',
      file: { _: 'inputFile', id: 9n, parts: 1, name: 'a.jpg', md5_checksum: '' },
    });
    expect(uploaded.kind?.$case).toBe('uploadedPhoto');
  });

  it('shows no media for a message without any', () => {
    expect(tlMessageMedia(undefined)).toBeUndefined();
    expect(tlMessage({ ...withDocument, media: undefined }).media).toBeUndefined();
  });

  it('reads an uploaded document and refuses media kinds Tern does not take', () => {
    const media = inputMediaOf({
      _: 'inputMediaUploadedDocument',
      file: { _: 'inputFileBig', id: 9n, parts: 60, name: 'big.bin' },
      mime_type: 'application/octet-stream',
      attributes: [
        { _: 'documentAttributeFilename', file_name: 'big.bin' },
        { _: 'documentAttributeSticker', alt: 'x' },
      ],
    });
    expect(media.kind?.$case).toBe('uploadedDocument');
    if (media.kind?.$case !== 'uploadedDocument') return;
    expect(media.kind.value.file).toEqual({ id: 9n, parts: 60, name: 'big.bin', md5Checksum: '', big: true });
    expect(media.kind.value.attributes).toEqual([{ kind: { $case: 'fileName', value: 'big.bin' } }]);
    expect(() => inputMediaOf({ _: 'inputMediaGeoPoint' })).toThrow('MEDIA_INVALID');
  });
});
