/**
 * mtcute (layer 227) with files, through its own high-level upload and download API. Run as a child
 * process like mtcute-probe.mts (`tsx mtcute-media.mts <json options>`); prints one JSON line.
 *
 *   { "host", "port", "dcId", "rsaPublicKey", "login": { "phone", "code", "firstName" },
 *     "username": "set_this",
 *     "send": { "to": "username", "path": "/tmp/x.bin", "caption": "..." },
 *     "sendPhoto": { "to": "username", "path": "/tmp/x.jpg", "caption": "..." },
 *     "receive": { "from": "username" },
 *     "receivePhoto": { "from": "username", "dir": "/tmp/out" } }
 *
 * The client knows only the DC it is given; it learns the other DCs from help.getConfig, as it
 * does against Telegram. In this order:
 *   - `login`: signs in (signing up when the number is new); `results.login` = { dcId, id }.
 *   - `username`: account.updateUsername.
 *   - `send`: uploads the file at `path` (client.sendMedia with InputMedia.document: saveFilePart,
 *     or saveBigFilePart over 10 MiB) and sends it to `to`; `results.sent` = { id, document, calls }.
 *   - `sendPhoto`: uploads the picture at `path` and sends it as a photo (InputMedia.photo) to `to`;
 *     `results.sentPhoto` = { id, photo, calls }, `photo` = { id, dcId, sizes } as the server
 *     answered (sizes: { _, type, w, h, size } or, stripped, { _, type, length }).
 *   - `receive`: the newest message from `from` that has a document; downloads it twice with
 *     client.downloadAsBuffer: once as an app does (the document names its DC, so mtcute opens that
 *     DC and exports/imports its authorization there), once told to start on its own DC, which
 *     answers FILE_MIGRATE_X. `results.received` = { id, text, document, length, sha256, calls,
 *     migratedSha256, migratedCalls }.
 *   - `receivePhoto`: the newest message from `from` that has a photo; writes into `dir` the largest
 *     size as client.downloadAsBuffer gives it for the photo (`largest.jpg`, from the photo's DC)
 *     and the stripped thumbnail as the JPEG mtcute builds of it (`stripped.jpg`).
 *     `results.receivedPhoto` = { id, text, photo, largest: { type, width, height, length },
 *     strippedLength, calls }.
 * `calls` count the requests of that step by method, and the errors they met as `method: ERROR`.
 */
import {
  InputMedia,
  MemoryStorage,
  networkMiddlewares,
  TelegramClient,
  Thumbnail,
  type RpcCallMiddleware,
} from '@mtcute/node';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { signInOrUp } from './mtcute-login.mjs';
import { addPublicKey } from '@mtcute/core/utils.js';

interface Options {
  host: string;
  port: number;
  dcId: number;
  rsaPublicKey: string;
  login: { phone: string; code: string; firstName: string };
  username?: string;
  send?: { to: string; path: string; caption: string };
  receive?: { from: string };
  sendPhoto?: { to: string; path: string; caption: string };
  receivePhoto?: { from: string; dir: string };
}

const opts = JSON.parse(process.argv[2] ?? '{}') as Options;

/**
 * Every request mtcute sends (retries included), by method, and every error it was answered with
 * (`method: ERROR`), with counts: how the test sees which calls the library chose by itself.
 */
const calls: Record<string, number> = {};
const record: RpcCallMiddleware = async (ctx, next) => {
  const res = await next(ctx);
  calls[ctx.request._] = (calls[ctx.request._] ?? 0) + 1;
  const err = res as { _?: string; errorMessage?: string } | null;
  if (err?._ === 'mt_rpc_error') {
    const key = `${ctx.request._}: ${err.errorMessage}`;
    calls[key] = (calls[key] ?? 0) + 1;
  }
  return res;
};
/** `calls` since the last call of this (one phase's requests). */
function takeCalls(): Record<string, number> {
  const taken = { ...calls };
  for (const k of Object.keys(calls)) delete calls[k];
  return taken;
}

const dc = { id: opts.dcId, ipAddress: opts.host, port: opts.port };
const client = new TelegramClient({
  apiId: 12345,
  apiHash: '0123456789abcdef0123456789abcdef',
  storage: new MemoryStorage(),
  defaultDcs: { main: dc, media: { ...dc, mediaOnly: true } },
  logLevel: process.env.MTCUTE_LOG ? 5 : 0,
  disableUpdates: true,
  // mtcute's default middlewares, then the recorder (innermost: it sees every attempt).
  network: { middlewares: [...networkMiddlewares.basic(), record] },
});

async function login(o: Options['login']) {
  await signInOrUp(client, o);
  return { dcId: await client.getPrimaryDcId(), id: (await client.getMe()).id };
}

type Media = NonNullable<Awaited<ReturnType<typeof client.getHistory>>[number]['media']>;

/** What the test compares of a document. */
function documentOf(media: Media | null) {
  if (media?.type !== 'document') throw new Error(`expected a document, got ${media?.type ?? 'none'}`);
  return {
    id: media.raw.id.toString(),
    dcId: media.dcId ?? null,
    size: media.fileSize ?? null,
    fileName: media.fileName,
    mimeType: media.mimeType,
  };
}

/** What the test compares of a photo: its sizes as the server sent them. */
function photoOf(media: Media | null) {
  if (media?.type !== 'photo') throw new Error(`expected a photo, got ${media?.type ?? 'none'}`);
  return {
    id: media.raw.id.toString(),
    dcId: media.raw.dcId,
    sizes: media.raw.sizes.map((sz) => {
      switch (sz._) {
        case 'photoSize':
          return { _: sz._, type: sz.type, w: sz.w, h: sz.h, size: sz.size };
        case 'photoStrippedSize':
          return { _: sz._, type: sz.type, length: sz.bytes.length };
        default:
          return { _: sz._, type: sz.type };
      }
    }),
  };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function main(): Promise<void> {
  // Only the key's fingerprint is computed here (SHA1), so a minimal provider suffices.
  const sha1Only = { sha1: (d: Uint8Array) => new Uint8Array(createHash('sha1').update(d).digest()) };
  addPublicKey(sha1Only as unknown as Parameters<typeof addPublicKey>[0], opts.rsaPublicKey);
  await client.connect();
  const results: Record<string, unknown> = { login: await login(opts.login) };
  if (opts.username) await client.call({ _: 'account.updateUsername', username: opts.username });
  takeCalls();
  if (opts.send) {
    const msg = await client.sendMedia(
      opts.send.to,
      // `file:` marks a path on disk (a bare string would be read as a file id).
      InputMedia.document(`file:${opts.send.path}`, { caption: opts.send.caption }),
    );
    results.sent = { id: msg.id, document: documentOf(msg.media), calls: takeCalls() };
  }
  if (opts.sendPhoto) {
    const msg = await client.sendMedia(
      opts.sendPhoto.to,
      InputMedia.photo(`file:${opts.sendPhoto.path}`, { caption: opts.sendPhoto.caption }),
    );
    results.sentPhoto = { id: msg.id, photo: photoOf(msg.media), calls: takeCalls() };
  }
  if (opts.receive) {
    const history = await client.getHistory(opts.receive.from, { limit: 20 });
    const msg = history.find((m) => m.media?.type === 'document');
    if (!msg) throw new Error(`no document from @${opts.receive.from}`);
    const media = msg.media!;
    takeCalls();
    const bytes = await client.downloadAsBuffer(media as never);
    const calls = takeCalls();
    const migrated = await client.downloadAsBuffer(media as never, { dcId: await client.getPrimaryDcId() });
    results.received = {
      id: msg.id,
      text: msg.text,
      document: documentOf(media),
      length: bytes.length,
      sha256: sha256(bytes),
      calls,
      migratedSha256: sha256(migrated),
      migratedCalls: takeCalls(),
    };
  }
  if (opts.receivePhoto) {
    const history = await client.getHistory(opts.receivePhoto.from, { limit: 20 });
    const msg = history.find((m) => m.media?.type === 'photo');
    if (msg?.media?.type !== 'photo') throw new Error(`no photo from @${opts.receivePhoto.from}`);
    const photo = msg.media;
    takeCalls();
    // A Photo is itself the location of its largest size; mtcute goes to the photo's DC for it.
    const largest = await client.downloadAsBuffer(photo);
    writeFileSync(join(opts.receivePhoto.dir, 'largest.jpg'), largest);
    // The stripped size's location is the JPEG mtcute rebuilds from it (no request is made).
    const strip = photo.getThumbnail(Thumbnail.THUMB_STRIP);
    if (!strip) throw new Error('the photo has no stripped thumbnail');
    const stripped = await client.downloadAsBuffer(strip);
    writeFileSync(join(opts.receivePhoto.dir, 'stripped.jpg'), stripped);
    results.receivedPhoto = {
      id: msg.id,
      text: msg.text,
      photo: photoOf(photo),
      largest: {
        type: (photo.location as { thumbSize: string }).thumbSize,
        width: photo.width,
        height: photo.height,
        length: largest.length,
      },
      strippedLength: stripped.length,
      calls: takeCalls(),
    };
  }
  process.stdout.write(
    `${JSON.stringify({ results }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`,
  );
  await Promise.race([client.destroy(), new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ fatal: err instanceof Error ? err.message : String(err) })}\n`);
  process.exit(1);
});
