/**
 * Mutual TLS between Tern processes (docs/decisions/0020-internal-mtls.md), against the local
 * stack's services: a caller without a certificate of the deployment's CA is refused at the
 * handshake, a certificate of the CA is refused any RPC its `Callers:` line (proto/) does not
 * allow, and a client refuses a server that is not the service it dialled. Then, on a server of
 * its own, that a rotated certificate is what new connections get.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { credentials, Metadata, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import {
  adaptService,
  bindServer,
  createLogger,
  createServer,
  mutualTls,
  PLAINTEXT,
  useTransportSecurity,
} from '../../services/shared/src';
import { AuthServiceClient, AuthServiceService } from '../../services/shared/src/gen/tern/auth/v1/auth';
import {
  DeliverToBoxRequest,
  MessagingServiceClient,
} from '../../services/shared/src/gen/tern/messaging/v1/messaging';
import { credentialsAs, ensureCertificates } from '../../tools/stack/certs';
import { asService, stack } from '../support/stack';

/** The gRPC status a call ended with (0 = OK). */
function codeOf(
  Ctor: typeof AuthServiceClient | typeof MessagingServiceClient,
  address: string,
  creds: ChannelCredentials,
  method: string,
  request: object,
): Promise<{ code: number; details: string }> {
  const client = new Ctor(address, creds, { 'grpc.ssl_target_name_override': 'tern' });
  return new Promise<{ code: number; details: string }>((resolve) => {
    (client as unknown as Record<string, (...a: unknown[]) => void>)[method]!.call(
      client,
      request,
      new Metadata(),
      { deadline: Date.now() + 5000 },
      (err: ServiceError | null) => resolve({ code: err?.code ?? 0, details: err?.details ?? '' }),
    );
  }).finally(() => client.close());
}

describe('mutual TLS between services (the stack)', () => {
  const s = stack();
  const auth = s.dcs[0]!.services.auth;
  const messaging = s.dcs[0]!.services.messaging;
  const getAuthKey = { authKeyId: 1n };
  let foreign: string;
  beforeAll(() => {
    foreign = mkdtempSync(join(tmpdir(), 'tern-foreign-ca-'));
    ensureCertificates(foreign, [1]);
  });
  afterAll(() => rmSync(foreign, { recursive: true, force: true }));

  it('lets this DC’s gateway call GetAuthKey (an unknown key is NOT_FOUND-like, not refused)', async () => {
    const r = await codeOf(AuthServiceClient, auth, asService(s, 'gateway', 1), 'getAuthKey', getAuthKey);
    expect(r.code).not.toBe(status.PERMISSION_DENIED);
    expect(r.code).not.toBe(status.UNAVAILABLE);
  });

  it('refuses plaintext, TLS without a client certificate, and a certificate of another CA', async () => {
    const ca = readFileSync(join(s.tlsDir, 'operator', 'ca.crt'));
    const anyServer = { checkServerIdentity: () => undefined };
    for (const creds of [
      credentials.createInsecure(),
      credentials.createSsl(ca, null, null, anyServer),
      // Another deployment's gateway certificate, trusting this deployment's CA.
      credentials.createSsl(
        ca,
        readFileSync(join(foreign, 'dc1-gateway', 'tls.key')),
        readFileSync(join(foreign, 'dc1-gateway', 'tls.crt')),
        anyServer,
      ),
    ]) {
      const r = await codeOf(AuthServiceClient, auth, creds, 'getAuthKey', getAuthKey);
      expect(r.code).toBe(status.UNAVAILABLE);
    }
  });

  it('refuses a gateway certificate DeliverToBox, and lets another DC’s messaging call it', async () => {
    const deliver = DeliverToBoxRequest.fromPartial({ ownerUserId: 1n });
    const gateway = await codeOf(
      MessagingServiceClient,
      messaging,
      asService(s, 'gateway', 1),
      'deliverToBox',
      deliver,
    );
    expect(gateway.code).toBe(status.PERMISSION_DENIED);
    expect(gateway.details).toContain(
      'spiffe://tern/dc/1/gateway may not call /tern.messaging.v1.MessagingService/DeliverToBox',
    );
    const peer = await codeOf(
      MessagingServiceClient,
      messaging,
      asService(s, 'messaging', 2),
      'deliverToBox',
      deliver,
    );
    expect(peer.code).not.toBe(status.PERMISSION_DENIED);
  });

  it('refuses another DC’s gateway a user’s call, and the operator anything but operator RPCs', async () => {
    const fromDc2 = await codeOf(
      AuthServiceClient,
      auth,
      asService(s, 'gateway', 2),
      'getAuthKey',
      getAuthKey,
    );
    expect(fromDc2.code).toBe(status.PERMISSION_DENIED);
    const operator = await codeOf(
      AuthServiceClient,
      auth,
      credentialsAs(s.tlsDir, { kind: 'operator' }),
      'getAuthKey',
      getAuthKey,
    );
    expect(operator.code).toBe(status.PERMISSION_DENIED);
  });

  it('a client refuses a server that is not the service it expects', async () => {
    // Messaging's client dialling auth's address: the certificate names auth, not messaging.
    const dir = join(s.tlsDir, 'dc1-gateway');
    const r = await codeOf(MessagingServiceClient, auth, mutualTls(dir).client('messaging'), 'getState', {});
    expect(r.code).toBe(status.UNAVAILABLE);
  });
});

describe('certificate rotation', () => {
  let dir: string;
  afterAll(() => {
    useTransportSecurity(PLAINTEXT);
    rmSync(dir, { recursive: true, force: true });
  });

  it('new connections get the rotated certificate, without a restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tern-rotate-'));
    ensureCertificates(dir, [1]);
    const serial = () => new X509Certificate(readFileSync(join(dir, 'dc1-auth', 'tls.crt'))).serialNumber;
    const security = mutualTls(join(dir, 'dc1-auth'), 200);
    useTransportSecurity(security);
    const server = createServer();
    server.addService(
      AuthServiceService,
      adaptService(AuthServiceService, () => ({}), createLogger({ level: 'fatal', base: {} }), {
        service: 'auth',
        dcId: 1,
      }),
    );
    const port = await bindServer(server, { host: '127.0.0.1', port: 0 });
    try {
      const seen = async () => {
        let presented = '';
        const creds = credentials.createSsl(
          readFileSync(join(dir, 'dc1-gateway', 'ca.crt')),
          readFileSync(join(dir, 'dc1-gateway', 'tls.key')),
          readFileSync(join(dir, 'dc1-gateway', 'tls.crt')),
          {
            checkServerIdentity: (_h, cert) => {
              presented = cert.serialNumber;
              return undefined;
            },
          },
        );
        const r = await codeOf(AuthServiceClient, `127.0.0.1:${port}`, creds, 'getAuthKey', {
          authKeyId: 1n,
        });
        // The handler table is empty: UNIMPLEMENTED means the call got past TLS and the check.
        expect(r.code).toBe(status.UNIMPLEMENTED);
        return presented;
      };
      const before = serial();
      expect((await seen()).toUpperCase()).toBe(before.toUpperCase());
      ensureCertificates(dir, [1], true);
      const after = serial();
      expect(after).not.toBe(before);
      await new Promise((r) => setTimeout(r, 1000));
      expect((await seen()).toUpperCase()).toBe(after.toUpperCase());
    } finally {
      server.forceShutdown();
    }
  });
});
