/**
 * A service process as an operator sees it: configuration errors, and a graceful stop.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { HealthClient } from '../support/health';
import { credentials } from '@grpc/grpc-js';
import { eventually, stack, unary } from '../support/stack';

const MAIN = join(__dirname, '..', '..', 'dist', 'services', 'main.js');

function run(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

describe('service process', () => {
  const s = stack();

  it('exits 78 naming every missing or wrong setting at once', async () => {
    const p = run(['auth'], {
      PATH: process.env.PATH,
      TERN_DC_ID: 'two',
      TERN_NATS_URL: 'nats://127.0.0.1:4222',
    });
    expect(await p.exited).toBe(78);
    const out = p.output();
    for (const name of ['TERN_DC_ID', 'TERN_TOPOLOGY_FILE', 'TERN_CASSANDRA_CONTACT_POINTS'])
      expect(out).toContain(name);
    expect(out).not.toContain('TERN_NATS_URL');
  });

  it('names a missing gateway RSA key file', async () => {
    const p = run(['gateway'], {
      PATH: process.env.PATH,
      TERN_DC_ID: '1',
      TERN_TOPOLOGY_FILE: s.topologyFile,
      TERN_NATS_URL: s.natsUrl,
      TERN_RSA_PRIVATE_KEY_FILE: '/nonexistent/rsa.pem',
    });
    expect(await p.exited).toBe(78);
    expect(p.output()).toMatch(/TERN_RSA_PRIVATE_KEY_FILE cannot read \/nonexistent\/rsa.pem/);
  });

  it('refuses unsafe production settings at start, naming each (exit 78, before anything binds)', async () => {
    // The local stack's topology has testMode on (test numbers with known codes); auth's default
    // code delivery only logs codes; a dev code endpoint serves them. Each alone is refused.
    const p = run(['auth'], {
      PATH: process.env.PATH,
      TERN_DC_ID: '1',
      TERN_TOPOLOGY_FILE: s.topologyFile,
      TERN_GRPC_LISTEN: '127.0.0.1:50152',
      TERN_METRICS_LISTEN: '127.0.0.1:9452',
      TERN_CASSANDRA_CONTACT_POINTS: s.cassandra.contactPoints.join(','),
      TERN_NATS_URL: s.natsUrl,
      TERN_PRODUCTION: 'true',
      TERN_AUTH_DEV_CODES_LISTEN: '127.0.0.1:9499',
    });
    // A process that wrongly starts must not outlive the test.
    const guard = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
    const code = await p.exited;
    clearTimeout(guard);
    expect(code).toBe(78);
    const out = p.output();
    expect(out).toContain('"testMode": true');
    expect(out).toContain('TERN_AUTH_CODE_DELIVERY=dev');
    expect(out).toContain('TERN_AUTH_DEV_CODES_LISTEN');
    expect(out).not.toContain('SERVING');
  });

  it('serves, then on SIGTERM goes NOT_SERVING, drains and exits 0 within its bound', async () => {
    const listen = '127.0.0.1:50151';
    const p = run(['channel'], {
      PATH: process.env.PATH,
      TERN_DC_ID: '1',
      TERN_TOPOLOGY_FILE: s.topologyFile,
      TERN_GRPC_LISTEN: listen,
      TERN_METRICS_LISTEN: '127.0.0.1:9451',
      TERN_CASSANDRA_CONTACT_POINTS: s.cassandra.contactPoints.join(','),
      TERN_NATS_URL: s.natsUrl,
      TERN_SHUTDOWN_TIMEOUT_MS: '5000',
    });
    // This process runs without TERN_TLS_DIR (plaintext, as in development).
    const health = new HealthClient(listen, credentials.createInsecure());
    try {
      await eventually(async () => {
        const r = await unary<{ service: string }, { status: string }>(health, 'check', {
          service: 'tern.channel.v1.ChannelService',
        });
        return r.status === 'SERVING' ? true : undefined;
      }, 30_000);
      const started = Date.now();
      p.child.kill('SIGTERM');
      expect(await p.exited).toBe(0);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(p.output()).toContain('"msg":"stopped"');
    } finally {
      health.close();
      p.child.kill('SIGKILL');
    }
  });
});
