/**
 * The load run's options, their defaults, and the command line that sets them
 * (`npm run load -- --seconds 30 --sessions 20 --senders 0.5 --rate 100 --dcs 1,2,3 --json`).
 */
import { parseArgs } from 'node:util';

export interface LoadOptions {
  /** How long messages are offered, in seconds (the drain comes after). */
  seconds: number;
  /** Connected sessions per DC. */
  sessions: number;
  /** Sessions that send: a fraction of all sessions when ≤ 1, else a count (over all DCs). */
  senders: number;
  /** Messages per second offered in total, open loop: on schedule whatever the answers do. */
  rate: number;
  /** The DCs with sessions; receivers are picked across all of them. */
  dcs: number[];
  /** Sends one sender may have unanswered; a send due beyond it is shed (counted, not sent). */
  maxInFlight: number;
  /** Sessions logging in at once (each one's GramJS key exchange costs ~0.15 s of client CPU). */
  loginConcurrency: number;
  /** After the last send, how long receivers may still get messages before they count as lost. */
  drainSeconds: number;
  /**
   * Connect each session from its own loopback address (127.x.y.z), as a real load comes from
   * many clients: the gateway's per-address rate limits then do not cap the figure, and the
   * test suites' budget on 127.0.0.1 is left alone. False: every session from 127.0.0.1.
   */
  spreadAddresses: boolean;
  /** The API layer the sessions announce. */
  layer: number;
  /** Print one JSON result line at the end (the CLI's --json). */
  json: boolean;
  /** Progress lines while running (the CLI writes them to stderr); none when absent. */
  log?: (line: string) => void;
}

export const DEFAULT_OPTIONS: Omit<LoadOptions, 'log'> = {
  seconds: 20,
  sessions: 20,
  senders: 0.5,
  rate: 50,
  dcs: [1, 2, 3],
  maxInFlight: 8,
  loginConcurrency: 4,
  drainSeconds: 5,
  spreadAddresses: true,
  layer: 198,
  json: false,
};

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE = `usage: npm run load -- [options]
  --seconds N         offer messages for N seconds (default ${DEFAULT_OPTIONS.seconds})
  --sessions N        connected sessions per DC (default ${DEFAULT_OPTIONS.sessions})
  --senders X         sending sessions: a fraction (≤ 1) or a count (default ${DEFAULT_OPTIONS.senders})
  --rate N            messages/s offered in total, open loop (default ${DEFAULT_OPTIONS.rate})
  --dcs 1,2,3         DCs with sessions (default ${DEFAULT_OPTIONS.dcs.join(',')})
  --in-flight N       unanswered sends per sender before sends are shed (default ${DEFAULT_OPTIONS.maxInFlight})
  --login-concurrency N  sessions logging in at once (default ${DEFAULT_OPTIONS.loginConcurrency})
  --drain N           seconds to wait for deliveries after the last send (default ${DEFAULT_OPTIONS.drainSeconds})
  --one-address       connect every session from 127.0.0.1 (default: one loopback address each)
  --layer N           API layer the sessions announce (default ${DEFAULT_OPTIONS.layer})
  --json              print one JSON result line at the end too`;

function positive(name: string, value: string | undefined, fallback: number, integer = true): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}, not "${value}"`);
  return n;
}

/** Options from command-line arguments; UsageError names the first bad one. */
export function parseLoadArgs(argv: readonly string[]): Omit<LoadOptions, 'log'> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        seconds: { type: 'string' },
        sessions: { type: 'string' },
        senders: { type: 'string' },
        rate: { type: 'string' },
        dcs: { type: 'string' },
        'in-flight': { type: 'string' },
        'login-concurrency': { type: 'string' },
        drain: { type: 'string' },
        'one-address': { type: 'boolean' },
        layer: { type: 'string' },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  const d = DEFAULT_OPTIONS;
  const senders = positive('senders', v.senders, d.senders, false);
  if (senders > 1 && !Number.isInteger(senders))
    throw new UsageError(`--senders must be a fraction ≤ 1 or a whole count, not "${v.senders}"`);
  const dcs = v.dcs === undefined ? d.dcs : v.dcs.split(',').map((s) => positive('dcs', s.trim(), 0));
  if (new Set(dcs).size !== dcs.length) throw new UsageError(`--dcs names a DC twice: "${v.dcs}"`);
  return {
    seconds: positive('seconds', v.seconds, d.seconds, false),
    sessions: positive('sessions', v.sessions, d.sessions),
    senders,
    rate: positive('rate', v.rate, d.rate, false),
    dcs,
    maxInFlight: positive('in-flight', v['in-flight'], d.maxInFlight),
    loginConcurrency: positive('login-concurrency', v['login-concurrency'], d.loginConcurrency),
    drainSeconds: positive('drain', v.drain, d.drainSeconds, false),
    spreadAddresses: v['one-address'] !== true,
    layer: positive('layer', v.layer, d.layer),
    json: v.json === true,
  };
}

/** How many of `total` sessions send, for a `senders` option (fraction or count). */
export function senderCount(senders: number, total: number): number {
  const n = senders <= 1 ? Math.round(senders * total) : senders;
  return Math.max(1, Math.min(total, n));
}
