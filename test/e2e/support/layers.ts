/**
 * Clients of several API layers for the layer suites (test/e2e/layers.test.ts): which client
 * library speaks which layer, a client announcing another layer than its schema's, and a watch on
 * everything a client decodes: every constructor it could not read (GramJS-family readers throw
 * TypeNotFoundError; the sender drops such an update silently) and every answer or update that
 * mentions a peer missing from its own `users` / `chats` vectors.
 */
import { inspect } from 'node:util';
import { gramClient, type GramClientOptions, type Lib } from './gramjs';

/** A client library at a layer: `announce` makes it claim another layer than its schema's. */
export interface LayerClient {
  lib: Lib;
  /** The layer the client announces in invokeWithLayer. */
  layer: number;
  /** The layer of the schema it decodes with, when it is not `layer`. */
  schema?: number;
  what: string;
}

/**
 * The published clients the layer suites run. No npm client library release speaks a layer the
 * gateway serves between two held ones (182–183, 190–192, 219: GramJS 2.23.x–2.26.6 speak 181 or
 * 184, teleproto 1.223 speaks 223, `@mtcute/tl` is held at every release, `@mtproto/core` 6.3
 * speaks 158), so that path is driven by GramJS 2.22.2 (schema 181) announcing layer 183: it is
 * served from layer 181 less what changed by 184, every constructor of which its own schema reads.
 */
export const LAYER_CLIENTS: readonly LayerClient[] = [
  { lib: 'teleproto-layer-229', layer: 229, what: 'teleproto 1.229.0' },
  { lib: 'teleproto', layer: 214, what: 'teleproto 214.1.7' },
  { lib: 'telegram', layer: 198, what: 'GramJS 2.26.22' },
  { lib: 'telegram-layer-158', layer: 158, what: 'GramJS 2.17.10' },
  // Between held 181 and 184. Refused for a while (draftMessage differs at the two ends, so it
  // was unproven at 183 once the gateway wrote drafts; now downgraded to draftMessageEmpty).
  { lib: 'telegram-layer-181', layer: 183, schema: 181, what: 'GramJS 2.22.2 announcing 183' },
];

/* eslint-disable @typescript-eslint/no-require-imports -- the libraries are loaded by name */
interface Reader {
  prototype: { tgReadObject(this: unknown): unknown };
}
const readerOf = (lib: Lib) =>
  (require(`${lib}/extensions/BinaryReader`) as { BinaryReader: Reader }).BinaryReader;
/** The module whose `_handleUpdate` every sender of the library calls (looked up at call time). */
function updatesModuleOf(lib: Lib): { _handleUpdate: (client: unknown, update: unknown) => unknown } {
  for (const name of ['client/updates/dispatch', 'client/updates']) {
    let m: Record<string, unknown>;
    try {
      m = require(`${lib}/${name}`) as Record<string, unknown>;
    } catch {
      continue; // not this release's layout
    }
    // teleproto 1.229's client/updates re-exports it with a getter: patch the defining module.
    if (
      typeof m._handleUpdate === 'function' &&
      Object.getOwnPropertyDescriptor(m, '_handleUpdate')?.writable
    )
      return m as { _handleUpdate: (client: unknown, update: unknown) => unknown };
  }
  throw new Error(`${lib}: no _handleUpdate to watch`);
}
/** Makes every client of `lib` announce `layer` in invokeWithLayer (GramJS reads LAYER per call). */
export function announce(lib: Lib, layer: number): void {
  const tl = require(`${lib}/tl/AllTLObjects`) as { LAYER: number };
  tl.LAYER = layer;
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** Constructor ids a library could not read, by library. */
const unknownIds = new Map<Lib, Set<string>>();
/** Updates pushed to each client (the containers, before the library unpacks them). */
const pushed = new WeakMap<object, unknown[]>();
const hooked = new Set<Lib>();

function hook(lib: Lib): void {
  if (hooked.has(lib)) return;
  hooked.add(lib);
  const reader = readerOf(lib).prototype;
  const read = reader.tgReadObject;
  const ids = new Set<string>();
  unknownIds.set(lib, ids);
  reader.tgReadObject = function (this: unknown) {
    try {
      return read.call(this);
    } catch (e) {
      const err = e as { constructor: { name: string }; invalidConstructorId?: number };
      if (err.constructor.name === 'TypeNotFoundError')
        ids.add(`0x${((err.invalidConstructorId ?? 0) >>> 0).toString(16).padStart(8, '0')}`);
      throw e;
    }
  };
  const mod = updatesModuleOf(lib);
  const handle = mod._handleUpdate;
  mod._handleUpdate = function (client: unknown, update: unknown) {
    if (client && typeof client === 'object') pushed.get(client)?.push(update);
    return handle.call(this, client, update);
  };
}

type Gram = ReturnType<typeof gramClient>;

/** A client of one layer whose every answer and pushed update is kept for {@link problems}. */
export interface Watched extends Gram {
  spec: LayerClient;
  /** Every answer to an invoke (GramJS's own calls included), with the request's class name. */
  answers: Array<{ request: string; answer: unknown }>;
  updates: unknown[];
  /** The class names of every container (answer or update batch with users and chats) checked. */
  kinds: Set<string>;
}

/** A GramJS-family client of `spec` on `dc`, watched (see {@link problems}). */
export function watchedClient(spec: LayerClient, dc: GramClientOptions['dc']): Watched {
  hook(spec.lib);
  if (spec.layer !== (spec.schema ?? spec.layer)) announce(spec.lib, spec.layer);
  const g = gramClient({ lib: spec.lib, dc });
  const answers: Watched['answers'] = [];
  const updates: unknown[] = [];
  pushed.set(g.client, updates);
  const invoke = g.client.invoke.bind(g.client) as unknown as (...a: unknown[]) => Promise<unknown>;
  g.client.invoke = async (request: { className?: string }, ...rest: unknown[]) => {
    const answer = await invoke(request, ...rest);
    answers.push({ request: request.className ?? '?', answer });
    return answer;
  };
  return { ...g, spec, answers, updates, kinds: new Set() };
}

type Obj = Record<string, unknown> & { className?: string };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Buffer.isBuffer(v);
const id = (v: unknown): string => String(v);

/** A peer an answer mentions: `user:<id>` or `chat:<id>` (channels share the chats vector). */
type Mention = `user:${string}` | `chat:${string}`;

/**
 * What an object mentions that a client must be able to show: the peers of messages (sender,
 * chat, forwarded-from, reply peers), dialogs and updates; users named in entities; users and
 * chats named by service-message actions; basic-group participants.
 */
function mentionsIn(v: unknown, out: Set<Mention>): void {
  if (Array.isArray(v)) {
    for (const x of v) mentionsIn(x, out);
    return;
  }
  if (!isObj(v)) return;
  switch (v.className) {
    case 'PeerUser':
      out.add(`user:${id(v.userId)}`);
      return;
    case 'PeerChat':
      out.add(`chat:${id(v.chatId)}`);
      return;
    case 'PeerChannel':
      out.add(`chat:${id(v.channelId)}`);
      return;
    case 'MessageEntityMentionName':
      out.add(`user:${id(v.userId)}`);
      return;
    case 'MessageActionChatCreate':
    case 'MessageActionChatAddUser':
      for (const u of (v.users as unknown[]) ?? []) out.add(`user:${id(u)}`);
      return;
    case 'MessageActionChatDeleteUser':
      out.add(`user:${id(v.userId)}`);
      return;
    case 'MessageActionChatJoinedByLink':
      out.add(`user:${id(v.inviterId)}`);
      return;
    case 'MessageActionChatMigrateTo':
      out.add(`chat:${id(v.channelId)}`);
      return;
    case 'MessageActionChannelMigrateFrom':
      out.add(`chat:${id(v.chatId)}`);
      return;
    case 'ChatParticipant':
    case 'ChatParticipantAdmin':
      out.add(`user:${id(v.userId)}`);
      out.add(`user:${id(v.inviterId)}`);
      return;
    case 'ChatParticipantCreator':
    case 'ChannelParticipant':
    case 'ChannelParticipantCreator':
    case 'Contact':
    case 'ImportedContact':
      out.add(`user:${id(v.userId)}`);
      return;
    case 'ChannelParticipantSelf':
      out.add(`user:${id(v.userId)}`);
      out.add(`user:${id(v.inviterId)}`);
      return;
    case 'ChannelParticipantAdmin':
      out.add(`user:${id(v.userId)}`);
      if (v.inviterId !== null && v.inviterId !== undefined) out.add(`user:${id(v.inviterId)}`);
      out.add(`user:${id(v.promotedBy)}`);
      return;
    case 'ChannelParticipantBanned':
      mentionsIn(v.peer, out);
      out.add(`user:${id(v.kickedBy)}`);
      return;
  }
  for (const [k, x] of Object.entries(v)) {
    // GramJS keeps the original request and internal caches on some objects.
    if (k.startsWith('_') || k === 'originalArgs') continue;
    mentionsIn(x, out);
  }
}

/** A container: an answer or update batch that carries the users and chats it mentions. */
const isContainer = (v: Obj): boolean =>
  typeof v.className === 'string' &&
  Array.isArray(v.users) &&
  // contacts.contacts and a few others carry users only; messageActionChatCreate's `users` are ids.
  (Array.isArray(v.chats) || (!v.className.startsWith('MessageAction') && v.users.every(isObj)));

/**
 * Every container in `v` (itself included) whose `users` / `chats` lack a peer it mentions, as
 * `ClassName: user:<id>, …`. A container nested in another (messages.invitedUsers' updates) is
 * checked on its own.
 */
export function missingPeers(v: unknown, found: string[] = []): string[] {
  if (Array.isArray(v)) {
    for (const x of v) missingPeers(x, found);
    return found;
  }
  if (!isObj(v)) return found;
  if (isContainer(v)) {
    const have = new Set<Mention>([
      ...(v.users as Obj[]).map((u) => `user:${id(u.id)}` as Mention),
      ...((v.chats as Obj[] | undefined) ?? []).map((c) => `chat:${id(c.id)}` as Mention),
    ]);
    const wanted = new Set<Mention>();
    for (const [k, x] of Object.entries(v)) if (k !== 'users' && k !== 'chats') mentionsIn(x, wanted);
    const lacking = [...wanted].filter((m) => !have.has(m));
    // An update batch is named with what it carries: `Updates(UpdateNewMessage)`.
    const inner = Array.isArray(v.updates)
      ? `(${[...new Set((v.updates as Obj[]).map((u) => u.className))].join(', ')})`
      : '';
    if (lacking.length > 0) found.push(`${v.className ?? '?'}${inner}: ${lacking.join(', ')}`);
  }
  for (const [k, x] of Object.entries(v))
    if (k !== 'users' && k !== 'chats' && !k.startsWith('_')) missingPeers(x, found);
  return found;
}

/** Adds the class names of every container in `v` to `kinds`. */
function containerKinds(v: unknown, kinds: Set<string>): void {
  if (Array.isArray(v)) {
    for (const x of v) containerKinds(x, kinds);
    return;
  }
  if (!isObj(v)) return;
  if (isContainer(v)) kinds.add(v.className ?? '?');
  for (const [k, x] of Object.entries(v))
    if (k !== 'users' && k !== 'chats' && !k.startsWith('_')) containerKinds(x, kinds);
}

/** Names for ids in what {@link problems} reports (`user:partner` rather than a random id). */
export const roles = new Map<string, string>();
const named = (m: string) =>
  m.replace(/(user|chat):(\d+)/g, (all, kind, n: string) => {
    const role = roles.get(n);
    return role ? `${kind}:${role}` : all;
  });

/**
 * What is wrong with what `w` decoded so far: `unknown`, constructors its library could not read;
 * `missing`, answers or pushed updates that mention a peer their own users/chats vectors lack, as
 * `<request> → <Container>: user:<role or id>, …` (`pushed <Container>: …` for live updates).
 * Checked answers and updates are forgotten, so each call sees only what is new.
 */
export function problems(w: Watched): { unknown: string[]; missing: string[] } {
  const unknown = [...(unknownIds.get(w.spec.lib) ?? [])].map((c) => `unknown constructor ${c}`);
  unknownIds.get(w.spec.lib)?.clear();
  const missing: string[] = [];
  for (const a of w.answers.splice(0)) {
    containerKinds(a.answer, w.kinds);
    for (const m of missingPeers(a.answer)) missing.push(named(`${a.request} → ${m}`));
  }
  for (const u of w.updates.splice(0)) {
    containerKinds(u, w.kinds);
    for (const m of missingPeers(u)) missing.push(named(`pushed ${m}`));
    if (process.env.LAYERS_DEBUG && missingPeers(u).length > 0) console.log(inspect(u, { depth: 8 }));
  }
  return { unknown, missing };
}

/**
 * Destroys a client and the senders it opened to other DCs (support/media.ts `close`, for every
 * release: teleproto 1.229 keeps them elsewhere).
 */
export async function closeClient(w: Gram | undefined): Promise<void> {
  if (!w) return;
  const c = w.client as unknown as {
    _exportedSenderPromises?: Map<number, Promise<{ disconnect(): Promise<void> } | undefined>>;
    _exportedSenderReleaseTimeouts?: Map<number, ReturnType<typeof setTimeout>>;
  };
  for (const t of c._exportedSenderReleaseTimeouts?.values() ?? []) clearTimeout(t);
  for (const p of c._exportedSenderPromises?.values() ?? [])
    await (await p.catch(() => undefined))?.disconnect();
  await w.client.destroy();
}
