/**
 * The uploader downloads its own document on its home DC with GramJS's downloadMedia. GramJS does
 * that over a second connection it borrows for the file's DC even when that is the home DC (same
 * auth key, a new session, no initConnection and no export/import), so the gateway must serve
 * upload.getFile on a bare session of an already-initialised key, and its answers are frames of
 * 128 KiB and more.
 *
 * Run over TCP "full" (GramJS's default in Node) and the obfuscated transport, which carries the
 * abridged framing. Not the plain abridged transport: GramJS's own codec for it reads a packet
 * body with one socket read instead of reading exactly its length, so an answer longer than one
 * TCP read is cut short and the download stalls in the client ("sender already has some hanging
 * states" every 30 s) whatever the server does.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import bigInt from 'big-integer';
import type { Api as GramApi } from 'telegram';
import { CustomFile } from 'telegram/client/uploads';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { gramClient, signInOrUp, testNumber, trustKey, type GramConnection } from './support/gramjs';
import { close } from './support/media';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

type Gram = ReturnType<typeof gramClient>;
/** A new test user of DC `dc` logged in over `connection`. */
async function signedUp(dc: number, connection: GramConnection): Promise<Gram> {
  const g = gramClient({ lib: 'telegram', dc: s.dcs[dc - 1]!, connection });
  await g.client.connect();
  await signInOrUp(g, dc, testNumber(dc), 'Owner');
  return g;
}

describe.each([
  { connection: 'full' as const, dc: 1 },
  { connection: 'obfuscated' as const, dc: 3 },
])('the uploader downloads its own document on its home DC ($connection)', ({ connection, dc }) => {
  let owner: Gram | undefined;
  afterAll(() => close(owner));

  it('with downloadMedia, byte for byte', async () => {
    owner = await signedUp(dc, connection);
    // Over 1 MiB and not a multiple of GramJS's 128 KiB request: several full answers and a short one.
    const content = randomBytes(2 * 1024 * 1024 + 77_777);
    const sent = await owner.client.sendFile('me', {
      file: new CustomFile('own.bin', content.length, '', content),
      forceDocument: true,
      workers: 4,
    });
    const doc = (sent.media as GramApi.MessageMediaDocument).document as GramApi.Document;
    expect(doc.dcId).toBe(dc);
    expect(Number(doc.size)).toBe(content.length);

    const downloaded = (await owner.client.downloadMedia(sent)) as Buffer;
    expect(Buffer.isBuffer(downloaded)).toBe(true);
    expect(downloaded.length).toBe(content.length);
    expect(downloaded.equals(content)).toBe(true);

    // The same through the client's main connection, 1 MiB at a time (the largest limit).
    const location = new owner.Api.InputDocumentFileLocation({
      id: doc.id,
      accessHash: doc.accessHash,
      fileReference: doc.fileReference,
      thumbSize: '',
    });
    const parts: Buffer[] = [];
    for (let offset = 0; offset < content.length; offset += 1024 * 1024) {
      const part = (await owner.client.invoke(
        new owner.Api.upload.GetFile({ location, offset: bigInt(offset), limit: 1024 * 1024 }),
      )) as GramApi.upload.File;
      parts.push(Buffer.from(part.bytes));
    }
    expect(Buffer.concat(parts).equals(content)).toBe(true);
  }, 120_000);
});
