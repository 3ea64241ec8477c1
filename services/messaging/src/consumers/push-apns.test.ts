/**
 * The APNs provider against real HTTP/2 TLS servers on loopback (one playing api.push.apple.com,
 * one api.sandbox.push.apple.com): they verify the ES256 provider token with the public half of a
 * P-256 key the test made, check the path, headers and payload, and answer what each case needs.
 * The servers' certificate is self-signed, made with the openssl CLI for this run; nothing is
 * committed.
 */
import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import {
  constants,
  createSecureServer,
  type Http2SecureServer,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnv } from '../../../shared/src';
import { APNS_JWT_TTL_MS, ApnsProvider, apnsId, loadApnsKey } from './push-apns';
import { buildProviders, pushSpec, verifyPushSettings, type PushNotification } from './push-providers';
import { jwtSegment, selfSignedLoopback } from './loopback-tls.test-support';

const dir = mkdtempSync(join(tmpdir(), 'tern-apns-'));

const notification: PushNotification = {
  dcId: 1,
  userId: 42n,
  tokenType: 1,
  token: 'a1b2c3d4e5f6',
  appSandbox: false,
  locKey: 'MESSAGE_TEXT',
  locArgs: ['Alice', 'hi'],
  peer: { type: 'user', id: 7n },
  messageId: 3,
  silent: false,
  badge: 4,
  date: 1_700_000_000,
};

const KEY_ID = 'ABC123DEFG';
const TEAM_ID = 'TEAM123456';
const TOPIC = 'org.tern.app';

interface Seen {
  server: 'production' | 'sandbox';
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
  iat: number;
}

describe('ApnsProvider (real HTTP/2 over TLS on loopback)', () => {
  const tls = selfSignedLoopback(dir);
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = join(dir, 'AuthKey_ABC123DEFG.p8');
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const servers: Http2SecureServer[] = [];
  const serverSessions = new Set<Http2Session>();
  let sessionsOpened = 0;
  let production = '';
  let sandbox = '';
  const problems: string[] = [];
  const seen: Seen[] = [];
  let reply: (stream: ServerHttp2Stream) => void;

  const answer =
    (status: number, reason?: string) =>
    (stream: ServerHttp2Stream): void => {
      stream.respond({ ':status': status, 'apns-id': 'x', 'content-type': 'application/json' });
      stream.end(reason ? JSON.stringify({ reason }) : undefined);
    };

  const handle = (
    name: Seen['server'],
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    body: string,
  ) => {
    if (headers[':method'] !== 'POST') problems.push(`method ${headers[':method']}`);
    if (headers[':path'] !== `/3/device/${notification.token}`) problems.push(`path ${headers[':path']}`);
    if (headers['apns-topic'] !== TOPIC) problems.push('apns-topic');
    if (headers['apns-push-type'] !== 'alert') problems.push('apns-push-type');
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(String(headers['apns-id'])))
      problems.push('apns-id');
    const auth = String(headers.authorization ?? '');
    const [h = '', c = '', s = ''] = auth.replace(/^bearer /, '').split('.');
    // ES256 in JWS: the signature is r||s (64 bytes), not DER.
    if (
      !verify(
        'sha256',
        Buffer.from(`${h}.${c}`),
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(s, 'base64url'),
      )
    )
      problems.push('bad provider token signature');
    const header = jwtSegment(h);
    const claims = jwtSegment(c);
    if (header.alg !== 'ES256' || header.kid !== KEY_ID) problems.push('jwt header');
    if (claims.iss !== TEAM_ID) problems.push('jwt iss');
    seen.push({
      server: name,
      headers,
      body: JSON.parse(body) as Record<string, unknown>,
      iat: claims.iat as number,
    });
    reply(stream);
  };

  const listen = async (name: Seen['server']): Promise<string> => {
    const server = createSecureServer({ key: tls.key, cert: tls.cert });
    server.on('session', (s) => {
      sessionsOpened++;
      serverSessions.add(s);
      s.on('close', () => serverSessions.delete(s));
    });
    server.on('stream', (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => handle(name, stream, headers, Buffer.concat(chunks).toString()));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  const provider = (timeoutMs = 2000) =>
    new ApnsProvider({
      key: privateKey,
      keyId: KEY_ID,
      teamId: TEAM_ID,
      topic: TOPIC,
      production,
      sandbox,
      timeoutMs,
      ca: tls.cert,
    });

  beforeAll(async () => {
    production = await listen('production');
    sandbox = await listen('sandbox');
  });
  beforeEach(() => {
    problems.length = 0;
    seen.length = 0;
    sessionsOpened = 0;
    reply = answer(200);
  });
  afterEach(() => expect(problems).toEqual([]));
  afterAll(async () => {
    for (const s of serverSessions) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('POSTs the alert with a signed provider token over one session per endpoint', async () => {
    const p = provider();
    expect(await p.send(notification)).toBe('sent');
    expect(await p.send(notification)).toBe('sent');
    expect(await p.send({ ...notification, appSandbox: true })).toBe('sent');
    expect(seen.map((s) => s.server)).toEqual(['production', 'production', 'sandbox']);
    expect(sessionsOpened).toBe(2);
    expect(seen[0]!.body).toEqual({
      aps: { alert: { 'loc-key': 'MESSAGE_TEXT', 'loc-args': ['Alice', 'hi'] }, badge: 4, sound: 'default' },
      msg_id: '3',
      from_id: '7',
    });
    // The same apns-id for every attempt at one notification to one device.
    expect(seen[1]!.headers['apns-id']).toBe(seen[0]!.headers['apns-id']);
    expect(seen[0]!.headers['apns-id']).toBe(apnsId(notification));
    expect(Number(seen[0]!.headers['apns-expiration'])).toBeGreaterThan(Date.now() / 1000);
    expect(Math.abs(seen[0]!.iat - Date.now() / 1000)).toBeLessThan(5);
    await p.send({ ...notification, silent: true, peer: { type: 'channel', id: 9n } });
    expect(seen[3]!.body).toEqual({
      aps: { alert: { 'loc-key': 'MESSAGE_TEXT', 'loc-args': ['Alice', 'hi'] }, badge: 4 },
      msg_id: '3',
      channel_id: '9',
    });
    await p.close();
  });

  it.each([
    [410, 'Unregistered', 'gone'],
    [400, 'BadDeviceToken', 'gone'],
    [400, 'BadTopic', 'rejected'],
    [400, 'PayloadTooLarge', 'rejected'],
    [403, 'InvalidProviderToken', 'rejected'],
    [403, 'ExpiredProviderToken', 'retry'],
    [429, 'TooManyRequests', 'retry'],
    [500, 'InternalServerError', 'retry'],
    [503, 'ServiceUnavailable', 'retry'],
  ] as const)('maps %i %s to %s', async (status, reason, outcome) => {
    reply = answer(status, reason);
    const p = provider();
    expect(await p.send(notification)).toBe(outcome);
    await p.close();
  });

  it('renews the provider token after 50 minutes, not before', async () => {
    const p = provider();
    const first = p.providerToken();
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now');
    try {
      clock.mockReturnValue(now + APNS_JWT_TTL_MS - 60_000);
      expect(p.providerToken()).toBe(first);
      clock.mockReturnValue(now + APNS_JWT_TTL_MS + 1000);
      const second = p.providerToken();
      expect(second).not.toBe(first);
      clock.mockRestore();
      expect(await p.send(notification)).toBe('sent');
      expect(seen[0]!.headers.authorization).toBe(`bearer ${second}`);
    } finally {
      clock.mockRestore();
      await p.close();
    }
  });

  it('opens a new session after GOAWAY and after the connection broke', async () => {
    const p = provider();
    expect(await p.send(notification)).toBe('sent');
    for (const s of serverSessions) s.goaway(constants.NGHTTP2_NO_ERROR);
    await new Promise((r) => setTimeout(r, 100));
    expect(await p.send(notification)).toBe('sent');
    expect(sessionsOpened).toBe(2);
    for (const s of serverSessions) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    expect(await p.send(notification)).toBe('sent');
    expect(sessionsOpened).toBe(3);
    // A connection dropped in the middle of a request: that attempt is retried, the next one works.
    reply = (stream) => stream.session?.destroy();
    expect(await p.send(notification)).toBe('retry');
    reply = answer(200);
    expect(await p.send(notification)).toBe('sent');
    await p.close();
  });

  it('gives up on a request that is not answered within the timeout, and keeps the session', async () => {
    reply = () => undefined; // never answers
    const p = provider(300);
    const started = Date.now();
    expect(await p.send(notification)).toBe('retry');
    expect(Date.now() - started).toBeLessThan(1500);
    reply = answer(200);
    expect(await p.send(notification)).toBe('sent');
    expect(sessionsOpened).toBe(1);
    await p.close();
  });

  it('says "retry" when nothing listens, and refuses a server it does not trust', async () => {
    const down = new ApnsProvider({
      key: privateKey,
      keyId: KEY_ID,
      teamId: TEAM_ID,
      topic: TOPIC,
      production: 'https://127.0.0.1:1',
      timeoutMs: 1000,
    });
    expect(await down.send(notification)).toBe('retry');
    await down.close();
    const untrusted = new ApnsProvider({
      key: privateKey,
      keyId: KEY_ID,
      teamId: TEAM_ID,
      topic: TOPIC,
      production,
      timeoutMs: 1000,
    });
    expect(await untrusted.send(notification)).toBe('retry');
    expect(seen).toHaveLength(0);
    await untrusted.close();
  });

  it('is built from the settings, with the endpoint override', async () => {
    const [p] = buildProviders(
      readEnv(pushSpec, {
        TERN_PUSH_PROVIDERS: 'apns',
        TERN_PUSH_APNS_KEY_FILE: keyFile,
        TERN_PUSH_APNS_KEY_ID: KEY_ID,
        TERN_PUSH_APNS_TEAM_ID: TEAM_ID,
        TERN_PUSH_APNS_TOPIC: TOPIC,
        TERN_PUSH_APNS_ENDPOINT: sandbox,
      }),
      { ca: tls.cert },
    );
    expect([p!.name, p!.tokenTypes]).toEqual(['apns', [1]]);
    expect(await p!.send(notification)).toBe('sent');
    expect(seen[0]!.server).toBe('sandbox');
    await p!.close?.();
  });

  it('lists every missing or wrong setting of fcm and apns at start', () => {
    const message = verifyPushSettings(
      readEnv(pushSpec, {
        TERN_PUSH_PROVIDERS: 'webhook,fcm,apns',
        TERN_PUSH_APNS_KEY_ID: 'short',
      }),
    ).join('\n');
    for (const m of [
      /TERN_PUSH_WEBHOOK_URL is required/,
      /TERN_PUSH_FCM_CREDENTIALS_FILE is required/,
      /TERN_PUSH_APNS_KEY_FILE is required/,
      /TERN_PUSH_APNS_KEY_ID must be 10 letters or digits/,
      /TERN_PUSH_APNS_TEAM_ID is required/,
      /TERN_PUSH_APNS_TOPIC is required/,
    ])
      expect(message).toMatch(m);
    const rsa = join(dir, 'rsa.p8');
    writeFileSync(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }),
    );
    expect(loadApnsKey(rsa, 'K')).toEqual({ problems: [expect.stringMatching(/not a P-256 private key/)] });
    expect(loadApnsKey(join(dir, 'absent.p8'), 'K')).toEqual({
      problems: [expect.stringMatching(/cannot read the key file \(ENOENT\)/)],
    });
    expect(() => readEnv(pushSpec, { TERN_PUSH_APNS_ENDPOINT: 'http://127.0.0.1:1' })).toThrow(
      /TERN_PUSH_APNS_ENDPOINT must be an https:\/\/ URL/,
    );
  });
});
