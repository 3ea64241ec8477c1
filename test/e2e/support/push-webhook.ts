/**
 * The webhook the local stack's push provider POSTs to (tools/stack/plan.ts LOCAL_PUSH_WEBHOOK):
 * a test listens on it and reads every notification sent while it ran. One at a time: the
 * address is fixed, so suites that listen must not run side by side (the e2e project runs in band).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { LOCAL_PUSH_WEBHOOK } from '../../../tools/stack/plan';

/** What the webhook provider POSTs (services/messaging/src/consumers/push-providers.ts). */
export interface PushBody {
  dc_id: number;
  user_id: string;
  token_type: number;
  token: string;
  loc_key: string;
  loc_args: string[];
  peer?: { type: string; id: string };
  message_id: number;
  silent: boolean;
}

/** One notification as received: parsed, as sent, and its headers. */
export interface Push {
  body: PushBody;
  raw: string;
  headers: IncomingHttpHeaders;
}

/** Listens on LOCAL_PUSH_WEBHOOK and records every notification POSTed there. */
export function pushWebhook(): Promise<{ server: Server; pushes: Push[] }> {
  const pushes: Push[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'POST' && req.url === LOCAL_PUSH_WEBHOOK.path)
        pushes.push({ body: JSON.parse(raw) as PushBody, raw, headers: req.headers });
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(LOCAL_PUSH_WEBHOOK.port, LOCAL_PUSH_WEBHOOK.host, () => resolve({ server, pushes }));
  });
}
