/**
 * Files through the gateway with Tern's own light client (tools/load/client.ts) for the media
 * benchmark: the same calls as a Telegram app (upload.saveBigFilePart, messages.sendMedia,
 * upload.getFile), but encrypted and decoded with the gateway's own crypto and TL codec, so the
 * client costs a fraction of a core where GramJS (pure JavaScript AES-IGE) takes a whole one and
 * becomes the figure's limit (docs/benchmarks.md, "Media"). What this section measures is the
 * gateway and media service, not a client library.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TlObject } from '../../services/gateway/src/mtproto/tl-types';
import { loadTlRegistry } from '../../services/gateway/src/tl/registry';
import type { ClientTl } from '../load/client';
import { openSession, type LoadSession } from '../load/login';
import type { Target } from './gramjs';

const KiB = 1024;
/** The layer the light client speaks (any layer the gateway serves would do). */
const LAYER = 198;

/** The codecs of the light client's layer. */
export function clientTl(): ClientTl {
  const registry = loadTlRegistry();
  return { layer: LAYER, api: registry.forLayer(LAYER), mtproto: registry.mtproto };
}

/** A signed-in light-client session as a new test number of `t`'s DC. */
export async function lightSession(t: Target): Promise<LoadSession> {
  const tl = clientTl();
  const phone = `99966${t.dcId}${String(randomBytes(2).readUInt16LE(0) % 10_000).padStart(4, '0')}`;
  return openSession({
    index: 0,
    dc: t.dcId,
    host: t.host,
    port: t.port,
    phone,
    tl,
    onUpdate: () => undefined,
    onClose: () => undefined,
  });
}

/** Runs `work(i)` for i = 0 … n − 1, at most `inFlight` at a time, in order of i. */
async function inParallel(n: number, inFlight: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < n) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, n) }, worker));
}

/**
 * Uploads the file at `path` with upload.saveBigFilePart of `partSize` bytes, `inFlight` parts at
 * a time, reading each part from disk when it is sent; returns the inputFileBig to send.
 */
export async function lightUpload(
  s: LoadSession,
  path: string,
  size: number,
  partSize: number,
  inFlight: number,
): Promise<TlObject> {
  const fileId = randomBytes(8).readBigInt64LE();
  const parts = Math.ceil(size / partSize);
  const file = await open(path);
  try {
    await inParallel(parts, inFlight, async (i) => {
      const bytes = Buffer.alloc(Math.min(partSize, size - i * partSize));
      await file.read(bytes, 0, bytes.length, i * partSize);
      const ok = await s.client.call({
        _: 'upload.saveBigFilePart',
        file_id: fileId,
        file_part: i,
        file_total_parts: parts,
        bytes,
      });
      if (ok._ !== 'boolTrue') throw new Error(`saveBigFilePart ${i}: ${ok._}`);
    });
  } finally {
    await file.close();
  }
  return { _: 'inputFileBig', id: fileId, parts, name: path.slice(path.lastIndexOf('/') + 1) };
}

/** Sends an uploaded file to the session's own Saved Messages as a document; returns the document. */
export async function lightSendDocument(s: LoadSession, file: TlObject): Promise<TlObject> {
  const updates = await s.client.call({
    _: 'messages.sendMedia',
    peer: { _: 'inputPeerSelf' },
    media: {
      _: 'inputMediaUploadedDocument',
      force_file: true,
      file,
      mime_type: 'application/octet-stream',
      attributes: [{ _: 'documentAttributeFilename', file_name: file.name as string }],
    },
    message: 'tern bench (light client)',
    random_id: randomBytes(8).readBigInt64LE(),
  });
  for (const u of (updates.updates as TlObject[] | undefined) ?? []) {
    const media = (u.message as TlObject | undefined)?.media as TlObject | undefined;
    const document = media?.document as TlObject | undefined;
    if (document?._ === 'document') return document;
  }
  throw new Error(`messages.sendMedia answered without the document (${updates._})`);
}

/**
 * Downloads a document with upload.getFile of `limit` bytes, `inFlight` requests at a time on
 * the session's one connection, hashing the parts in order; returns the SHA-256 of what arrived.
 */
export async function lightGetFile(
  s: LoadSession,
  doc: TlObject,
  inFlight: number,
  limit = 1024 * KiB,
): Promise<string> {
  const size = Number(doc.size);
  const location = {
    _: 'inputDocumentFileLocation',
    id: doc.id,
    access_hash: doc.access_hash,
    file_reference: doc.file_reference,
    thumb_size: '',
  };
  const sha = createHash('sha256');
  const ready = new Map<number, Buffer>();
  let written = 0;
  await inParallel(Math.ceil(size / limit), inFlight, async (i) => {
    const res = await s.client.call({ _: 'upload.getFile', location, offset: BigInt(i * limit), limit });
    const bytes = res.bytes as Buffer;
    const expected = Math.min(limit, size - i * limit);
    if (bytes.length !== expected)
      throw new Error(`getFile at ${i * limit}: ${bytes.length} bytes, expected ${expected}`);
    ready.set(i, bytes);
    for (let b = ready.get(written); b; b = ready.get(written)) {
      ready.delete(written++);
      sha.update(b);
    }
  });
  return sha.digest('hex');
}

/**
 * Milliseconds of each help.getNearestDc answered, one after the other, on a second connection of
 * the same auth key (a second session, as an app's media connection beside its main one) until
 * `busy` settles: whether a download on one session holds up the calls of another. The calls run
 * on a worker thread (media-side-session.ts), so the download's decryption here does not delay them.
 */
export async function sideSessionLatencies(
  s: LoadSession,
  t: Target,
  busy: Promise<unknown>,
): Promise<number[]> {
  // A worker does not inherit tsx's loader: it registers tsx's CommonJS hook, then loads the file.
  const entry = `require('tsx/cjs/api').register(); require(${JSON.stringify(join(__dirname, 'media-side-session.ts'))});`;
  const worker = new Worker(entry, {
    eval: true,
    workerData: { host: t.host, port: t.port, authKey: new Uint8Array(s.authKey) },
  });
  type Reply = { ready?: true; took?: number[]; error?: string };
  const next = () =>
    new Promise<Reply>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  try {
    const ready = await next();
    if (ready.error) throw new Error(`side session: ${ready.error}`);
    await busy.catch(() => undefined);
    const result = next();
    worker.postMessage('stop');
    const { took, error } = await result;
    if (error || !took) throw new Error(`side session: ${error ?? 'no answer'}`);
    return took;
  } finally {
    await worker.terminate();
  }
}
