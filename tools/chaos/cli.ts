/**
 * `npm run chaos [-- --long] [--only nats,cassandra] [--json]`: kills parts of the running local
 * stack in turn while clients send across DCs, then checks from the clients' records and the
 * stores that nothing acknowledged was lost, doubled or reordered and that every user's pts has
 * no holes. Prints a table; exits 1 on any loss or failed check. docs/reliability.md says what
 * it does and holds the long form's table.
 *
 *   short (default, CI): NATS and Cassandra down 5 s each, DC 3 down 20 s.
 *   --long             : NATS and Cassandra down 20 s each, DC 3 down 60 s.
 */
import { passed } from './audit';
import { runChaos, type ChaosResult } from './run';

function parse(argv: string[]): { long: boolean; only: string[]; json: boolean } {
  const out = { long: false, only: [] as string[], json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--long') out.long = true;
    else if (a === '--json') out.json = true;
    else if (a === '--only') out.only = (argv[++i] ?? '').toLowerCase().split(',').filter(Boolean);
    else throw new Error(`unknown argument ${a} (usage: chaos [--long] [--only kind,...] [--json])`);
  }
  return out;
}

const s = (ms: number | undefined) => (ms === undefined ? 'never' : `${(ms / 1000).toFixed(1)} s`);

/** The fault table and the verdict, as text. */
export function report(r: ChaosResult): string {
  const rows = [
    ['fault', 'killed', 'down', 'back after', 'longest stall', 'others', 'acked', 'errors clients saw'],
    ...r.faults.map((f) => [
      f.kind,
      f.target,
      s(f.downMs),
      s(f.backAfterMs),
      s(f.longestStallMs),
      f.othersLongestStallMs === undefined ? '' : s(f.othersLongestStallMs),
      String(f.acknowledged),
      Object.entries(f.errors)
        .map(([k, n]) => `${k} ×${n}`)
        .join(', ') || 'none',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const v = r.verdict;
  return [
    line(rows[0]!),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.slice(1).map(line),
    '',
    `run ${r.runId}, ${r.seconds.toFixed(0)} s: acknowledged ${v.acknowledged} (received live ${r.receivedLive}, the rest through getDifference); ` +
      `lost ${v.lost}, duplicated ${v.duplicated}, reordered ${v.reordered}, never acknowledged ${v.unacknowledged}, ` +
      `refused ${JSON.stringify(v.refused)}; pts holes ${v.ptsHoles}, overlaps ${v.ptsOverlaps}, logs unread ${v.unreadLogs}; ` +
      `reconnects ${r.reconnects}, sessions not connected at the end ${r.notConnected}; ` +
      `every acknowledged message in its receiver's log ${s(r.convergedAfterMs)} after the traffic ended`,
    ...v.lostSamples.map((l) => `  lost: ${l}`),
    ...v.holeSamples.map((l) => `  log hole: ${l}`),
    ...v.reorderSamples.map((l) => `  reordered: ${l}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const args = parse(process.argv.slice(2));
  const result = await runChaos({
    infraDownMs: args.long ? 20_000 : 5_000,
    dcDownMs: args.long ? 60_000 : 20_000,
    settleMs: args.long ? 10_000 : 5_000,
    only: args.only,
    log: (line) => process.stderr.write(`chaos: ${line}\n`),
  });
  process.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : `${report(result)}\n`);
  const recovered = result.faults.every((f) => f.backAfterMs !== undefined);
  const ok = passed(result.verdict) && recovered && result.notConnected === 0;
  // Exit explicitly once written: a connection some fault left half-open must not keep the run alive.
  process.stdout.write(ok ? 'chaos: passed\n' : 'chaos: FAILED\n', () => process.exit(ok ? 0 : 1));
}

main().catch((err: unknown) => {
  process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
