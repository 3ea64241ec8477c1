/**
 * mtcute (layer 227) with files, through its own high-level upload and download API. Run as a child
 * process like mtcute-probe.mts (`tsx mtcute-media.mts <json options>`); prints one JSON line.
 *
 *   { "host", "port", "dcId", "rsaPublicKey", "login": { "phone", "code", "firstName" },
 *     "username": "set_this",
 *     "send": { "to": "username", "path": "/tmp/x.bin", "caption": "..." },
 *     "receive": { "from": "username" } }
 *
 * The client knows only the DC it is given; it learns the other DCs from help.getConfig, as it
 * does against Telegram. In this order:
 *   - `login`: signs in (signing up when the number is new); `results.login` = { dcId, id }.
 *   - `username`: account.updateUsername.
 *   - `send`: uploads the file at `path` (client.sendMedia with InputMedia.document: saveFilePart,
 *     or saveBigFilePart over 10 MiB) and sends it to `to`; `results.sent` = { id, document, calls }.
 *   - `receive`: the newest message from `from` that has a document; downloads it twice with
 *     client.downloadAsBuffer: once as an app does (the document names its DC, so mtcute opens that
 *     DC and exports/imports its authorization there), once told to start on its own DC, which
 *     answers FILE_MIGRATE_X. `results.received` = { id, text, document, length, sha256, calls,
 *     migratedSha256, migratedCalls }.
 * `calls` count the requests of that step by method, and the errors they met as `method: ERROR`.
 */
import {
  InputMedia,
  MemoryStorage,
  networkMiddlewares,
  TelegramClient,
  type RpcCallMiddleware,
} from '@mtcute/node';
import { createHash } from 'node:crypto';
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
