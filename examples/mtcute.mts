/**
 * mtcute (npm `@mtcute/node`) against a Tern deployment: two test users on two DCs sign in, one
 * sends a message, the other receives it live and answers, and the first receives the answer live.
 * An ES module (.mts): mtcute is written for ESM.
 *
 *   npm run --silent stack:info > tern.json        # or any file of the same shape
 *   npx tsx examples/mtcute.mts tern.json          # or TERN_STACK_INFO=tern.json, or no argument:
 *                                                  # the local stack's .stack/info.json
 *
 * What it needs from the deployment (docs/clients.md): each DC's id, host and TCP port, and the
 * server's RSA public key (PEM). Exits 0 when both messages arrived, 1 with a message otherwise.
 * MTCUTE_LOG=1 shows mtcute's own log.
 */
import { randomInt } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { MemoryStorage, TelegramClient, type Message, type User } from '@mtcute/node';
import { addPublicKey, NodeCryptoProvider } from '@mtcute/node/utils.js';

/** The part of `npm run stack:info` a client needs. */
interface Deployment {
  dcs: Array<{ id: number; host: string; tcpPort: number; wsPort: number }>;
  rsaPublicKey: string;
}
type Dc = Deployment['dcs'][number];

/** The deployment from the first argument or TERN_STACK_INFO (a file, or the JSON itself). */
function readDeployment(): Deployment {
  const given = process.argv[2] ?? process.env.TERN_STACK_INFO;
  const file = given ?? new URL('../.stack/info.json', import.meta.url).pathname;
  if (given?.trimStart().startsWith('{')) return JSON.parse(given) as Deployment;
  if (!existsSync(file))
    throw new Error(`no deployment description at ${file}: pass the output of \`npm run stack:info\``);
  return JSON.parse(readFileSync(file, 'utf8')) as Deployment;
}

/** Fails with `what` when `p` has not settled within `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms / 1000} s`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A client whose first DC is `dc`. mtcute dials the address and port given here (TCP, MTProto's
 * intermediate framing); the other DCs' addresses it takes from the server's help.getConfig.
 */
function client(dc: Dc): TelegramClient {
  const address = { id: dc.id, ipAddress: dc.host, port: dc.tcpPort };
  return new TelegramClient({
    apiId: 12345, // Tern accepts any api_id / api_hash pair; a real app sends its own
    apiHash: '0123456789abcdef0123456789abcdef',
    storage: new MemoryStorage(), // a real app keeps its session: `storage: 'session.db'`
    defaultDcs: { main: address, media: { ...address, mediaOnly: true } },
    logLevel: process.env.MTCUTE_LOG ? 5 : 0,
  });
}

/**
 * Signs test number `phone` in, signing it up first when it is new: auth.sendCode, auth.signIn,
 * auth.signUp. A test number is 99966XYYYY with X the DC it belongs to; its login code is that
 * digit five times (docs/clients.md).
 */
async function signInOrUp(tg: TelegramClient, phone: string, firstName: string): Promise<User> {
  const sent = await tg.sendCode({ phone });
  if (!('phoneCodeHash' in sent)) throw new Error('already logged in');
  const common = { phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash };
  const phoneCode = phone.charAt(5).repeat(5);
  let auth = await tg.call({ _: 'auth.signIn', ...common, phoneCode });
  if (auth._ === 'auth.authorizationSignUpRequired')
    auth = await tg.call({ _: 'auth.signUp', ...common, firstName, lastName: '' });
  if (auth._ !== 'auth.authorization') throw new Error(`signing in ${phone} answered ${auth._}`);
  await tg.notifyLoggedIn(auth);
  return tg.getMe();
}

/** A logged-in user with a fresh username, collecting the messages it receives live. */
interface Party {
  name: string;
  tg: TelegramClient;
  me: User;
  username: string;
  /** Resolves with the first incoming message whose text is `text`. */
  receive(text: string): Promise<Message>;
}

async function party(dc: Dc, name: string): Promise<Party> {
  const phone = `99966${dc.id}${String(randomInt(0, 10_000)).padStart(4, '0')}`;
  const tg = client(dc);
  await tg.connect();
  const me = await signInOrUp(tg, phone, name);
  const username = `${name.toLowerCase()}_${randomInt(0, 36 ** 6).toString(36)}`;
  await tg.call({ _: 'account.updateUsername', username });
  console.log(`${name}: signed in as +${phone} (user ${me.id}, @${username}) on DC ${dc.id}`);

  const waiting = new Map<string, (m: Message) => void>();
  tg.onNewMessage.add((m) => {
    if (!m.isOutgoing) waiting.get(m.text)?.(m);
  });
  await tg.startUpdatesLoop(); // updates.getState, then live updates
  return { name, tg, me, username, receive: (text) => new Promise((resolve) => waiting.set(text, resolve)) };
}

/** `from` sends `text` to `to` by username; resolves when `to` has received it live. */
async function exchange(from: Party, to: Party, text: string): Promise<void> {
  const arrived = to.receive(text);
  const sent = await from.tg.sendText(to.username, text);
  console.log(`${from.name} → ${to.name}: sent message ${sent.id} "${text}"`);
  const got = await within(arrived, 20_000, `${to.name} waiting for "${text}"`).catch(async (err: Error) => {
    // Say whether the message reached the recipient's history and only its live push went missing.
    const history = await to.tg.getHistory(from.username, { limit: 10 });
    const stored = history.some((m) => m.text === text);
    throw new Error(
      `${err.message} (${stored ? 'it is in the history: not pushed live' : 'nor in the history'})`,
    );
  });
  if (got.sender.id !== from.me.id) throw new Error(`${to.name} got "${text}" from ${got.sender.id}`);
  console.log(`${to.name}: received live message ${got.id} "${got.text}" from user ${got.sender.id}`);
}

async function main(): Promise<void> {
  const deployment = readDeployment();
  const [dc1, dc2] = deployment.dcs;
  if (!dc1 || !dc2) throw new Error('the deployment lists fewer than two DCs');
  // mtcute ships Telegram's keys in a table keyed by fingerprint; add the deployment's (PEM).
  addPublicKey(new NodeCryptoProvider(), deployment.rsaPublicKey);
  console.log("trusting the server's RSA key");

  const alice = await within(party(dc1, 'Alice'), 60_000, 'Alice signing in');
  const bob = await within(party(dc2, 'Bob'), 60_000, 'Bob signing in');
  try {
    const tag = randomInt(0, 1e9).toString(36);
    await exchange(alice, bob, `hello Bob, from mtcute (${tag})`);
    await exchange(bob, alice, `hello Alice, from mtcute (${tag})`);
  } finally {
    await alice.tg.destroy();
    await bob.tg.destroy();
  }
  console.log('OK: mtcute signed in on two DCs and exchanged messages live');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
