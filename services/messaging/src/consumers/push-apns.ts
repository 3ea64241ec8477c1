/**
 * The APNs provider (token type 1): Apple Push Notification service over HTTP/2 with token-based
 * authentication.
 *
 * Each send is `POST /3/device/<token>` on api.push.apple.com, or api.sandbox.push.apple.com for a
 * device registered with app_sandbox, with `authorization: bearer <JWT>` (ES256, kid = key id,
 * iss = team id, iat; signed with the .p8 key and renewed every 50 minutes: Apple refuses tokens
 * older than an hour and updates more often than every 20 minutes), `apns-topic` (the bundle id),
 * `apns-push-type: alert`, `apns-id` (a UUID that is the same for every attempt at one notification
 * to one device), `apns-expiration` (an hour) and `apns-priority`.
 *
 * One HTTP/2 session per origin, opened on first use and shared by every request; a session that
 * errs, is closed or receives GOAWAY is forgotten and the next send opens a new one. Every request
 * is bounded by the timeout (a timed out stream is cancelled, the session stays).
 *
 * Outcomes: 200 sent; 410, or reason BadDeviceToken / Unregistered: the token is gone;
 * 403 ExpiredProviderToken: a new JWT is made and the send retried; 429, 5xx, timeouts and
 * connection errors: retry; anything else (400 BadTopic, 403 InvalidProviderToken...): rejected.
 */
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, constants, type ClientHttp2Session } from 'node:http2';
// Types only: push-providers.ts imports this module.
import type { PushNotification, PushProvider, SendOutcome } from './push-providers';

export const APNS_PRODUCTION = 'https://api.push.apple.com';
export const APNS_SANDBOX = 'https://api.sandbox.push.apple.com';
/** Provider tokens are renewed after this long (Apple: older than 60 min is refused). */
export const APNS_JWT_TTL_MS = 50 * 60 * 1000;
/** An ExpiredProviderToken answer only forces a new JWT when the current one is at least this old. */
const APNS_JWT_MIN_AGE_MS = 20 * 60 * 1000;
/** Sessions with no request for this long are closed. */
const IDLE_MS = 10 * 60 * 1000;

/** Reads and checks an APNs auth key (.p8: a PKCS#8 P-256 private key in PEM). */
export function loadApnsKey(path: string, setting: string): { key: KeyObject } | { problems: string[] } {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    return {
      problems: [`${setting}: cannot read the key file (${(err as { code?: string }).code ?? 'error'})`],
    };
  }
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
      throw new Error('not P-256');
    return { key };
  } catch {
    return { problems: [`${setting}: the file is not a P-256 private key in PEM (an APNs .p8 key)`] };
  }
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** The provider authentication token: ES256 JWT, signature as raw r||s (JWS), not DER. */
export function apnsJwt(key: KeyObject, keyId: string, teamId: string, nowS: number): string {
  const input = `${b64url(JSON.stringify({ alg: 'ES256', kid: keyId }))}.${b64url(
    JSON.stringify({ iss: teamId, iat: nowS }),
  )}`;
  const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(sig)}`;
}

/** The JSON payload: a localized alert (Telegram's loc-keys) and the ids the app opens. */
export function apnsBody(n: PushNotification): string {
  const payload: Record<string, unknown> = {
    aps: {
      alert: { 'loc-key': n.locKey, 'loc-args': n.locArgs },
      badge: n.badge,
      ...(n.silent ? {} : { sound: 'default' }),
    },
    msg_id: String(n.messageId),
  };
  if (n.peer) payload[n.peer.type === 'user' ? 'from_id' : `${n.peer.type}_id`] = n.peer.id.toString();
  return JSON.stringify(payload);
}

/** A UUID (the apns-id format) that is stable for one notification to one device. */
export function apnsId(n: PushNotification): string {
  const h = createHash('sha256')
    .update(`${n.dcId}:${n.userId}:${n.messageId}:${n.tokenType}:${n.token}`)
    .digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface ApnsOptions {
  key: KeyObject;
  keyId: string;
  teamId: string;
  /** The app's bundle id (apns-topic). */
  topic: string;
  /** Origins; APNS_PRODUCTION / APNS_SANDBOX unless overridden (tests). */
  production?: string;
  sandbox?: string;
  timeoutMs: number;
  /** Extra trusted CA certificates in PEM (tests against a local server); the system's otherwise. */
  ca?: string;
}

interface Reply {
  status: number;
  body: string;
}

export class ApnsProvider implements PushProvider {
  readonly name = 'apns' as const;
  /** TOKEN_TYPE.APNS of push-providers.ts. */
  readonly tokenTypes = [1];
  private readonly sessions = new Map<string, ClientHttp2Session>();
  private jwt?: { token: string; madeAtMs: number };
  private closed = false;

  constructor(private readonly o: ApnsOptions) {}

  async send(n: PushNotification): Promise<SendOutcome> {
    const origin = n.appSandbox ? (this.o.sandbox ?? APNS_SANDBOX) : (this.o.production ?? APNS_PRODUCTION);
    const jwt = this.providerToken();
    let r: Reply;
    try {
      r = await this.request(origin, `/3/device/${encodeURIComponent(n.token)}`, apnsBody(n), {
        authorization: `bearer ${jwt}`,
        'apns-topic': this.o.topic,
        'apns-push-type': 'alert',
        'apns-id': apnsId(n),
        'apns-expiration': String(Math.floor(Date.now() / 1000) + 3600),
        'apns-priority': '10',
        'content-type': 'application/json',
      });
    } catch {
      return 'retry';
    }
    if (r.status === 200) return 'sent';
    const reason = reasonOf(r.body);
    if (r.status === 410 || reason === 'BadDeviceToken' || reason === 'Unregistered') return 'gone';
    if (r.status === 403 && reason === 'ExpiredProviderToken') {
      // Our clock or Apple's disagree about the JWT's age: make a new one (not more than every 20 min).
      if (this.jwt?.token === jwt && Date.now() - this.jwt.madeAtMs >= APNS_JWT_MIN_AGE_MS)
        this.jwt = undefined;
      return 'retry';
    }
    if (r.status === 429 || r.status >= 500) return 'retry';
    return 'rejected';
  }

  /** The current provider token, made anew every APNS_JWT_TTL_MS. */
  providerToken(): string {
    const now = Date.now();
    if (!this.jwt || now - this.jwt.madeAtMs >= APNS_JWT_TTL_MS)
      this.jwt = {
        token: apnsJwt(this.o.key, this.o.keyId, this.o.teamId, Math.floor(now / 1000)),
        madeAtMs: now,
      };
    return this.jwt.token;
  }

  /** The live session to `origin`, or a new one. */
  private session(origin: string): ClientHttp2Session {
    const have = this.sessions.get(origin);
    if (have && !have.closed && !have.destroyed) return have;
    const s = connect(origin, this.o.ca ? { ca: this.o.ca } : {});
    const forget = () => {
      if (this.sessions.get(origin) === s) this.sessions.delete(origin);
    };
    // After GOAWAY no new stream may start on `s`; streams in flight finish or fail on their own.
    s.on('goaway', forget);
    s.on('close', forget);
    s.on('error', () => {
      forget();
      s.destroy();
    });
    s.setTimeout(IDLE_MS, () => s.close());
    // Idle sessions do not keep the process alive; a request in flight holds its own timer.
    s.unref();
    this.sessions.set(origin, s);
    return s;
  }

  private request(
    origin: string,
    path: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('closed'));
    return new Promise<Reply>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, reply?: Reply) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (err) reject(err);
        else resolve(reply!);
      };
      const deadline = setTimeout(() => {
        stream?.close(constants.NGHTTP2_CANCEL);
        finish(new Error('timeout'));
      }, this.o.timeoutMs);
      let stream: ReturnType<ClientHttp2Session['request']> | undefined;
      try {
        stream = this.session(origin).request({
          [constants.HTTP2_HEADER_METHOD]: 'POST',
          [constants.HTTP2_HEADER_PATH]: path,
          ...headers,
        });
      } catch (err) {
        finish(err as Error);
        return;
      }
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on('response', (h) => (status = Number(h[constants.HTTP2_HEADER_STATUS] ?? 0)));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () =>
        // A stream ended without response headers: the connection went away under it.
        status === 0
          ? finish(new Error('no response'))
          : finish(undefined, { status, body: Buffer.concat(chunks).toString('utf8').slice(0, 4096) }),
      );
      stream.on('close', () => finish(new Error(`stream closed (${stream?.rstCode ?? '?'})`)));
      stream.on('error', (err: Error) => finish(err));
      stream.end(body);
    });
  }

  /** Closes every session. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => new Promise<void>((r) => (s.closed ? r() : s.close(() => r())))));
  }
}

function reasonOf(body: string): string | undefined {
  try {
    const r = (JSON.parse(body) as { reason?: unknown }).reason;
    return typeof r === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}
