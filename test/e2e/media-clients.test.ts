/**
 * Files across DCs with teleproto (layer 214) and mtcute (layer 227), each handling FILE_MIGRATE_X
 * and auth.exportAuthorization / importAuthorization by itself:
 *   - teleproto on DC 2 → teleproto on DC 1: a document of a few MB and one of 30 MiB (sent in
 *     big parts); GramJS (layer 198) on DC 2 → teleproto on DC 1; a photo, whose sizes and
 *     stripped thumbnail teleproto downloads and rebuilds.
 *   - mtcute on DC 1 (a child process: clients/mtcute-media.mts) uploads a document in big parts
 *     with its own sendMedia and a GramJS user on DC 2 downloads it from DC 1; the GramJS user sends
 *     a 30 MiB one back and mtcute downloads it from DC 2 with its own download API. The same with
 *     photos.
 * Every document download is compared byte for byte (SHA-256 where the bytes stay in the child
 * process); every photo download is decoded (sharp) and must have the size the server advertised.
 */
import { createHash, createPublicKey, randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bigInt from 'big-integer';
import sharp from 'sharp';
import type { Api as GramApi } from 'telegram';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { testNumber, trustKey } from './support/gramjs';
import {
  close as closeGram,
  documentOf,
  errorOf,
  gridDifference,
  photoOf,
  pictureJpeg,
} from './support/media';
import { mtcuteMedia } from './support/mtcute';
import { inputPeer, loggedInWith, resolveUser, setUsername, type Gram } from './support/users';

const s = stack();
const fingerprint = rsaFingerprint(createPublicKey(s.rsaPublicKey));
trustKey('telegram', s.rsaPublicKey, fingerprint);
trustKey('teleproto', s.rsaPublicKey, fingerprint);

/* eslint-disable @typescript-eslint/no-require-imports -- each library's own file class */
const CustomFiles = {
  telegram: (require('telegram/client/uploads') as typeof import('telegram/client/uploads')).CustomFile,
  teleproto: (require('teleproto/client/uploads') as typeof import('telegram/client/uploads')).CustomFile,
};
/* eslint-enable @typescript-eslint/no-require-imports */

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

interface User {
  g: Gram;
  lib: 'telegram' | 'teleproto';
  username: string;
  /**
   * Class names of the requests sent through the senders the library uploads and downloads with,
   * and the errors they met as `class: ERROR`.
   */
  sent: Set<string>;
}

async function user(lib: User['lib'], dc: number, name: string): Promise<User> {
  const g = await loggedInWith(lib, s.dcs, dc, testNumber(dc), name);
  // GramJS and teleproto upload parts (sender.send) and download (invokeWithSender, which queues a
  // request state) through getSender(dc); watching those senders shows which calls a file went
  // through and which errors the library handled by itself.
  const sent = new Set<string>();
  type Request = { className: string };
  type Sender = {
    send(r: Request): Promise<unknown>;
    addStateToQueue(state: { request: Request; promise: Promise<unknown> }): void;
  };
  const note = (r: Request, answer: Promise<unknown>) => {
    sent.add(r.className);
    void errorOf(answer).then((error) => error !== 'no error' && sent.add(`${r.className}: ${error}`));
  };
  const client = g.client as unknown as { getSender(dc: number): Promise<Sender> };
  const watched = new WeakSet<Sender>();
  const getSender = client.getSender.bind(client);
  client.getSender = async (dcId) => {
    const sender = await getSender(dcId);
    if (!watched.has(sender)) {
      watched.add(sender);
      const send = sender.send.bind(sender);
      sender.send = (r) => {
        const answer = send(r);
        note(r, answer);
        return answer;
      };
      const queue = sender.addStateToQueue.bind(sender);
      sender.addStateToQueue = (state) => {
        note(state.request, state.promise);
        queue(state);
      };
    }
    return sender;
  };
  return { g, lib, username: await setUsername(g, name.toLowerCase()), sent };
}

/** Destroys a user's client and the senders it opened to other DCs (support/media.ts). */
async function close(u: User | undefined): Promise<void> {
  await closeGram(u?.g);
}

/** Sends `bytes` as a document from `from` to `to`; returns the recipient's copy of the message. */
async function sendDocument(from: User, to: User, bytes: Buffer, name: string): Promise<GramApi.Message> {
  // GramJS and teleproto read files over 20 MB from disk only.
  const dir =
    bytes.length > 20 * 1024 * 1024 ? mkdtempSync(join(tmpdir(), 'tern-media-clients-')) : undefined;
  if (dir) writeFileSync(join(dir, name), bytes);
  const sent = await from.g.client
    .sendFile(inputPeer(from.g, await resolveUser(from.g, to.username)), {
      file: new CustomFiles[from.lib](
        name,
        bytes.length,
        dir ? join(dir, name) : '',
        dir ? undefined : bytes,
      ),
      forceDocument: true,
      caption: `here is ${name}`,
      workers: 4,
    })
    .finally(() => dir && rmSync(dir, { recursive: true, force: true }));
  expect(documentOf(sent).size.toString()).toBe(String(bytes.length));
  const [received] = await to.g.client.getMessages(inputPeer(to.g, await resolveUser(to.g, from.username)), {
    limit: 1,
  });
  expect(received?.message).toBe(`here is ${name}`);
  return received!;
}

/** Downloads a received document with the library's own downloadMedia and compares it to `bytes`. */
async function expectDownload(to: User, m: GramApi.Message, bytes: Buffer, dc: number): Promise<void> {
  const doc = documentOf(m);
  expect(doc.dcId).toBe(dc);
  expect(doc.size.toString()).toBe(String(bytes.length));
  const downloaded = (await to.g.client.downloadMedia(m)) as Buffer;
  expect(downloaded.length).toBe(bytes.length);
  expect(sha256(downloaded)).toBe(sha256(bytes));
}

/** A photo's sizes as `class type w×h` (the stripped one without dimensions), as sent. */
function sizesOf(p: GramApi.Photo): string[] {
  return p.sizes.map((z) =>
    z.className === 'PhotoSize'
      ? `PhotoSize ${z.type} ${z.w}x${z.h}`
      : `${z.className} ${(z as { type: string }).type}`,
  );
}

/** The sizes the server makes of the 1600×1200 picture: stripped first, then s, m, x, y. */
const pictureSizes = [
  'PhotoStrippedSize i',
  'PhotoSize s 100x75',
  'PhotoSize m 320x240',
  'PhotoSize x 800x600',
  'PhotoSize y 1280x960',
];

/** A JPEG's format and dimensions, decoded by sharp. */
async function decoded(jpeg: Buffer): Promise<[string | undefined, number | undefined, number | undefined]> {
  const meta = await sharp(jpeg).metadata();
  return [meta.format, meta.width, meta.height];
}

describe('documents and photos across DCs with teleproto and mtcute', () => {
  let tele2: User; // teleproto, DC 2: sends
  let tele1: User; // teleproto, DC 1: receives
  let gram2: User; // GramJS, DC 2: sends to teleproto and mtcute, receives from mtcute
  let picture: Buffer; // a 1600×1200 JPEG sent as a photo

  beforeAll(async () => {
    picture = await pictureJpeg(1600, 1200);
    tele2 = await user('teleproto', 2, 'Tina');
    tele1 = await user('teleproto', 1, 'Theo');
    gram2 = await user('telegram', 2, 'Gus');
  }, 120_000);
  afterAll(async () => {
    await close(tele2);
    await close(tele1);
    await close(gram2);
  });

  it('teleproto on DC 2 sends a few MB to teleproto on DC 1, who downloads it from DC 2', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 4321);
    const received = await sendDocument(tele2, tele1, content, 'tele.bin');
    expect(tele2.sent.has('upload.SaveFilePart')).toBe(true);
    await expectDownload(tele1, received, content, 2);
  });

  it('teleproto sends a 30 MiB document in big parts, downloaded byte for byte', async () => {
    const content = randomBytes(30 * 1024 * 1024 + 777);
    tele2.sent.clear();
    const received = await sendDocument(tele2, tele1, content, 'tele-big.bin');
    expect(tele2.sent.has('upload.SaveBigFilePart')).toBe(true);
    expect(tele2.sent.has('upload.SaveFilePart')).toBe(false);
    await expectDownload(tele1, received, content, 2);
  }, 240_000);

  it('GramJS on DC 2 sends to teleproto on DC 1 (layers 198 → 214)', async () => {
    const content = randomBytes(2 * 1024 * 1024 + 99);
    const received = await sendDocument(gram2, tele1, content, 'gram.bin');
    await expectDownload(tele1, received, content, 2);
  });

  it('teleproto on DC 2 sends a photo to teleproto on DC 1: its sizes, the largest, the stripped thumbnail', async () => {
    const sent = await tele2.g.client.sendFile(
      inputPeer(tele2.g, await resolveUser(tele2.g, tele1.username)),
      {
        file: new CustomFiles.teleproto('pattern.jpg', picture.length, '', picture),
        caption: 'a teleproto photo',
      },
    );
    const [received] = await tele1.g.client.getMessages(
      inputPeer(tele1.g, await resolveUser(tele1.g, tele2.username)),
      { limit: 1 },
    );
    expect(received?.message).toBe('a teleproto photo');
    const photo = photoOf(received);
    expect(photo.id.toString()).toBe(photoOf(sent).id.toString());
    expect(photo.dcId).toBe(2);
    expect(sizesOf(photo)).toEqual(pictureSizes);
    const y = photo.sizes.at(-1) as GramApi.PhotoSize;

    // downloadMedia takes the largest size from the photo's DC (exporting the authorization there).
    tele1.sent.clear();
    const largest = (await tele1.g.client.downloadMedia(received!)) as Buffer;
    expect(largest.length).toBe(y.size);
    expect(await decoded(largest)).toEqual(['jpeg', 1280, 960]);
    expect(tele1.sent.has('upload.GetFile')).toBe(true);
    expect([...tele1.sent].filter((k) => k.includes(':'))).toEqual([]); // no errors

    // Asked on its own DC first, the library meets FILE_MIGRATE_2 and goes to DC 2 by itself.
    tele1.sent.clear();
    const migrated = (await tele1.g.client.downloadFile(
      new tele1.g.Api.InputPhotoFileLocation({
        id: photo.id,
        accessHash: photo.accessHash,
        fileReference: photo.fileReference,
        thumbSize: 'y',
      }),
      { dcId: 1, fileSize: bigInt(y.size) },
    )) as Buffer;
    expect(tele1.sent.has('upload.GetFile: FILE_MIGRATE_2')).toBe(true);
    expect(sha256(migrated)).toBe(sha256(largest));

    // The stripped size travels in the message; teleproto puts the JPEG header back on its bytes.
    const stripped = photo.sizes[0] as GramApi.PhotoStrippedSize;
    const thumb = (await tele1.g.client.downloadMedia(received!, { thumb: stripped })) as Buffer;
    expect(await decoded(thumb)).toEqual(['jpeg', 40, 30]);
    expect(await gridDifference(thumb, picture)).toBeLessThan(12);
  });

  describe('mtcute on DC 1', () => {
    const phone = testNumber(1);
    const username = `mtm_${randomInt(0, 1e9).toString(36)}x`;
    const mtcute = async (options: object) => {
      const res = await mtcuteMedia(s, 0, {
        login: { phone, code: '11111', firstName: 'Mia' },
        ...options,
      });
      expect(res.fatal).toBeUndefined();
      expect(res.results?.login.dcId).toBe(1);
      return res.results!;
    };
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'tern-media-clients-'));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('uploads a document in big parts with its own sendMedia; GramJS on DC 2 downloads it', async () => {
      const content = randomBytes(11 * 1024 * 1024 + 55);
      const path = join(dir, 'mtcute.bin');
      writeFileSync(path, content);
      const res = await mtcute({ username, send: { to: gram2.username, path, caption: 'from mtcute' } });
      expect(res.sent?.document).toMatchObject({ dcId: 1, size: content.length, fileName: 'mtcute.bin' });
      expect(res.sent?.calls).toMatchObject({
        'upload.saveBigFilePart': expect.any(Number),
        'messages.sendMedia': 1,
      });
      expect(res.sent?.calls['upload.saveFilePart']).toBeUndefined();
      expect(Object.keys(res.sent!.calls).filter((k) => k.includes(':'))).toEqual([]); // no errors

      const [received] = await gram2.g.client.getMessages(
        inputPeer(gram2.g, await resolveUser(gram2.g, username)),
        { limit: 1 },
      );
      expect(received?.message).toBe('from mtcute');
      expect(documentOf(received).id.toString()).toBe(res.sent!.document.id);
      await expectDownload(gram2, received!, content, 1);
    }, 150_000);

    it('downloads a 30 MiB document GramJS on DC 2 sent, from DC 2, with its own download API', async () => {
      const content = randomBytes(30 * 1024 * 1024 + 1234);
      const path = join(dir, 'for-mtcute.bin'); // GramJS reads files over 20 MB from disk only
      writeFileSync(path, content);
      const sent = await gram2.g.client.sendFile(inputPeer(gram2.g, await resolveUser(gram2.g, username)), {
        file: new CustomFiles.telegram('for-mtcute.bin', content.length, path),
        forceDocument: true,
        caption: 'for mtcute',
        workers: 4,
      });
      const got = (await mtcute({ receive: { from: gram2.username } })).received!;
      expect(got.document.id).toBe(documentOf(sent).id.toString());
      expect(got.text).toBe('for mtcute');
      expect(got.document).toMatchObject({ dcId: 2, size: content.length, fileName: 'for-mtcute.bin' });
      expect(got.length).toBe(content.length);
      expect(got.sha256).toBe(sha256(content));
      // mtcute goes to the document's DC (learnt from help.getConfig) and carries its authorization
      // over by itself before downloading there.
      expect(got.calls).toMatchObject({
        'help.getConfig': 1,
        'auth.exportAuthorization': 1,
        'auth.importAuthorization': 1,
      });
      expect(Object.keys(got.calls).filter((k) => k.includes(':'))).toEqual([]); // no errors
      // The same download started on DC 1, which answers FILE_MIGRATE_2.
      expect(got.migratedSha256).toBe(sha256(content));
      expect(got.migratedCalls['upload.getFile: FILE_MIGRATE_2']).toBeGreaterThan(0);
    }, 150_000);

    it('receives a photo GramJS on DC 2 sent: its sizes, the largest from DC 2, the stripped JPEG', async () => {
      const sent = await gram2.g.client.sendFile(inputPeer(gram2.g, await resolveUser(gram2.g, username)), {
        file: new CustomFiles.telegram('pattern.jpg', picture.length, '', picture),
        caption: 'a photo for mtcute',
      });
      const out = mkdtempSync(join(dir, 'photo-'));
      const got = (await mtcute({ receivePhoto: { from: gram2.username, dir: out } })).receivedPhoto!;
      expect(got.text).toBe('a photo for mtcute');
      expect(got.photo.id).toBe(photoOf(sent).id.toString());
      expect(got.photo.dcId).toBe(2);
      const [stripped, ...sizes] = got.photo.sizes;
      expect(stripped).toMatchObject({ _: 'photoStrippedSize', type: 'i', length: expect.any(Number) });
      expect(sizes.map((z) => z as { _: string; type: string; w: number; h: number })).toEqual(
        [
          ['s', 100, 75],
          ['m', 320, 240],
          ['x', 800, 600],
          ['y', 1280, 960],
        ].map(([type, w, h]) => ({ _: 'photoSize', type, w, h, size: expect.any(Number) })),
      );

      // mtcute's Photo is the location of its largest size; it fetched it from DC 2 itself.
      const y = sizes.at(-1) as { size: number };
      expect(got.largest).toEqual({ type: 'y', width: 1280, height: 960, length: y.size });
      const largest = readFileSync(join(out, 'largest.jpg'));
      expect(largest.length).toBe(y.size);
      expect(await decoded(largest)).toEqual(['jpeg', 1280, 960]);
      expect(got.calls).toMatchObject({ 'auth.exportAuthorization': 1, 'auth.importAuthorization': 1 });
      expect(got.calls['upload.getFile']).toBeGreaterThan(0);
      expect(Object.keys(got.calls).filter((k) => k.includes(':'))).toEqual([]); // no errors

      // The stripped thumbnail as mtcute rebuilds it into a JPEG.
      const thumb = readFileSync(join(out, 'stripped.jpg'));
      expect(thumb.length).toBe(got.strippedLength);
      expect(await decoded(thumb)).toEqual(['jpeg', 40, 30]);
      expect(await gridDifference(thumb, picture)).toBeLessThan(12);
    }, 150_000);

    it('sends a photo (InputMedia.photo) that GramJS on DC 2 receives with its sizes and downloads', async () => {
      const path = join(dir, 'mtcute.jpg');
      writeFileSync(path, picture);
      const res = await mtcute({ sendPhoto: { to: gram2.username, path, caption: 'a photo from mtcute' } });
      const sentPhoto = res.sentPhoto!;
      expect(sentPhoto.photo.dcId).toBe(1);
      expect(sentPhoto.photo.sizes.map((z) => z.type)).toEqual(['i', 's', 'm', 'x', 'y']);
      expect(sentPhoto.calls['upload.saveFilePart']).toBeGreaterThan(0);
      expect(Object.keys(sentPhoto.calls).filter((k) => k.includes(':'))).toEqual([]); // no errors

      const [received] = await gram2.g.client.getMessages(
        inputPeer(gram2.g, await resolveUser(gram2.g, username)),
        { limit: 1 },
      );
      expect(received?.message).toBe('a photo from mtcute');
      const photo = photoOf(received);
      expect(photo.id.toString()).toBe(sentPhoto.photo.id);
      expect(photo.dcId).toBe(1);
      expect(sizesOf(photo)).toEqual(pictureSizes);
      const largest = (await gram2.g.client.downloadMedia(received!)) as Buffer;
      expect(largest.length).toBe((photo.sizes.at(-1) as GramApi.PhotoSize).size);
      expect(await decoded(largest)).toEqual(['jpeg', 1280, 960]);
    }, 150_000);
  });
});
