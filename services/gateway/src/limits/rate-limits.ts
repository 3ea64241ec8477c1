/**
 * The gateway's rate limits: per rate class (the method table's `limit`), one token bucket per
 * auth key and one per client network, both taken before a call runs (api/methods.ts). A call
 * refused by either gets FLOOD_WAIT_X, X the seconds until both hold a token again, and takes
 * nothing from either bucket.
 *
 * Per-phone limits (codes per hour, code checks) are the auth service's; these bound what one
 * key or one address may ask of the DC whatever the phone, user or peer.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { Counter, registry } from '../../../shared/src';
import { TokenBuckets, type BucketSpec } from './token-bucket';

/** The rate classes a method may belong to (METHODS in api/methods.ts says which). */
export const RATE_CLASSES = ['login', 'send', 'upload', 'import', 'username'] as const;
export type RateClass = (typeof RATE_CLASSES)[number];

/** Who a bucket belongs to: the auth key, or the client's network (see `clientNetwork`). */
export type RateScope = 'key' | 'ip';

/** A class's buckets; capacity 0 = that scope is not limited. */
export type ClassLimits = Readonly<Record<RateScope, BucketSpec>>;

/** Limits per class; a class without an entry is not limited. */
export type RateLimitSpec = Readonly<Partial<Record<RateClass, ClassLimits>>>;

/** What identifies a caller to the limits. */
export interface Caller {
  /** The auth key the call came on (a temporary key's permanent key, when bound). */
  readonly authKeyId: bigint;
  /** The client's address, normalized (transport/proxy-protocol.ts normalizeAddress). */
  readonly address: string;
}

export interface RateLimitOptions {
  /** The bound on remembered keys per bucket table (there is one table per class and scope). */
  maxKeys: number;
  /** A monotonic clock in ms. */
  now?: () => number;
}

const rateLimited = new Counter({
  name: 'tern_gateway_rate_limited_total',
  help: 'API calls answered FLOOD_WAIT_X by the gateway rate limits, by class and the bucket that was empty',
  labelNames: ['class', 'scope'] as const,
  registers: [registry],
});

type Tables = Partial<Record<RateScope, TokenBuckets>>;

export class RateLimits {
  private readonly tables = new Map<RateClass, Tables>();
  private readonly now: () => number;

  constructor(spec: RateLimitSpec, opts: RateLimitOptions) {
    this.now = opts.now ?? (() => performance.now());
    for (const cls of RATE_CLASSES) {
      const limits = spec[cls];
      if (!limits) continue;
      const tables: Tables = {};
      for (const scope of ['key', 'ip'] as const)
        if (limits[scope].capacity > 0) tables[scope] = new TokenBuckets(limits[scope], opts.maxKeys);
      if (tables.key || tables.ip) this.tables.set(cls, tables);
    }
  }

  /**
   * Takes one token of class `cls` from the caller's key and network buckets: 0 when both had one,
   * otherwise the seconds until both will (nothing is taken then).
   */
  take(cls: RateClass, caller: Caller): number {
    const tables = this.tables.get(cls);
    if (!tables) return 0;
    const now = this.now();
    const key = caller.authKeyId.toString();
    const network = clientNetwork(caller.address);
    const keyWait = tables.key?.wait(key, now) ?? 0;
    const ipWait = tables.ip?.wait(network, now) ?? 0;
    if (keyWait > 0 || ipWait > 0) {
      if (keyWait > 0) rateLimited.inc({ class: cls, scope: 'key' });
      if (ipWait > 0) rateLimited.inc({ class: cls, scope: 'ip' });
      return Math.max(keyWait, ipWait);
    }
    tables.key?.take(key, now);
    tables.ip?.take(network, now);
    return 0;
  }

  /** Keys remembered by one table (tests, diagnostics). */
  size(cls: RateClass, scope: RateScope): number {
    return this.tables.get(cls)?.[scope]?.size ?? 0;
  }
}

/**
 * The network an address's IP buckets are counted by: an IPv4 address itself, an IPv6 address's
 * /64 (one subscriber's usual allocation: its addresses are one client, not 2^64 of them).
 */
export function clientNetwork(address: string): string {
  if (isIPv4(address) || !isIPv6(address)) return address;
  const groups = ipv6Groups(address.replace(/%.*$/, ''));
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::`, embedded IPv4 included). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const parse = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const [head = '', tail] = text.split('::');
  const front = parse(head);
  if (tail === undefined) return front;
  const back = parse(tail);
  return [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}
