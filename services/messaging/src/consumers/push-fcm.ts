/**
 * The FCM provider (token type 2): Firebase Cloud Messaging HTTP v1 with a Google service account.
 *
 * Each send is `POST <endpoint>/v1/projects/<project_id>/messages:send` with
 * `Authorization: Bearer <access token>`. The access token comes from the OAuth2 JWT bearer grant:
 * a JWT signed RS256 with the service account's private key (iss = client_email, aud = token_uri,
 * scope firebase.messaging, one hour) POSTed to the key file's token_uri; it is cached until five
 * minutes before it expires, and one fetch is shared by every send waiting for it.
 *
 * Outcomes: 200 sent; 404 or an UNREGISTERED error code: the token is gone; 401: the cached
 * access token is dropped and the send retried; 408/429/5xx, timeouts and network errors: retry;
 * anything else (400 INVALID_ARGUMENT, 403 SENDER_ID_MISMATCH...): rejected.
 *
 * Only node built-ins: node:crypto signs, node:https sends (keep-alive agent, so connections are
 * reused). The key is read at start (loadServiceAccount, by verifyPushSettings and buildProviders)
 * and never logged.
 */
import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
// Types only: push-providers.ts imports this module.
import type { PushNotification, PushProvider, SendOutcome } from './push-providers';

export const FCM_DEFAULT_ENDPOINT = 'https://fcm.googleapis.com';
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** Access tokens are renewed this long before Google says they expire. */
const TOKEN_MARGIN_MS = 5 * 60 * 1000;
/** Lifetime asked for the signed assertion (Google's maximum). */
const ASSERTION_TTL_S = 3600;
/** How long FCM keeps trying to reach an offline device (the worker skips older requests too). */
const MESSAGE_TTL = '3600s';

/** What the provider needs from a service-account key file. */
export interface ServiceAccount {
  projectId: string;
  clientEmail: string;
  tokenUri: string;
  privateKey: KeyObject;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * Reads and checks a service-account JSON key file. Returns the account, or the problems found
 * (never quoting the file's content, which holds the private key).
 */
export function loadServiceAccount(
  path: string,
  setting: string,
): { account: ServiceAccount } | { problems: string[] } {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    return {
      problems: [
        `${setting}: cannot read the service-account file (${(err as { code?: string }).code ?? 'error'})`,
      ],
    };
  }
  let doc: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    doc = v as Record<string, unknown>;
  } catch {
    return { problems: [`${setting}: the service-account file is not a JSON object`] };
  }
  const problems: string[] = [];
  const field = (k: string): string => {
    const v = doc[k];
    if (typeof v === 'string' && v.trim()) return v.trim();
    problems.push(`${setting}: the service-account file has no "${k}"`);
    return '';
  };
  if (doc.type !== undefined && doc.type !== 'service_account')
    problems.push(`${setting}: the file is not a service-account key (type must be "service_account")`);
  const projectId = field('project_id');
  const clientEmail = field('client_email');
  const tokenUri = field('token_uri');
  const pem = field('private_key');
  if (tokenUri) {
    try {
      if (new URL(tokenUri).protocol !== 'https:') problems.push(`${setting}: token_uri must be https`);
    } catch {
      problems.push(`${setting}: token_uri is not a URL`);
    }
  }
  let privateKey: KeyObject | undefined;
  if (pem) {
    try {
      privateKey = createPrivateKey(pem);
      if (privateKey.asymmetricKeyType !== 'rsa') throw new Error('not RSA');
    } catch {
      privateKey = undefined;
      problems.push(`${setting}: private_key is not an RSA private key in PEM`);
    }
  }
  if (problems.length > 0 || !privateKey) return { problems };
  return { account: { projectId, clientEmail, tokenUri, privateKey } };
}

/** The RS256 JWT of the OAuth2 JWT bearer grant (RFC 7523) for `account`. */
export function serviceAccountAssertion(account: ServiceAccount, nowS: number): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = b64url(
    JSON.stringify({
      iss: account.clientEmail,
      scope: FCM_SCOPE,
      aud: account.tokenUri,
      iat: nowS,
      exp: nowS + ASSERTION_TTL_S,
    }),
  );
  const input = `${header}.${claims}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), account.privateKey))}`;
}

/** The HTTP v1 request body: a data message (string values) plus Android delivery options. */
export function fcmBody(n: PushNotification): string {
  const custom: Record<string, string | number> = { msg_id: n.messageId };
  if (n.peer) custom[n.peer.type === 'user' ? 'from_id' : `${n.peer.type}_id`] = n.peer.id.toString();
  return JSON.stringify({
    message: {
      token: n.token,
      data: {
        loc_key: n.locKey,
        loc_args: JSON.stringify(n.locArgs),
        custom: JSON.stringify(custom),
        badge: String(n.badge),
        silent: n.silent ? '1' : '0',
        date: String(n.date),
        dc_id: String(n.dcId),
      },
      android: {
        priority: 'high',
        ttl: MESSAGE_TTL,
        collapse_key: createHash('sha256').update(`${n.userId}:${n.messageId}`).digest('hex').slice(0, 32),
      },
    },
  });
}

interface Reply {
  status: number;
  body: string;
}

/** Errors of FCM's JSON error body that say the registration token is dead. */
function isUnregistered(body: string): boolean {
  try {
    const e = (JSON.parse(body) as { error?: { status?: string; details?: Array<{ errorCode?: string }> } })
      .error;
    return (e?.details ?? []).some((d) => d.errorCode === 'UNREGISTERED');
  } catch {
    return false;
  }
}

export interface FcmOptions {
  /** Origin of the FCM API; FCM_DEFAULT_ENDPOINT unless overridden (tests). */
  endpoint?: string;
  /** Overrides the key file's token_uri (tests). */
  tokenUri?: string;
  timeoutMs: number;
  /** Extra trusted CA certificates in PEM (tests against a local server); the system's otherwise. */
  ca?: string;
}

export class FcmProvider implements PushProvider {
  readonly name = 'fcm' as const;
  /** TOKEN_TYPE.FCM of push-providers.ts. */
  readonly tokenTypes = [2];
  private readonly agent: Agent;
  private readonly sendUrl: URL;
  private readonly tokenUrl: URL;
  private access?: { token: string; renewAtMs: number };
  private pending?: Promise<string>;

  constructor(
    private readonly account: ServiceAccount,
    private readonly opts: FcmOptions,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 64, ca: opts.ca });
    const base = (opts.endpoint ?? FCM_DEFAULT_ENDPOINT).replace(/\/+$/, '');
    this.sendUrl = new URL(`${base}/v1/projects/${encodeURIComponent(account.projectId)}/messages:send`);
    this.tokenUrl = new URL(opts.tokenUri ?? account.tokenUri);
  }

  async send(n: PushNotification): Promise<SendOutcome> {
    let token: string;
    try {
      token = await this.accessToken();
    } catch (err) {
      // The token endpoint refused the key for good (revoked, wrong clock...): nothing to retry.
      return err instanceof TokenRejected ? 'rejected' : 'retry';
    }
    let r: Reply;
    try {
      r = await this.post(this.sendUrl, fcmBody(n), {
        'content-type': 'application/json; charset=utf-8',
        authorization: `Bearer ${token}`,
      });
    } catch {
      return 'retry';
    }
    if (r.status === 200) return 'sent';
    if (r.status === 404 || isUnregistered(r.body)) return 'gone';
    if (r.status === 401) {
      // Expired or revoked early: fetch a new one on the next attempt.
      if (this.access?.token === token) this.access = undefined;
      return 'retry';
    }
    if (r.status === 408 || r.status === 429 || r.status >= 500) return 'retry';
    return 'rejected';
  }

  /** A valid access token: the cached one, or one fetch shared by every caller. */
  accessToken(): Promise<string> {
    if (this.access && Date.now() < this.access.renewAtMs) return Promise.resolve(this.access.token);
    this.pending ??= this.fetchToken().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetchToken(): Promise<string> {
    const assertion = serviceAccountAssertion(this.account, Math.floor(Date.now() / 1000));
    const body = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
    }).toString();
    const r = await this.post(this.tokenUrl, body, { 'content-type': 'application/x-www-form-urlencoded' });
    if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429)
      throw new TokenRejected(r.status);
    if (r.status !== 200) throw new Error(`token endpoint answered ${r.status}`);
    const doc = JSON.parse(r.body) as { access_token?: unknown; expires_in?: unknown };
    if (typeof doc.access_token !== 'string' || !doc.access_token) throw new Error('no access_token');
    const ttlS = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 3600;
    const renewAtMs = Date.now() + Math.max(ttlS * 1000 - TOKEN_MARGIN_MS, (ttlS * 1000) / 2);
    this.access = { token: doc.access_token, renewAtMs };
    return doc.access_token;
  }

  private post(url: URL, body: string, headers: Record<string, string>): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
          timeout: this.opts.timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            // Error bodies are small; do not hold more than 64 KiB of a strange answer.
            if ((size += c.length) <= 65_536) chunks.push(c);
          });
          res.on('end', () => {
            clearTimeout(deadline);
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
          });
          res.on('error', reject);
        },
      );
      // `timeout` above is idle time on the socket; this bounds the whole exchange.
      const deadline = setTimeout(() => req.destroy(new Error('timeout')), this.opts.timeoutMs);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err) => {
        clearTimeout(deadline);
        reject(err);
      });
      req.end(body);
    });
  }

  /** Closes the kept-alive connections. */
  close(): Promise<void> {
    this.agent.destroy();
    return Promise.resolve();
  }
}

class TokenRejected extends Error {
  constructor(status: number) {
    super(`token endpoint refused the service account (${status})`);
  }
}
