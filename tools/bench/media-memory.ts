/**
 * `npm run bench:media -- --big 200`: does a big file pass through the gateway and the media
 * service without either holding it? A file of the given size (written to a temp file: GramJS
 * reads files over 20 MB from disk) is uploaded with GramJS (4 workers), sent to the user's Saved
 * Messages as a document (the completion hashes it part by part), downloaded back with
 * downloadMedia into a file and again with upload.getFile of 1 MiB, 4 in flight, both checked by
 * the SHA-256 of the streamed bytes. Meanwhile the RSS (VmRSS) of the DC's gateway and media
 * processes is read every 250 ms. Flat means the growth over the baseline is a few buffers, a
 * small constant, not a share of the file.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TelegramClient } from 'telegram';
import { cpuWindow, fmt, rssBytes, sleep, table } from './measure';
import {
  downloadMediaTo,
  fileSha256,
  getFileLoop,
  sendAsDocument,
  uploadFile,
  writeContent,
} from './media-client';

const MiB = 1024 * 1024;
const SAMPLE_MS = 250;

export interface MemoryRunOptions {
  client: TelegramClient;
  dir: string;
  sizeMiB: number;
  dc: number;
  /** Where to write every sample as CSV (ms since start, phase, RSS of each process), if anywhere. */
  samplesCsv?: string;
  pids: { gateway?: number; media?: number; minio?: number };
  say: (text: string) => void;
  heading: (text: string) => void;
}

interface Sample {
  ms: number;
  phase: string;
  rss: Record<string, number>;
}

/** Reads the RSS of some processes every 250 ms, each sample tagged with the current phase. */
function sampler(pids: Record<string, number>) {
  const samples: Sample[] = [];
  let phase = 'baseline';
  const start = performance.now();
  const read = () => {
    const rss: Record<string, number> = {};
    for (const [name, pid] of Object.entries(pids)) {
      try {
        rss[name] = rssBytes(pid);
      } catch {
        // the process went away (a restart of the stack): the run is void, the table will show it
      }
    }
    samples.push({ ms: Math.round(performance.now() - start), phase, rss });
  };
  read();
  const timer = setInterval(read, SAMPLE_MS);
  return {
    samples,
    phase(name: string) {
      read();
      phase = name;
    },
    stop() {
      read();
      clearInterval(timer);
    },
  };
}

const mib = (b: number) => `${(b / MiB).toFixed(1)} MiB`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export async function memoryRun(o: MemoryRunOptions): Promise<void> {
  const { client, dir, sizeMiB, say, heading } = o;
  const size = sizeMiB * MiB;
  const watched = { gateway: o.pids.gateway!, media: o.pids.media! };
  heading(
    `memory: a ${sizeMiB} MiB file through DC ${o.dc}'s gateway and media service, RSS every ${SAMPLE_MS} ms`,
  );
  const path = join(dir, `big-${sizeMiB}.bin`);
  const sha = await writeContent(path, size, `memory-${sizeMiB}`);
  say(`wrote ${path} (${sizeMiB} MiB, SHA-256 ${sha.slice(0, 16)}…)`);

  const s = sampler(watched);
  const phases: Array<{ name: string; seconds: number; cpu: Record<string, number> }> = [];
  const run = async (name: string, fn: () => Promise<unknown>) => {
    s.phase(name);
    const stop = cpuWindow(o.pids);
    const start = performance.now();
    await fn();
    phases.push({ name, seconds: (performance.now() - start) / 1000, cpu: stop() });
  };
  try {
    await sleep(3000); // baseline
    let file: Awaited<ReturnType<typeof uploadFile>> | undefined;
    let sent: Awaited<ReturnType<typeof sendAsDocument>> | undefined;
    await run('upload (uploadFile, 4 workers)', async () => (file = await uploadFile(client, path, size, 4)));
    await run('complete (messages.sendMedia)', async () => (sent = await sendAsDocument(client, file!)));
    const downloaded = join(dir, 'downloaded.bin');
    await run('download (downloadMedia)', () => downloadMediaTo(client, sent!.message, downloaded));
    s.phase('idle');
    if ((await fileSha256(downloaded)) !== sha) throw new Error('downloadMedia: the bytes differ');
    rmSync(downloaded);
    let got = '';
    await run(
      'download (upload.getFile 1 MiB, 4 in flight)',
      async () => (got = await getFileLoop(client, sent!.document, 4)),
    );
    if (got !== sha) throw new Error('upload.getFile: the bytes differ');
    s.phase('end');
    await sleep(3000);
  } finally {
    s.stop();
  }
  say(`both downloads SHA-256-identical to the ${sizeMiB} MiB uploaded`);
  for (const [name, pid] of Object.entries(watched))
    if (s.samples.some((x) => x.rss[name] === undefined))
      throw new Error(`${name} (pid ${pid}) went away during the run (the stack restarted?): run again`);

  const names = Object.keys(watched);
  if (o.samplesCsv) {
    const lines = s.samples.map((x) =>
      [x.ms, JSON.stringify(x.phase), ...names.map((n) => x.rss[n])].join(','),
    );
    writeFileSync(o.samplesCsv, [['ms', 'phase', ...names].join(','), ...lines].join('\n') + '\n');
    say(`samples written to ${o.samplesCsv}`);
  }
  const of = (phase: string | undefined, name: string) =>
    s.samples.filter((x) => phase === undefined || x.phase === phase).map((x) => x.rss[name] ?? NaN);
  const baseline = Object.fromEntries(names.map((n) => [n, median(of('baseline', n))]));
  const rows = [
    ['phase', 'seconds', 'MB/s', ...names.map((n) => `${n} peak RSS`), 'CPU (share of one core)'],
  ];
  rows.push(['baseline (3 s, median)', '', '', ...names.map((n) => mib(baseline[n]!)), '']);
  for (const p of phases)
    rows.push([
      p.name,
      p.seconds.toFixed(1),
      fmt(size / 1e6 / p.seconds),
      ...names.map((n) => mib(Math.max(...of(p.name, n)))),
      Object.entries(p.cpu)
        .filter(([k]) => k !== 'machine')
        .map(([k, v]) => `${k} ${Math.round((v / p.seconds) * 100)}%`)
        .join(' · '),
    ]);
  const last = s.samples[s.samples.length - 1]!;
  rows.push(['end (3 s after)', '', '', ...names.map((n) => mib(last.rss[n] ?? NaN)), '']);
  say(table(rows));
  say('');
  say(
    table([
      ['process', 'baseline', 'peak', 'end', 'peak − baseline', '÷ file size', 'samples'],
      ...names.map((n) => {
        const peak = Math.max(...of(undefined, n));
        const growth = peak - baseline[n]!;
        return [
          n,
          mib(baseline[n]!),
          mib(peak),
          mib(last.rss[n] ?? NaN),
          mib(growth),
          `${((growth / size) * 100).toFixed(1)}%`,
          String(of(undefined, n).length),
        ];
      }),
    ]),
  );
  say(
    `flat = peak − baseline a small constant (a few part-sized buffers and V8's garbage before it is collected), not a share of the ${sizeMiB} MiB`,
  );
}
