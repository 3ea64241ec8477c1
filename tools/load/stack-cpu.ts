/**
 * CPU of the local stack's processes over the sending window, grouped by role (gateway, auth,
 * messaging, cassandra, …, summed over DCs and replicas), next to the machine's total: beside the
 * client's own CPU it shows which side was busy when a figure stopped growing.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { paths } from '../stack/paths';
import { workerPid } from '../stack/processes';
import { cpuWindow } from '../bench/measure';

/** The stack's pids by process name (`dc1-gateway`, `dc2-messaging-1`, `cassandra`). */
function stackPids(): Record<string, number> {
  const pids: Record<string, number> = {};
  let files: string[];
  try {
    files = readdirSync(paths.run);
  } catch {
    return pids; // no stack state here: only the client and the machine are measured
  }
  // `<name>.pid` names a process; a supervised one's work is done by `<name>.child.pid`'s.
  for (const file of files) {
    if (!file.endsWith('.pid') || file.endsWith('.child.pid')) continue;
    const pid = workerPid(file.slice(0, -'.pid'.length));
    if (pid !== undefined) pids[file.slice(0, -'.pid'.length)] = pid;
  }
  return pids;
}

/** `dc2-messaging-1` → `messaging`; `cassandra` stays. */
const role = (name: string) => name.replace(/^dc\d+-/, '').replace(/-(\d+|balancer)$/, '');

/**
 * Starts measuring; the returned function gives % of one core per role over the window, and
 * `machine`: % of all cores busy (any process, this one included).
 */
export function stackCpuWindow(): (seconds: number) => Record<string, number> {
  const stop = cpuWindow(stackPids());
  return (seconds) => {
    const used = stop();
    const out: Record<string, number> = {};
    for (const [name, cpuSeconds] of Object.entries(used)) {
      if (name === 'bench') continue; // the client: reported on its own
      const key = name === 'machine' ? 'machine' : role(name);
      out[key] = (out[key] ?? 0) + (cpuSeconds / seconds) * 100;
    }
    if (out.machine !== undefined) out.machine /= Math.max(1, cores());
    return out;
  };
}

function cores(): number {
  return readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('processor')).length;
}
