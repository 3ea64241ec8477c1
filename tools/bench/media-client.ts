/**
 * Files through the gateway with a real client (GramJS, layer 198) for the media benchmark:
 * a logged-in user on its home DC, uploads with GramJS's own uploadFile (its part size and
 * workers), a document sent to the user's own Saved Messages (the completion: the media service
 * hashes the parts and files the content), and downloads, either GramJS's downloadMedia (one
 * upload.getFile in flight, its own part size) or a loop of upload.getFile of 1 MiB with several
 * in flight. Content is hashed as it streams; nothing here holds a whole file.
 */
import { createCipheriv, createHash, randomInt } from 'node:crypto';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import bigInt from 'big-integer';
import { Api, TelegramClient } from 'telegram';
import { CustomFile } from 'telegram/client/uploads';
import { Logger, LogLevel } from 'telegram/extensions/Logger';
import { ConnectionTCPFull } from 'telegram/network';
import { StringSession } from 'telegram/sessions';
import type { Target } from './gramjs';

const API = { apiId: 12345, apiHash: '0123456789abcdef0123456789abcdef' };
const MiB = 1024 * 1024;

/**
 * A connected GramJS client on TCP "full", GramJS's default in Node. Not the abridged transport
 * of ./gramjs.ts: GramJS's plain abridged codec reads a packet's body with a single socket read
 * (`reader.read(n)`, not `readExactly`), so any answer larger than what has arrived at that moment
 * (a 128 KiB upload.file does not fit one TCP read) is cut short, the rest is taken for the next
 * packet, decryption fails and the call never completes.
 */
async function connectedClient(t: Target): Promise<TelegramClient> {
  if (t.port !== 443) throw new Error('GramJS clients only dial port 443');
  const session = new StringSession('');
  session.setDC(t.dcId, t.host, t.port);
  const client = new TelegramClient(session, API.apiId, API.apiHash, {
    connection: ConnectionTCPFull,
    useWSS: true, // in Node: plain TCP to port 443
    // GramJS's default: about 1 handshake in 256 fails on the client's side (docs/clients.md).
    connectionRetries: 5,
    autoReconnect: false,
    baseLogger: new Logger(process.env.GRAMJS_LOG ? LogLevel.INFO : LogLevel.NONE),
    deviceModel: 'tern-bench',
    appVersion: '1.0',
  });
  // GramJS's connect() answers false (it does not throw) when every attempt failed.
  if (!(await client.connect())) throw new Error(`GramJS could not connect to DC ${t.dcId}`);
  return client;
}

/** A client logged in as a new test number of `t`'s DC (99966XYYYY, code: the DC digit × 5). */
export async function loggedInClient(t: Target, name: string): Promise<TelegramClient> {
  const client = await connectedClient(t);
  client.floodSleepThreshold = 0;
  const phone = `99966${t.dcId}${String(randomInt(0, 10_000)).padStart(4, '0')}`;
  const sent = (await client.invoke(
    new Api.auth.SendCode({ phoneNumber: phone, ...API, settings: new Api.CodeSettings({}) }),
  )) as Api.auth.SentCode;
  const res = await client.invoke(
    new Api.auth.SignIn({
      phoneNumber: phone,
      phoneCodeHash: sent.phoneCodeHash,
      phoneCode: String(t.dcId).repeat(5),
    }),
  );
  if (res.className === 'auth.AuthorizationSignUpRequired')
    await client.invoke(
      new Api.auth.SignUp({
        phoneNumber: phone,
        phoneCodeHash: sent.phoneCodeHash,
        firstName: name,
        lastName: '',
      }),
    );
  return client;
}

/**
 * Closes a client and the senders it borrowed (GramJS's destroy walks its Map of exported senders
 * with Object.values and misses them, leaving sockets and 30 s release timers behind).
 */
export async function closeClient(client: TelegramClient): Promise<void> {
  const c = client as unknown as {
    _exportedSenderPromises: Map<number, Promise<{ disconnect(): Promise<void> } | undefined>>;
    _exportedSenderReleaseTimeouts: Map<number, ReturnType<typeof setTimeout>>;
  };
  for (const t of c._exportedSenderReleaseTimeouts.values()) clearTimeout(t);
  for (const p of c._exportedSenderPromises.values()) await (await p.catch(() => undefined))?.disconnect();
  await client.destroy();
}

/**
 * Writes `size` bytes of content to `path` and returns its SHA-256. The content is an AES-256-CTR
 * keystream of `seed`: looks random to any compressor, and the same seed gives the same bytes, so
 * repeated runs store one copy per DC (the media service keeps identical content once).
 */
export async function writeContent(path: string, size: number, seed: string): Promise<string> {
  const key = createHash('sha256').update(`tern-bench-media:${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(MiB);
  const sha = createHash('sha256');
  const out = createWriteStream(path);
  for (let left = size; left > 0; left -= MiB) {
    const chunk = cipher.update(left >= MiB ? zeros : zeros.subarray(0, left));
    sha.update(chunk);
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  return sha.digest('hex');
}

/** SHA-256 of a file, read as a stream. */
export async function fileSha256(path: string): Promise<string> {
  const sha = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) sha.update(chunk as Buffer);
  return sha.digest('hex');
}

/** Uploads the file at `path` with GramJS's uploadFile (saveBigFilePart over 10 MB). */
export async function uploadFile(
  client: TelegramClient,
  path: string,
  size: number,
  workers: number,
): Promise<Api.InputFileBig | Api.InputFile> {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return client.uploadFile({ file: new CustomFile(name, size, path), workers });
}

/** Sends an uploaded file to the user's own Saved Messages as a document; returns the document. */
export async function sendAsDocument(
  client: TelegramClient,
  file: Api.InputFileBig | Api.InputFile,
): Promise<{ message: Api.Message; document: Api.Document }> {
  const message = await client.sendFile('me', { file, forceDocument: true, caption: 'tern bench' });
  const media = message.media as Api.MessageMediaDocument | undefined;
  if (!(media?.document instanceof Api.Document)) throw new Error('the sent message carries no document');
  return { message, document: media.document };
}

/** GramJS's downloadMedia into a file (its own request size, one request in flight). */
export async function downloadMediaTo(client: TelegramClient, message: Api.Message, path: string) {
  await client.downloadMedia(message, { outputFile: path });
}

/**
 * Downloads a document with upload.getFile of `limit` bytes, `inFlight` requests at a time on the
 * client's main connection, writing the parts in order to `out` (or only hashing them); returns
 * the SHA-256 of what arrived.
 */
export async function getFileLoop(
  client: TelegramClient,
  doc: Api.Document,
  inFlight: number,
  limit = MiB,
  out?: WriteStream,
): Promise<string> {
  const size = Number(doc.size);
  const location = new Api.InputDocumentFileLocation({
    id: doc.id,
    accessHash: doc.accessHash,
    fileReference: doc.fileReference,
    thumbSize: '',
  });
  const sha = createHash('sha256');
  const parts = Math.ceil(size / limit);
  const ready = new Map<number, Buffer>();
  let next = 0;
  let written = 0;
  const flush = async () => {
    for (let b = ready.get(written); b; b = ready.get(written)) {
      ready.delete(written++);
      sha.update(b);
      if (out && !out.write(b)) await once(out, 'drain');
    }
  };
  const worker = async () => {
    while (next < parts) {
      const i = next++;
      const res = (await client.invoke(
        new Api.upload.GetFile({ location, offset: bigInt(i * limit), limit }),
      )) as Api.upload.File;
      const expected = Math.min(limit, size - i * limit);
      if (res.bytes.length !== expected)
        throw new Error(`getFile at ${i * limit}: ${res.bytes.length} bytes, expected ${expected}`);
      ready.set(i, res.bytes);
      await flush();
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, parts) }, worker));
  if (out) {
    out.end();
    await once(out, 'close');
  }
  return sha.digest('hex');
}
