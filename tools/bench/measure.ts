/**
 * Small measuring helpers shared by the gateway benchmark's sections: timed loops, CPU time of
 * this and other processes (from /proc), resident memory, and number formatting.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';

/** Runs `fn` repeatedly for about `ms` milliseconds (after a short warm-up); returns calls/s. */
export function opsPerSecond(fn: () => unknown, ms: number, warmupMs = Math.min(200, ms / 4)): number {
  const loop = (budget: number) => {
    let calls = 0;
    let batch = 1;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < budget) {
      for (let i = 0; i < batch; i++) fn();
      calls += batch;
      elapsed = performance.now() - start;
      // Check the clock roughly every millisecond, whatever one call costs.
      if (elapsed < 1 && batch < 1 << 16) batch *= 2;
    }
    return (calls * 1000) / elapsed;
  };
  loop(warmupMs);
  return loop(ms);
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS;
}

/** This process's CPU seconds (user + system). */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Resident set size of a process in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** Busy CPU seconds of the whole machine, all cores together (from /proc/stat). */
export function machineCpuSeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal …: everything but idle and iowait is busy.
  const busy = cpu.slice(0, 8).reduce((a, b) => a + b, 0) - cpu[3]! - cpu[4]!;
  return busy / CLOCK_TICKS;
}

/**
 * CPU time of several processes over a window: call the returned function to get seconds used by
 * each ('bench' is this process, 'machine' all processes on all cores).
 */
export function cpuWindow(pids: Record<string, number | undefined>): () => Record<string, number> {
  const read = () => {
    const out: Record<string, number> = { bench: ownCpuSeconds(), machine: machineCpuSeconds() };
    for (const [name, pid] of Object.entries(pids)) {
      if (pid === undefined) continue;
      try {
        out[name] = processCpuSeconds(pid);
      } catch {
        // the process went away; leave it out
      }
    }
    return out;
  };
  const before = read();
  return () => {
    const after = read();
    const used: Record<string, number> = {};
    for (const [name, seconds] of Object.entries(after)) {
      const was = before[name];
      if (was !== undefined) used[name] = seconds - was;
    }
    return used;
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** 1234567.8 → "1,234,568"; small numbers keep a few significant digits. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toPrecision(3);
}

/** A ratio as "0.42×" (two significant digits below 0.1: "0.0044×"). */
export function ratio(a: number, b: number): string {
  const r = a / b;
  return `${r < 0.1 ? r.toPrecision(2) : r.toFixed(2)}×`;
}

/** Prints rows as aligned columns. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The load average (1, 5, 15 min), printed beside figures: other work lowers every one. */
export const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** The machine a bench ran on, for docs/benchmarks.md. */
export function machineDescription(): string {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  return `${availableParallelism()} CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, Linux ${release()}`;
}

/** CPU of each process of a cpuWindow as a share of one core (those above 2%), and the machine's. */
export function cpuSharesOf(cpu: Record<string, number>, seconds: number): string {
  const { machine: all, ...procs } = cpu;
  const parts = Object.entries(procs)
    .filter(([, s]) => s / seconds >= 0.02)
    .map(([name, s]) => `${name} ${Math.round((s / seconds) * 100)}%`);
  if (all !== undefined)
    parts.push(`machine ${Math.round((all / seconds) * 100)}% of ${availableParallelism() * 100}%`);
  return parts.join(' · ');
}
