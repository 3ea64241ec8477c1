/**
 * The push worker's decisions (muted, online, previews, dead tokens, bounded retries) with
 * in-memory storage, and the webhook provider against a real HTTP server on loopback. The path
 * through NATS, Cassandra and the gateways is test/e2e/push.test.ts.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../../shared/src';
import type { PeerNotifySettings } from '../../../shared/src/gen/tern/common/v1/peer';
import type { PushRequestEvent } from '../../../shared/src/gen/tern/events/v1/events';
import type { Device, Devices, NotifySettings } from '../storage/devices';
import {
  buildProviders,
  pushSpec,
  WebhookProvider,
  type PushNotification,
  type PushProvider,
  type SendOutcome,
  verifyPushSettings,
} from './push-providers';
import { PushWorker, type Presence } from './push';
import { readEnv } from '../../../shared/src';

const log = createLogger({ level: 'fatal', base: {} });

const notification: PushNotification = {
  dcId: 1,
  userId: 42n,
  tokenType: 4,
  token: 'tok',
  appSandbox: false,
  locKey: 'MESSAGE_TEXT',
  locArgs: ['Alice', 'hi'],
  peer: { type: 'user', id: 7n },
  messageId: 3,
  silent: false,
  badge: 1,
  date: 1_700_000_000,
};

describe('WebhookProvider (real HTTP on loopback)', () => {
  let server: Server;
  let url = '';
  let reply: (res: import('node:http').ServerResponse) => void = (res) => res.writeHead(204).end();
  const seen: Array<{ body: string; headers: IncomingHttpHeaders }> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ body: Buffer.concat(chunks).toString(), headers: req.headers });
        reply(res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('POSTs the notification as JSON, signed with the HMAC key', async () => {
    seen.length = 0;
    reply = (res) => res.writeHead(204).end();
    expect(await new WebhookProvider(url, 'k3y', 2000).send(notification)).toBe('sent');
    const { body, headers } = seen[0]!;
    expect(JSON.parse(body)).toMatchObject({
      user_id: '42',
      token: 'tok',
      loc_key: 'MESSAGE_TEXT',
      loc_args: ['Alice', 'hi'],
      peer: { type: 'user', id: '7' },
      message_id: 3,
    });
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-tern-signature']).toBe(
      `sha256=${createHmac('sha256', 'k3y').update(body).digest('hex')}`,
    );
    // Stable per (notification, device): receivers drop redeliveries by it.
    await new WebhookProvider(url, undefined, 2000).send(notification);
    expect(seen[1]!.headers['x-tern-push-id']).toBe(headers['x-tern-push-id']);
    expect(seen[1]!.headers['x-tern-signature']).toBeUndefined();
  });

  it.each([
    [500, 'retry'],
    [429, 'retry'],
    [410, 'gone'],
    [404, 'gone'],
    [400, 'rejected'],
  ] as const)('maps HTTP %i to %s', async (status, outcome) => {
    reply = (res) => res.writeHead(status).end();
    expect(await new WebhookProvider(url, undefined, 2000).send(notification)).toBe(outcome);
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    reply = () => undefined; // never answers
    const started = Date.now();
    expect(await new WebhookProvider(url, undefined, 300).send(notification)).toBe('retry');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('says "retry" when nothing listens', async () => {
    expect(await new WebhookProvider('http://127.0.0.1:1/push', undefined, 1000).send(notification)).toBe(
      'retry',
    );
  });
});

describe('push settings', () => {
  const env = (e: Record<string, string>) => readEnv(pushSpec, e);
  it('defaults to no provider', () => {
    expect(buildProviders(env({}))).toEqual([]);
  });
  it('needs a URL for the webhook and the credentials of FCM and APNs', () => {
    expect(verifyPushSettings(env({}))).toEqual([]);
    expect(verifyPushSettings(env({ TERN_PUSH_PROVIDERS: 'webhook' }))).toEqual([
      expect.stringMatching(/TERN_PUSH_WEBHOOK_URL is required/),
    ]);
    expect(verifyPushSettings(env({ TERN_PUSH_PROVIDERS: 'fcm,apns' }))).toContainEqual(
      expect.stringMatching(/TERN_PUSH_FCM_CREDENTIALS_FILE is required/),
    );
    expect(() => env({ TERN_PUSH_PROVIDERS: 'pigeon' })).toThrow(/unknown provider "pigeon"/);
    const built = buildProviders(
      env({ TERN_PUSH_PROVIDERS: 'webhook', TERN_PUSH_WEBHOOK_URL: 'http://x/push' }),
    );
    expect(built.map((p) => [p.name, p.tokenTypes])).toEqual([['webhook', [4]]]);
  });
});

describe('PushWorker.handle', () => {
  function setup(opts: {
    devices?: Device[];
    settings?: Map<string, PeerNotifySettings>;
    online?: boolean;
    outcomes?: SendOutcome[];
  }) {
    const devices = [
      ...(opts.devices ?? [
        {
          tokenType: 4,
          token: 't1',
          appSandbox: false,
          secret: Buffer.alloc(0),
          noMuted: false,
          registeredAt: new Date(),
        },
      ]),
    ];
    const removed: string[] = [];
    const sent: PushNotification[] = [];
    const outcomes = [...(opts.outcomes ?? ['sent'])];
    const provider: PushProvider = {
      name: 'webhook',
      tokenTypes: [4],
      send: (n) => {
        sent.push(n);
        return Promise.resolve(outcomes.length > 1 ? outcomes.shift()! : outcomes[0]!);
      },
    };
    const stored = opts.settings ?? new Map<string, PeerNotifySettings>();
    const presence: Presence = { isOnline: () => Promise.resolve(opts.online ?? false) };
    const worker = new PushWorker({
      dcId: 1,
      bus: undefined as never,
      devices: {
        list: () => Promise.resolve(devices),
        unregister: (_u: bigint, _t: number, token: string) => {
          removed.push(token);
          return Promise.resolve();
        },
      } as unknown as Devices,
      settings: {
        effective: (_u: bigint, dialog: string) => {
          const own = stored.get(dialog) ?? {};
          const def = stored.get('users') ?? {};
          return Promise.resolve({
            showPreviews: own.showPreviews ?? def.showPreviews ?? true,
            silent: own.silent ?? def.silent ?? false,
            muteUntil: own.muteUntil ?? def.muteUntil ?? 0,
          });
        },
      } as unknown as NotifySettings,
      presence,
      providers: [provider],
      totalUnread: () => Promise.resolve(5),
      chatTitle: () => Promise.resolve('Group'),
      log,
      maxAttempts: 3,
      timeoutMs: 100,
      concurrency: 4,
    });
    return { worker, sent, removed };
  }

  const event = (over: Partial<PushRequestEvent> = {}): PushRequestEvent => ({
    meta: { originDcId: 1, emittedAtMs: BigInt(Date.now()) },
    userId: 42n,
    locKey: 'MESSAGE_TEXT',
    locArgs: ['Alice', 'hello'],
    peer: { kind: { $case: 'userId', value: 7n } },
    messageId: 9,
    silent: false,
    badge: 0,
    ...over,
  });

  it('notifies each device with the text, the badge and the peer', async () => {
    const { worker, sent } = setup({});
    expect(await worker.handle(event())).toEqual({ outcomes: ['sent'] });
    expect(sent[0]).toMatchObject({
      locKey: 'MESSAGE_TEXT',
      locArgs: ['Alice', 'hello'],
      badge: 5,
      peer: { type: 'user', id: 7n },
    });
  });

  it('skips muted dialogs and online users, but not an expired mute', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(
      (await setup({ settings: new Map([['u7', { muteUntil: now + 60 }]]) }).worker.handle(event())).skipped,
    ).toBe('muted');
    expect(
      (await setup({ settings: new Map([['users', { muteUntil: now + 60 }]]) }).worker.handle(event()))
        .skipped,
    ).toBe('muted');
    expect(
      (await setup({ settings: new Map([['u7', { muteUntil: now - 60 }]]) }).worker.handle(event())).outcomes,
    ).toEqual(['sent']);
    expect((await setup({ online: true }).worker.handle(event())).skipped).toBe('online');
    expect((await setup({ devices: [] }).worker.handle(event())).skipped).toBe('no-devices');
  });

  it('drops the text when previews are off, and names the group', async () => {
    const { worker, sent } = setup({ settings: new Map([['users', { showPreviews: false }]]) });
    await worker.handle(event());
    expect(sent[0]).toMatchObject({ locKey: 'MESSAGE_NOTEXT', locArgs: ['Alice'] });
    const g = setup({});
    await g.worker.handle(
      event({ locKey: 'CHAT_MESSAGE_TEXT', peer: { kind: { $case: 'chatId', value: 5n } } }),
    );
    expect(g.sent[0]).toMatchObject({ locKey: 'CHAT_MESSAGE_TEXT', locArgs: ['Alice', 'Group', 'hello'] });
  });

  it('retries a device a bounded number of times, and forgets dead tokens', async () => {
    const r = setup({ outcomes: ['retry'] });
    expect((await r.worker.handle(event())).outcomes).toEqual(['retry']);
    expect(r.sent).toHaveLength(3);
    const ok = setup({ outcomes: ['retry', 'sent'] });
    expect((await ok.worker.handle(event())).outcomes).toEqual(['sent']);
    expect(ok.sent).toHaveLength(2);
    const gone = setup({ outcomes: ['gone'] });
    await gone.worker.handle(event());
    expect(gone.removed).toEqual(['t1']);
  });
});
