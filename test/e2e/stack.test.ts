/**
 * The local stack as a user drives it, through the README's commands: stack:info
 * prints the documented JSON, and stopping and starting the stack keeps stored data.
 *
 * This suite restarts the whole stack, so tools/test.sh runs it last, on its own.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { AuthServiceClient } from '../../services/shared/src/gen/tern/auth/v1/auth';
import { asService, stack, unary } from '../support/stack';

const ROOT = join(__dirname, '..', '..');
const npm = (...args: string[]) =>
  execFileSync('npm', ['run', '--silent', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15 * 60_000,
  });

describe('local stack commands', () => {
  it('stack:info prints the running stack as JSON', () => {
    const info = JSON.parse(npm('stack:info')) as {
      dcs: Array<{ id: number; host: string; tcpPort: number; wsPort: number }>;
      rsaPublicKey: string;
      testMode: boolean;
      jaegerQueryUrl: string;
    };
    expect(info.dcs.map((d) => [d.id, d.host, d.tcpPort])).toEqual([
      [1, '127.0.0.1', 443],
      [2, '127.0.0.2', 443],
      [3, '127.0.0.3', 443],
    ]);
    expect(info.dcs.every((d) => Number.isInteger(d.wsPort))).toBe(true);
    expect(info.rsaPublicKey).toMatch(/^-----BEGIN RSA PUBLIC KEY-----/);
    expect(info.testMode).toBe(true);
    expect(info.jaegerQueryUrl).toBe('http://127.0.0.1:16686');
  });

  it(
    'keeps stored data across stack:down and stack',
    async () => {
      const address = stack().dcs[2]!.services.auth;
      const id = randomBytes(8).readBigInt64LE();
      const key = randomBytes(256);
      let client = new AuthServiceClient(address, asService(stack(), 'gateway', 3));
      await unary(client, 'saveAuthKey', { authKeyId: id, authKey: key, temporary: false, expiresAt: 0 });
      client.close();

      npm('stack:down');
      npm('stack');

      client = new AuthServiceClient(address, asService(stack(), 'gateway', 3));
      try {
        const back = await unary<unknown, { authKey: Buffer }>(client, 'getAuthKey', { authKeyId: id });
        expect(Buffer.from(back.authKey).equals(key)).toBe(true);
      } finally {
        client.close();
      }
    },
    20 * 60_000,
  );
});
