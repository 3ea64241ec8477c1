/**
 * GramJS (npm `telegram`) against a Tern deployment: two test users on two DCs sign in, one sends a
 * message, the other receives it live and answers, and the first receives the answer live.
 *
 *   npm run --silent stack:info > tern.json        # or any file of the same shape
 *   npx tsx examples/gramjs.ts tern.json           # or TERN_STACK_INFO=tern.json, or no argument:
 *                                                  # the local stack's .stack/info.json
 *
 * What it needs from the deployment (docs/clients.md): each DC's id, host and TCP port, and the
 * server's RSA public key (PEM). Exits 0 when both messages arrived, 1 with a message otherwise.
 * GRAMJS_LOG=1 shows GramJS's own log.
 */
import { createHash, createPublicKey, randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Api, TelegramClient } from 'telegram';
import { _serverKeys } from 'telegram/crypto/RSA';
import { NewMessage, type NewMessageEvent } from 'telegram/events';
import { Logger, LogLevel } from 'telegram/extensions/Logger';
import { returnBigInt } from 'telegram/Helpers';
import { ConnectionTCPFull } from 'telegram/network';
import { StringSession } from 'telegram/sessions';

/** The part of `npm run stack:info` a client needs. */
interface Deployment {
  dcs: Array<{ id: number; host: string; tcpPort: number; wsPort: number }>;
  rsaPublicKey: string;
}

/** The deployment from the first argument or TERN_STACK_INFO (a file, or the JSON itself). */
function readDeployment(): Deployment {
  const given = process.argv[2] ?? process.env.TERN_STACK_INFO;
  const file = given ?? join(__dirname, '..', '.stack', 'info.json');
  if (given?.trimStart().startsWith('{')) return JSON.parse(given) as Deployment;
  if (!existsSync(file))
    throw new Error(`no deployment description at ${file}: pass the output of \`npm run stack:info\``);
  return JSON.parse(readFileSync(file, 'utf8')) as Deployment;
}

/** MTProto's TL `bytes` encoding: a length prefix, the bytes, zero padding to 4. */
function tlBytes(b: Buffer): Buffer {
  const head =
    b.length < 254 ? Buffer.from([b.length]) : Buffer.from([254, b.length, b.length >> 8, b.length >> 16]);
  const body = Buffer.concat([head, b]);
  return Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
}

/**
 * Adds the deployment's key to the keys GramJS trusts. GramJS ships Telegram's keys in a table
 * keyed by fingerprint (the low 64 bits of SHA1 over the TL-encoded modulus and exponent); the
 * server names the fingerprint of its key in the handshake and GramJS looks it up there.
 */
function trustServerKey(pem: string): string {
  const jwk = createPublicKey(pem).export({ format: 'jwk' });
  const n = Buffer.from(jwk.n!, 'base64url');
  const e = Buffer.from(jwk.e!, 'base64url');
  const sha1 = createHash('sha1').update(tlBytes(n)).update(tlBytes(e)).digest();
  const fingerprint = sha1.readBigInt64LE(12).toString();
  _serverKeys.set(fingerprint, {
    n: returnBigInt(BigInt(`0x${n.toString('hex')}`)),
    e: Number(`0x${e.toString('hex')}`),
  });
  return fingerprint;
}

/** Fails with `what` when `p` has not settled within `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const API_ID = 12345; // Tern accepts any api_id / api_hash pair; a real app sends its own
const API_HASH = '0123456789abcdef0123456789abcdef';

/** A GramJS client connected to DC `dc` (not logged in yet). */
async function connect(dc: Deployment['dcs'][number]): Promise<TelegramClient> {
  const session = new StringSession('');
  // The session says which DC to dial first. GramJS ignores the port: with useWSS it dials TCP 443,
  // without it port 80 (docs/clients.md, "GramJS").
  session.setDC(dc.id, dc.host, dc.tcpPort);
  const client = new TelegramClient(session, API_ID, API_HASH, {
    connection: ConnectionTCPFull,
    useWSS: true, // plain TCP to port 443 (not TLS): GramJS only picks the port from this flag
    connectionRetries: 5, // GramJS's default; about one handshake in 256 needs a retry (docs/clients.md)
    baseLogger: new Logger(process.env.GRAMJS_LOG ? LogLevel.DEBUG : LogLevel.NONE),
    deviceModel: 'tern-example',
    appVersion: '1.0',
  });
  // connect() answers false (it does not throw) when every handshake attempt failed; requests
  // would then wait forever.
  if (!(await client.connect()))
    throw new Error(`could not connect to DC ${dc.id} at ${dc.host}:${dc.tcpPort}`);
  return client;
}

/**
 * Signs test number `phone` in, signing it up first when it is new. A test number is 99966XYYYY
 * with X the DC it belongs to; its login code is that digit five times (docs/clients.md).
 */
async function signInOrUp(client: TelegramClient, phone: string, firstName: string): Promise<Api.User> {
  const sent = await client.invoke(
    new Api.auth.SendCode({
      phoneNumber: phone,
      apiId: API_ID,
      apiHash: API_HASH,
      settings: new Api.CodeSettings({}),
    }),
  );
  if (!(sent instanceof Api.auth.SentCode)) throw new Error(`auth.sendCode answered ${sent.className}`);
  const phoneCode = phone.charAt(5).repeat(5);
  const common = { phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash };
  let auth = await client.invoke(new Api.auth.SignIn({ ...common, phoneCode }));
  if (auth instanceof Api.auth.AuthorizationSignUpRequired)
    auth = await client.invoke(new Api.auth.SignUp({ ...common, firstName, lastName: '' }));
  if (!(auth instanceof Api.auth.Authorization) || !(auth.user instanceof Api.User))
    throw new Error(`signing in ${phone} answered ${auth.className}`);
  return auth.user;
}

/** A logged-in user with a fresh username, collecting the messages it receives live. */
interface Party {
  name: string;
  client: TelegramClient;
  me: Api.User;
  username: string;
  /** Resolves with the first incoming message whose text is `text`. */
  receive(text: string): Promise<Api.Message>;
}

async function party(dc: Deployment['dcs'][number], name: string): Promise<Party> {
  const phone = `99966${dc.id}${String(randomInt(0, 10_000)).padStart(4, '0')}`;
  const client = await connect(dc);
  const me = await signInOrUp(client, phone, name);
  const username = `${name.toLowerCase()}_${randomInt(0, 36 ** 6).toString(36)}`;
  await client.invoke(new Api.account.UpdateUsername({ username }));
  console.log(`${name}: signed in as +${phone} (user ${me.id.toString()}, @${username}) on DC ${dc.id}`);

  const waiting = new Map<string, (m: Api.Message) => void>();
  client.addEventHandler(
    (event: NewMessageEvent) => {
      waiting.get(event.message.message)?.(event.message);
    },
    new NewMessage({ incoming: true }),
  );
  await client.invoke(new Api.updates.GetState()); // GramJS handles live updates from here on
  return {
    name,
    client,
    me,
    username,
    receive: (text) => new Promise((resolve) => waiting.set(text, resolve)),
  };
}

/** `from` sends `text` to `to` by username; resolves when `to` has received it live. */
async function exchange(from: Party, to: Party, text: string): Promise<void> {
  const arrived = to.receive(text);
  const sent = await from.client.sendMessage(to.username, { message: text });
  console.log(`${from.name} → ${to.name}: sent message ${sent.id} "${text}"`);
  const got = await within(arrived, 20_000, `${to.name} waiting for "${text}"`).catch(async (err: Error) => {
    // Say whether the message reached the recipient's history and only its live push went missing.
    const history = await to.client.getMessages(from.username, { limit: 10 });
    const stored = history.some((m) => m.message === text);
    throw new Error(
      `${err.message} (${stored ? 'it is in the history: not pushed live' : 'nor in the history'})`,
    );
  });
  const sender = got.senderId?.toString();
  if (sender !== from.me.id.toString()) throw new Error(`${to.name} got "${text}" from ${sender}`);
  console.log(`${to.name}: received live message ${got.id} "${got.message}" from user ${sender}`);
}

async function main(): Promise<void> {
  const deployment = readDeployment();
  const [dc1, dc2] = deployment.dcs;
  if (!dc1 || !dc2) throw new Error('the deployment lists fewer than two DCs');
  console.log(`trusting the server's RSA key, fingerprint ${trustServerKey(deployment.rsaPublicKey)}`);

  const alice = await within(party(dc1, 'Alice'), 60_000, 'Alice signing in');
  const bob = await within(party(dc2, 'Bob'), 60_000, 'Bob signing in');
  try {
    const tag = randomInt(0, 1e9).toString(36);
    await exchange(alice, bob, `hello Bob, from GramJS (${tag})`);
    await exchange(bob, alice, `hello Alice, from GramJS (${tag})`);
  } finally {
    await alice.client.destroy();
    await bob.client.destroy();
  }
  console.log('OK: GramJS signed in on two DCs and exchanged messages live');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
