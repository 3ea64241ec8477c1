/**
 * mtcute (layer 227) as a test client. mtcute ships ESM only, so the Jest suite runs this
 * script as a child process (`tsx mtcute-probe.mts <json options>`); it prints one JSON line.
 *
 *   { "host", "port", "dcId", "rsaPublicKey", "codec": "intermediate" | "padded" | "obfuscated",
 *     "calls": ["help.getConfig", { "_": "account.updateUsername", "username": "x" }, ...],
 *     "pfs": false, "login": { "phone", "code", "firstName", "password"?, "wrongPassword"? },
 *     "cloudPassword": { "set": { "password", "hint" } } | { "remove": "current password" },
 *     "exportTo": 3, "importFrom": { "id", "bytes" (base64) } }
 *
 * With `login`, the client signs in first (signing up when the number is new), following
 * PHONE_MIGRATE_X to the number's DC as mtcute does by itself; `results.login` then names the DC
 * it ended up on and the user.
 *
 * With `messaging` (after login), private messages through mtcute's own TL calls, in this order:
 *
 *   "messaging": { "username": "set_this", "send": [{ "to": "username", "text": "hi" }],
 *                  "history": ["username"], "differenceFrom": 0 }
 *
 * `results.messaging` = { id, state: { pts } (updates.getState), sent: [{ to, id, pts }],
 * history: { username: [{ id, text, out, fromId }] } (getHistory, newest first, up to 100),
 * difference: { kinds: [...], pts, messages: [{ id, text, out, fromId }] } (updates.getDifference
 * from `differenceFrom` until differenceEmpty) }. Peers are found with contacts.resolveUsername.
 */
import {
  IntermediatePacketCodec,
  Long,
  MemoryStorage,
  ObfuscatedPacketCodec,
  PaddedIntermediatePacketCodec,
  TcpTransport,
  TelegramClient,
} from '@mtcute/node';
import { createHash } from 'node:crypto';
import { signInOrUp, type LoginOptions } from './mtcute-login.mjs';
import { addPublicKey, randomLong } from '@mtcute/core/utils.js';

interface Options {
  host: string;
  port: number;
  dcId: number;
  rsaPublicKey: string;
  codec: 'intermediate' | 'padded' | 'obfuscated';
  calls: Array<string | { _: string; [k: string]: unknown }>;
  login?: LoginOptions;
  /** After login: mtcute's enableCloudPassword / removeCloudPassword (its own SRP code). */
  cloudPassword?: { set?: { password: string; hint?: string }; remove?: string };
  /** After login: auth.exportAuthorization for this DC; `results.exported` = { id, bytes (base64) }. */
  exportTo?: number;
  /** Instead of login: auth.importAuthorization with what another probe exported. */
  importFrom?: { id: string; bytes: string };
  /** Perfect forward secrecy: a temporary key bound to the permanent one with auth.bindTempAuthKey. */
  pfs?: boolean;
  /** Private messages after login (see the top of this file). */
  messaging?: {
    username?: string;
    send?: Array<{ to: string; text: string }>;
    history?: string[];
    differenceFrom?: number;
  };
}

const opts = JSON.parse(process.argv[2] ?? '{}') as Options;

class Transport extends TcpTransport {
  override packetCodec() {
    if (opts.codec === 'obfuscated')
      return new ObfuscatedPacketCodec(new IntermediatePacketCodec()) as unknown as IntermediatePacketCodec;
    if (opts.codec === 'padded') return new PaddedIntermediatePacketCodec();
    return new IntermediatePacketCodec();
  }
}

const dc = { id: opts.dcId, ipAddress: opts.host, port: opts.port };
const client = new TelegramClient({
  apiId: 12345,
  apiHash: '0123456789abcdef0123456789abcdef',
  storage: new MemoryStorage(),
  defaultDcs: { main: dc, media: { ...dc, mediaOnly: true } },
  transport: new Transport(),
  logLevel: process.env.MTCUTE_LOG ? 5 : 0,
  disableUpdates: true,
  network: { usePfs: opts.pfs === true },
});

/** auth.sendCode → signIn (→ signUp for a new number), as an app built on mtcute does it. */
async function login(o: NonNullable<Options['login']>) {
  const outcome = await signInOrUp(client, o);
  const me = await client.getMe();
  return {
    dcId: await client.getPrimaryDcId(),
    id: me.id,
    firstName: me.firstName,
    ...outcome,
  };
}

/** A message as the test compares it. */
function brief(m: {
  _: string;
  id: number;
  message?: string;
  out?: boolean;
  fromId?: unknown;
  peerId?: unknown;
}) {
  const from = (m.fromId ?? m.peerId) as { userId?: number } | undefined;
  return { id: m.id, text: m.message ?? null, out: m.out === true, fromId: from?.userId ?? null };
}

/** contacts.resolveUsername → the inputPeerUser this user may address. */
async function peerOf(username: string) {
  const r = await client.call({ _: 'contacts.resolveUsername', username });
  const u = r.users.find((x) => x._ === 'user');
  if (!u || u._ !== 'user') throw new Error(`no user @${username}`);
  return { _: 'inputPeerUser' as const, userId: u.id, accessHash: u.accessHash! };
}

async function messaging(o: NonNullable<Options['messaging']>) {
  const out: Record<string, unknown> = { id: (await client.getMe()).id };
  if (o.username) await client.call({ _: 'account.updateUsername', username: o.username });
  const state = await client.call({ _: 'updates.getState' });
  out.state = { pts: state.pts };
  const sent = [];
  for (const s of o.send ?? []) {
    const res = await client.call({
      _: 'messages.sendMessage',
      peer: await peerOf(s.to),
      message: s.text,
      randomId: randomLong(),
    });
    sent.push({ to: s.to, id: 'id' in res ? res.id : null, pts: 'pts' in res ? res.pts : null, _: res._ });
  }
  out.sent = sent;
  const history: Record<string, unknown> = {};
  for (const name of o.history ?? []) {
    const page = await client.call({
      _: 'messages.getHistory',
      peer: await peerOf(name),
      offsetId: 0,
      offsetDate: 0,
      addOffset: 0,
      limit: 100,
      maxId: 0,
      minId: 0,
      hash: Long.ZERO,
    });
    history[name] = 'messages' in page ? page.messages.map((m) => brief(m as never)) : [];
  }
  out.history = history;
  if (o.differenceFrom !== undefined) {
    const kinds: string[] = [];
    const messages = [];
    let pts = o.differenceFrom;
    for (let i = 0; i < 100; i++) {
      const d = await client.call({ _: 'updates.getDifference', pts, date: state.date, qts: 0 });
      kinds.push(d._);
      if (d._ === 'updates.differenceEmpty') break;
      if (d._ === 'updates.differenceTooLong') {
        pts = d.pts;
        continue;
      }
      messages.push(...d.newMessages.map((m) => brief(m as never)));
      pts = d._ === 'updates.differenceSlice' ? d.intermediateState.pts : d.state.pts;
    }
    out.difference = { kinds, pts, messages };
  }
  return out;
}

async function main(): Promise<void> {
  // Only the key's fingerprint is computed here (SHA1), so a minimal provider suffices.
  const sha1Only = { sha1: (d: Uint8Array) => new Uint8Array(createHash('sha1').update(d).digest()) };
  addPublicKey(sha1Only as unknown as Parameters<typeof addPublicKey>[0], opts.rsaPublicKey);
  await client.connect();
  const results: Record<string, unknown> = {};
  if (opts.login) results.login = await login(opts.login);
  if (opts.cloudPassword?.set) {
    await client.enableCloudPassword(opts.cloudPassword.set);
    results.cloudPassword = 'set';
  }
  if (opts.cloudPassword?.remove !== undefined) {
    await client.removeCloudPassword(opts.cloudPassword.remove);
    results.cloudPassword = 'removed';
  }
  if (opts.exportTo !== undefined) {
    const exported = await client.call({ _: 'auth.exportAuthorization', dcId: opts.exportTo });
    results.exported = { id: exported.id.toString(), bytes: Buffer.from(exported.bytes).toString('base64') };
  }
  if (opts.importFrom) {
    const authorization = await client.call({
      _: 'auth.importAuthorization',
      id: Long.fromString(opts.importFrom.id),
      bytes: Buffer.from(opts.importFrom.bytes, 'base64'),
    });
    await client.notifyLoggedIn(authorization);
    results.imported = { dcId: await client.getPrimaryDcId() };
  }
  if (opts.messaging) results.messaging = await messaging(opts.messaging);
  for (const call of opts.calls) {
    const request = typeof call === 'string' ? { _: call } : call;
    try {
      results[request._] = await client.call(request as never);
    } catch (err) {
      results[request._] = { error: err instanceof Error ? err.message : String(err) };
    }
  }
  process.stdout.write(
    `${JSON.stringify({ results }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`,
  );
  // With PFS mtcute keeps a key-renewal timer alive after destroy(); the probe's work is done.
  await Promise.race([client.destroy(), new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ fatal: err instanceof Error ? err.message : String(err) })}\n`);
  process.exit(1);
});
