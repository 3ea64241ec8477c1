/**
 * GramJS (`telegram`, layer 198) and its fork `teleproto` (layer 214) as test clients: the same
 * API, different layers. The deployment's RSA public key is registered in the library's key table
 * (clients ship the keys of the servers they trust; a test makes and trusts its own).
 */
import { createPublicKey } from 'node:crypto';
import bigInt from 'big-integer';

/** GramJS and teleproto, older GramJS releases and the newest teleproto under npm aliases (other layers). */
export type Lib =
  | 'telegram'
  | 'teleproto'
  | 'teleproto-layer-229'
  | 'telegram-layer-145'
  | 'telegram-layer-158'
  | 'telegram-layer-174'
  | 'telegram-layer-181';
export type GramConnection = 'full' | 'abridged' | 'obfuscated' | 'websocket';

/* eslint-disable @typescript-eslint/no-require-imports -- the two libraries are loaded by name */
function load(lib: Lib) {
  return {
    tg: require(lib) as typeof import('telegram'),
    sessions: require(`${lib}/sessions`) as typeof import('telegram/sessions'),
    network: require(`${lib}/network`) as typeof import('telegram/network'),
    rsa: require(`${lib}/crypto/RSA`) as typeof import('telegram/crypto/RSA'),
    logger: require(`${lib}/extensions/Logger`) as typeof import('telegram/extensions/Logger'),
    extensions: require(`${lib}/extensions`) as typeof import('telegram/extensions'),
  };
}
/* eslint-enable @typescript-eslint/no-require-imports */

export function trustKey(lib: Lib, pem: string, fingerprint: bigint): void {
  const jwk = createPublicKey(pem).export({ format: 'jwk' });
  const n = bigInt(Buffer.from(jwk.n!, 'base64url').toString('hex'), 16);
  load(lib).rsa._serverKeys.set(fingerprint.toString(), { n, e: 65537 });
}

export interface GramClientOptions {
  lib: Lib;
  dc: { id: number; host: string; tcpPort: number; wsPort: number };
  connection?: GramConnection;
  session?: string;
}

export function gramClient(o: GramClientOptions) {
  const { tg, sessions, network, logger, extensions } = load(o.lib);
  const kind = o.connection ?? 'full';
  const session = new sessions.StringSession(o.session ?? '');
  // GramJS ignores the session's port: in Node it dials 443 over TCP when useWSS is set, and
  // ws://host:80 for WebSocket without it (where it speaks obfuscated abridged, as web clients do).
  session.setDC(o.dc.id, o.dc.host, kind === 'websocket' ? 80 : o.dc.tcpPort);
  const connection = {
    full: network.ConnectionTCPFull,
    abridged: network.ConnectionTCPAbridged,
    obfuscated: network.ConnectionTCPObfuscated,
    websocket: network.ConnectionTCPObfuscated,
  }[kind];
  const client = new tg.TelegramClient(session, 12345, '0123456789abcdef0123456789abcdef', {
    connection,
    ...(kind === 'websocket'
      ? { networkSocket: extensions.PromisedWebSockets, useWSS: false }
      : { useWSS: true }),
    // GramJS's own default: about 1 handshake in 256 fails on the client's side (loggedInFresh says
    // why), and a real app simply tries again.
    connectionRetries: 5,
    retryDelay: 200,
    autoReconnect: false,
    baseLogger: new logger.Logger(process.env.GRAMJS_LOG ? logger.LogLevel.DEBUG : logger.LogLevel.NONE),
    deviceModel: 'tern-e2e',
    appVersion: '1.0',
  });
  // GramJS's connect() resolves (false, or nothing in older releases) instead of throwing when every
  // attempt failed, and requests then wait forever (see loggedInFresh): every test client throws
  // instead. Its sender's `_userConnected` is the one flag every release sets on success.
  const connect = client.connect.bind(client);
  client.connect = async () => {
    await connect();
    const sender = (client as unknown as { _sender?: { _userConnected?: boolean } })._sender;
    if (!sender?._userConnected)
      throw new Error('GramJS could not connect: every handshake attempt failed (GRAMJS_LOG=1 shows why)');
    return true;
  };
  return { client, Api: tg.Api, session };
}

/**
 * Sends a request on the client's current connection without GramJS's own *_MIGRATE handling
 * (on USER_MIGRATE it switches DC with a fresh, logged-out key), to see the server's answer.
 */
export function rawSend(client: unknown, request: unknown): Promise<unknown> {
  return (client as { _sender: { send(r: unknown): Promise<unknown> } })._sender.send(request);
}

/** A test number of DC `dc` (99966XYYYY), random so runs never collide. */
export const testNumber = (dc: number): string =>
  `99966${dc}${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;

/**
 * Logs the connected client `g` in as test number `phone` (its code is DC `dc`'s digit five times),
 * signing the number up when it is new: the flow every Telegram app runs. FLOOD_WAIT is thrown,
 * not slept. Works for every GramJS-family library (GramJS, teleproto).
 */
export async function signInOrUp(
  g: ReturnType<typeof gramClient>,
  dc: number,
  phone: string,
  firstName = 'Test',
): Promise<void> {
  g.client.floodSleepThreshold = 0;
  const api = { apiId: 12345, apiHash: '0123456789abcdef0123456789abcdef' };
  const sent = (await g.client.invoke(
    new g.Api.auth.SendCode({ phoneNumber: phone, ...api, settings: new g.Api.CodeSettings({}) }),
  )) as import('telegram').Api.auth.SentCode;
  const phoneCode = String(dc).repeat(5);
  const res = await g.client.invoke(
    new g.Api.auth.SignIn({ phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash, phoneCode }),
  );
  if (res.className === 'auth.AuthorizationSignUpRequired')
    await g.client.invoke(
      new g.Api.auth.SignUp({
        phoneNumber: phone,
        phoneCodeHash: sent.phoneCodeHash,
        firstName,
        lastName: '',
      }),
    );
}

/**
 * A connected GramJS client logged in as `phone` (see {@link signInOrUp}). `make` builds the client.
 *
 * GramJS's `connect()` does not throw when every handshake attempt failed: it returns false, and
 * each later `invoke` then waits forever for a connection that never comes. That was the "stalled
 * login" of issue 14 (docs/clients.md, "GramJS"): GramJS builds its auth key from g_ab without
 * padding it to 256 bytes, so about one handshake in 256 ends in its own "Step 3 invalid new nonce
 * hash" check. {@link gramClient} lets GramJS retry the handshake as a real app does (its default
 * of 5 attempts) and makes a `connect()` that still failed throw.
 */
export async function loggedInFresh(
  make: () => ReturnType<typeof gramClient>,
  dc: number,
  phone: string,
  firstName = 'Test',
): Promise<ReturnType<typeof gramClient>> {
  const g = make();
  try {
    await g.client.connect();
    await signInOrUp(g, dc, phone, firstName);
    return g;
  } catch (err) {
    await g.client.destroy().catch(() => undefined);
    throw err;
  }
}

/** A GramJS client of `dc` (1-based, from `dcs`) logged in as test number `phone` (signInOrUp). */
export async function loggedInClient(
  dcs: GramClientOptions['dc'][],
  dc: number,
  phone: string,
  firstName = 'Test',
): Promise<ReturnType<typeof gramClient>> {
  return loggedInFresh(() => gramClient({ lib: 'telegram', dc: dcs[dc - 1]! }), dc, phone, firstName);
}
