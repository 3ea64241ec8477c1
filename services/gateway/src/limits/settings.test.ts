/**
 * The TERN_GATEWAY_LIMIT_* settings (settings.ts) and the limits they make.
 */
import { readEnv, type SpecOf } from '../../../shared/src';
import { gatewaySpec, rateLimitsOf, type GatewaySettings } from '../settings';
import { RATE_CLASSES, RateLimits } from './rate-limits';

/** Only the rate-limit settings of the gateway's spec (the others need key files). */
const limitSpec = Object.fromEntries(
  Object.entries(gatewaySpec).filter(([name]) => name.startsWith('TERN_GATEWAY_LIMIT_')),
) as unknown as SpecOf<GatewaySettings>;
const read = (env: Record<string, string>) => readEnv(limitSpec, env);

describe('rate limit settings', () => {
  it('has a capacity and a refill for every class and scope, and the bound on keys', () => {
    const names = Object.keys(limitSpec).sort();
    const expected = RATE_CLASSES.flatMap((cls) =>
      ['KEY', 'IP'].flatMap((scope) =>
        ['CAPACITY', 'REFILL_PER_SECOND'].map((w) => `TERN_GATEWAY_LIMIT_${cls.toUpperCase()}_${scope}_${w}`),
      ),
    );
    expect(names).toEqual([...expected, 'TERN_GATEWAY_LIMIT_MAX_KEYS'].sort());
  });

  it('defaults to address buckets at least as large as key buckets, every class limited', () => {
    const spec = rateLimitsOf(read({}));
    for (const cls of RATE_CLASSES) {
      const { key, ip } = spec[cls]!;
      expect(key.capacity).toBeGreaterThan(0);
      expect(ip.capacity).toBeGreaterThanOrEqual(key.capacity);
      expect(ip.refillPerSecond).toBeGreaterThanOrEqual(key.refillPerSecond);
    }
    expect(spec.login).toEqual({
      key: { capacity: 30, refillPerSecond: 0.1 },
      ip: { capacity: 1000, refillPerSecond: 0.5 },
    });
    expect(read({}).TERN_GATEWAY_LIMIT_MAX_KEYS).toBe(20_000);
  });

  it('reads decimal refills, and capacity 0 as no limit', () => {
    const s = read({
      TERN_GATEWAY_LIMIT_SEND_KEY_CAPACITY: '0',
      TERN_GATEWAY_LIMIT_SEND_IP_CAPACITY: '0',
      TERN_GATEWAY_LIMIT_LOGIN_KEY_CAPACITY: '2',
      TERN_GATEWAY_LIMIT_LOGIN_KEY_REFILL_PER_SECOND: '0.25',
    });
    const spec = rateLimitsOf(s);
    expect(spec.login!.key).toEqual({ capacity: 2, refillPerSecond: 0.25 });
    const limits = new RateLimits(spec, { maxKeys: 10, now: () => 0 });
    const caller = { authKeyId: 1n, address: '192.0.2.1' };
    for (let i = 0; i < 1000; i++) expect(limits.take('send', caller)).toBe(0);
    expect(limits.take('login', caller)).toBe(0);
    expect(limits.take('login', caller)).toBe(0);
    expect(limits.take('login', caller)).toBe(4);
  });

  it('refuses refills that are not positive decimals and negative capacities, naming each', () => {
    expect(() =>
      read({
        TERN_GATEWAY_LIMIT_SEND_KEY_REFILL_PER_SECOND: '0',
        TERN_GATEWAY_LIMIT_UPLOAD_IP_REFILL_PER_SECOND: '1e3',
        TERN_GATEWAY_LIMIT_IMPORT_KEY_REFILL_PER_SECOND: '-1',
        TERN_GATEWAY_LIMIT_LOGIN_IP_CAPACITY: '-5',
        TERN_GATEWAY_LIMIT_USERNAME_KEY_CAPACITY: '1.5',
      }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringMatching(/^TERN_GATEWAY_LIMIT_LOGIN_IP_CAPACITY must be >= 0/),
          expect.stringMatching(/^TERN_GATEWAY_LIMIT_SEND_KEY_REFILL_PER_SECOND must be > 0/),
          expect.stringMatching(/^TERN_GATEWAY_LIMIT_UPLOAD_IP_REFILL_PER_SECOND must be a decimal number/),
          expect.stringMatching(/^TERN_GATEWAY_LIMIT_IMPORT_KEY_REFILL_PER_SECOND must be a decimal number/),
          expect.stringMatching(/^TERN_GATEWAY_LIMIT_USERNAME_KEY_CAPACITY must be an integer/),
        ],
      }),
    );
  });
});
