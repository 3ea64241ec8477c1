/**
 * Sending straight to a DC's messaging service over gRPC, with the RequestContext a gateway would
 * build for a logged-in user (services/gateway/src/api/context.ts). Tests that need thousands of
 * messages use it to skip the client's MTProto round trips; everything behind the gateway (the
 * sender's box, cross-DC delivery, the recipient's log, NATS) is the same code a client reaches.
 */
import { randomBytes, randomInt } from 'node:crypto';
import {
  AuthServiceClient,
  type LookupPhoneResponse,
} from '../../../services/shared/src/gen/tern/auth/v1/auth';
import type { RequestContext } from '../../../services/shared/src/gen/tern/common/v1/context';
import {
  MessagingServiceClient,
  type SendMessageRequest,
  type SendMessageResponse,
} from '../../../services/shared/src/gen/tern/messaging/v1/messaging';
import { asService, unary, type TestStack } from '../../support/stack';

/** A random non-zero signed 64-bit id (random_id, auth key id, session id). */
export function randomLong(): bigint {
  const v = randomBytes(8).readBigInt64LE(0);
  return v === 0n ? 1n : v;
}

/**
 * The context of user `userId` calling from DC `dcId`. The auth key id is random, so live updates
 * of the user's own sends are not excluded from any real session of the user.
 */
export function userContext(userId: bigint, dcId: number): RequestContext {
  return {
    authKeyId: randomLong(),
    sessionId: randomLong(),
    userId,
    dcId,
    layer: 198,
    clientIp: '127.0.0.1',
    client: {
      apiId: 12345,
      deviceModel: 'tern-e2e-direct',
      systemVersion: '',
      appVersion: '1.0',
      systemLangCode: 'en',
      langPack: '',
      langCode: 'en',
    },
    msgId: 0n,
  };
}

export interface DirectSender {
  /** messages.sendMessage of a private text to `to` (as the sender sees it: id and access hash). */
  send(
    to: { userId: bigint; accessHash: bigint },
    text: string,
    randomId?: bigint,
  ): Promise<SendMessageResponse>;
  close(): void;
}

/** A sender acting as `userId` against the messaging service of its home DC `homeDc` (1-based). */
export function directSender(s: TestStack, homeDc: number, userId: bigint): DirectSender {
  const client = new MessagingServiceClient(
    s.dcs[homeDc - 1]!.services.messaging,
    asService(s, 'gateway', homeDc),
  );
  const context = userContext(userId, homeDc);
  return {
    send(to, text, randomId = randomLong()) {
      const req: SendMessageRequest = {
        context,
        peer: { kind: { $case: 'user', value: to } },
        message: text,
        randomId,
        entities: [],
        replyToMsgId: 0,
        silent: false,
        noWebpage: true,
        clearDraft: false,
      };
      return unary<SendMessageRequest, SendMessageResponse>(client, 'sendMessage', req);
    },
    close: () => client.close(),
  };
}

/**
 * Runs `task(i)` for i = 0 .. n-1 with at most `concurrency` in flight; returns the results in
 * order. Rejects with the first failure after the tasks in flight settle.
 */
export async function pool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let next = 0;
  let failed: Error | undefined;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (failed === undefined && next < n) {
        const i = next++;
        try {
          out[i] = await task(i);
        } catch (err) {
          failed ??= err instanceof Error ? err : new Error(String(err));
        }
      }
    }),
  );
  if (failed) throw failed;
  return out;
}

/**
 * A test number of DC `dc` (99966XYYYY) that nobody has signed up with yet, for tests that must see
 * a sign-up. Each DC has only 10,000 test numbers and benches and earlier runs leave accounts
 * behind, so a random one is checked against the directory (auth LookupPhone) until one is free.
 */
export async function unusedTestNumber(s: TestStack, dc: number): Promise<string> {
  // LookupPhone is messaging's (contacts.importContacts).
  const auth = new AuthServiceClient(s.dcs[dc - 1]!.services.auth, asService(s, 'messaging', dc));
  try {
    for (let tries = 0; tries < 50; tries++) {
      const phone = `99966${dc}${String(randomInt(0, 10_000)).padStart(4, '0')}`;
      const found = await unary<object, LookupPhoneResponse>(auth, 'lookupPhone', { phoneNumbers: [phone] });
      if (found.entries.length === 0) return phone;
    }
    throw new Error(`no unused test number of DC ${dc} found in 50 tries`);
  } finally {
    auth.close();
  }
}
