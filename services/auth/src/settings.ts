/**
 * Auth-only settings (docs/configuration.md).
 */
import {
  int,
  oneOf,
  optionalHostPort,
  optionalStr,
  settingProblem,
  type HostPort,
  type Setting,
  type SpecOf,
} from '../../shared/src';
import { parsePlacement, type PlacementRule } from './internal/placement';

export interface AuthSettings {
  TERN_AUTH_CODE_DELIVERY: 'dev' | 'webhook';
  TERN_AUTH_CODE_WEBHOOK_URL: string | undefined;
  TERN_AUTH_DEV_CODES_LISTEN: HostPort | undefined;
  TERN_AUTH_PLACEMENT: PlacementRule[];
  TERN_AUTH_CODES_PER_HOUR: number;
  TERN_AUTH_CODE_TTL_SECONDS: number;
}

function placement(): Setting<PlacementRule[]> {
  return {
    describe: 'CIDR → DC map for new users, "cidr=dc,cidr=dc"',
    parse: (raw) => {
      try {
        return parsePlacement(raw ?? '');
      } catch (err) {
        return settingProblem((err as Error).message);
      }
    },
  };
}

export const authSpec: SpecOf<AuthSettings> = {
  TERN_AUTH_CODE_DELIVERY: oneOf(['dev', 'webhook'] as const, {
    default: 'dev',
    describe: 'how login codes are delivered',
  }),
  TERN_AUTH_CODE_WEBHOOK_URL: optionalStr({ describe: 'SMS gateway URL for webhook delivery', secret: true }),
  TERN_AUTH_DEV_CODES_LISTEN: optionalHostPort({
    describe: 'loopback host:port where development codes can be read',
  }),
  TERN_AUTH_PLACEMENT: placement(),
  TERN_AUTH_CODES_PER_HOUR: int({
    default: 5,
    min: 1,
    max: 1000,
    describe: 'login codes (sendCode + resendCode) one number may be sent per hour; more get FLOOD_WAIT_X',
  }),
  // Shorter than Telegram's few minutes only for tests of expiry (the local stack); longer than
  // 5 minutes is refused: a code is a password to the account while it lives.
  TERN_AUTH_CODE_TTL_SECONDS: int({
    default: 300,
    min: 10,
    max: 300,
    describe: 'seconds a login code stays valid (PHONE_CODE_EXPIRED after)',
  }),
};

/** Rules across auth settings, checked with the others before the service starts. */
export function verifyAuthSettings(s: AuthSettings & { TERN_PRODUCTION: boolean }): string[] {
  const problems: string[] = [];
  if (s.TERN_AUTH_CODE_DELIVERY === 'webhook' && !s.TERN_AUTH_CODE_WEBHOOK_URL)
    problems.push('TERN_AUTH_CODE_WEBHOOK_URL is required with TERN_AUTH_CODE_DELIVERY=webhook');
  if (s.TERN_PRODUCTION && s.TERN_AUTH_CODE_DELIVERY === 'dev')
    problems.push(
      'TERN_AUTH_CODE_DELIVERY=dev (the default) only logs login codes: it is refused with TERN_PRODUCTION=true; set TERN_AUTH_CODE_DELIVERY=webhook and TERN_AUTH_CODE_WEBHOOK_URL',
    );
  if (s.TERN_PRODUCTION && s.TERN_AUTH_DEV_CODES_LISTEN)
    problems.push(
      'TERN_AUTH_DEV_CODES_LISTEN serves login codes to anyone who asks: it is refused with TERN_PRODUCTION=true',
    );
  return problems;
}
