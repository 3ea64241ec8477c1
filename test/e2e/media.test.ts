/**
 * Files across DCs with GramJS: a user homed on DC 2 uploads a document and sends it to a user homed
 * on DC 1; the file stays in DC 2, and the recipient's client downloads it there (FILE_MIGRATE_2 on
 * its own DC, then auth.exportAuthorization / importAuthorization, which GramJS does itself).
 * Also the refusals a Telegram client can meet: bad offsets and limits, oversized and missing
 * parts, stale file references, and a user who was never sent the file.
 */
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bigInt from 'big-integer';
import type { Api as GramApi } from 'telegram';
import { CustomFile } from 'telegram/client/uploads';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { createObjectStore, filesBucketFor } from '../../services/shared/src';
import { stack } from '../support/stack';
import { gramClient, loggedInClient, rawSend, testNumber, trustKey } from './support/gramjs';
import { close, documentOf, errorOf, peerOf } from './support/media';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

type Gram = ReturnType<typeof gramClient>;

/** Sends `bytes` as a document from `from` to `to` and returns the recipient's copy of the message. */
async function sendDocument(
  from: Gram,
  to: Gram,
  bytes: Buffer,
  name: string,
): Promise<{ sent: GramApi.Message; received: GramApi.Message }> {
  const toRecipient = await peerOf(from, to);
  // GramJS reads files over 20 MB from disk only.
  const dir = bytes.length > 20 * 1024 * 1024 ? mkdtempSync(join(tmpdir(), 'tern-media-')) : undefined;
  if (dir) writeFileSync(join(dir, name), bytes);
  const sent = await from.client
    .sendFile(toRecipient, {
      file: dir
        ? new CustomFile(name, bytes.length, join(dir, name))
        : new CustomFile(name, bytes.length, '', bytes),
      forceDocument: true,
      caption: `here is ${name}`,
      workers: 4, // parts arrive concurrently, not in order
    })
    .finally(() => dir && rmSync(dir, { recursive: true, force: true }));
  const toSender = await peerOf(to, from);
  const [received] = await to.client.getMessages(toSender, { limit: 1 });
  return { sent, received: received! };
}

function locationOf(Api: Gram['Api'], d: GramApi.Document, fileReference?: Buffer) {
  return new Api.InputDocumentFileLocation({
    id: d.id,
    accessHash: d.accessHash,
    fileReference: fileReference ?? d.fileReference,
    thumbSize: '',
  });
}

describe('documents across DCs (GramJS)', () => {
  let alice: Gram; // homed on DC 2: uploads
  let bob: Gram; // homed on DC 1: receives
  let carol: Gram; // homed on DC 3: never sent anything
  let doc: GramApi.Document;
  /** The client file id of the upload left unfinished on purpose (its parts wait to expire). */
  let abandoned = '';
  const content = randomBytes(3 * 1024 * 1024 + 12_345);

  beforeAll(async () => {
    alice = await loggedInClient(s.dcs, 2, testNumber(2), 'Alice');
    bob = await loggedInClient(s.dcs, 1, testNumber(1), 'Bob');
    carol = await loggedInClient(s.dcs, 3, testNumber(3), 'Carol');
  });
  afterAll(async () => {
    await close(alice);
    await close(bob);
    await close(carol);
  });

  it('delivers a document uploaded on DC 2 to a DC 1 user, who downloads it byte for byte', async () => {
    const { sent, received } = await sendDocument(alice, bob, content, 'random.bin');
    expect(sent.out).toBe(true);
    expect(received.message).toBe('here is random.bin');
    doc = documentOf(received);
    expect(doc.dcId).toBe(2);
    expect(Number(doc.size)).toBe(content.length);
    expect(doc.fileReference.length).toBeGreaterThan(0);
    const names = doc.attributes.filter((a) => a.className === 'DocumentAttributeFilename');
    expect((names[0] as GramApi.DocumentAttributeFilename).fileName).toBe('random.bin');
    // The sender's copy names the same file.
    expect(documentOf(sent).id.toString()).toBe(doc.id.toString());

    const downloaded = (await bob.client.downloadMedia(received)) as Buffer;
    expect(Buffer.isBuffer(downloaded)).toBe(true);
    expect(downloaded.length).toBe(content.length);
    expect(downloaded.equals(content)).toBe(true);
  });

  it('sends a client asking the wrong DC to the file’s DC', async () => {
    const req = new bob.Api.upload.GetFile({
      location: locationOf(bob.Api, doc),
      offset: bigInt(0),
      limit: 4096,
    });
    expect(await errorOf(rawSend(bob.client, req))).toBe('FILE_MIGRATE_2');
  });

  it('serves ranges on the holding DC and refuses bad offsets and limits', async () => {
    const get = (offset: number, limit: number, precise = false) =>
      alice.client.invoke(
        new alice.Api.upload.GetFile({
          location: locationOf(alice.Api, doc),
          offset: bigInt(offset),
          limit,
          precise,
        }),
      );
    const mid = (await get(1024 * 1024 + 64 * 1024, 64 * 1024)) as GramApi.upload.File;
    expect(
      Buffer.from(mid.bytes).equals(content.subarray(1024 * 1024 + 64 * 1024, 1024 * 1024 + 128 * 1024)),
    ).toBe(true);
    const tail = (await get(3 * 1024 * 1024, 1024 * 1024)) as GramApi.upload.File;
    expect(Buffer.from(tail.bytes).equals(content.subarray(3 * 1024 * 1024))).toBe(true);
    const past = (await get(4 * 1024 * 1024, 4096)) as GramApi.upload.File;
    expect(past.bytes.length).toBe(0);
    const precise = (await get(5 * 1024, 3 * 1024, true)) as GramApi.upload.File;
    expect(Buffer.from(precise.bytes).equals(content.subarray(5 * 1024, 8 * 1024))).toBe(true);

    expect(await errorOf(get(1000, 4096))).toBe('OFFSET_INVALID');
    expect(await errorOf(get(0, 5000))).toBe('LIMIT_INVALID');
    expect(await errorOf(get(0, 2 * 1024 * 1024))).toBe('LIMIT_INVALID');
    expect(await errorOf(get(1020 * 1024, 8192))).toBe('OFFSET_INVALID'); // crosses a 1 MiB window
  });

  it('answers FILE_REFERENCE_EXPIRED for a stale reference', async () => {
    const req = new alice.Api.upload.GetFile({
      location: locationOf(alice.Api, doc, randomBytes(16)),
      offset: bigInt(0),
      limit: 4096,
    });
    expect(await errorOf(alice.client.invoke(req))).toBe('FILE_REFERENCE_EXPIRED');
  });

  it('does not serve the file to a user it was never sent to, even with its id and hashes', async () => {
    const onDc2 = await carol.client.getSender(2);
    const req = new carol.Api.upload.GetFile({
      location: locationOf(carol.Api, doc),
      offset: bigInt(0),
      limit: 4096,
    });
    expect(await errorOf(Promise.resolve(onDc2.send(req)))).toBe('FILE_ID_INVALID');
    await onDc2.disconnect();
  });

  it('refuses oversized parts and sends with missing parts', async () => {
    const fileId = bigInt(randomBytes(7).toString('hex'), 16);
    abandoned = fileId.toString(16);
    const part = (n: number, size: number) =>
      alice.client.invoke(
        new alice.Api.upload.SaveFilePart({ fileId, filePart: n, bytes: randomBytes(size) }),
      );
    expect(await errorOf(part(0, 512 * 1024 + 1024))).toBe('FILE_PART_TOO_BIG');
    expect(await part(2, 100)).toBe(true); // out of order is fine
    expect(await part(0, 64 * 1024)).toBe(true);
    const toBob = await peerOf(alice, bob);
    const send = alice.client.invoke(
      new alice.Api.messages.SendMedia({
        peer: toBob,
        message: '',
        randomId: bigInt(randomBytes(7).toString('hex'), 16),
        media: new alice.Api.InputMediaUploadedDocument({
          file: new alice.Api.InputFile({ id: fileId, parts: 3, name: 'partial.bin', md5Checksum: '' }),
          mimeType: 'application/octet-stream',
          attributes: [],
        }),
      }),
    );
    expect(await errorOf(send)).toBe('FILE_PART_1_MISSING');
  });

  it('takes a 30 MB file in big parts, stores its content once however often it is sent', async () => {
    const big = randomBytes(30 * 1024 * 1024);
    const first = await sendDocument(alice, bob, big, 'big-1.bin');
    const second = await sendDocument(alice, bob, big, 'big-2.bin');
    const [a, b] = [documentOf(first.received), documentOf(second.received)];
    expect(a.id.toString()).not.toBe(b.id.toString()); // two documents...
    expect(Number(b.size)).toBe(big.length);
    const downloaded = (await bob.client.downloadMedia(second.received)) as Buffer;
    expect(downloaded.equals(big)).toBe(true);

    // ...over one stored copy of the content, and no upload parts left behind.
    const objects = createObjectStore({ ...s.minio });
    const bucket = filesBucketFor(s.minio.bucketPrefix, 2);
    const list = async (prefix: string) => {
      const names: string[] = [];
      for await (const o of objects.listObjectsV2(bucket, prefix, true) as AsyncIterable<{ name: string }>)
        names.push(o.name);
      return names;
    };
    const sha = createHash('sha256').update(big).digest('hex');
    const stored = await list(`files/${sha}/`);
    const partSize = 128 * 1024; // GramJS's part size for files up to 100 MB
    expect(stored).toHaveLength(big.length / partSize);
    const me = await alice.client.getMe();
    const left = await list(`uploads/${me.id.toString()}/`);
    expect(left.filter((name) => !name.includes(`/${abandoned}/`))).toEqual([]);
  }, 300_000);
});
