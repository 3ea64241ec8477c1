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
import { parseCidrList, type Cidr, type ProxyMode } from './mtproto/transport/proxy-protocol';

export interface GatewaySettings extends FileReferenceSettings {
  TERN_RSA_PRIVATE_KEY_FILE: KeyObject;
  TERN_GATEWAY_TCP_LISTEN: HostPort[] | undefined;
  TERN_GATEWAY_WS_LISTEN: HostPort[] | undefined;
  TERN_GATEWAY_PROXY_PROTOCOL: ProxyMode;
  TERN_GATEWAY_PROXY_TRUSTED: Cidr[];
  TERN_GATEWAY_MAX_CONNECTIONS_PER_IP: number;
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
};

/** Rules across gateway settings, checked with the others before the gateway starts. */
export function verifyGatewaySettings(s: GatewaySettings): string[] {
  const mode = s.TERN_GATEWAY_PROXY_PROTOCOL;
  if (mode !== 'off' && s.TERN_GATEWAY_PROXY_TRUSTED.length === 0)
    return [
      `TERN_GATEWAY_PROXY_TRUSTED is required with TERN_GATEWAY_PROXY_PROTOCOL=${mode} (no peer would be trusted)`,
    ];
  return [];
}
