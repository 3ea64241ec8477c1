/**
 * Helpers of the channel suites (channels*.test.ts): GramJS-family subscribers that record every
 * update their library dispatches, creating / finding / joining channels the way apps do, posting
 * with the channel pts of the answer, an mtcute subscriber run as a child process, users and
 * channel calls straight over gRPC (for channels with hundreds of members), and the Cassandra
 * statements of one trace read from the stack's Jaeger.
 *
 * What a server must answer is in the tests; these helpers only take the answers apart.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { promisify } from 'node:util';
import { Metadata } from '@grpc/grpc-js';
import bigInt from 'big-integer';
import type { Api as GramApi } from 'telegram';
import {
  AuthServiceClient,
  LookupPhoneRequest,
  SendCodeRequest,
  SignInRequest,
  SignUpRequest,
} from '../../../services/shared/src/gen/tern/auth/v1/auth';
import {
  ChannelServiceClient,
  ImportChannelInviteRequest,
} from '../../../services/shared/src/gen/tern/channel/v1/channel';
import { asService, unary, type TestStack } from '../../support/stack';
import type { GramClientOptions } from './gramjs';
import { pool, randomLong, userContext } from './direct';
import { loggedInWith, type Gram } from './users';

export type Obj = { className?: string } & Record<string, unknown>;
export const cls = (v: unknown): string => (v as Obj | undefined)?.className ?? '';
export const str = (v: unknown): string => String(v);
/** GramJS wants big-integer values for longs. */
export const big = (v: bigint | string | number): bigInt.BigInteger => bigInt(v.toString());

/** Matches a GramJS RPCError by its Telegram name (as jest's `rejects.toEqual`). */
export const rpcError = (name: string): unknown => expect.objectContaining({ errorMessage: name }) as unknown;

/** Matches a GramJS RPCError named any of `names` (where Telegram's own answer varies). */
export const rpcErrorOneOf = (...names: string[]): unknown =>
  expect.objectContaining({
    errorMessage: expect.stringMatching(new RegExp(`^(${names.join('|')})$`)),
  }) as unknown;

/** How long a live update may take to arrive before the test fails. */
export const LIVE_MS = 15_000;

/* eslint-disable @typescript-eslint/no-require-imports -- each library's own Raw event class */
const RawEvents = {
  telegram: (require('telegram/events') as typeof import('telegram/events')).Raw,
  teleproto: (require('teleproto/events') as typeof import('telegram/events')).Raw,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** A logged-in GramJS-family user and every update its library dispatched to it, in order. */
export interface Sub {
  g: Gram;
  lib: 'telegram' | 'teleproto';
  dc: number;
  id: bigint;
  phone: string;
  seen: Obj[];
  waiters: Array<() => void>;
}

/**
 * A user of `lib` homed on DC `dc`, signed in as a fresh test number, whose library's update
 * handling is started (updates.getState) and recorded through its own Raw event handler.
 */
export async function subscriber(
  lib: Sub['lib'],
  dcs: GramClientOptions['dc'][],
  dc: number,
  phone: string,
  name: string,
): Promise<Sub> {
  const g = await loggedInWith(lib, dcs, dc, phone, name);
  return watch(g, lib, dc, phone);
}

/** Starts recording the updates of an already connected client (a reconnected session too). */
export async function watch(g: Gram, lib: Sub['lib'], dc: number, phone: string): Promise<Sub> {
  const me = await g.client.getMe();
  const sub: Sub = { g, lib, dc, id: BigInt(me.id.toString()), phone, seen: [], waiters: [] };
  g.client.addEventHandler((u: unknown) => {
    sub.seen.push(u as Obj);
    for (const w of sub.waiters.splice(0)) w();
  }, new RawEvents[lib]({}));
  await g.client.invoke(new g.Api.updates.GetState()); // starts the library's update handling
  return sub;
}

/** The first update `sub` received for which `pick` returns something; waits up to `ms`. */
export async function waitFor<T>(
  sub: Sub,
  pick: (u: Obj) => T | undefined,
  what: string,
  ms = LIVE_MS,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    for (const u of sub.seen) {
      const hit = pick(u);
      if (hit !== undefined) return hit;
    }
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`${what}: no matching live update at user ${sub.id} within ${ms} ms`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left);
      sub.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/** Waits until `sub` has `count` updates `pick` accepts; returns them in arrival order. */
export async function waitForAll(
  sub: Sub,
  pick: (u: Obj) => boolean,
  count: number,
  what: string,
  ms = LIVE_MS,
): Promise<Obj[]> {
  await waitFor(sub, () => (sub.seen.filter(pick).length >= count ? true : undefined), what, ms);
  return sub.seen.filter(pick);
}

/** The channel id an update or a message peer is about ('' when none). */
export function channelOf(u: Obj): string {
  if (u.channelId !== undefined) return str(u.channelId);
  const msg = u.message as Obj | undefined;
  const peer = (msg?.peerId ?? u.peer) as Obj | undefined;
  return peer?.channelId !== undefined ? str(peer.channelId) : '';
}

/** The updates that advance a channel's pts (by their pts_count). */
const PTS_UPDATES = new Set([
  'UpdateNewChannelMessage',
  'UpdateEditChannelMessage',
  'UpdateDeleteChannelMessages',
  'UpdatePinnedChannelMessages',
]);

/** Every update of channel `channelId` that advances its pts, in arrival order. */
export const channelPtsUpdates = (sub: Sub, channelId: string): Obj[] =>
  sub.seen.filter((u) => PTS_UPDATES.has(cls(u)) && channelOf(u) === channelId);

/** A live updateNewChannelMessage in `channelId` whose message has `text`. */
export const newChannelMessage =
  (channelId: string, text: string) =>
  (u: Obj): Obj | undefined =>
    cls(u) === 'UpdateNewChannelMessage' && channelOf(u) === channelId && (u.message as Obj).message === text
      ? u
      : undefined;

/** Asserts that the pts of `updates` follow each other without a hole or an overlap. */
export function expectContiguous(updates: Obj[]): void {
  for (let i = 1; i < updates.length; i++) {
    const prev = updates[i - 1]!;
    const cur = updates[i]!;
    expect({ at: i, pts: cur.pts }).toEqual({ at: i, pts: (prev.pts as number) + (cur.ptsCount as number) });
  }
}

/** A channel as one viewer knows it: its id and the access hash this viewer was given. */
export interface ChannelRef {
  id: bigint;
  accessHash: bigint;
}

export const inputChannel = (g: Gram, c: ChannelRef): GramApi.InputChannel =>
  new g.Api.InputChannel({ channelId: big(c.id), accessHash: big(c.accessHash) });
export const inputPeerChannel = (g: Gram, c: ChannelRef): GramApi.InputPeerChannel =>
  new g.Api.InputPeerChannel({ channelId: big(c.id), accessHash: big(c.accessHash) });

/** The Channel object for `id` among `chats` (of an Updates or a messages.chats). */
export function channelIn(chats: unknown[], id?: bigint | string): Obj {
  const found = (chats as Obj[]).find(
    (c) => ['Channel', 'ChannelForbidden'].includes(cls(c)) && (id === undefined || str(c.id) === str(id)),
  );
  if (!found) throw new Error(`no channel ${id ?? ''} among ${chats.map(cls).join(', ')}`);
  return found;
}

export const refOf = (c: Obj): ChannelRef => ({
  id: BigInt(str(c.id)),
  accessHash: BigInt(str(c.accessHash)),
});

/** channels.createChannel; returns the creator's Channel object and its Updates. */
export async function createChannel(
  g: Gram,
  o: { title: string; about?: string; kind: 'broadcast' | 'megagroup' },
): Promise<{ channel: Obj; updates: Obj }> {
  const updates = (await g.client.invoke(
    new g.Api.channels.CreateChannel({
      title: o.title,
      about: o.about ?? '',
      ...(o.kind === 'broadcast' ? { broadcast: true } : { megagroup: true }),
    }),
  )) as unknown as Obj;
  return { channel: channelIn(updates.chats as unknown[]), updates };
}

/** contacts.resolveUsername of a channel's public username, as a client finds a channel. */
export async function resolveChannel(g: Gram, username: string): Promise<{ resolved: Obj; channel: Obj }> {
  const resolved = (await g.client.invoke(
    new g.Api.contacts.ResolveUsername({ username }),
  )) as unknown as Obj;
  const peer = resolved.peer as Obj;
  expect(cls(peer)).toBe('PeerChannel');
  return { resolved, channel: channelIn(resolved.chats as unknown[], str(peer.channelId)) };
}

/** A fresh public username for a channel (letters first, 5..32 characters). */
export const channelUsername = (prefix: string): string =>
  `${prefix}_${randomInt(0, 2 ** 40).toString(36)}${randomInt(0, 1e6).toString(36)}`.slice(0, 32);

/** A user's username, set so that others can resolve it; returns the InputUser `viewer` gets. */
export async function inputUserOf(viewer: Gram, other: Gram): Promise<GramApi.InputUser> {
  const name = `cu_${randomInt(0, 1e9).toString(36)}${randomInt(0, 1e6).toString(36)}x`;
  await other.client.invoke(new other.Api.account.UpdateUsername({ username: name }));
  const resolved = await viewer.client.invoke(new viewer.Api.contacts.ResolveUsername({ username: name }));
  const u = resolved.users[0] as GramApi.User;
  return new viewer.Api.InputUser({ userId: u.id, accessHash: u.accessHash! });
}

export const inputPeerOfUser = (g: Gram, u: GramApi.InputUser): GramApi.InputPeerUser =>
  new g.Api.InputPeerUser({ userId: u.userId, accessHash: u.accessHash });

/** What a post (or a reply) is, as the poster's answer says. */
export interface Posted {
  id: number;
  pts: number;
  ptsCount: number;
  message: Obj;
  updates: Obj;
}

/** The updateNewChannelMessage of an Updates answer (sendMessage, sendMedia, pin...). */
export function newMessageIn(updates: Obj): Obj {
  const list = (updates.updates as Obj[] | undefined) ?? [];
  const u = list.find((x) => cls(x) === 'UpdateNewChannelMessage');
  if (!u) throw new Error(`no updateNewChannelMessage in ${cls(updates)}: ${list.map(cls).join(', ')}`);
  return u;
}

/** messages.sendMessage to a channel; the answer's updateNewChannelMessage tells id and pts. */
export async function post(g: Gram, c: ChannelRef, text: string, replyTo?: number): Promise<Posted> {
  const updates = (await g.client.invoke(
    new g.Api.messages.SendMessage({
      peer: inputPeerChannel(g, c),
      message: text,
      randomId: big(randomLong()),
      ...(replyTo !== undefined ? { replyTo: new g.Api.InputReplyToMessage({ replyToMsgId: replyTo }) } : {}),
    }),
  )) as unknown as Obj;
  expect(cls(updates)).toBe('Updates');
  const u = newMessageIn(updates);
  const message = u.message as Obj;
  expect(message.message).toBe(text);
  return { id: message.id as number, pts: u.pts as number, ptsCount: u.ptsCount as number, message, updates };
}

/** messages.getHistory of a channel, newest first. */
export async function history(g: Gram, c: ChannelRef, limit = 50): Promise<Obj> {
  return (await g.client.invoke(
    new g.Api.messages.GetHistory({ peer: inputPeerChannel(g, c), limit }),
  )) as unknown as Obj;
}

/** The viewer's dialog of channel `c` from messages.getDialogs (undefined: not in the list). */
export async function dialogOf(g: Gram, c: ChannelRef): Promise<Obj | undefined> {
  const res = (await g.client.invoke(
    new g.Api.messages.GetDialogs({
      offsetDate: 0,
      offsetId: 0,
      offsetPeer: new g.Api.InputPeerEmpty(),
      limit: 100,
      hash: big(0),
    }),
  )) as unknown as Obj;
  return (res.dialogs as Obj[]).find(
    (d) => cls(d.peer) === 'PeerChannel' && str((d.peer as Obj).channelId) === str(c.id),
  );
}

/** updates.getChannelDifference from `pts` (filter: none). */
export async function channelDifference(g: Gram, c: ChannelRef, pts: number, limit: number): Promise<Obj> {
  return (await g.client.invoke(
    new g.Api.updates.GetChannelDifference({
      channel: inputChannel(g, c),
      filter: new g.Api.ChannelMessagesFilterEmpty(),
      pts,
      limit,
    }),
  )) as unknown as Obj;
}

/** The hash of an invite link (t.me/+HASH or t.me/joinchat/HASH). */
export function inviteHash(link: string): string {
  const m = /(?:\/\+|\/joinchat\/)([^/?#]+)$/.exec(link);
  if (!m) throw new Error(`not an invite link: ${link}`);
  return m[1]!;
}

/** Resolves after `ms`: how long a test waits to be sure something did NOT arrive. */
export const quietFor = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// mtcute (ESM only) as a channel subscriber: a short ES module run by `node --input-type=module`
// in the repository root (so that @mtcute/node resolves), one JSON line on stdout.

/** What the mtcute subscriber does, in this order (each step optional but `login`). */
export interface MtcuteChannelOptions {
  login: { phone: string; code: string; firstName: string };
  /** messages.checkChatInvite then messages.importChatInvite with this hash. */
  joinByInvite?: string;
  /** The channel as this user knows it (from an earlier run's `joined`). */
  channel?: { id: number; accessHash: string };
  /** updates.getChannelDifference from this pts until final (limit 100 per call). */
  differenceFrom?: number;
  /** messages.getHistory of `channel` (newest first, up to 50). */
  history?: boolean;
  /** channels.readHistory of `channel` up to this id, then messages.getPeerDialogs. */
  readUpTo?: number;
}

export interface MtcuteChannelResult {
  fatal?: string;
  login?: { id: number; dcId: number };
  invite?: { _: string; title?: string; broadcast?: boolean; channel?: boolean; participantsCount?: number };
  joined?: { id: number; accessHash: string; left: boolean; broadcast: boolean; pts: number };
  difference?: {
    kinds: string[];
    pts: number;
    final: boolean;
    messages: Array<{ id: number; text: string | null; channelId: number | null }>;
  };
  history?: Array<{ id: number; text: string | null; _: string }>;
  dialog?: { unreadCount: number; readInboxMaxId: number; topMessage: number; pts: number | null };
}

const MTCUTE_SUBSCRIBER = String.raw`
import { createHash } from 'node:crypto';
import { IntermediatePacketCodec, Long, MemoryStorage, TcpTransport, TelegramClient } from '@mtcute/node';
import { addPublicKey } from '@mtcute/core/utils.js';

const opts = JSON.parse(process.argv[1]);
class Transport extends TcpTransport {
  packetCodec() { return new IntermediatePacketCodec(); }
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
});
// A server error (5xx) is retried twice, not forever as mtcute does by default: the test must fail.
const call = (request) => client.call(request, { maxRetryCount: 2 });
const brief = (m) => ({
  id: m.id,
  text: m.message ?? null,
  channelId: m.peerId && m.peerId._ === 'peerChannel' ? m.peerId.channelId : null,
});
async function main() {
  const sha1 = { sha1: (d) => new Uint8Array(createHash('sha1').update(d).digest()) };
  addPublicKey(sha1, opts.rsaPublicKey);
  await client.connect();
  const out = {};
  const o = opts.login;
  const sent = await client.sendCode({ phone: o.phone });
  let auth = await client.call({ _: 'auth.signIn', phoneNumber: o.phone, phoneCodeHash: sent.phoneCodeHash, phoneCode: o.code });
  if (auth._ === 'auth.authorizationSignUpRequired')
    auth = await client.call({ _: 'auth.signUp', phoneNumber: o.phone, phoneCodeHash: sent.phoneCodeHash, firstName: o.firstName, lastName: '' });
  await client.notifyLoggedIn(auth);
  out.login = { id: (await client.getMe()).id, dcId: await client.getPrimaryDcId() };
  let channel = opts.channel ? { id: opts.channel.id, accessHash: Long.fromString(opts.channel.accessHash) } : undefined;
  const input = () => ({ _: 'inputChannel', channelId: channel.id, accessHash: channel.accessHash });
  if (opts.joinByInvite) {
    const inv = await call({ _: 'messages.checkChatInvite', hash: opts.joinByInvite });
    out.invite = { _: inv._, title: inv.title, broadcast: inv.broadcast === true, channel: inv.channel === true, participantsCount: inv.participantsCount };
    const joined = await call({ _: 'messages.importChatInvite', hash: opts.joinByInvite });
    // Layer 227 (mtcute 0.30) wraps the Updates in messages.chatInviteJoinResultOk.
    const upd = joined._ === 'messages.chatInviteJoinResultOk' ? joined.updates : joined;
    const c = upd.chats.find((x) => x._ === 'channel');
    channel = { id: c.id, accessHash: c.accessHash };
    const full = await call({ _: 'channels.getFullChannel', channel: input() });
    out.joined = { id: c.id, accessHash: c.accessHash.toString(), left: c.left === true, broadcast: c.broadcast === true, pts: full.fullChat.pts };
  }
  if (opts.differenceFrom !== undefined) {
    const kinds = [];
    const messages = [];
    let pts = opts.differenceFrom;
    let final = false;
    for (let i = 0; i < 20 && !final; i++) {
      const d = await call({ _: 'updates.getChannelDifference', channel: input(), filter: { _: 'channelMessagesFilterEmpty' }, pts, limit: 100 });
      kinds.push(d._);
      final = d.final === true;
      if (d._ === 'updates.channelDifferenceTooLong') { messages.push(...d.messages.map(brief)); pts = d.dialog.pts; break; }
      if (d._ === 'updates.channelDifference') messages.push(...d.newMessages.map(brief));
      pts = d.pts;
    }
    out.difference = { kinds, pts, final, messages };
  }
  if (opts.history) {
    const page = await call({ _: 'messages.getHistory', peer: { _: 'inputPeerChannel', channelId: channel.id, accessHash: channel.accessHash }, offsetId: 0, offsetDate: 0, addOffset: 0, limit: 50, maxId: 0, minId: 0, hash: Long.ZERO });
    out.history = page.messages.map((m) => ({ ...brief(m), _: m._ }));
  }
  if (opts.readUpTo !== undefined) {
    await call({ _: 'channels.readHistory', channel: input(), maxId: opts.readUpTo });
    const dialogs = await call({ _: 'messages.getPeerDialogs', peers: [{ _: 'inputDialogPeer', peer: { _: 'inputPeerChannel', channelId: channel.id, accessHash: channel.accessHash } }] });
    const d = dialogs.dialogs[0];
    out.dialog = { unreadCount: d.unreadCount, readInboxMaxId: d.readInboxMaxId, topMessage: d.topMessage, pts: d.pts ?? null };
  }
  process.stdout.write(JSON.stringify(out, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
  await Promise.race([client.destroy(), new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
}
main().catch((err) => {
  process.stdout.write(JSON.stringify({ fatal: err instanceof Error ? err.message : String(err) }) + '\n');
  process.exit(1);
});
`;

/** Runs the mtcute subscriber against DC `dc` (1-based) and returns what it printed. */
export async function mtcuteSubscriber(
  s: TestStack,
  dc: number,
  options: MtcuteChannelOptions,
): Promise<MtcuteChannelResult> {
  const d = s.dcs[dc - 1]!;
  const args = JSON.stringify({
    host: d.host,
    port: d.tcpPort,
    dcId: d.id,
    rsaPublicKey: s.rsaPublicKey,
    ...options,
  });
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', MTCUTE_SUBSCRIBER, args],
    { cwd: s.repoRoot, encoding: 'utf8', timeout: 90_000 },
  ).catch((err: { stdout?: string; stderr?: string; message?: string }) => {
    if (!err.stdout?.includes('"fatal"'))
      throw new Error(
        `mtcute subscriber failed: ${err.stderr || err.message || 'no output'}; stdout: ${err.stdout ?? ''}`,
      );
    return { stdout: err.stdout };
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as MtcuteChannelResult;
}

// ---------------------------------------------------------------------------------------------
// Straight to the services over gRPC: users and channel calls for channels with many members.

/** A user of the stack known by id and home DC (no client session). */
export interface DirectUser {
  userId: bigint;
  homeDc: number;
  phone: string;
}

/**
 * `perDc[i]` users homed on DC i+1, from a random block of consecutive test numbers 99966XYYYY:
 * numbers already signed up are taken as they are (LookupPhone), the others are signed up through
 * their DC's auth service (sendCode, signIn with the DC digit five times, signUp), as a client
 * would, but without a client.
 */
export async function directUsers(s: TestStack, perDc: number[], concurrency = 16): Promise<DirectUser[]> {
  const phones = perDc.flatMap((count, i) => {
    if (count > 10_000) throw new Error(`at most 10,000 test numbers per DC (asked ${count})`);
    const start = randomInt(0, 10_000);
    return Array.from(
      { length: count },
      (_, k) => `99966${i + 1}${String((start + k) % 10_000).padStart(4, '0')}`,
    );
  });
  const auths = s.dcs.map((d) => new AuthServiceClient(d.services.auth, asService(s, 'gateway', d.id)));
  // LookupPhone is messaging's (contacts.importContacts): the directory asked as it would be.
  const directory = new AuthServiceClient(s.dcs[0]!.services.auth, asService(s, 'messaging', 1));
  try {
    const known = new Map<string, DirectUser>();
    for (let i = 0; i < phones.length; i += 500) {
      const res = await unary<
        LookupPhoneRequest,
        { entries: Array<{ userId: bigint; phoneNumber: string; homeDcId: number }> }
      >(directory, 'lookupPhone', LookupPhoneRequest.fromPartial({ phoneNumbers: phones.slice(i, i + 500) }));
      for (const e of res.entries)
        known.set(e.phoneNumber, { userId: e.userId, homeDc: e.homeDcId, phone: e.phoneNumber });
    }
    const missing = phones.filter((p) => !known.has(p));
    const made = await pool(missing.length, concurrency, async (i) => {
      const phone = missing[i]!;
      const dc = Number(phone.charAt(5));
      const auth = auths[dc - 1]!;
      const context = userContext(0n, dc);
      const sent = await unary<SendCodeRequest, { sentCode: { phoneCodeHash: string } }>(
        auth,
        'sendCode',
        SendCodeRequest.fromPartial({
          context,
          phoneNumber: phone,
          apiId: 12345,
          apiHash: '0123456789abcdef0123456789abcdef',
        }),
      );
      const hash = sent.sentCode.phoneCodeHash;
      const code = String(dc).repeat(5);
      const signedIn = await unary<
        SignInRequest,
        { result?: { $case: string; value: { user?: { id: bigint } } } }
      >(
        auth,
        'signIn',
        SignInRequest.fromPartial({ context, phoneNumber: phone, phoneCodeHash: hash, phoneCode: code }),
      );
      let user = signedIn.result?.$case === 'authorization' ? signedIn.result.value.user : undefined;
      if (!user) {
        const up = await unary<SignUpRequest, { authorization?: { user?: { id: bigint } } }>(
          auth,
          'signUp',
          SignUpRequest.fromPartial({
            context,
            phoneNumber: phone,
            phoneCodeHash: hash,
            firstName: `Sub ${phone.slice(-5)}`,
            lastName: '',
          }),
        );
        user = up.authorization?.user;
      }
      if (!user) throw new Error(`no user for ${phone}`);
      return { userId: user.id, homeDc: dc, phone };
    });
    return [...known.values(), ...made];
  } finally {
    for (const a of [...auths, directory]) a.close();
  }
}

/** A generated request type: complete messages are built from partial ones. */
interface RequestType<T> {
  fromPartial(o: object): T;
}

/** The channel services of every DC, called as a user of that DC would through its gateway. */
export class DirectChannels {
  private readonly clients: ChannelServiceClient[];
  constructor(s: TestStack) {
    this.clients = s.dcs.map(
      (d) => new ChannelServiceClient(d.services.channel, asService(s, 'gateway', d.id)),
    );
  }

  /**
   * Calls `method` (e.g. 'sendChannelMessage') of the channel service of `user`'s home DC with
   * `user`'s context, the request completed by its generated type.
   */
  call<Req, Res>(
    user: { userId: bigint; homeDc: number },
    method: string,
    type: RequestType<Req>,
    req: object,
    md?: Metadata,
  ): Promise<Res> {
    return unary<Req, Res>(
      this.clients[user.homeDc - 1]!,
      method,
      type.fromPartial({ ...req, context: userContext(user.userId, user.homeDc) }),
      md,
    );
  }

  /** messages.importChatInvite for `users`, `concurrency` at a time. */
  async joinByInvite(users: DirectUser[], hash: string, concurrency = 32): Promise<void> {
    await pool(users.length, concurrency, (i) =>
      this.call(users[i]!, 'importChannelInvite', ImportChannelInviteRequest, { hash }),
    );
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

/** A W3C traceparent for a new sampled trace; the trace id is what Jaeger files it under. */
export function newTrace(): { traceId: string; metadata: Metadata } {
  const traceId = randomBytes(16).toString('hex');
  const metadata = new Metadata();
  metadata.set('traceparent', `00-${traceId}-${randomBytes(8).toString('hex')}-01`);
  return { traceId, metadata };
}

interface JaegerSpan {
  operationName: string;
  processID: string;
  tags: Array<{ key: string; value: unknown }>;
}
export interface JaegerTrace {
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}

/** The Cassandra statements of a trace: one entry per execute span (its CQL) or batch span. */
export function cassandraStatements(t: JaegerTrace): string[] {
  return t.spans
    .filter(
      (sp) =>
        sp.operationName === 'cassandra-driver.execute' || sp.operationName === 'cassandra-driver.batch',
    )
    .map((sp) => {
      const text = sp.tags.find((x) => x.key === 'db.query.text' || x.key === 'db.statement')?.value;
      return `${sp.operationName === 'cassandra-driver.batch' ? 'BATCH' : 'EXECUTE'} ${typeof text === 'string' ? text.replace(/\s+/g, ' ').trim() : '?'}`;
    })
    .sort();
}

/**
 * Trace `traceId` from the stack's Jaeger once its span count has stopped changing (spans reach
 * Jaeger in batches every half second from each process): polled until two reads 2 s apart agree
 * and `ready` accepts it, for at most `timeoutMs`.
 */
export async function settledTrace(
  s: TestStack,
  traceId: string,
  ready: (t: JaegerTrace) => boolean,
  timeoutMs = 30_000,
): Promise<JaegerTrace> {
  const deadline = Date.now() + timeoutMs;
  let last: JaegerTrace | undefined;
  for (;;) {
    const res = await fetch(`${s.jaegerQueryUrl}/api/traces/${traceId}`);
    const t = res.status === 200 ? ((await res.json()) as { data?: JaegerTrace[] }).data?.[0] : undefined;
    if (t && last && ready(t) && t.spans.length === last.spans.length) return t;
    last = t;
    if (Date.now() > deadline)
      throw new Error(
        `trace ${traceId}: not complete in Jaeger within ${timeoutMs} ms (${t?.spans.length ?? 0} spans)`,
      );
    await new Promise((r) => setTimeout(r, 2000));
  }
}
