/**
 * Photos across DCs with GramJS: a user homed on DC 2 sends a picture as a photo to a user homed on
 * DC 1. The server decodes it and makes the sizes (s, m, x, y) and a stripped thumbnail; the
 * recipient sees messageMediaPhoto, downloads the largest size from DC 2 (GramJS goes there
 * itself, exporting its authorization) and rebuilds the stripped thumbnail into a JPEG. Also: the
 * photo re-sent by reference, a stranger refused, and uploads that are no picture.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import bigInt from 'big-integer';
import sharp from 'sharp';
import type { Api as GramApi } from 'telegram';
import { CustomFile } from 'telegram/client/uploads';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { loggedInClient, rawSend, testNumber, trustKey } from './support/gramjs';
import { close, errorOf, gridDifference, peerOf, photoOf, pictureJpeg } from './support/media';
import type { Gram } from './support/users';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

/** The last message `viewer` has from `other`. */
async function lastFrom(viewer: Gram, other: Gram): Promise<GramApi.Message> {
  const [m] = await viewer.client.getMessages(await peerOf(viewer, other), { limit: 1 });
  return m!;
}

function locationOf(g: Gram, p: GramApi.Photo, thumbSize: string) {
  return new g.Api.InputPhotoFileLocation({
    id: p.id,
    accessHash: p.accessHash,
    fileReference: p.fileReference,
    thumbSize,
  });
}

describe('photos across DCs (GramJS)', () => {
  let alice: Gram; // homed on DC 2: sends
  let bob: Gram; // homed on DC 1: receives
  let carol: Gram; // homed on DC 3: never sent anything
  let picture: Buffer;
  let sent: GramApi.Message;
  let received: GramApi.Message;

  beforeAll(async () => {
    picture = await pictureJpeg(1600, 1200);
    alice = await loggedInClient(s.dcs, 2, testNumber(2), 'Alice');
    bob = await loggedInClient(s.dcs, 1, testNumber(1), 'Bob');
    carol = await loggedInClient(s.dcs, 3, testNumber(3), 'Carol');
  }, 120_000);
  afterAll(async () => {
    await close(alice);
    await close(bob);
    await close(carol);
  });

  it('delivers a photo with server-made sizes and a stripped thumbnail', async () => {
    const before = await bob.client.invoke(new bob.Api.updates.GetState());
    sent = await alice.client.sendFile(await peerOf(alice, bob), {
      file: new CustomFile('pattern.jpg', picture.length, '', picture),
      caption: 'a photo',
    });
    received = await lastFrom(bob, alice);
    expect(received.message).toBe('a photo');
    const photo = photoOf(received);
    expect(photo.dcId).toBe(2);
    expect(photo.id.toString()).toBe(photoOf(sent).id.toString());
    expect(photo.fileReference.length).toBeGreaterThan(0);

    const [stripped, ...sizes] = photo.sizes;
    expect(stripped?.className).toBe('PhotoStrippedSize');
    expect((stripped as GramApi.PhotoStrippedSize).type).toBe('i');
    expect(
      sizes.map((z) => {
        const p = z as GramApi.PhotoSize;
        return `${p.className} ${p.type} ${p.w}x${p.h}`;
      }),
    ).toEqual(['PhotoSize s 100x75', 'PhotoSize m 320x240', 'PhotoSize x 800x600', 'PhotoSize y 1280x960']);

    // A client catching up gets the same photo from updates.getDifference.
    const diff = await bob.client.invoke(
      new bob.Api.updates.GetDifference({ pts: before.pts, date: before.date, qts: before.qts }),
    );
    expect(diff.className).toBe('updates.Difference');
    const [caught] = (diff as GramApi.updates.Difference).newMessages as GramApi.Message[];
    expect(photoOf(caught).id.toString()).toBe(photo.id.toString());
    expect(photoOf(caught).sizes).toHaveLength(5);
  });

  it('lets the recipient download the largest size from the photo’s DC', async () => {
    // GramJS picks the largest size and asks DC 2 (the photo's dc_id), exporting its
    // authorization there; the recipient's own DC would answer FILE_MIGRATE_2.
    const downloaded = (await bob.client.downloadMedia(received)) as Buffer;
    const y = photoOf(received).sizes.at(-1) as GramApi.PhotoSize;
    expect(downloaded.length).toBe(y.size);
    const meta = await sharp(downloaded).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1280, 960]);

    const onDc1 = new bob.Api.upload.GetFile({
      location: locationOf(bob, photoOf(received), 'y'),
      offset: bigInt(0),
      limit: 4096,
    });
    expect(await errorOf(rawSend(bob.client, onDc1))).toBe('FILE_MIGRATE_2');
  });

  it('rebuilds the stripped thumbnail into a JPEG of the picture', async () => {
    // thumb 0: GramJS's smallest size, the stripped one, expanded with the client's own header.
    const thumb = (await bob.client.downloadMedia(received, { thumb: 0 })) as Buffer;
    const meta = await sharp(thumb).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['jpeg', 40, 30, 3]);
    // Blurry but the same picture (support/media.ts gridDifference).
    expect(await gridDifference(thumb, picture)).toBeLessThan(12);
  });

  it('serves each size by its letter and refuses letters the photo does not have', async () => {
    const onDc2 = await bob.client.getSender(2);
    const get = (thumbSize: string, fileReference?: Buffer) =>
      Promise.resolve(
        onDc2.send(
          new bob.Api.upload.GetFile({
            location: new bob.Api.InputPhotoFileLocation({
              id: photoOf(received).id,
              accessHash: photoOf(received).accessHash,
              fileReference: fileReference ?? photoOf(received).fileReference,
              thumbSize,
            }),
            offset: bigInt(0),
            limit: 1024 * 1024,
          }),
        ),
      );
    const small = (await get('s')) as GramApi.upload.File;
    expect(small.type.className).toBe('storage.FileJpeg');
    expect((await sharp(Buffer.from(small.bytes)).metadata()).width).toBe(100);
    expect(await errorOf(get('w'))).toBe('LOCATION_INVALID');
    expect(await errorOf(get('i'))).toBe('LOCATION_INVALID');
    expect(await errorOf(get('s', randomBytes(16)))).toBe('FILE_REFERENCE_EXPIRED');
  });

  it('does not serve the photo to a user it was never sent to', async () => {
    const onDc2 = await carol.client.getSender(2);
    const req = new carol.Api.upload.GetFile({
      location: locationOf(carol, photoOf(received), 'y'),
      offset: bigInt(0),
      limit: 4096,
    });
    expect(await errorOf(Promise.resolve(onDc2.send(req)))).toBe('FILE_ID_INVALID');
  });

  it('re-sends the stored photo by reference (inputMediaPhoto), the same photo', async () => {
    const again = await alice.client.sendFile(await peerOf(alice, bob), {
      file: photoOf(sent),
      caption: 'once more',
    });
    expect(photoOf(again).id.toString()).toBe(photoOf(sent).id.toString());
    const copy = await lastFrom(bob, alice);
    expect(copy.message).toBe('once more');
    expect(photoOf(copy).id.toString()).toBe(photoOf(received).id.toString());
    expect(photoOf(copy).sizes).toHaveLength(5);
  });

  it('answers Telegram’s errors for uploads that are no photo', async () => {
    const toBob = await peerOf(alice, bob);
    const sendAsPhoto = async (name: string, bytes: Buffer) => {
      const file = await alice.client.uploadFile({
        file: new CustomFile(name, bytes.length, '', bytes),
        workers: 1,
      });
      return alice.client.invoke(
        new alice.Api.messages.SendMedia({
          peer: toBob,
          message: '',
          randomId: bigInt(randomBytes(7).toString('hex'), 16),
          media: new alice.Api.InputMediaUploadedPhoto({ file }),
        }),
      );
    };
    expect(await errorOf(sendAsPhoto('notes.txt', Buffer.from('no picture here, just text')))).toBe(
      'PHOTO_EXT_INVALID',
    );
    const corrupt = Buffer.concat([picture.subarray(0, 4), randomBytes(5000)]);
    expect(await errorOf(sendAsPhoto('corrupt.jpg', corrupt))).toBe('IMAGE_PROCESS_FAILED');
    const thin = await sharp({ create: { width: 2100, height: 100, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    expect(await errorOf(sendAsPhoto('thin.jpg', thin))).toBe('PHOTO_INVALID_DIMENSIONS');
  });
});
