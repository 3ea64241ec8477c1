/**
 * Structured JSON logging (pino) with redaction.
 *
 * Secrets and phone numbers must never reach a log line: known secret-bearing keys
 * are censored by path, and any string that looks like a phone number is masked to
 * its last two digits by a serializer over the whole object, because a phone can hide
 * in an error message as easily as in a field called `phone`.
 */
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

const SECRET_KEYS = [
  'password',
  'secret',
  'secretKey',
  'accessKey',
  'authKey',
  'auth_key',
  'privateKey',
  'token',
  'phoneCode',
  'phone_code',
];

const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/** Masks digit runs that look like phone numbers (7–15 digits, optional +): keeps the last two. */
export function maskPhones(text: string): string {
  return text.replace(/\+?\d[\d ()-]{5,18}\d/g, (match) => {
    const digits = match.replace(/\D/g, '');
    if (digits.length < 7 || digits.length > 15) return match;
    return `<phone …${digits.slice(-2)}>`;
  });
}

function maskDeep(value: unknown, depth = 0): unknown {
  if (depth > 6) return value;
  if (typeof value === 'string') return maskPhones(value);
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, depth + 1));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] =
        /phone/i.test(k) && (typeof v === 'string' || typeof v === 'number')
          ? maskPhones(String(v))
          : maskDeep(v, depth + 1);
    }
    return out;
  }
  return value;
}

/** Creates the process logger; `base` fields (service, dc) go on every line. */
export function createLogger(opts: {
  level: string;
  base: Record<string, unknown>;
  destination?: pino.DestinationStream;
}): Logger {
  return pino(
    {
      level: opts.level,
      base: opts.base,
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => maskDeep(obj) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          // pino passes (obj, msg, ...) or (msg, ...): mask the message strings too.
          const masked = args.map((a) => (typeof a === 'string' ? maskPhones(a) : a)) as Parameters<
            typeof method
          >;
          method.apply(this, masked);
        },
      },
      serializers: { err: pino.stdSerializers.err },
    },
    opts.destination,
  );
}
