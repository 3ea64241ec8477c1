/**
 * `run.sh test`: the local cluster seen from outside, as a user's client sees it. GramJS (package
 * `telegram`) dials DC 1's gateway on 10.243.0.11:443 (the gateway Service's external IP, routed by
 * kube-proxy to the pod in namespace tern-dc1) and signs up two test numbers homed on DC 2 and
 * DC 3: each sign-up follows PHONE_MIGRATE to the home DC's address from help.getConfig. Then DC 2's
 * user sends a message that DC 3's user receives live, and a 300 KiB document that DC 3's user
 * receives live and downloads from DC 2 (FILE_MIGRATE, handled by GramJS), checked by SHA-256;
 * Jaeger (in tern-infra, queried through its ClusterIP) holds traces of both DCs' services.
 * Then the operations a deployment lives through: `helm upgrade` of tern-dc3 onto another image
 * tag (deploy.sh retag: every pod replaced) while DC 3's client stays connected, which must send
 * and receive again on its own auth key afterwards (GramJS reconnects by itself; the longest time
 * it could not send is printed); and `helm uninstall` of tern-dc1, after which DC 2 → DC 3 still
 * works. The next `run.sh up` puts both releases back as deploy.sh installs them.
 * Prints one PASS/FAIL line per check and `N passed, N failed`; exits 1 on any failure.
 */
import { execFile } from 'node:child_process';
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import bigInt from 'big-integer';
import { Api, TelegramClient } from 'telegram';
import { CustomFile } from 'telegram/client/uploads';
import { _serverKeys } from 'telegram/crypto/RSA';
import { NewMessage, type NewMessageEvent } from 'telegram/events';
import { Logger, LogLevel } from 'telegram/extensions/Logger';
import { ConnectionTCPFull } from 'telegram/network';
import { LAYER } from 'telegram/tl/AllTLObjects';
import { StringSession } from 'telegram/sessions';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';

const STATE =
  process.env.TERN_K8S_STATE_DIR ??
  join(process.env.TERN_CACHE_DIR ?? join(homedir(), '.cache', 'tern'), 'k8s', 'cluster');
const KUBECONFIG = join(STATE, 'kubeconfig');
const DEPLOY_SH = join(__dirname, 'deploy.sh');
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

/**
 * Connects to `dc` and signs `phone` in (or up); GramJS follows PHONE_MIGRATE_X by itself.
 * `reconnect`: GramJS reconnects by itself when the server closes the connection (as apps do), with
 * up to 10 connection attempts 0.5 s apart each time; otherwise a closed connection stays closed.
 */
async function signedUp(
  dc: (typeof DCS)[number],
  home: number,
  phone: string,
  firstName: string,
  reconnect = false,
): Promise<Gram> {
  const session = new StringSession('');
  // GramJS dials 443 over TCP whatever the port (useWSS), as it does for the DCs of help.getConfig.
  session.setDC(dc.id, dc.host, dc.tcpPort);
  const client = new TelegramClient(session, API_ID, API_HASH, {
    connection: ConnectionTCPFull,
    useWSS: true,
    connectionRetries: reconnect ? 10 : 5,
    retryDelay: reconnect ? 500 : 200,
    autoReconnect: reconnect,
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
    process.stdout.write(`PASS ${name} (${Date.now() - t0} ms)${detail ? `: ${detail}` : ''}\n`);
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs a program without blocking the event loop (the clients keep their connections served). */
function run(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(bin, args, { encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err)
        reject(
          new Error(`${bin} ${args.join(' ')}: ${err.message}\n${stderr.split('\n').slice(-15).join('\n')}`),
        );
      else resolve(stdout);
    }),
  );
}

function kubectl(...args: string[]): Promise<string> {
  return run(process.env.TERN_K8S_KUBECTL ?? 'kubectl', ['--kubeconfig', KUBECONFIG, ...args]);
}

/** Pod names of one service (chart label app.kubernetes.io/component) in a DC's namespace. */
async function pods(dc: number, component: string): Promise<string[]> {
  const out = await kubectl(
    '-n',
    `tern-dc${dc}`,
    'get',
    'pods',
    '-l',
    `app.kubernetes.io/component=${component}`,
    '-o',
    'name',
  );
  return out.split('\n').filter(Boolean);
}

/** The next incoming message of `to` that `match` accepts (the handler is removed afterwards). */
function nextIncoming(to: Gram, match: (e: NewMessageEvent) => boolean): Promise<NewMessageEvent> {
  return new Promise((resolve) => {
    const event = new NewMessage({ incoming: true });
    const handler = (e: NewMessageEvent): void => {
      if (!match(e)) return;
      to.client.removeEventHandler(handler, event);
      resolve(e);
    };
    to.client.addEventHandler(handler, event);
  });
}

/** `from` sends `to` a text (by `to`'s username) that `to` must receive live within 30 s. */
async function deliver(from: Gram, to: Gram, username: string, text: string): Promise<void> {
  const resolved = await from.client.invoke(new from.Api.contacts.ResolveUsername({ username }));
  const u = resolved.users[0] as Api.User;
  const received = nextIncoming(to, (e) => e.message.message === text);
  await from.client.sendMessage(new from.Api.InputPeerUser({ userId: u.id, accessHash: u.accessHash! }), {
    message: text,
  });
  await withTimeout(received, 30_000, `live delivery of ${JSON.stringify(text)}`);
}

const authKeyId = (g: Gram): string =>
  createHash('sha1').update(g.client.session.getAuthKey()!.getKey()!).digest('hex').slice(-16);

async function main(): Promise<void> {
  const pem = createPublicKey(readFileSync(join(STATE, 'secrets', 'rsa.pem')))
    .export({ type: 'pkcs1', format: 'pem' })
    .toString();
  trustKey(pem);

  let alice: Gram | undefined;
  let bob: Gram | undefined;
  const tag = Date.now().toString(36);
  const aliceName = `k8s_a${tag}`;
  const bobName = `k8s_b${tag}`;
  const clients = (): [Gram, Gram] => {
    if (!alice || !bob) throw new Error('no clients (sign-up failed)');
    return [alice, bob];
  };
  try {
    // Both dial DC 1; their numbers are homed on DC 2 and DC 3 (99966XYYYY: X is the home DC).
    await check('sign-up through DC 1 lands on DC 2 (PHONE_MIGRATE_2)', async () => {
      alice = await withTimeout(signedUp(DCS[0]!, 2, testNumber(2), 'Alice'), 120_000, 'sign-up of Alice');
      if (alice.client.session.dcId !== 2) throw new Error(`Alice is on DC ${alice.client.session.dcId}`);
      await alice.client.invoke(new alice.Api.account.UpdateUsername({ username: aliceName }));
      await alice.client.invoke(new alice.Api.updates.GetState());
      return `session on DC ${alice.client.session.dcId} at ${alice.client.session.serverAddress}`;
    });
    // Bob's client reconnects by itself: it lives through the rollout of tern-dc3 below.
    await check('sign-up through DC 1 lands on DC 3 (PHONE_MIGRATE_3)', async () => {
      bob = await withTimeout(signedUp(DCS[0]!, 3, testNumber(3), 'Bob', true), 120_000, 'sign-up of Bob');
      if (bob.client.session.dcId !== 3) throw new Error(`Bob is on DC ${bob.client.session.dcId}`);
      await bob.client.invoke(new bob.Api.account.UpdateUsername({ username: bobName }));
      await bob.client.invoke(new bob.Api.updates.GetState());
      return `session on DC ${bob.client.session.dcId} at ${bob.client.session.serverAddress}`;
    });
    await check('a message from DC 2 reaches DC 3 live', async () => {
      const [a, b] = clients();
      await deliver(a, b, bobName, `hello from DC 2 through Kubernetes ${Date.now()}`);
      return 'delivered';
    });
    await check('a 300 KiB document from DC 2 reaches DC 3 live and downloads intact (SHA-256)', async () => {
      const [a, b] = clients();
      const bytes = randomBytes(300 * 1024);
      const sha = createHash('sha256').update(bytes).digest('hex');
      const name = `k8s-smoke-${Date.now()}.bin`;
      const resolved = await a.client.invoke(new a.Api.contacts.ResolveUsername({ username: bobName }));
      const u = resolved.users[0] as Api.User;
      const received = nextIncoming(b, (e) => e.message.media instanceof Api.MessageMediaDocument);
      const t0 = Date.now();
      await withTimeout(
        a.client.sendFile(new a.Api.InputPeerUser({ userId: u.id, accessHash: u.accessHash! }), {
          file: new CustomFile(name, bytes.length, '', bytes),
          forceDocument: true,
          workers: 1,
        }),
        60_000,
        'upload and send of the document',
      );
      const sent = Date.now() - t0;
      const event = await withTimeout(received, 30_000, 'live delivery of the document');
      const doc = (event.message.media as Api.MessageMediaDocument).document as Api.Document;
      const t1 = Date.now();
      const got = await withTimeout(
        b.client.downloadMedia(event.message, {}),
        60_000,
        'download of the document',
      );
      if (!Buffer.isBuffer(got)) throw new Error(`download returned ${typeof got}`);
      const gotSha = createHash('sha256').update(got).digest('hex');
      if (gotSha !== sha)
        throw new Error(`downloaded ${got.length} bytes with SHA-256 ${gotSha}, sent ${sha}`);
      return `document ${doc.id.toString()} on DC ${doc.dcId}, sent in ${sent} ms, downloaded by DC 3's user in ${Date.now() - t1} ms, ${got.length} bytes, SHA-256 ${sha.slice(0, 16)}…`;
    });
    await check('Jaeger (tern-infra) holds one trace spanning DC 2 and DC 3 (the send)', async () => {
      // Jaeger's query API through its ClusterIP: kube-proxy routes this machine's own traffic too.
      const ip = (
        await kubectl('-n', 'tern-infra', 'get', 'service', 'jaeger', '-o', 'jsonpath={.spec.clusterIP}')
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
        await sleep(2000);
      }
      throw new Error(seen);
    });
    await check(
      'helm upgrade of tern-dc3 to a new image tag: its connected client sends and receives again',
      async () => {
        const [a, b] = clients();
        const key = authKeyId(b);
        const me = await b.client.getMe();
        const gatewaysBefore = await pods(3, 'gateway');
        // Bob sends to Saved Messages (DC 3 only) back to back while the release rolls; each send
        // that fails or takes over 10 s is a failure, and the longest time between two successful
        // sends is how long the client could not send.
        const t0 = Date.now();
        let helmDone = 0;
        let gatewaysGone = 0;
        let rolloutError: Error | undefined;
        let newTag = '';
        const rollout = (async () => {
          newTag = (await run('bash', [DEPLOY_SH, 'retag', '3'])).trim().split('\n').pop() ?? '';
          helmDone = Date.now();
          // helm --wait returns once the new pods are Ready; the old gateway may still be
          // terminating (the chart's grace period), holding the client's connection.
          while (Date.now() - helmDone < 60_000) {
            const now = await pods(3, 'gateway');
            if (!now.some((p) => gatewaysBefore.includes(p))) {
              gatewaysGone = Date.now();
              return;
            }
            await sleep(500);
          }
          throw new Error(
            `the old gateway pod ${gatewaysBefore.join(', ')} still exists 60 s after helm upgrade`,
          );
        })();
        rollout.catch((err: unknown) => (rolloutError = err instanceof Error ? err : new Error(String(err))));
        let lastOk = Date.now();
        let longestGap = 0;
        const failures: string[] = [];
        let sends = 0;
        let afterRollout = 0;
        let layerLost = '';
        const deadline = t0 + 5 * 60_000;
        for (;;) {
          if (rolloutError) throw rolloutError;
          const started = Date.now();
          try {
            await withTimeout(b.client.sendMessage('me', { message: `probe ${++sends}` }), 10_000, 'send');
            const now = Date.now();
            longestGap = Math.max(longestGap, now - lastOk);
            lastOk = now;
            // One successful send that started after the old gateway was gone: the client is on
            // the new one.
            if (gatewaysGone && started > gatewaysGone) {
              afterRollout = now;
              break;
            }
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err);
            failures.push(`${((started - t0) / 1000).toFixed(1)} s: ${message}`);
            // GramJS does not repeat invokeWithLayer(initConnection) when it reconnects: it counts
            // on the server knowing its auth key's layer. A gateway that decodes with another
            // layer answers INPUT_METHOD_INVALID; that fails this check (below), and the client
            // then announces its layer again (as TDLib does on each new connection) so that the
            // figures and the checks after this one are still measured.
            if (message.includes('INPUT_METHOD_INVALID') && !layerLost) {
              layerLost = `${((started - t0) / 1000).toFixed(1)} s`;
              b.client._initRequest.query = new Api.help.GetConfig();
              await withTimeout(
                b.client.invoke(new Api.InvokeWithLayer({ layer: LAYER, query: b.client._initRequest })),
                10_000,
                'invokeWithLayer(initConnection)',
              ).catch((e: unknown) => failures.push(`re-announcing the layer: ${String(e)}`));
            }
          }
          if (Date.now() > deadline)
            throw new Error(`no successful send after the rollout within ${(deadline - t0) / 1000} s`);
          if (Date.now() - lastOk > 60_000)
            throw new Error(`the client could not send for 60 s; failures: ${failures.slice(-5).join('; ')}`);
          await sleep(200);
        }
        const gatewaysAfter = await pods(3, 'gateway');
        if (gatewaysAfter.some((p) => gatewaysBefore.includes(p)))
          throw new Error(`the gateway was not replaced: ${gatewaysAfter.join(', ')}`);
        if (authKeyId(b) !== key) throw new Error('the client has another auth key');
        const meAfter = await b.client.getMe();
        if (!meAfter.id.equals(me.id))
          throw new Error(`getMe is user ${meAfter.id.toString()}, was ${me.id.toString()}`);
        // Receiving again: Alice (DC 2) → Bob live, then Bob → Alice.
        const t2 = Date.now();
        await deliver(a, b, bobName, `after the rollout of DC 3 ${Date.now()}`);
        await deliver(b, a, aliceName, `DC 3 answers after its rollout ${Date.now()}`);
        const line =
          `could not send for ${(longestGap / 1000).toFixed(1)} s (longest gap between successful sends; ` +
          `${sends} sends, ${failures.length} failed${failures.length ? `: ${failures.slice(0, 3).join('; ')}` : ''}); ` +
          `helm upgrade to ${newTag} ${((helmDone - t0) / 1000).toFixed(0)} s, old gateway gone ${((gatewaysGone - t0) / 1000).toFixed(0)} s, ` +
          `first send on the new gateway ${((afterRollout - t0) / 1000).toFixed(0)} s after the start; ` +
          `same auth key ${key}, user ${me.id.toString()}; live both ways in ${Date.now() - t2} ms`;
        if (layerLost)
          throw new Error(
            `after the reconnect the new gateway answered messages.sendMessage with INPUT_METHOD_INVALID ` +
              `(from ${layerLost}): it did not know the auth key's layer (GramJS's ${LAYER}, announced to ` +
              `the old gateway only) until the client sent invokeWithLayer again; then ${line}`,
          );
        return line;
      },
    );
    await check('helm uninstall of tern-dc1: DC 2 → DC 3 still delivers live', async () => {
      const [a, b] = clients();
      const t0 = Date.now();
      await run('bash', [DEPLOY_SH, 'uninstall', '1']);
      const took = Date.now() - t0;
      const left = (await kubectl('-n', 'tern-dc1', 'get', 'pods,services,deployments', '-o', 'name')).trim();
      if (left) throw new Error(`tern-dc1 still holds ${left.split('\n').join(', ')}`);
      const t1 = Date.now();
      await deliver(a, b, bobName, `DC 1 is gone ${Date.now()}`);
      return `uninstalled in ${(took / 1000).toFixed(0)} s (nothing left in tern-dc1), then delivered in ${Date.now() - t1} ms`;
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
