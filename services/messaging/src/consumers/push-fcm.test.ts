/**
 * The FCM provider against a real HTTPS server on loopback that plays both Google's OAuth2 token
 * endpoint and the FCM HTTP v1 API: it verifies the RS256 assertion with the public half of a key
 * the test made, checks paths, headers and the message, and answers what each case needs. The
 * server's certificate is self-signed, made with the openssl CLI for this run; nothing is committed.
 */
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnv } from '../../../shared/src';
import { FcmProvider, FCM_SCOPE, loadServiceAccount, type ServiceAccount } from './push-fcm';
import { buildProviders, pushSpec, verifyPushSettings, type PushNotification } from './push-providers';
import { jwtSegment, selfSignedLoopback } from './loopback-tls.test-support';

const dir = mkdtempSync(join(tmpdir(), 'tern-fcm-'));

const notification: PushNotification = {
  dcId: 1,
  userId: 42n,
  tokenType: 2,
  token: 'fcm-registration-token',
  appSandbox: false,
  locKey: 'CHAT_MESSAGE_TEXT',
  locArgs: ['Alice', 'Group', 'hi'],
  peer: { type: 'chat', id: 5n },
  messageId: 3,
  silent: false,
  badge: 2,
  date: 1_700_000_000,
};

describe('FcmProvider (real HTTPS on loopback)', () => {
  const tls = selfSignedLoopback(dir);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let server: Server;
  let origin = '';
  let keyFile = '';
  let account: ServiceAccount;
  let tokensIssued = 0;
  let tokenReply: (res: ServerResponse) => void;
  let sendReply: (res: ServerResponse) => void;
  const problems: string[] = [];
  const sends: Array<{ body: Record<string, unknown>; auth: string | undefined; type?: string }> = [];

  const verifyAssertion = (jwt: string, key: KeyObject): Record<string, unknown> => {
    const [h, c, s] = jwt.split('.') as [string, string, string];
    if (!verify('sha256', Buffer.from(`${h}.${c}`), key, Buffer.from(s, 'base64url')))
      problems.push('bad assertion signature');
    if (jwtSegment(h).alg !== 'RS256') problems.push('assertion alg');
    return jwtSegment(c);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    if (req.method !== 'POST') problems.push(`method ${req.method}`);
    if (req.url === '/token') {
      const form = new URLSearchParams(body);
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
        problems.push('grant_type');
      if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') problems.push('token type');
      const claims = verifyAssertion(form.get('assertion') ?? '..', publicKey);
      if (claims.iss !== 'push@tern-test.iam.gserviceaccount.com') problems.push('iss');
      if (claims.aud !== `${origin}/token`) problems.push('aud');
      if (claims.scope !== FCM_SCOPE) problems.push('scope');
      if ((claims.exp as number) - (claims.iat as number) !== 3600) problems.push('exp');
      if (Math.abs((claims.iat as number) - Date.now() / 1000) > 5) problems.push('iat');
      tokenReply(res);
      return;
    }
    if (req.url !== '/v1/projects/tern-test/messages:send') {
      problems.push(`path ${req.url}`);
      res.writeHead(404).end();
      return;
    }
    sends.push({
      body: JSON.parse(body) as Record<string, unknown>,
      auth: req.headers.authorization,
      type: req.headers['content-type'],
    });
    sendReply(res);
  };

  const issueToken =
    (expiresIn = 3599) =>
    (res: ServerResponse) => {
      tokensIssued++;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(
          JSON.stringify({ access_token: `at-${tokensIssued}`, expires_in: expiresIn, token_type: 'Bearer' }),
        );
    };
  const fcmError = (status: number, code: string, errorCode?: string) => (res: ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        error: {
          code: status,
          status: code,
          message: 'x',
          details: errorCode
            ? [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode }]
            : [],
        },
      }),
    );

  const provider = (timeoutMs = 2000) =>
    new FcmProvider(account, { endpoint: origin, timeoutMs, ca: tls.cert });

  beforeAll(async () => {
    server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handle(req, res, Buffer.concat(chunks).toString()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    keyFile = join(dir, 'service-account.json');
    writeFileSync(
      keyFile,
      JSON.stringify({
        type: 'service_account',
        project_id: 'tern-test',
        private_key_id: 'k1',
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }),
        client_email: 'push@tern-test.iam.gserviceaccount.com',
        token_uri: `${origin}/token`,
      }),
    );
    const sa = loadServiceAccount(keyFile, 'F');
    if (!('account' in sa)) throw new Error(sa.problems.join('; '));
    account = sa.account;
  });
  beforeEach(() => {
    problems.length = 0;
    sends.length = 0;
    tokensIssued = 0;
    tokenReply = issueToken();
    sendReply = (res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"name":"projects/tern-test/messages/1"}');
  });
  afterEach(() => expect(problems).toEqual([]));
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('gets an access token with a signed assertion, caches it, and sends the data message', async () => {
    const p = provider();
    expect(await p.send(notification)).toBe('sent');
    expect(await p.send({ ...notification, messageId: 4 })).toBe('sent');
    expect(tokensIssued).toBe(1);
    expect(sends.map((s) => s.auth)).toEqual(['Bearer at-1', 'Bearer at-1']);
    expect(sends[0]!.type).toBe('application/json; charset=utf-8');
    const message = sends[0]!.body.message as Record<string, Record<string, string>>;
    expect(message.token).toBe('fcm-registration-token');
    expect(message.data).toEqual({
      loc_key: 'CHAT_MESSAGE_TEXT',
      loc_args: '["Alice","Group","hi"]',
      custom: '{"msg_id":3,"chat_id":"5"}',
      badge: '2',
      silent: '0',
      date: '1700000000',
      dc_id: '1',
    });
    expect(message.android).toMatchObject({ priority: 'high', ttl: '3600s' });
    await p.close();
  });

  it('shares one token fetch between concurrent sends, and renews a token about to expire', async () => {
    tokenReply = issueToken(1); // renewed after half its life: 500 ms
    const p = provider();
    expect(await Promise.all([p.send(notification), p.send(notification), p.send(notification)])).toEqual([
      'sent',
      'sent',
      'sent',
    ]);
    expect(tokensIssued).toBe(1);
    await new Promise((r) => setTimeout(r, 700));
    expect(await p.send(notification)).toBe('sent');
    expect(tokensIssued).toBe(2);
    expect(sends.at(-1)!.auth).toBe('Bearer at-2');
    await p.close();
  });

  it.each([
    ['404 NOT_FOUND', 'gone', fcmError(404, 'NOT_FOUND', 'UNREGISTERED')],
    ['400 with UNREGISTERED', 'gone', fcmError(400, 'INVALID_ARGUMENT', 'UNREGISTERED')],
    ['400 INVALID_ARGUMENT', 'rejected', fcmError(400, 'INVALID_ARGUMENT', 'INVALID_ARGUMENT')],
    ['403 SENDER_ID_MISMATCH', 'rejected', fcmError(403, 'PERMISSION_DENIED', 'SENDER_ID_MISMATCH')],
    ['429 QUOTA_EXCEEDED', 'retry', fcmError(429, 'RESOURCE_EXHAUSTED', 'QUOTA_EXCEEDED')],
    ['500 INTERNAL', 'retry', fcmError(500, 'INTERNAL', 'INTERNAL')],
    ['503 UNAVAILABLE', 'retry', fcmError(503, 'UNAVAILABLE', 'UNAVAILABLE')],
  ] as const)('maps %s to %s', async (_what, outcome, reply) => {
    sendReply = reply;
    const p = provider();
    expect(await p.send(notification)).toBe(outcome);
    await p.close();
  });

  it('drops the access token on 401 and fetches a new one for the next attempt', async () => {
    const p = provider();
    sendReply = fcmError(401, 'UNAUTHENTICATED');
    expect(await p.send(notification)).toBe('retry');
    sendReply = (res) => res.writeHead(200).end('{}');
    expect(await p.send(notification)).toBe('sent');
    expect(tokensIssued).toBe(2);
    expect(sends.map((s) => s.auth)).toEqual(['Bearer at-1', 'Bearer at-2']);
    await p.close();
  });

  it('rejects when the token endpoint refuses the key, retries when it fails', async () => {
    const p = provider();
    tokenReply = (res) => res.writeHead(400).end('{"error":"invalid_grant"}');
    expect(await p.send(notification)).toBe('rejected');
    tokenReply = (res) => res.writeHead(503).end();
    expect(await p.send(notification)).toBe('retry');
    await p.close();
    expect(sends).toHaveLength(0);
  });

  it('gives up on an FCM that does not answer within the timeout', async () => {
    sendReply = () => undefined;
    const p = provider(300);
    const started = Date.now();
    expect(await p.send(notification)).toBe('retry');
    expect(Date.now() - started).toBeLessThan(1500);
    await p.close();
  });

  it('says "retry" when nothing listens, and refuses a server it does not trust', async () => {
    expect(
      await new FcmProvider(account, { endpoint: 'https://127.0.0.1:1', timeoutMs: 1000, ca: tls.cert }).send(
        notification,
      ),
    ).toBe('retry');
    // No extra CA: the self-signed certificate is not trusted, nothing is sent.
    expect(await new FcmProvider(account, { endpoint: origin, timeoutMs: 1000 }).send(notification)).toBe(
      'retry',
    );
    expect(sends).toHaveLength(0);
  });

  it('is built from the settings, with the endpoint overrides', async () => {
    const [p] = buildProviders(
      readEnv(pushSpec, {
        TERN_PUSH_PROVIDERS: 'fcm',
        TERN_PUSH_FCM_CREDENTIALS_FILE: keyFile,
        TERN_PUSH_FCM_ENDPOINT: origin,
        TERN_PUSH_FCM_TOKEN_URI: `${origin}/token`,
      }),
      { ca: tls.cert },
    );
    expect([p!.name, p!.tokenTypes]).toEqual(['fcm', [2]]);
    expect(await p!.send(notification)).toBe('sent');
    await p!.close?.();
  });

  it('reports every problem of the key file at start, without its content', () => {
    const write = (name: string, content: string) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    const env = (file: string) =>
      readEnv(pushSpec, { TERN_PUSH_PROVIDERS: 'fcm', TERN_PUSH_FCM_CREDENTIALS_FILE: file });
    const problems = (file?: string) =>
      verifyPushSettings(
        file === undefined ? readEnv(pushSpec, { TERN_PUSH_PROVIDERS: 'fcm' }) : env(file),
      ).join('\n');
    expect(problems()).toMatch(/TERN_PUSH_FCM_CREDENTIALS_FILE is required/);
    expect(problems(join(dir, 'absent.json'))).toMatch(/cannot read the service-account file \(ENOENT\)/);
    expect(problems(write('junk.json', 'secret-looking junk'))).toMatch(/not a JSON object/);
    // A key file broken after verification still stops buildProviders.
    expect(() => buildProviders(env(join(dir, 'absent.json')))).toThrow(
      /cannot read the service-account file/,
    );
    const message = problems(
      write(
        'partial.json',
        JSON.stringify({
          type: 'service_account',
          private_key: 'SECRET-PEM',
          token_uri: 'http://x/token',
        }),
      ),
    );
    expect(message).toMatch(/no "project_id"/);
    expect(message).toMatch(/no "client_email"/);
    expect(message).toMatch(/token_uri must be https/);
    expect(message).toMatch(/private_key is not an RSA private key/);
    expect(message).not.toMatch(/SECRET-PEM/);
    expect(() => readEnv(pushSpec, { TERN_PUSH_FCM_ENDPOINT: 'http://127.0.0.1:1' })).toThrow(
      /TERN_PUSH_FCM_ENDPOINT must be an https:\/\/ URL/,
    );
  });
});
