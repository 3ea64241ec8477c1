/**
 * Gateway-only settings (docs/configuration.md).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  fileReferenceSpec,
  int,
  oneOf,
  parseHostPort,
  settingProblem,
  type FileReferenceSettings,
  type HostPort,
  type Setting,
  type SpecOf,
} from '../../shared/src';
import {
  RATE_CLASSES,
  type ClassLimits,
  type RateClass,
  type RateLimitSpec,
  type RateScope,
} from './limits/rate-limits';
import { parseCidrList, type Cidr, type ProxyMode } from './mtproto/transport/proxy-protocol';

/** TERN_GATEWAY_LIMIT_<CLASS>_<KEY|IP>_<CAPACITY|REFILL_PER_SECOND>: one token bucket's shape. */
type LimitVariable =
  `TERN_GATEWAY_LIMIT_${Uppercase<RateClass>}_${Uppercase<RateScope>}_${'CAPACITY' | 'REFILL_PER_SECOND'}`;

export interface GatewaySettings extends FileReferenceSettings, Record<LimitVariable, number> {
  TERN_RSA_PRIVATE_KEY_FILE: KeyObject;
  TERN_GATEWAY_TCP_LISTEN: HostPort[] | undefined;
  TERN_GATEWAY_WS_LISTEN: HostPort[] | undefined;
  TERN_GATEWAY_PROXY_PROTOCOL: ProxyMode;
  TERN_GATEWAY_PROXY_TRUSTED: Cidr[];
  TERN_GATEWAY_MAX_CONNECTIONS_PER_IP: number;
  TERN_GATEWAY_LIMIT_MAX_KEYS: number;
}

/** The deployment's MTProto RSA private key, read and checked at start-up. */
function rsaKeyFile(): Setting<KeyObject> {
  return {
    describe: 'path of the MTProto RSA private key (PEM)',
    parse: (raw) => {
      const path = raw?.trim();
      if (!path) return settingProblem('is required');
      let pem: string;
      try {
        pem = readFileSync(path, 'utf8');
      } catch (err) {
        return settingProblem(`cannot read ${path}: ${(err as Error).message}`);
      }
      let key: KeyObject;
      try {
        key = createPrivateKey(pem);
      } catch {
        return settingProblem(`${path} is not a PEM private key`);
      }
      if (key.asymmetricKeyType !== 'rsa') return settingProblem(`${path} is not an RSA key`);
      const bits = key.asymmetricKeyDetails?.modulusLength;
      if (bits !== 2048) return settingProblem(`${path} is a ${bits}-bit key; MTProto needs 2048 bits`);
      return key;
    },
  };
}

function listenList(describe: string): Setting<HostPort[] | undefined> {
  return {
    describe,
    parse: (raw) => (raw?.trim() ? raw.split(',').map((s) => parseHostPort(s)) : undefined),
  };
}

function cidrList(describe: string): Setting<Cidr[]> {
  return {
    describe,
    parse: (raw) => {
      try {
        return parseCidrList(raw ?? '');
      } catch (err) {
        return settingProblem((err as Error).message);
      }
    },
  };
}

/** Whose bucket a setting shapes (docs/configuration.md "Rate limits" lists each class's methods). */
const SCOPE_OWNER: Readonly<Record<RateScope, string>> = {
  key: 'one auth key',
  ip: 'one client address',
};

/** A bucket's capacity: whole calls, 0 = not limited. */
function limitCapacity(cls: RateClass, scope: RateScope, defaultValue: number): Setting<number> {
  return int({
    default: defaultValue,
    min: 0,
    max: 1_000_000_000,
    describe: `${cls} calls ${SCOPE_OWNER[scope]} may make in a burst (bucket capacity; 0 = unlimited)`,
  });
}

/** A bucket's refill: a positive decimal number of calls per second. */
function limitRefill(cls: RateClass, scope: RateScope, defaultValue: number): Setting<number> {
  return {
    describe: `${cls} calls ${SCOPE_OWNER[scope]} regains per second (decimal > 0)`,
    parse: (raw) => {
      const v = raw?.trim();
      if (!v) return defaultValue;
      if (!/^\d+(\.\d+)?$/.test(v)) return settingProblem(`must be a decimal number, got "${v}"`);
      const n = Number(v);
      if (!(n > 0) || n > 1_000_000) return settingProblem(`must be > 0 and <= 1000000, got ${n}`);
      return n;
    },
  };
}

export const gatewaySpec: SpecOf<GatewaySettings> = {
  // The gateway issues a fresh reference each time it shows a file (convert/file-references.ts).
  ...fileReferenceSpec,
  TERN_RSA_PRIVATE_KEY_FILE: rsaKeyFile(),
  TERN_GATEWAY_TCP_LISTEN: listenList('MTProto TCP listen addresses host:port,...'),
  TERN_GATEWAY_WS_LISTEN: listenList('MTProto WebSocket listen addresses host:port,...'),
  TERN_GATEWAY_PROXY_PROTOCOL: oneOf(['off', 'optional', 'required'] as const, {
    default: 'off',
    describe: 'PROXY protocol (v1/v2) header on MTProto TCP connections from trusted load balancers',
  }),
  TERN_GATEWAY_PROXY_TRUSTED: cidrList('load balancer addresses whose PROXY header is honoured, "cidr,cidr"'),
  TERN_GATEWAY_MAX_CONNECTIONS_PER_IP: int({
    default: 1000,
    min: 1,
    max: 1_000_000,
    describe: 'concurrent MTProto connections per client address',
  }),
  // Rate limits per auth key and per client address (limits/, docs/configuration.md "Rate limits").
  // The defaults leave normal use and the end-to-end suites far below them.
  TERN_GATEWAY_LIMIT_LOGIN_KEY_CAPACITY: limitCapacity('login', 'key', 30),
  TERN_GATEWAY_LIMIT_LOGIN_KEY_REFILL_PER_SECOND: limitRefill('login', 'key', 0.1),
  TERN_GATEWAY_LIMIT_LOGIN_IP_CAPACITY: limitCapacity('login', 'ip', 1000),
  TERN_GATEWAY_LIMIT_LOGIN_IP_REFILL_PER_SECOND: limitRefill('login', 'ip', 0.5),
  TERN_GATEWAY_LIMIT_SEND_KEY_CAPACITY: limitCapacity('send', 'key', 1000),
  TERN_GATEWAY_LIMIT_SEND_KEY_REFILL_PER_SECOND: limitRefill('send', 'key', 20),
  TERN_GATEWAY_LIMIT_SEND_IP_CAPACITY: limitCapacity('send', 'ip', 10_000),
  TERN_GATEWAY_LIMIT_SEND_IP_REFILL_PER_SECOND: limitRefill('send', 'ip', 200),
  TERN_GATEWAY_LIMIT_UPLOAD_KEY_CAPACITY: limitCapacity('upload', 'key', 2000),
  TERN_GATEWAY_LIMIT_UPLOAD_KEY_REFILL_PER_SECOND: limitRefill('upload', 'key', 100),
  TERN_GATEWAY_LIMIT_UPLOAD_IP_CAPACITY: limitCapacity('upload', 'ip', 20_000),
  TERN_GATEWAY_LIMIT_UPLOAD_IP_REFILL_PER_SECOND: limitRefill('upload', 'ip', 1000),
  TERN_GATEWAY_LIMIT_IMPORT_KEY_CAPACITY: limitCapacity('import', 'key', 30),
  TERN_GATEWAY_LIMIT_IMPORT_KEY_REFILL_PER_SECOND: limitRefill('import', 'key', 0.1),
  TERN_GATEWAY_LIMIT_IMPORT_IP_CAPACITY: limitCapacity('import', 'ip', 300),
  TERN_GATEWAY_LIMIT_IMPORT_IP_REFILL_PER_SECOND: limitRefill('import', 'ip', 1),
  TERN_GATEWAY_LIMIT_USERNAME_KEY_CAPACITY: limitCapacity('username', 'key', 100),
  TERN_GATEWAY_LIMIT_USERNAME_KEY_REFILL_PER_SECOND: limitRefill('username', 'key', 1),
  TERN_GATEWAY_LIMIT_USERNAME_IP_CAPACITY: limitCapacity('username', 'ip', 1000),
  TERN_GATEWAY_LIMIT_USERNAME_IP_REFILL_PER_SECOND: limitRefill('username', 'ip', 10),
  TERN_GATEWAY_LIMIT_MAX_KEYS: int({
    default: 20_000,
    min: 100,
    max: 10_000_000,
    describe: 'keys each rate-limit table remembers (10 tables, ~200 bytes a key)',
  }),
};

/** The rate limits the settings describe, per class (limits/rate-limits.ts). */
export function rateLimitsOf(s: GatewaySettings): RateLimitSpec {
  const setting = (cls: RateClass, scope: RateScope, what: 'CAPACITY' | 'REFILL_PER_SECOND') => {
    const c = cls.toUpperCase() as Uppercase<RateClass>;
    const sc = scope.toUpperCase() as Uppercase<RateScope>;
    return s[`TERN_GATEWAY_LIMIT_${c}_${sc}_${what}` as const];
  };
  const bucket = (cls: RateClass, scope: RateScope) => ({
    capacity: setting(cls, scope, 'CAPACITY'),
    refillPerSecond: setting(cls, scope, 'REFILL_PER_SECOND'),
  });
  const spec: Partial<Record<RateClass, ClassLimits>> = {};
  for (const cls of RATE_CLASSES) spec[cls] = { key: bucket(cls, 'key'), ip: bucket(cls, 'ip') };
  return spec;
}

/** Rules across gateway settings, checked with the others before the gateway starts. */
export function verifyGatewaySettings(s: GatewaySettings): string[] {
  const mode = s.TERN_GATEWAY_PROXY_PROTOCOL;
  if (mode !== 'off' && s.TERN_GATEWAY_PROXY_TRUSTED.length === 0)
    return [
      `TERN_GATEWAY_PROXY_TRUSTED is required with TERN_GATEWAY_PROXY_PROTOCOL=${mode} (no peer would be trusted)`,
    ];
  return [];
}
