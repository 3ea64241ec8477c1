/**
 * Gateway-only settings (docs/configuration.md).
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseHostPort, settingProblem, type HostPort, type Setting, type SpecOf } from '../../shared/src';

export interface GatewaySettings {
  TERN_RSA_PRIVATE_KEY_FILE: KeyObject;
  TERN_GATEWAY_TCP_LISTEN: HostPort[] | undefined;
  TERN_GATEWAY_WS_LISTEN: HostPort[] | undefined;
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

export const gatewaySpec: SpecOf<GatewaySettings> = {
  TERN_RSA_PRIVATE_KEY_FILE: rsaKeyFile(),
  TERN_GATEWAY_TCP_LISTEN: listenList('MTProto TCP listen addresses host:port,...'),
  TERN_GATEWAY_WS_LISTEN: listenList('MTProto WebSocket listen addresses host:port,...'),
};
