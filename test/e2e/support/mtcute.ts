/**
 * mtcute (ESM only) as a test client: runs test/e2e/clients/mtcute-probe.mts (or mtcute-media.mts
 * for files) as a child process against one DC of the stack and returns the JSON line it prints.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestStack } from '../../support/stack';

export interface ProbeResult {
  fatal?: string;
  results: {
    login?: {
      dcId: number;
      id: number;
      firstName: string;
      signedUp: boolean;
      usedPassword: boolean;
      wrongPasswordError?: string;
    };
    cloudPassword?: 'set' | 'removed';
    exported?: { id: string; bytes: string };
    imported?: { dcId: number };
  } & Record<string, { error?: string; username?: string; about?: string; _?: string }>;
}

/** Runs the probe against DC `dcIndex` (0-based) with `options` (see mtcute-probe.mts). */
export async function mtcuteProbe(s: TestStack, dcIndex: number, options: object): Promise<ProbeResult> {
  const dc = s.dcs[dcIndex]!;
  // The probe exits 1 after printing `fatal`; its last line is the answer either way.
  const { stdout } = await promisify(execFile)(
    join(s.repoRoot, 'node_modules', '.bin', 'tsx'),
    [
      join(__dirname, '..', 'clients', 'mtcute-probe.mts'),
      JSON.stringify({
        host: dc.host,
        port: dc.tcpPort,
        dcId: dc.id,
        rsaPublicKey: s.rsaPublicKey,
        codec: 'intermediate',
        calls: [],
        ...options,
      }),
    ],
    { encoding: 'utf8', timeout: 60_000 },
  ).catch((err: { stdout?: string }) => {
    if (!err.stdout?.includes('"fatal"')) throw err;
    return { stdout: err.stdout };
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as ProbeResult;
}

/** A message as the probe reports it (mtcute-probe.mts `brief`). */
export interface ProbeMessage {
  id: number;
  text: string | null;
  out: boolean;
  fromId: number | null;
}

/** `results.messaging` of a probe run with the `messaging` option (see mtcute-probe.mts). */
export interface ProbeMessaging {
  id: number;
  state: { pts: number };
  sent: Array<{ to: string; id: number | null; pts: number | null; _: string }>;
  history: Record<string, ProbeMessage[]>;
  difference?: { kinds: string[]; pts: number; messages: ProbeMessage[] };
}

/** A document as clients/mtcute-media.mts reports it. */
export interface MtcuteDocument {
  id: string;
  dcId: number | null;
  size: number | null;
  fileName: string | null;
  mimeType: string;
}

/** A photo as clients/mtcute-media.mts reports it: its sizes as the server sent them. */
export interface MtcutePhoto {
  id: string;
  dcId: number;
  sizes: Array<
    | { _: 'photoSize'; type: string; w: number; h: number; size: number }
    | { _: 'photoStrippedSize'; type: string; length: number }
    | { _: string; type: string }
  >;
}

/** What clients/mtcute-media.mts prints (see the top of that file). */
export interface MediaProbeResult {
  fatal?: string;
  results?: {
    login: { dcId: number; id: number };
    /** `calls`: requests by method and errors as `method: ERROR`, with counts. */
    sent?: { id: number; document: MtcuteDocument; calls: Record<string, number> };
    received?: {
      id: number;
      text: string;
      document: MtcuteDocument;
      length: number;
      sha256: string;
      calls: Record<string, number>;
      migratedSha256: string;
      migratedCalls: Record<string, number>;
    };
    sentPhoto?: { id: number; photo: MtcutePhoto; calls: Record<string, number> };
    /** The JPEGs are written to `receivePhoto.dir`: largest.jpg and stripped.jpg. */
    receivedPhoto?: {
      id: number;
      text: string;
      photo: MtcutePhoto;
      largest: { type: string; width: number; height: number; length: number };
      strippedLength: number;
      calls: Record<string, number>;
    };
  };
}

/**
 * Runs clients/mtcute-media.mts (mtcute's own upload and download API) against DC `dcIndex`
 * (0-based) with `options` (login, username, send, sendPhoto, receive, receivePhoto).
 */
export async function mtcuteMedia(s: TestStack, dcIndex: number, options: object): Promise<MediaProbeResult> {
  const dc = s.dcs[dcIndex]!;
  const { stdout } = await promisify(execFile)(
    join(s.repoRoot, 'node_modules', '.bin', 'tsx'),
    [
      join(__dirname, '..', 'clients', 'mtcute-media.mts'),
      JSON.stringify({
        host: dc.host,
        port: dc.tcpPort,
        dcId: dc.id,
        rsaPublicKey: s.rsaPublicKey,
        ...options,
      }),
    ],
    { encoding: 'utf8', timeout: 120_000 },
  ).catch((err: { stdout?: string }) => {
    if (!err.stdout?.includes('"fatal"')) throw err;
    return { stdout: err.stdout };
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as MediaProbeResult;
}
