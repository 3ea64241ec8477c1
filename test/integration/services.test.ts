/**
 * The three DCs of Tern services in the local stack: health, gRPC between services,
 * DC isolation, metrics.
 */
import { randomBytes } from 'node:crypto';
import { Client, status, type ServiceError } from '@grpc/grpc-js';
import { HealthClient } from '../support/health';
import { AuthServiceClient } from '../../services/shared/src/gen/tern/auth/v1/auth';
import { ChannelServiceClient } from '../../services/shared/src/gen/tern/channel/v1/channel';
import { errorDetailFrom } from '../../services/shared/src';
import { asOperator, asService, stack, unary } from '../support/stack';

describe('Tern services of three DCs', () => {
  const s = stack();
  const clients: Client[] = [];
  const auth = (dc: number) => {
    const c = new AuthServiceClient(s.dcs[dc - 1]!.services.auth, asService(s, 'gateway', dc));
    clients.push(c);
    return c;
  };
  afterAll(() => clients.forEach((c) => c.close()));

  it('every service of every DC reports SERVING', async () => {
    const results: string[] = [];
    for (const dc of s.dcs) {
      for (const [name, address] of Object.entries(dc.services)) {
        const h = new HealthClient(address, asOperator(s));
        clients.push(h);
        const res = await unary<{ service: string }, { status: string }>(h, 'check', { service: '' });
        results.push(`dc${dc.id}/${name}=${res.status}`);
      }
    }
    expect(results).toHaveLength(15);
    expect(results.filter((r) => !r.endsWith('=SERVING'))).toEqual([]);
  });

  it('an auth key saved on DC2 is readable on DC2 and unknown on DC1 (keyspaces are per DC)', async () => {
    const id = randomBytes(8).readBigInt64LE();
    const key = randomBytes(256);
    await unary(auth(2), 'saveAuthKey', { authKeyId: id, authKey: key, temporary: false, expiresAt: 0 });
    const back = await unary<unknown, { authKey: Buffer }>(auth(2), 'getAuthKey', { authKeyId: id });
    expect(Buffer.from(back.authKey).equals(key)).toBe(true);
    const err = (await unary(auth(1), 'getAuthKey', { authKeyId: id }).catch(
      (e: unknown) => e,
    )) as ServiceError;
    expect(err.code).toBe(status.UNAUTHENTICATED);
    expect(errorDetailFrom(err)?.message).toBe('AUTH_KEY_UNREGISTERED');
  });

  it('bad input gets a Telegram error, not a crash', async () => {
    const err = (await unary(auth(3), 'saveAuthKey', {
      authKeyId: 1n,
      authKey: Buffer.alloc(10),
      temporary: false,
      expiresAt: 0,
    }).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(errorDetailFrom(err)?.message).toBe('AUTH_KEY_INVALID');
  });

  it('a call the service does not know answers UNIMPLEMENTED at once', async () => {
    // Every RPC of the contracts is built; a method from a newer contract is what a mixed-version
    // deployment would send.
    const c = new ChannelServiceClient(s.dcs[0]!.services.channel, asService(s, 'gateway', 1));
    clients.push(c);
    const started = Date.now();
    const err = await new Promise<ServiceError>((resolve) =>
      c.makeUnaryRequest(
        '/tern.channel.v1.ChannelService/NoSuchMethod',
        () => Buffer.alloc(0),
        (b: Buffer) => b,
        Buffer.alloc(0),
        (e) => resolve(e as ServiceError),
      ),
    );
    expect(err.code).toBe(status.UNIMPLEMENTED);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('exposes Prometheus metrics that count gRPC calls', async () => {
    const res = await fetch(`http://${s.dcs[1]!.metrics.auth}/metrics`);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toMatch(
      /tern_grpc_server_calls_total\{[^}]*method="\/tern\.auth\.v1\.AuthService\/GetAuthKey"/,
    );
    expect(body).toContain('tern_process_cpu_user_seconds_total');
  });
});
