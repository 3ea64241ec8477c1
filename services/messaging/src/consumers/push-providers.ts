/**
 * Where push notifications go: one provider per deployment-configured service, each serving some
 * TL token types (account.registerDevice token_type). The worker (push.ts) decides who is
 * notified; a provider only delivers one notification to one device and says how it went.
 *
 * - `webhook` — POSTs JSON to a URL the operator runs (a relay, a bridge to ntfy/UnifiedPush, or a
 *   test listener), for token type 4 (Simple Push).
 * - `fcm` — Firebase Cloud Messaging HTTP v1 with a service-account key, token type 2 (push-fcm.ts).
 * - `apns` — Apple Push Notification service over HTTP/2 with a .p8 auth key, token type 1
 *   (push-apns.ts).
 * verifyPushSettings checks every setting of every named provider (key files read and parsed, never
 * quoted) and returns one problem per bad setting; the service module passes it to the runtime as
 * its `verify`, so a misconfigured deployment stops with all of them at once (exit 78).
 * buildProviders then builds from verified settings.
 */
import { createHash, createHmac, type KeyObject } from 'node:crypto';
import {
  ConfigError,
  int,
  optionalStr,
  settingProblem,
  url,
  type Setting,
  type SpecOf,
} from '../../../shared/src';
import { ApnsProvider, loadApnsKey } from './push-apns';
import { FcmProvider, loadServiceAccount, type ServiceAccount } from './push-fcm';

/** TL token types (account.registerDevice). */
export const TOKEN_TYPE = { APNS: 1, FCM: 2, SIMPLE_PUSH: 4 } as const;

const PROVIDER_NAMES = ['webhook', 'fcm', 'apns'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export interface PushSettings {
  /** Which providers this deployment delivers through; none (the default) turns push off. */
  TERN_PUSH_PROVIDERS: ProviderName[];
  TERN_PUSH_WEBHOOK_URL: string;
  TERN_PUSH_WEBHOOK_SECRET: string | undefined;
  TERN_PUSH_FCM_CREDENTIALS_FILE: string | undefined;
  TERN_PUSH_FCM_ENDPOINT: string;
  TERN_PUSH_FCM_TOKEN_URI: string;
  TERN_PUSH_APNS_KEY_FILE: string | undefined;
  TERN_PUSH_APNS_KEY_ID: string | undefined;
  TERN_PUSH_APNS_TEAM_ID: string | undefined;
  TERN_PUSH_APNS_TOPIC: string | undefined;
  TERN_PUSH_APNS_ENDPOINT: string;
  TERN_PUSH_TIMEOUT_MS: number;
  TERN_PUSH_MAX_ATTEMPTS: number;
  TERN_PUSH_CONCURRENCY: number;
}

/** An optional https:// URL ('' when unset): the provider endpoint overrides. */
function httpsUrl(describe: string): Setting<string> {
  const u = url({ optional: true, describe });
  return {
    describe,
    parse: (raw) => {
      const v = u.parse(raw);
      if (v && new URL(v).protocol !== 'https:') settingProblem(`must be an https:// URL, got "${v}"`);
      return v;
    },
  };
}

function providerList(): Setting<ProviderName[]> {
  return {
    describe: `push providers, comma-separated (${PROVIDER_NAMES.join(', ')}); empty: no push`,
    parse: (raw) => {
      const names = (raw ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s);
      for (const n of names)
        if (!(PROVIDER_NAMES as readonly string[]).includes(n))
          settingProblem(`unknown provider "${n}" (have ${PROVIDER_NAMES.join(', ')})`);
      return [...new Set(names)] as ProviderName[];
    },
  };
}

export const pushSpec: SpecOf<PushSettings> = {
  TERN_PUSH_PROVIDERS: providerList(),
  TERN_PUSH_WEBHOOK_URL: url({ optional: true, describe: 'URL the webhook provider POSTs notifications to' }),
  TERN_PUSH_WEBHOOK_SECRET: optionalStr({
    describe: 'key of the X-Tern-Signature HMAC-SHA256 header on webhook requests',
    secret: true,
  }),
  TERN_PUSH_FCM_CREDENTIALS_FILE: optionalStr({
    describe: 'path of the Google service-account JSON key the fcm provider signs with',
    secret: true,
  }),
  TERN_PUSH_FCM_ENDPOINT: httpsUrl('origin of the FCM HTTP v1 API (default https://fcm.googleapis.com)'),
  TERN_PUSH_FCM_TOKEN_URI: httpsUrl("OAuth2 token URL for fcm (default: the key file's token_uri)"),
  TERN_PUSH_APNS_KEY_FILE: optionalStr({
    describe: 'path of the APNs auth key (.p8) the apns provider signs with',
    secret: true,
  }),
  TERN_PUSH_APNS_KEY_ID: optionalStr({ describe: 'key id of the APNs auth key (10 characters)' }),
  TERN_PUSH_APNS_TEAM_ID: optionalStr({ describe: 'Apple developer team id (10 characters)' }),
  TERN_PUSH_APNS_TOPIC: optionalStr({ describe: "the iOS app's bundle id (apns-topic)" }),
  TERN_PUSH_APNS_ENDPOINT: httpsUrl(
    'origin replacing both api.push.apple.com and api.sandbox.push.apple.com (tests)',
  ),
  TERN_PUSH_TIMEOUT_MS: int({
    default: 5000,
    min: 100,
    max: 60_000,
    describe: 'timeout of one push request in ms',
  }),
  TERN_PUSH_MAX_ATTEMPTS: int({
    default: 4,
    min: 1,
    max: 10,
    describe: 'attempts per device before giving up',
  }),
  TERN_PUSH_CONCURRENCY: int({ default: 32, min: 1, max: 1024, describe: 'push requests handled at once' }),
};

/** One notification for one device. */
export interface PushNotification {
  dcId: number;
  userId: bigint;
  tokenType: number;
  token: string;
  appSandbox: boolean;
  locKey: string;
  locArgs: string[];
  peer: { type: 'user' | 'chat' | 'channel'; id: bigint } | undefined;
  messageId: number;
  silent: boolean;
  badge: number;
  /** Unix seconds when the message was stored. */
  date: number;
}

/**
 * How a send went. `retry`: worth trying again (timeouts, 5xx, 429); `gone`: the provider says
 * the token is dead (the device is unregistered); `rejected`: the provider refused this request
 * for good (retrying would not help).
 */
export type SendOutcome = 'sent' | 'retry' | 'gone' | 'rejected';

export interface PushProvider {
  readonly name: ProviderName;
  readonly tokenTypes: readonly number[];
  send(n: PushNotification): Promise<SendOutcome>;
  /** Releases kept-alive connections, when the provider keeps any. */
  close?(): Promise<void>;
}

/** The JSON body the webhook provider POSTs (docs: services/messaging/README.md "Push"). */
export function webhookBody(n: PushNotification): string {
  return JSON.stringify({
    dc_id: n.dcId,
    user_id: n.userId.toString(),
    token_type: n.tokenType,
    token: n.token,
    app_sandbox: n.appSandbox,
    loc_key: n.locKey,
    loc_args: n.locArgs,
    peer: n.peer && { type: n.peer.type, id: n.peer.id.toString() },
    message_id: n.messageId,
    silent: n.silent,
    badge: n.badge,
    date: n.date,
  });
}

/**
 * POSTs each notification as JSON. With a secret, `X-Tern-Signature: sha256=<hex HMAC of the
 * body>` lets the receiver reject requests that did not come from this deployment.
 * `X-Tern-Push-Id` is the same for every attempt and redelivery of one notification to one
 * device, so a receiver can drop duplicates (delivery is at least once).
 */
export class WebhookProvider implements PushProvider {
  readonly name = 'webhook' as const;
  readonly tokenTypes = [TOKEN_TYPE.SIMPLE_PUSH];

  constructor(
    private readonly url: string,
    private readonly secret: string | undefined,
    private readonly timeoutMs: number,
  ) {}

  async send(n: PushNotification): Promise<SendOutcome> {
    const body = webhookBody(n);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-tern-push-id': createHash('sha256')
        .update(`${n.dcId}:${n.userId}:${n.messageId}:${n.tokenType}:${n.token}`)
        .digest('hex')
        .slice(0, 32),
    };
    if (this.secret)
      headers['x-tern-signature'] = `sha256=${createHmac('sha256', this.secret).update(body).digest('hex')}`;
    let status: number;
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
      status = res.status;
      // Drain so the connection is reused; the body is not needed.
      await res.arrayBuffer().catch(() => undefined);
    } catch {
      return 'retry';
    }
    if (status >= 200 && status < 300) return 'sent';
    if (status === 404 || status === 410) return 'gone';
    if (status === 408 || status === 429 || status >= 500) return 'retry';
    return 'rejected';
  }
}

/** Options of buildProviders that are not settings. */
export interface BuildOptions {
  /** Extra trusted CA certificates in PEM for fcm and apns (tests against local servers). */
  ca?: string;
}

/** What the settings of the named providers give: their key material, or what is wrong with them. */
interface Checked {
  problems: string[];
  fcm?: ServiceAccount;
  apns?: KeyObject;
}

/** Checks the settings of every provider named in TERN_PUSH_PROVIDERS, reading their key files. */
function check(s: PushSettings): Checked {
  const out: Checked = { problems: [] };
  const { problems } = out;
  for (const name of s.TERN_PUSH_PROVIDERS) {
    switch (name) {
      case 'webhook':
        if (!s.TERN_PUSH_WEBHOOK_URL)
          problems.push('TERN_PUSH_WEBHOOK_URL is required with TERN_PUSH_PROVIDERS=webhook');
        break;
      case 'fcm': {
        if (!s.TERN_PUSH_FCM_CREDENTIALS_FILE) {
          problems.push('TERN_PUSH_FCM_CREDENTIALS_FILE is required with TERN_PUSH_PROVIDERS=fcm');
          break;
        }
        const sa = loadServiceAccount(s.TERN_PUSH_FCM_CREDENTIALS_FILE, 'TERN_PUSH_FCM_CREDENTIALS_FILE');
        if ('problems' in sa) problems.push(...sa.problems);
        else out.fcm = sa.account;
        break;
      }
      case 'apns': {
        const before = problems.length;
        const need = (k: keyof PushSettings, v: string | undefined, check?: RegExp, what?: string) => {
          if (!v) problems.push(`${k} is required with TERN_PUSH_PROVIDERS=apns`);
          else if (check && !check.test(v)) problems.push(`${k} must be ${what}`);
        };
        need('TERN_PUSH_APNS_KEY_FILE', s.TERN_PUSH_APNS_KEY_FILE);
        need('TERN_PUSH_APNS_KEY_ID', s.TERN_PUSH_APNS_KEY_ID, /^[A-Z0-9]{10}$/, '10 letters or digits');
        need('TERN_PUSH_APNS_TEAM_ID', s.TERN_PUSH_APNS_TEAM_ID, /^[A-Z0-9]{10}$/, '10 letters or digits');
        need('TERN_PUSH_APNS_TOPIC', s.TERN_PUSH_APNS_TOPIC, /^[A-Za-z0-9.-]+$/, 'a bundle id');
        const key = s.TERN_PUSH_APNS_KEY_FILE
          ? loadApnsKey(s.TERN_PUSH_APNS_KEY_FILE, 'TERN_PUSH_APNS_KEY_FILE')
          : undefined;
        if (key && 'problems' in key) problems.push(...key.problems);
        if (problems.length === before && key && 'key' in key) out.apns = key.key;
        break;
      }
    }
  }
  return out;
}

/**
 * The cross-field problems of the push settings, one per bad setting and naming it: a provider
 * named without the settings it needs, a malformed APNs id, an unreadable or malformed key file
 * (its content never quoted). Empty when every named provider can be built. It only reads the
 * key files; the service module passes it to the runtime as `verify`, which reports the problems
 * with the other configuration errors before the service starts (exit 78).
 */
export function verifyPushSettings(s: PushSettings): string[] {
  return check(s).problems;
}

/**
 * The providers `s` asks for. `s` has passed verifyPushSettings; a key file that became unreadable
 * since is still a ConfigError naming it.
 */
export function buildProviders(s: PushSettings, opts: BuildOptions = {}): PushProvider[] {
  const checked = check(s);
  if (checked.problems.length > 0) throw new ConfigError(checked.problems);
  const out: PushProvider[] = [];
  for (const name of s.TERN_PUSH_PROVIDERS) {
    switch (name) {
      case 'webhook':
        out.push(
          new WebhookProvider(s.TERN_PUSH_WEBHOOK_URL, s.TERN_PUSH_WEBHOOK_SECRET, s.TERN_PUSH_TIMEOUT_MS),
        );
        break;
      case 'fcm':
        out.push(
          new FcmProvider(checked.fcm!, {
            endpoint: s.TERN_PUSH_FCM_ENDPOINT || undefined,
            tokenUri: s.TERN_PUSH_FCM_TOKEN_URI || undefined,
            timeoutMs: s.TERN_PUSH_TIMEOUT_MS,
            ca: opts.ca,
          }),
        );
        break;
      case 'apns':
        out.push(
          new ApnsProvider({
            key: checked.apns!,
            keyId: s.TERN_PUSH_APNS_KEY_ID!,
            teamId: s.TERN_PUSH_APNS_TEAM_ID!,
            topic: s.TERN_PUSH_APNS_TOPIC!,
            production: s.TERN_PUSH_APNS_ENDPOINT || undefined,
            sandbox: s.TERN_PUSH_APNS_ENDPOINT || undefined,
            timeoutMs: s.TERN_PUSH_TIMEOUT_MS,
            ca: opts.ca,
          }),
        );
        break;
    }
  }
  return out;
}
