/**
 * `npm run bench:media`: files through the gateway of one DC, beside what that DC's MinIO does on
 * its own in the same run (docs/benchmarks.md, "Media").
 *
 *  1. ceilings: raw MinIO PUT and GET MB/s with the `minio` client straight to the DC's bucket,
 *     objects of 128 KiB (GramJS's part size up to 100 MB) and 512 KiB (the largest part), several
 *     in flight (media-raw.ts); the objects are removed afterwards;
 *  2. through the gateway with GramJS, one user of the DC (media-client.ts): uploadFile of a file
 *     with 1 and 4 workers, the completion (messages.sendMedia of it as a document), and downloads
 *     of that document: GramJS's downloadMedia, and upload.getFile of 1 MiB with 1 and 4 in flight;
 *     every figure as a ratio to the ceiling of the same object size and concurrency;
 *  3. the same file through the gateway with Tern's light client (media-light.ts: the gateway's own
 *     crypto and codec, so the client is not the limit; GramJS's pure-JavaScript AES takes a core):
 *     saveBigFilePart of 512 KiB with 4 in flight, and upload.getFile of 1 MiB with 1, 4 and 8.
 *
 * `--big 200`: instead, the memory measurement: a 200 MiB file uploaded, sent as a document and
 * downloaded back through the gateway (bytes checked by SHA-256 of the streamed file) while the
 * RSS of the DC's gateway and media processes is sampled every 250 ms (media-memory.ts).
 *
 * Options: --dc 1 (the DC), --mb 50 (file size of section 2), --seconds 3 (per ceiling level),
 * --clients gramjs,light (the sections to run), --big <MiB>, --samples <file.csv> (with --big: every
 * RSS sample), --profile (CPU profiles of the
 * gateway and media over the 4-worker upload and the 4-in-flight getFile windows, summarized;
 * profile.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TelegramClient } from 'telegram';
import type { TlObject } from '../../services/gateway/src/mtproto/tl-types';
import { readStackInfo } from '../stack/info';
import { workerPid } from '../stack/processes';
import { trustServerKey, type Target } from './gramjs';
import type { LoadResult } from './handshake';
import { percentiles } from '../load/stats';
import { cpuSharesOf, cpuWindow, fmt, loadAverage, machineDescription, ratio, sleep, table } from './measure';
import {
  closeClient,
  downloadMediaTo,
  fileSha256,
  getFileLoop,
  loggedInClient,
  sendAsDocument,
  uploadFile,
  writeContent,
} from './media-client';
import { memoryRun } from './media-memory';
import { formatSummary, profileWindow, readProfile, summarizeProfile } from './profile';
import {
  lightGetFile,
  lightSendDocument,
  lightSession,
  lightUpload,
  sideSessionLatencies,
} from './media-light';
import { rawMinio } from './media-raw';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const KiB = 1024;
const MiB = 1024 * 1024;
const SETTINGS = {
  dc: Number(option('dc', '1')),
  fileMiB: Number(option('mb', '50')),
  bigMiB: Number(option('big', '0')),
  profile: process.argv.includes('--profile'),
  ceilingMs: Number(option('seconds', '3')) * 1000,
  sizes: [128 * KiB, 512 * KiB],
  inFlight: [1, 4, 16],
  /** Which clients section 2 (gramjs) and section 3 (light) run with. */
  clients: option('clients', 'gramjs,light').split(','),
};

const say = (text: string) => process.stdout.write(`${text}\n`);
const heading = (title: string) => say(`\n== ${title}`);
/** MB/s with MB = 10^6 bytes. */
const mbps = (bytes: number, seconds: number) => bytes / 1e6 / seconds;
const kib = (n: number) => `${n / KiB} KiB`;

interface Timed {
  seconds: number;
  cpu: Record<string, number>;
}

async function timed(fn: () => Promise<unknown>, pids: Record<string, number | undefined>): Promise<Timed> {
  const stop = cpuWindow(pids);
  const start = performance.now();
  await fn();
  const seconds = (performance.now() - start) / 1000;
  return { seconds, cpu: stop() };
}

/** Profiles printed at the end (--profile): the window's label and each process's file. */
const profiles: Array<{ label: string; files: Map<string, string> }> = [];

/** `timed`, with the DC's gateway and media profiled over the window when --profile is on. */
async function profiled(
  label: string,
  dc: number,
  fn: () => Promise<unknown>,
  pids: Record<string, number | undefined>,
): Promise<Timed> {
  if (!SETTINGS.profile) return timed(fn, pids);
  const stop = profileWindow([
    { name: 'gateway', pid: pids.gateway!, label: `gateway-dc${dc}` },
    { name: 'media', pid: pids.media!, label: `media-dc${dc}` },
  ]);
  const t = await timed(fn, pids);
  profiles.push({ label, files: await stop() });
  return t;
}

/** CPU milliseconds of the gateway and the media service per MB moved in a window. */
function cpuPerMb(t: Timed, bytes: number): string {
  const ms = (name: string) => (1000 * (t.cpu[name] ?? NaN)) / (bytes / 1e6);
  return `gateway ${ms('gateway').toFixed(1)} + media ${ms('media').toFixed(1)} = ${(ms('gateway') + ms('media')).toFixed(1)} ms per MB`;
}

async function main(): Promise<void> {
  const started = performance.now();
  say(`tern media benchmark — ${machineDescription()}`);
  say(`load average at start: ${loadAverage()} (other work on the machine lowers every figure)`);

  const info = readStackInfo();
  const d = info.dcs.find((x) => x.id === SETTINGS.dc);
  if (!d) throw new Error(`the stack has no DC ${SETTINGS.dc}`);
  const target: Target = { dcId: d.id, host: d.host, port: d.tcpPort };
  const pids = {
    gateway: workerPid(`dc${d.id}-gateway`),
    media: workerPid(`dc${d.id}-media`),
    minio: workerPid('minio'),
  };
  if (pids.gateway === undefined || pids.media === undefined || pids.minio === undefined)
    throw new Error(
      `the stack is not running (no dc${d.id}-gateway, dc${d.id}-media or minio): \`npm run stack\``,
    );
  trustServerKey(info.rsaPublicKey);
  say(
    `DC ${d.id}: gateway ${d.host}:${d.tcpPort} (pid ${pids.gateway}), media (pid ${pids.media}), MinIO ${info.minio.endpoint} (pid ${pids.minio})`,
  );

  const dir = mkdtempSync(join(tmpdir(), 'tern-bench-media-'));
  let client: TelegramClient | undefined;
  try {
    client = await loggedInClient(target, 'Bench');
    if (SETTINGS.bigMiB > 0) {
      await memoryRun({
        client,
        dir,
        sizeMiB: SETTINGS.bigMiB,
        dc: d.id,
        samplesCsv: option('samples', '') || undefined,
        pids,
        say,
        heading,
      });
    } else {
      await throughput(client, info, d.id, dir, pids);
    }
    const now = { gateway: workerPid(`dc${d.id}-gateway`), media: workerPid(`dc${d.id}-media`) };
    if (now.gateway !== pids.gateway || now.media !== pids.media)
      throw new Error('the stack restarted during the run, so these figures are void: run again');
  } finally {
    if (client) await closeClient(client).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  say(
    `\ndone in ${((performance.now() - started) / 1000).toFixed(0)} s; load average at end: ${loadAverage()}`,
  );
}

async function throughput(
  client: TelegramClient,
  info: ReturnType<typeof readStackInfo>,
  dc: number,
  dir: string,
  pids: Record<string, number | undefined>,
): Promise<void> {
  const { ceilingMs, sizes, inFlight, fileMiB } = SETTINGS;
  heading(
    `1. ceilings: raw MinIO with the minio client, DC ${dc}'s bucket, ${ceilingMs / 1000} s per level (MB = 10^6 bytes)`,
  );
  const raw = await rawMinio(info, dc);
  const putRate = new Map<string, number>();
  const getRate = new Map<string, number>();
  const at = (size: number, n: number) => `${size}:${n}`;
  const rows = [
    ['object', 'in flight', 'PUT MB/s', 'GET MB/s', 'errors', 'CPU during PUT', 'CPU during GET'],
  ];
  try {
    for (const size of sizes)
      for (const n of inFlight) {
        const p = await raw.put(size, n, ceilingMs, pids);
        const g = await raw.get(size, n, ceilingMs, pids);
        const rate = (r: LoadResult) => mbps(r.ops * size, r.seconds);
        putRate.set(at(size, n), rate(p));
        getRate.set(at(size, n), rate(g));
        rows.push([
          kib(size),
          String(n),
          fmt(rate(p)),
          fmt(rate(g)),
          String(p.errors + g.errors),
          cpuSharesOf(p.cpu, p.seconds),
          cpuSharesOf(g.cpu, g.seconds),
        ]);
      }
  } finally {
    const removed = await raw.cleanup();
    say(table(rows));
    say(`removed the ${removed} objects put under ${raw.bucket}/bench/`);
  }

  const size = fileMiB * MiB;
  heading(`2. through the gateway: GramJS (TCP full), one user of DC ${dc}, a ${fileMiB} MiB file`);
  if (!SETTINGS.clients.includes('gramjs')) say('skipped (--clients)');
  const path = join(dir, `bench-${fileMiB}.bin`);
  // The same content every run: the DC stores it once, however often the bench runs.
  const sha = await writeContent(path, size, `throughput-${fileMiB}`);
  const partKiB = size < 100 * MiB ? 128 : 256; // GramJS's part and request size for this file size
  const results: Array<{ label: string; t: Timed; ceiling: [string, number][] }> = [];
  const ceil = (kind: 'PUT' | 'GET', s: number, n: number): [string, number] => [
    `raw ${kind} ${kib(s)} ×${n}`,
    (kind === 'PUT' ? putRate : getRate).get(at(s, n)) ?? NaN,
  ];

  if (SETTINGS.clients.includes('gramjs')) {
    let document: Awaited<ReturnType<typeof sendAsDocument>> | undefined;
    for (const workers of [1, 4]) {
      let file: Awaited<ReturnType<typeof uploadFile>> | undefined;
      const label = `upload: uploadFile, ${partKiB} KiB parts, ${workers} worker${workers > 1 ? 's' : ''}`;
      const upload = async () => (file = await uploadFile(client, path, size, workers));
      const up = workers === 4 ? await profiled(label, dc, upload, pids) : await timed(upload, pids);
      results.push({
        label,
        t: up,
        ceiling: [ceil('PUT', partKiB * KiB, workers), ceil('PUT', 512 * KiB, workers)],
      });
      let sent: Awaited<ReturnType<typeof sendAsDocument>> | undefined;
      const done = await timed(async () => (sent = await sendAsDocument(client, file!)), pids);
      say(
        `workers ${workers}: upload ${up.seconds.toFixed(1)} s; messages.sendMedia (completion: the media service reads every part ` +
          `to hash it, the content is already stored after the first run) ${done.seconds.toFixed(1)} s`,
      );
      document = sent!;
    }
    const { message, document: doc } = document!;

    const downloaded = join(dir, 'downloaded.bin');
    const media = await timed(() => downloadMediaTo(client, message, downloaded), pids);
    if ((await fileSha256(downloaded)) !== sha) throw new Error('downloadMedia: the bytes differ');
    rmSync(downloaded);
    results.push({
      label: `download: downloadMedia, ${partKiB} KiB requests, 1 in flight`,
      t: media,
      ceiling: [ceil('GET', partKiB * KiB, 1), ceil('GET', 512 * KiB, 1)],
    });
    for (const n of [1, 4]) {
      let got = '';
      const label = `download: upload.getFile 1 MiB, ${n} in flight`;
      const download = async () => (got = await getFileLoop(client, doc, n));
      const t = n === 4 ? await profiled(label, dc, download, pids) : await timed(download, pids);
      if (got !== sha) throw new Error(`upload.getFile ×${n}: the bytes differ`);
      results.push({
        label,
        t,
        ceiling: [ceil('GET', 512 * KiB, n)],
      });
    }
  }

  heading(
    `3. through the gateway: Tern's light client (tools/load: the gateway's own crypto and codec), a new user of DC ${dc}`,
  );
  if (!SETTINGS.clients.includes('light')) say('skipped (--clients)');
  else await lightSection();
  async function lightSection(): Promise<void> {
    const d = info.dcs.find((x) => x.id === dc)!;
    const light = await lightSession({ dcId: dc, host: d.host, port: d.tcpPort });
    try {
      let file: TlObject | undefined;
      const label = 'light: saveBigFilePart 512 KiB, 4 in flight';
      const up = await profiled(
        label,
        dc,
        async () => (file = await lightUpload(light, path, size, 512 * KiB, 4)),
        pids,
      );
      results.push({ label, t: up, ceiling: [ceil('PUT', 512 * KiB, 4)] });
      const lightDoc = await lightSendDocument(light, file!);
      const target = { dcId: dc, host: d.host, port: d.tcpPort };
      const quiet = percentiles(await sideSessionLatencies(light, target, sleep(2000)));
      let busy = percentiles([]);
      for (const n of [1, 4, 8]) {
        let got = '';
        const label = `light: upload.getFile 1 MiB, ${n} in flight`;
        const download = async () => {
          const downloaded = lightGetFile(light, lightDoc, n);
          // With 8 in flight, a second session of the key calls the gateway throughout.
          if (n === 8) busy = percentiles(await sideSessionLatencies(light, target, downloaded));
          got = await downloaded;
        };
        const t = n === 4 ? await profiled(label, dc, download, pids) : await timed(download, pids);
        if (got !== sha) throw new Error(`light upload.getFile ×${n}: the bytes differ`);
        results.push({ label, t, ceiling: [ceil('GET', 512 * KiB, Math.min(n, 4))] });
      }
      const ms = (p: typeof quiet) =>
        `p50 ${p.p50.toFixed(1)} / p99 ${p.p99.toFixed(1)} ms (${p.count} calls)`;
      say(
        `another session of the same key on its own connection, help.getNearestDc one after the other: ` +
          `idle ${ms(quiet)}; during the 8-in-flight download ${ms(busy)}`,
      );
    } finally {
      light.client.close();
    }
  }

  heading('4. gateway MB/s against the raw ceilings of this run');
  say(
    table([
      ['', 'MB/s', 'ceiling (same run)', 'MB/s', 'ratio'],
      ...results.flatMap((r) => {
        const rate = mbps(size, r.t.seconds);
        return r.ceiling.map(([name, c], i) => [
          i === 0 ? r.label : '',
          i === 0 ? fmt(rate) : '',
          name,
          fmt(c),
          ratio(rate, c),
        ]);
      }),
    ]),
  );
  say('\nCPU (share of one core) in each window:');
  for (const r of results) say(`  ${r.label}: ${cpuSharesOf(r.t.cpu, r.t.seconds)}`);
  say('\nCPU per MB moved in each window (the target: gateway + media ≤ 10 ms):');
  for (const r of results) say(`  ${r.label}: ${cpuPerMb(r.t, size)}`);
  for (const p of profiles) {
    say(`\nCPU profile, ${p.label}:`);
    for (const [name, file] of p.files) {
      say(`  ${name} (${file}):`);
      say(formatSummary(summarizeProfile(readProfile(file))));
    }
  }
  say(`all downloads SHA-256-identical to the ${fileMiB} MiB uploaded (${sha.slice(0, 16)}…)`);
}

main().then(
  // GramJS may leave timers behind; the figures are printed, so end here.
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:media: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
