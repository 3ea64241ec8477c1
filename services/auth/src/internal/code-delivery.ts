/**
 * How login codes reach users: a provider chosen by configuration (TERN_AUTH_CODE_DELIVERY).
 * - `dev`: codes are kept in memory (bounded) for the operator to read over a loopback HTTP
 *   endpoint, and logged unless the deployment is in production mode;
 * - `webhook`: codes are POSTed as JSON `{ "phone", "code" }` to an SMS gateway's URL.
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';

export interface CodeDelivery {
  send(phone: string, code: string): Promise<void>;
}

/** Codes the development provider remembers (oldest forgotten first). */
const DEV_CODES_KEPT = 1000;

export class DevCodeDelivery implements CodeDelivery {
  private readonly latest = new Map<string, string>();
  constructor(
    private readonly log: Logger,
    private readonly production: boolean,
  ) {}

  send(phone: string, code: string): Promise<void> {
    this.latest.delete(phone);
    this.latest.set(phone, code);
    while (this.latest.size > DEV_CODES_KEPT) this.latest.delete(this.latest.keys().next().value!);
    if (!this.production)
      this.log.info({ devCode: code, phoneTail: phone.slice(-4) }, 'login code (development delivery)');
    return Promise.resolve();
  }

  codeFor(phone: string): string | undefined {
    return this.latest.get(phone);
  }

  /** GET /codes/<phone> → the latest code, on a loopback address only. */
  async serve(host: string, port: number): Promise<Server> {
    if (!/^(127\.|::1$|localhost$)/.test(host))
      throw new Error(`the development code endpoint must listen on loopback, not ${host}`);
    const server = createServer((req, res) => {
      const m = /^\/codes\/(\d{5,15})$/.exec(req.url ?? '');
      const code = m ? this.codeFor(m[1]!) : undefined;
      res.writeHead(code ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(code ? { code } : { error: 'no code' }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return server;
  }
}

export class WebhookCodeDelivery implements CodeDelivery {
  constructor(private readonly url: string) {}

  async send(phone: string, code: string): Promise<void> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ phone, code }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new Error(`SMS webhook answered ${res.status}`);
  }
}
