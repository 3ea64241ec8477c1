/**
 * `npm run load -- [options]` (tools/load/options.ts USAGE): runs runLoad against the local stack
 * and prints what it measured; with --json also one JSON line (the last line of stdout) for
 * scripts. Progress goes to stderr. Exit status 2 on a usage error, 1 when the run failed.
 */
import { StackNotRunningError } from '../stack/info';
import { parseLoadArgs, USAGE, UsageError } from './options';
import { runLoad, type LoadResult } from './run';
import type { Percentiles } from './stats';

const ms = (p: Percentiles) =>
  `p50 ${p.p50.toFixed(1)}  p90 ${p.p90.toFixed(1)}  p99 ${p.p99.toFixed(1)}  max ${p.max.toFixed(1)} ms (n=${p.count})`;

const counts = (c: Record<string, number>) =>
  Object.keys(c).length === 0
    ? 'none'
    : Object.entries(c)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');

/** The human-readable summary of a run. */
export function formatResult(r: LoadResult): string {
  const o = r.options;
  const cpuNote =
    r.clientCpuPercent >= 80 ? '  ← the client is near a full core: it may limit the figures' : '';
  return [
    `load: ${r.sessions.ready} sessions (${counts(r.sessions.byDc).replace(/(\d+) (\d+)/g, 'DC $1: $2')}), ` +
      `${r.sessions.senders} senders, ${o.rate}/s offered for ${o.seconds} s, in flight ≤ ${o.maxInFlight} per sender`,
    `login:      ${r.loginSeconds.toFixed(1)} s; failed ${r.sessions.failed} (${counts(r.loginErrors)}); ` +
      `key exchanges retried ${counts(r.handshakeRetries)}`,
    `offered:    ${r.offered}; shed (sender at its in-flight cap) ${r.shed}`,
    `sent:       ${r.sent} (${r.sentPerSecond.toFixed(1)}/s over ${r.windowSeconds.toFixed(1)} s); unanswered at the end ${r.unanswered}`,
    `received:   ${r.received} of ${r.sent} sent, and ${r.unannounced} whose send failed ` +
      `(all deliveries: ${r.receivedPerSecond.toFixed(1)}/s in the window); lost ${r.lost}, ` +
      `duplicates ${r.duplicates}, misdelivered ${r.misdelivered}`,
    `send→recv:  ${ms(r.latencyMs)}`,
    `send→answer: ${ms(r.answerMs)}`,
    `errors:     ${counts(r.errors)}`,
    `pts:        gaps ${r.pts.gaps} (+${r.pts.gapsAfterFailedSends} in sessions with a failed or unanswered send), overlaps ${r.pts.overlaps}, repeats ${r.pts.repeats}, reordered ${r.pts.reordered} (not an error)`,
    `disconnects: ${counts(r.disconnects)}`,
    `client CPU: ${r.clientCpuPercent.toFixed(0)}% of one core over the window; ` +
      `${r.clientCpuMsPerMessage.toFixed(2)} ms per message sent (fixed costs included)${cpuNote}`,
    `stack CPU:  ${Object.entries(r.stackCpuPercent)
      .filter(([k]) => k !== 'machine')
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v.toFixed(0)}%`)
      .join(
        ', ',
      )} (of one core, summed over DCs); machine ${(r.stackCpuPercent.machine ?? 0).toFixed(0)}% of all cores busy`,
    `client ceiling: ${Math.round(r.clientCeilingPerSecond)} messages/s on one core (its codec and crypto work per message alone)`,
  ].join('\n');
}

async function main(): Promise<void> {
  let options;
  try {
    options = parseLoadArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const result = await runLoad({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${formatResult(result)}\n`);
  if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  // A stack that is not running is a state, not a bug: its message says what to do.
  const text = err instanceof StackNotRunningError ? err.message : ((err as Error).stack ?? String(err));
  process.stderr.write(`load: ${text}\n`);
  process.exitCode = 1;
});
