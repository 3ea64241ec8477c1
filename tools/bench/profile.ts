/**
 * CPU profiles of stack processes over a benchmark's window, and a plain-text summary of them.
 *
 * A Tern process starts V8's profiler on SIGUSR2 and writes `<TERN_PROFILE_DIR>/<service>-dc<id>-
 * <pid>-<start>.cpuprofile` on the next one (services/shared/src/telemetry/cpu-profile.ts); the
 * stack leaves TERN_PROFILE_DIR at its default, /tmp. `profileWindow` sends the two signals around
 * a window and finds the files; `summarizeProfile` turns one into self time by component (Tern's
 * own modules by service directory, each npm package, Node's internals, garbage collection) and
 * the hottest functions. The files open in Chrome DevTools or speedscope for a flame graph.
 *
 * Also a command: `npx tsx tools/bench/profile.ts <file.cpuprofile> [top]`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './measure';

/** Where the stack's processes write profiles (TERN_PROFILE_DIR's default). */
export const STACK_PROFILE_DIR = '/tmp';

export interface ProfiledProcess {
  /** A name for the report. */
  name: string;
  pid: number;
  /** The file-name prefix the process uses: `<service>-dc<id>`. */
  label: string;
}

/**
 * Starts a profile in every process; the returned function stops them and resolves to each
 * process's profile file (waiting up to 15 s for it to be written).
 */
export function profileWindow(procs: ProfiledProcess[]): () => Promise<Map<string, string>> {
  const since = Date.now();
  for (const p of procs) process.kill(p.pid, 'SIGUSR2');
  return async () => {
    for (const p of procs) process.kill(p.pid, 'SIGUSR2');
    const files = new Map<string, string>();
    const deadline = Date.now() + 15_000;
    while (files.size < procs.length && Date.now() < deadline) {
      await sleep(200);
      for (const p of procs) {
        if (files.has(p.name)) continue;
        const prefix = `${p.label}-${p.pid}-`;
        // The profile that started with this window (its start time is the name's last part).
        const found = readdirSync(STACK_PROFILE_DIR)
          .filter((f) => f.startsWith(prefix) && f.endsWith('.cpuprofile'))
          .filter((f) => Number(f.slice(prefix.length, -'.cpuprofile'.length)) >= since - 1000)
          .map((f) => join(STACK_PROFILE_DIR, f))
          .sort();
        if (found.length > 0) files.set(p.name, found[found.length - 1]!);
      }
    }
    const missing = procs.filter((p) => !files.has(p.name)).map((p) => p.name);
    if (missing.length > 0) throw new Error(`no CPU profile was written by ${missing.join(', ')}`);
    return files;
  };
}

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** What a sample's function belongs to: a Tern directory, an npm package, Node, or V8 itself. */
export function componentOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : `(native) ${functionName || 'anonymous'}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const tern = /\/services\/([^/]+)\/src\/([^/]+)/.exec(url);
  if (tern) return `tern ${tern[1]}/${tern[2]!.replace(/\.js$|\.ts$/, '')}`;
  return url.replace(/^file:\/\//, '');
}

export interface ProfileSummary {
  /** Milliseconds sampled, and of those, milliseconds the process was not idle. */
  totalMs: number;
  busyMs: number;
  components: Array<{ name: string; ms: number }>;
  functions: Array<{ name: string; ms: number }>;
}

/** Self time by component and by function (idle excluded from the busy total). */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const components = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const component = componentOf(frame);
    components.set(component, (components.get(component) ?? 0) + us);
    const where = frame.url ? ` ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}` : '';
    const fn = `${frame.functionName || '(anonymous)'}${where}`;
    functions.set(fn, (functions.get(fn) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) =>
    [...m].map(([name, us]) => ({ name, ms: us / 1000 })).sort((a, b) => b.ms - a.ms);
  return {
    totalMs: totalUs / 1000,
    busyMs: (totalUs - idleUs) / 1000,
    components: sorted(components),
    functions: sorted(functions),
  };
}

/** Reads a .cpuprofile file. */
export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

/** The summary as text: busy share, then the `top` components and functions by self time. */
export function formatSummary(s: ProfileSummary, top = 12): string {
  const pct = (ms: number) => `${((100 * ms) / s.busyMs).toFixed(1)}%`;
  const lines = [
    `    busy ${(s.busyMs / 1000).toFixed(1)} s of ${(s.totalMs / 1000).toFixed(1)} s sampled; self time of the busy part:`,
    ...s.components.slice(0, top).map((c) => `      ${pct(c.ms).padStart(6)}  ${c.name}`),
    '    hottest functions:',
    ...s.functions.slice(0, top).map((f) => `      ${pct(f.ms).padStart(6)}  ${f.name}`),
  ];
  return lines.join('\n');
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: npx tsx tools/bench/profile.ts <file.cpuprofile> [top]\n');
    process.exit(64);
  }
  process.stdout.write(`${formatSummary(summarizeProfile(readProfile(file)), Number(top ?? 20))}\n`);
}
