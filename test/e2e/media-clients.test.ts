/**
 * Files across DCs with teleproto (layer 214) and mtcute (layer 227), each handling FILE_MIGRATE_X
 * and auth.exportAuthorization / importAuthorization by itself:
 *   - teleproto on DC 2 → teleproto on DC 1: a document of a few MB and one over 10 MiB (sent in
 *     big parts); GramJS (layer 198) on DC 2 → teleproto on DC 1.
 *   - mtcute on DC 1 (a child process: clients/mtcute-media.mts) uploads a document in big parts
 *     with its own sendMedia and a GramJS user on DC 2 downloads it from DC 1; the GramJS user sends
 *     one back and mtcute downloads it from DC 2 with its own download API.
 * Every download is compared byte for byte (SHA-256 where the bytes stay in the child process).
 */
import { createHash, createPublicKey, randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Api as GramApi } from 'telegram';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { testNumber, trustKey } from './support/gramjs';
import { close as closeGram, documentOf } from './support/media';
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
  /** Class names of the requests sent through the senders the library uploads with. */
  sent: Set<string>;
}

async function user(lib: User['lib'], dc: number, name: string): Promise<User> {
  const g = await loggedInWith(lib, s.dcs, dc, testNumber(dc), name);
  // GramJS and teleproto upload parts through getSender(home DC); watching those senders shows
  // which upload call a file went through.
  const sent = new Set<string>();
  type Sender = { send(r: { className: string }): Promise<unknown> };
  const client = g.client as unknown as { getSender(dc: number): Promise<Sender> };
  const watched = new WeakSet<Sender>();
  const getSender = client.getSender.bind(client);
  client.getSender = async (dcId) => {
    const sender = await getSender(dcId);
    if (!watched.has(sender)) {
      watched.add(sender);
      const send = sender.send.bind(sender);
      sender.send = (r) => {
        sent.add(r.className);
        return send(r);
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
  const sent = await from.g.client.sendFile(inputPeer(from.g, await resolveUser(from.g, to.username)), {
    file: new CustomFiles[from.lib](name, bytes.length, '', bytes),
    forceDocument: true,
    caption: `here is ${name}`,
    workers: 4,
  });
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

describe('documents across DCs with teleproto and mtcute', () => {
  let tele2: User; // teleproto, DC 2: sends
  let tele1: User; // teleproto, DC 1: receives
  let gram2: User; // GramJS, DC 2: sends to teleproto and mtcute, receives from mtcute

  beforeAll(async () => {
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

  it('teleproto sends a document over 10 MiB in big parts, downloaded byte for byte', async () => {
    const content = randomBytes(12 * 1024 * 1024 + 777);
    tele2.sent.clear();
    const received = await sendDocument(tele2, tele1, content, 'tele-big.bin');
    expect(tele2.sent.has('upload.SaveBigFilePart')).toBe(true);
    expect(tele2.sent.has('upload.SaveFilePart')).toBe(false);
    await expectDownload(tele1, received, content, 2);
  }, 120_000);

  it('GramJS on DC 2 sends to teleproto on DC 1 (layers 198 → 214)', async () => {
    const content = randomBytes(2 * 1024 * 1024 + 99);
    const received = await sendDocument(gram2, tele1, content, 'gram.bin');
    await expectDownload(tele1, received, content, 2);
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

    it('downloads a document GramJS on DC 2 sent, from DC 2, with its own download API', async () => {
      const content = randomBytes(3 * 1024 * 1024 + 1234);
      const sent = await gram2.g.client.sendFile(inputPeer(gram2.g, await resolveUser(gram2.g, username)), {
        file: new CustomFiles.telegram('for-mtcute.bin', content.length, '', content),
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
  });
});
