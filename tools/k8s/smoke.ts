/**
 * `run.sh test`: the local cluster seen from outside, as a user's client sees it. GramJS (package
 * `telegram`) dials DC 1's gateway on 10.243.0.11:443 (the gateway Service's external IP, routed by
 * kube-proxy to the pod in namespace tern-dc1) and signs up two test numbers homed on DC 2 and
 * DC 3: each sign-up follows PHONE_MIGRATE to the home DC's address from help.getConfig. Then DC 2's
 * user sends a message that DC 3's user receives live, and Jaeger (in tern-infra, queried through
 * its ClusterIP) holds traces of both DCs' services.
 * Prints one line per check and `N passed, N failed`; exits 1 on any failure.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import bigInt from 'big-integer';
import { Api, TelegramClient } from 'telegram';
import { _serverKeys } from 'telegram/crypto/RSA';
import { NewMessage, type NewMessageEvent } from 'telegram/events';
import { Logger, LogLevel } from 'telegram/extensions/Logger';
import { ConnectionTCPFull } from 'telegram/network';
import { StringSession } from 'telegram/sessions';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';

const STATE =
  process.env.TERN_K8S_STATE_DIR ??
  join(process.env.TERN_CACHE_DIR ?? join(homedir(), '.cache', 'tern'), 'k8s', 'cluster');
const KUBECONFIG = join(STATE, 'kubeconfig');
const DCS = [1, 2, 3].map((id) => ({ id, host: `10.243.0.1${id}`, tcpPort: 443, wsPort: 8443 }));

// The same client set-up as the end-to-end tests (test/e2e/support/gramjs.ts), kept here because
// tools/ is built into the image and test/ is not.
type Gram = { client: TelegramClient; Api: typeof Api };
const API_ID = 12345;
const API_HASH = '0123456789abcdef0123456789abcdef';

/** Clients ship the keys of the servers they trust; this one trusts the cluster's. */
function trustKey(pem: string): void {
  const jwk = createPublicKey(pem).export({ format: 'jwk' });
  const n = bigInt(Buffer.from(jwk.n!, 'base64url').toString('hex'), 16);
  _serverKeys.set(rsaFingerprint(createPublicKey(pem)).toString(), { n, e: 65537 });
}

/** A test number of DC `dc` (99966XYYYY): signing it up anywhere homes it on DC `dc`. */
const testNumber = (dc: number): string =>
  `99966${dc}${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;

/** Connects to `dc` and signs `phone` in (or up); GramJS follows PHONE_MIGRATE_X by itself. */
async function signedUp(
  dc: (typeof DCS)[number],
  home: number,
  phone: string,
  firstName: string,
): Promise<Gram> {
  const session = new StringSession('');
  // GramJS dials 443 over TCP whatever the port (useWSS), as it does for the DCs of help.getConfig.
  session.setDC(dc.id, dc.host, dc.tcpPort);
  const client = new TelegramClient(session, API_ID, API_HASH, {
    connection: ConnectionTCPFull,
    useWSS: true,
    connectionRetries: 5,
    retryDelay: 200,
    autoReconnect: false,
    baseLogger: new Logger(process.env.GRAMJS_LOG ? LogLevel.DEBUG : LogLevel.NONE),
    deviceModel: 'tern-k8s-smoke',
    appVersion: '1.0',
  });
  client.floodSleepThreshold = 0;
  try {
    await client.connect();
    const sender = (client as unknown as { _sender?: { _userConnected?: boolean } })._sender;
    if (!sender?._userConnected) throw new Error(`GramJS could not connect to ${dc.host}:${dc.tcpPort}`);
    const sent = (await client.invoke(
      new Api.auth.SendCode({
        phoneNumber: phone,
        apiId: API_ID,
        apiHash: API_HASH,
        settings: new Api.CodeSettings({}),
      }),
    )) as Api.auth.SentCode;
    const phoneCode = String(home).repeat(5);
    const res = await client.invoke(
      new Api.auth.SignIn({ phoneNumber: phone, phoneCodeHash: sent.phoneCodeHash, phoneCode }),
    );
    if (res.className === 'auth.AuthorizationSignUpRequired')
      await client.invoke(
        new Api.auth.SignUp({
          phoneNumber: phone,
          phoneCodeHash: sent.phoneCodeHash,
          firstName,
          lastName: '',
        }),
      );
    return { client, Api };
  } catch (err) {
    await client.destroy().catch(() => undefined);
    throw err;
  }
}
let passed = 0;
let failed = 0;

async function check(name: string, fn: () => Promise<string | void>): Promise<void> {
  const t0 = Date.now();
  try {
    const detail = await fn();
    passed++;
    process.stdout.write(`ok   ${name} (${Date.now() - t0} ms)${detail ? `: ${detail}` : ''}\n`);
  } catch (err) {
    failed++;
    process.stdout.write(`FAIL ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

function kubectl(...args: string[]): string {
  const bin = process.env.TERN_K8S_KUBECTL ?? 'kubectl';
  return execFileSync(bin, ['--kubeconfig', KUBECONFIG, ...args], {
    encoding: 'utf8',
  });
}

async function main(): Promise<void> {
  const pem = createPublicKey(readFileSync(join(STATE, 'secrets', 'rsa.pem')))
    .export({ type: 'pkcs1', format: 'pem' })
    .toString();
  trustKey(pem);

  let alice: Gram | undefined;
  let bob: Gram | undefined;
  try {
    // Both dial DC 1; their numbers are homed on DC 2 and DC 3 (99966XYYYY: X is the home DC).
    await check('sign-up through DC 1 lands on DC 2 (PHONE_MIGRATE_2)', async () => {
      alice = await withTimeout(signedUp(DCS[0]!, 2, testNumber(2), 'Alice'), 120_000, 'sign-up of Alice');
      if (alice.client.session.dcId !== 2) throw new Error(`Alice is on DC ${alice.client.session.dcId}`);
      return `session on DC ${alice.client.session.dcId} at ${alice.client.session.serverAddress}`;
    });
    await check('sign-up through DC 1 lands on DC 3 (PHONE_MIGRATE_3)', async () => {
      bob = await withTimeout(signedUp(DCS[0]!, 3, testNumber(3), 'Bob'), 120_000, 'sign-up of Bob');
      if (bob.client.session.dcId !== 3) throw new Error(`Bob is on DC ${bob.client.session.dcId}`);
      return `session on DC ${bob.client.session.dcId} at ${bob.client.session.serverAddress}`;
    });
    await check('a message from DC 2 reaches DC 3 live', async () => {
      if (!alice || !bob) throw new Error('no clients');
      const a = alice;
      const b = bob;
      const username = `k8s_${Date.now().toString(36)}`;
      await b.client.invoke(new b.Api.account.UpdateUsername({ username }));
      const resolved = await a.client.invoke(new a.Api.contacts.ResolveUsername({ username }));
      const u = resolved.users[0] as Api.User;
      const received = new Promise<NewMessageEvent>((resolve) =>
        b.client.addEventHandler((e: NewMessageEvent) => resolve(e), new NewMessage({ incoming: true })),
      );
      await b.client.invoke(new b.Api.updates.GetState());
      const text = `hello from DC 2 through Kubernetes ${Date.now()}`;
      await a.client.sendMessage(new a.Api.InputPeerUser({ userId: u.id, accessHash: u.accessHash! }), {
        message: text,
      });
      const event = await withTimeout(received, 30_000, 'live delivery');
      if (event.message.message !== text)
        throw new Error(`received ${JSON.stringify(event.message.message)}`);
      return 'delivered';
    });
    await check('Jaeger (tern-infra) holds one trace spanning DC 2 and DC 3 (the send)', async () => {
      // Jaeger's query API through its ClusterIP: kube-proxy routes this machine's own traffic too.
      const ip = kubectl(
        '-n',
        'tern-infra',
        'get',
        'service',
        'jaeger',
        '-o',
        'jsonpath={.spec.clusterIP}',
      ).trim();
      const deadline = Date.now() + 30_000;
      let seen = 'no traces';
      while (Date.now() < deadline) {
        const res = await fetch(`http://${ip}:16686/api/traces?service=tern-gateway&lookback=15m&limit=200`);
        const body = (await res.json()) as {
          data: Array<{
            traceID: string;
            processes: Record<string, { serviceName: string; tags: Array<{ key: string; value: unknown }> }>;
          }> | null;
        };
        for (const trace of body.data ?? []) {
          const dcs = new Set(
            Object.values(trace.processes).map((p) =>
              String(p.tags.find((t) => t.key === 'tern.dc_id')?.value),
            ),
          );
          if (dcs.has('2') && dcs.has('3')) {
            const names = [...new Set(Object.values(trace.processes).map((p) => p.serviceName))].sort();
            return `trace ${trace.traceID}: ${names.join(', ')} in DCs ${[...dcs].sort().join(', ')}`;
          }
        }
        seen = `${(body.data ?? []).length} gateway traces, none across DC 2 and DC 3`;
        await new Promise((r) => setTimeout(r, 2000));
      }
      throw new Error(seen);
    });
  } finally {
    await alice?.client.destroy().catch(() => undefined);
    await bob?.client.destroy().catch(() => undefined);
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
