/**
 * Profile photos across DCs with GramJS: a user homed on DC 2 uploads profile photos (the media
 * service of DC 2 makes the square sizes a, b, c and a stripped thumbnail); a user homed on DC 1
 * sees them on the user (userProfilePhoto with dc_id 2), downloads the current one with
 * downloadProfilePhoto (inputPeerPhotoFileLocation: GramJS goes to DC 2 itself, exporting its
 * authorization) and listed ones with inputPhotoFileLocation, and pages photos.getUserPhotos.
 * Also: updateProfilePhoto, deletePhotos with the fallback to the next photo, another user's
 * delete that deletes nothing, Telegram's errors for uploads that cannot be profile photos, and
 * the list following the user when an operator moves it to DC 3.
 */
import { execFile } from 'node:child_process';
import { createPublicKey, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bigInt from 'big-integer';
import sharp from 'sharp';
import type { Api as GramApi } from 'telegram';
import { CustomFile } from 'telegram/client/uploads';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { loggedInClient, rawSend, testNumber, trustKey } from './support/gramjs';
import { close, errorOf } from './support/media';
import { setUsername, type Gram } from './support/users';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

/** A `w`×`h` JPEG in one colour with a darker left half, so crops and sizes can be told apart. */
async function pictureJpeg(w: number, h: number, rgb: [number, number, number]): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const k = x < w / 2 ? 0.5 : 1;
      raw[i] = rgb[0] * k;
      raw[i + 1] = rgb[1] * k;
      raw[i + 2] = rgb[2] * k;
    }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 92 })
    .toBuffer();
}

const sizesOf = (p: GramApi.Photo) =>
  p.sizes.map((z) =>
    z.className === 'PhotoSize'
      ? `${z.type} ${z.w}x${z.h}`
      : `${z.className} ${(z as { type: string }).type}`,
  );

const ids = (photos: GramApi.TypePhoto[]) => photos.map((p) => p.id.toString());

describe('profile photos across DCs (GramJS)', () => {
  let alice: Gram; // homed on DC 2: the profile
  let bob: Gram; // homed on DC 1: looks at it
  let carol: Gram; // homed on DC 3: tries to delete it
  let aliceName: string;
  let first: GramApi.Photo;
  let second: GramApi.Photo;

  /** Uploads `bytes` as `g`'s profile photo. */
  async function upload(g: Gram, name: string, bytes: Buffer): Promise<GramApi.photos.Photo> {
    const file = await g.client.uploadFile({
      file: new CustomFile(name, bytes.length, '', bytes),
      workers: 1,
    });
    return g.client.invoke(new g.Api.photos.UploadProfilePhoto({ file }));
  }

  /** Alice as `viewer` finds her now (a fresh user object, as after a refetch). */
  async function aliceAs(viewer: Gram): Promise<GramApi.User> {
    const r = await viewer.client.invoke(new viewer.Api.contacts.ResolveUsername({ username: aliceName }));
    return r.users[0] as GramApi.User;
  }

  const photosOf = (
    viewer: Gram,
    user: GramApi.User,
    o: { offset?: number; maxId?: string; limit?: number } = {},
  ) =>
    viewer.client.invoke(
      new viewer.Api.photos.GetUserPhotos({
        userId: new viewer.Api.InputUser({ userId: user.id, accessHash: user.accessHash! }),
        offset: o.offset ?? 0,
        maxId: bigInt(o.maxId ?? '0'),
        limit: o.limit ?? 10,
      }),
    );

  const inputPhoto = (g: Gram, p: GramApi.Photo) =>
    new g.Api.InputPhoto({ id: p.id, accessHash: p.accessHash, fileReference: p.fileReference });

  beforeAll(async () => {
    alice = await loggedInClient(s.dcs, 2, testNumber(2), 'Alice');
    bob = await loggedInClient(s.dcs, 1, testNumber(1), 'Bob');
    carol = await loggedInClient(s.dcs, 3, testNumber(3), 'Carol');
    aliceName = await setUsername(alice, 'pp');
  }, 120_000);
  afterAll(async () => {
    await close(alice);
    await close(bob);
    await close(carol);
  });

  it('makes an uploaded picture the current profile photo, with square sizes and a stripped thumbnail', async () => {
    const res = await upload(alice, 'me.jpg', await pictureJpeg(800, 600, [200, 40, 40]));
    first = res.photo as GramApi.Photo;
    expect(first.dcId).toBe(2);
    expect(sizesOf(first)).toEqual(['PhotoStrippedSize i', 'a 160x160', 'b 320x320', 'c 600x600']);
    const me = res.users[0] as GramApi.User;
    expect(me.self).toBe(true);
    const photo = me.photo as GramApi.UserProfilePhoto;
    expect(photo.className).toBe('UserProfilePhoto');
    expect(photo.photoId.toString()).toBe(first.id.toString());
    expect(photo.dcId).toBe(2);
  });

  it('shows the photo on the user to someone homed on DC 1, who downloads it from DC 2', async () => {
    const user = await aliceAs(bob);
    const photo = user.photo as GramApi.UserProfilePhoto;
    expect(photo.className).toBe('UserProfilePhoto');
    expect(photo.photoId.toString()).toBe(first.id.toString());
    expect(photo.dcId).toBe(2);
    expect(photo.strippedThumb?.length).toBeGreaterThan(3);

    // GramJS asks DC 2 (the photo's dc_id) with inputPeerPhotoFileLocation, exporting its
    // authorization there: big is `c`, small is `a`.
    const big = (await bob.client.downloadProfilePhoto(user, { isBig: true })) as Buffer;
    const bigMeta = await sharp(big).metadata();
    expect([bigMeta.format, bigMeta.width, bigMeta.height]).toEqual(['jpeg', 600, 600]);
    const small = (await bob.client.downloadProfilePhoto(user, { isBig: false })) as Buffer;
    expect((await sharp(small).metadata()).width).toBe(160);
    // Cut from the centre: the left half of the square is the darker one.
    const { data } = await sharp(big)
      .resize(2, 1, { fit: 'fill' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(data[0]!).toBeLessThan(data[3]! - 40);

    // Asked on DC 1, the answer is the redirect GramJS would follow.
    const onDc1 = new bob.Api.upload.GetFile({
      location: new bob.Api.InputPeerPhotoFileLocation({
        peer: new bob.Api.InputPeerUser({ userId: user.id, accessHash: user.accessHash! }),
        photoId: photo.photoId,
        big: true,
      }),
      offset: bigInt(0),
      limit: 4096,
    });
    expect(await errorOf(rawSend(bob.client, onDc1))).toBe('FILE_MIGRATE_2');
  });

  it('refuses the profile location with a wrong access hash or a photo not on that profile', async () => {
    const user = await aliceAs(carol);
    const onDc2 = await carol.client.getSender(2);
    const get = (accessHash: bigInt.BigInteger, photoId: bigInt.BigInteger) =>
      Promise.resolve(
        onDc2.send(
          new carol.Api.upload.GetFile({
            location: new carol.Api.InputPeerPhotoFileLocation({
              peer: new carol.Api.InputPeerUser({ userId: user.id, accessHash }),
              photoId,
            }),
            offset: bigInt(0),
            limit: 4096,
          }),
        ),
      );
    expect(await errorOf(get(user.accessHash!.add(1), first.id))).toBe('PEER_ID_INVALID');
    expect(await errorOf(get(user.accessHash!, first.id.add(1)))).toBe('LOCATION_INVALID');
    const ok = (await get(user.accessHash!, first.id)) as GramApi.upload.File;
    expect(ok.type.className).toBe('storage.FileJpeg');
  });

  it('lists the photos current first, pages them, and serves listed ones by inputPhotoFileLocation', async () => {
    second = (
      await upload(
        alice,
        'again.png',
        await sharp(await pictureJpeg(1000, 1000, [40, 40, 200]))
          .png()
          .toBuffer(),
      )
    ).photo as GramApi.Photo;
    expect(sizesOf(second)).toEqual(['PhotoStrippedSize i', 'a 160x160', 'b 320x320', 'c 640x640']);

    const user = await aliceAs(bob);
    expect((user.photo as GramApi.UserProfilePhoto).photoId.toString()).toBe(second.id.toString());
    const all = await photosOf(bob, user);
    expect(all.className).toBe('photos.Photos');
    expect(ids(all.photos)).toEqual([second.id.toString(), first.id.toString()]);
    expect((all.users[0] as GramApi.User).id.toString()).toBe(user.id.toString());

    const slice = await photosOf(bob, user, { limit: 1 });
    expect(slice.className).toBe('photos.PhotosSlice');
    expect((slice as GramApi.photos.PhotosSlice).count).toBe(2);
    expect(ids(slice.photos)).toEqual([second.id.toString()]);
    // max_id = id, offset -1, limit 1: the photo itself again (how clients refresh a reference).
    const again = await photosOf(bob, user, { maxId: first.id.toString(), offset: -1, limit: 1 });
    expect(ids(again.photos)).toEqual([first.id.toString()]);

    // A listed photo downloads like any photo (GramJS picks `c`), from DC 2, for anyone.
    const listed = all.photos[1] as GramApi.Photo;
    const bytes = (await bob.client.downloadMedia(
      new bob.Api.MessageMediaPhoto({ photo: listed }),
    )) as Buffer;
    expect((await sharp(bytes).metadata()).width).toBe(600);
  });

  it('makes an older photo current again with updateProfilePhoto', async () => {
    const res = await alice.client.invoke(
      new alice.Api.photos.UpdateProfilePhoto({ id: inputPhoto(alice, first) }),
    );
    expect(res.photo.id.toString()).toBe(first.id.toString());
    const user = await aliceAs(bob);
    expect((user.photo as GramApi.UserProfilePhoto).photoId.toString()).toBe(first.id.toString());
    expect(ids((await photosOf(bob, user)).photos)).toEqual([first.id.toString(), second.id.toString()]);
    expect(
      await errorOf(
        carol.client.invoke(new carol.Api.photos.UpdateProfilePhoto({ id: inputPhoto(carol, first) })),
      ),
    ).toBe('PHOTO_ID_INVALID');
  });

  it('deletes nothing of someone else’s profile', async () => {
    const deleted = await carol.client.invoke(
      new carol.Api.photos.DeletePhotos({ id: [inputPhoto(carol, first), inputPhoto(carol, second)] }),
    );
    expect(deleted).toEqual([]);
    expect((await photosOf(bob, await aliceAs(bob))).photos).toHaveLength(2);
  });

  it('deletes the current photo and falls back to the next; the deleted one is no longer served', async () => {
    const deleted = await alice.client.invoke(
      new alice.Api.photos.DeletePhotos({ id: [inputPhoto(alice, first)] }),
    );
    expect(deleted.map(String)).toEqual([first.id.toString()]);
    const user = await aliceAs(bob);
    expect((user.photo as GramApi.UserProfilePhoto).photoId.toString()).toBe(second.id.toString());
    expect(ids((await photosOf(bob, user)).photos)).toEqual([second.id.toString()]);

    const onDc2 = await bob.client.getSender(2);
    const get = (location: GramApi.TypeInputFileLocation) =>
      Promise.resolve(onDc2.send(new bob.Api.upload.GetFile({ location, offset: bigInt(0), limit: 4096 })));
    expect(
      await errorOf(
        get(
          new bob.Api.InputPhotoFileLocation({
            id: first.id,
            accessHash: first.accessHash,
            fileReference: first.fileReference,
            thumbSize: 'c',
          }),
        ),
      ),
    ).toBe('FILE_ID_INVALID');
    expect(
      await errorOf(
        get(
          new bob.Api.InputPeerPhotoFileLocation({
            peer: new bob.Api.InputPeerUser({ userId: user.id, accessHash: user.accessHash! }),
            photoId: first.id,
          }),
        ),
      ),
    ).toBe('LOCATION_INVALID');
    // The owner still has it (as the uploader).
    const own = await alice.client.invoke(
      new alice.Api.upload.GetFile({
        location: new alice.Api.InputPhotoFileLocation({
          id: first.id,
          accessHash: first.accessHash,
          fileReference: first.fileReference,
          thumbSize: 'a',
        }),
        offset: bigInt(0),
        limit: 4096,
      }),
    );
    expect(own.className).toBe('upload.File');
  });

  it('answers Telegram’s errors for uploads that cannot be profile photos', async () => {
    expect(await errorOf(upload(alice, 'notes.txt', Buffer.from('no picture here, just some text')))).toBe(
      'PHOTO_EXT_INVALID',
    );
    expect(await errorOf(upload(alice, 'tiny.jpg', await pictureJpeg(120, 120, [10, 200, 10])))).toBe(
      'PHOTO_CROP_SIZE_SMALL',
    );
    const picture = await pictureJpeg(400, 400, [10, 200, 10]);
    expect(
      await errorOf(upload(alice, 'broken.jpg', Buffer.concat([picture.subarray(0, 4), randomBytes(4000)]))),
    ).toBe('IMAGE_PROCESS_FAILED');
    expect(await errorOf(alice.client.invoke(new alice.Api.photos.UploadProfilePhoto({})))).toBe(
      'PHOTO_FILE_MISSING',
    );
    // Nothing of it reached the profile.
    expect(ids((await photosOf(bob, await aliceAs(bob))).photos)).toEqual([second.id.toString()]);
  });

  it('keeps the list and the photo when the user moves to another DC (the bytes stay on DC 2)', async () => {
    const me = await alice.client.getMe();
    // The operator command, as move-user.test.ts runs it.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(s.repoRoot, 'dist/services/main.js'), 'move-user', me.id.toString(), '3'],
      {
        env: {
          ...process.env,
          TERN_TOPOLOGY_FILE: s.topologyFile,
          TERN_TLS_DIR: join(s.tlsDir, 'operator'),
          OTEL_SDK_DISABLED: 'true',
        },
      },
    );
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toMatchObject({ homeDc: 3 });

    const user = await aliceAs(bob);
    const photo = user.photo as GramApi.UserProfilePhoto;
    expect([photo.photoId.toString(), photo.dcId]).toEqual([second.id.toString(), 2]);
    expect(ids((await photosOf(bob, user)).photos)).toEqual([second.id.toString()]);
    const big = (await bob.client.downloadProfilePhoto(user, { isBig: true })) as Buffer;
    expect((await sharp(big).metadata()).width).toBe(640);
  });
});
