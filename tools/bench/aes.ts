/**
 * Section 1: AES-256-IGE throughput of the gateway's implementation, as a ratio to Node's native
 * AES-256-CBC (OpenSSL) on the same message sizes, in the same run. Each call handles one whole
 * message with a fresh cipher object, as the gateway does per packet.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { igeDecrypt, igeEncrypt } from '../../services/gateway/src/mtproto/crypto/aes-ige';
import { fmt, opsPerSecond, ratio, table } from './measure';

const BLOCK = 16;

function cbcEncrypt(data: Buffer, key: Buffer, iv: Buffer): Buffer {
  const c = createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

function cbcDecrypt(data: Buffer, key: Buffer, iv: Buffer): Buffer {
  const d = createDecipheriv('aes-256-cbc', key, iv).setAutoPadding(false);
  return Buffer.concat([d.update(data), d.final()]);
}

/** The textbook way: one ECB call per 16-byte block, chaining in JavaScript. */
function naiveIgeEncrypt(plain: Buffer, key: Buffer, iv: Buffer): Buffer {
  const ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
  const out = Buffer.allocUnsafe(plain.length);
  const block = Buffer.allocUnsafe(BLOCK);
  let prevY = iv.subarray(0, BLOCK);
  let prevX = iv.subarray(BLOCK, 2 * BLOCK);
  for (let at = 0; at < plain.length; at += BLOCK) {
    for (let j = 0; j < BLOCK; j++) block[j] = plain[at + j]! ^ prevY[j]!;
    const e = ecb.update(block);
    for (let j = 0; j < BLOCK; j++) out[at + j] = e[j]! ^ prevX[j]!;
    prevY = out.subarray(at, at + BLOCK);
    prevX = plain.subarray(at, at + BLOCK);
  }
  return out;
}

export interface AesResult {
  size: number;
  cbcEnc: number;
  cbcDec: number;
  igeEnc: number;
  igeDec: number;
  naiveEnc: number;
}

/** MB/s (10^6 bytes) for each cipher at each size. */
export function benchAes(sizes: readonly number[], msPerFigure: number): AesResult[] {
  const key = randomBytes(32);
  const iv = randomBytes(32);
  const results: AesResult[] = [];
  for (const size of sizes) {
    const data = randomBytes(size);
    // The three encryptions must agree before they are timed.
    const ours = igeEncrypt(data, key, iv);
    if (!ours.equals(naiveIgeEncrypt(data, key, iv))) throw new Error('IGE implementations disagree');
    if (!igeDecrypt(ours, key, iv).equals(data)) throw new Error('IGE round trip failed');
    const cbcCipher = cbcEncrypt(data, key, iv.subarray(0, 16));
    const mbps = (fn: () => unknown) => (opsPerSecond(fn, msPerFigure) * size) / 1e6;
    results.push({
      size,
      cbcEnc: mbps(() => cbcEncrypt(data, key, iv.subarray(0, 16))),
      cbcDec: mbps(() => cbcDecrypt(cbcCipher, key, iv.subarray(0, 16))),
      igeEnc: mbps(() => igeEncrypt(data, key, iv)),
      igeDec: mbps(() => igeDecrypt(ours, key, iv)),
      naiveEnc: mbps(() => naiveIgeEncrypt(data, key, iv)),
    });
  }
  return results;
}

export function formatAes(results: readonly AesResult[]): string {
  const rows = [['message', 'native CBC MB/s', 'ours IGE MB/s', 'ours/CBC', 'naive IGE MB/s', 'naive/CBC']];
  for (const r of results) {
    const size = r.size >= 1024 ? `${r.size / 1024} KiB` : `${r.size} B`;
    rows.push([
      `${size} encrypt`,
      fmt(r.cbcEnc),
      fmt(r.igeEnc),
      ratio(r.igeEnc, r.cbcEnc),
      fmt(r.naiveEnc),
      ratio(r.naiveEnc, r.cbcEnc),
    ]);
    rows.push([`${size} decrypt`, fmt(r.cbcDec), fmt(r.igeDec), ratio(r.igeDec, r.cbcDec), '', '']);
  }
  return `${table(rows)}
(ceiling: native AES-256-CBC, one fresh cipher per message; decryption has no naive column: the
 textbook way is one ECB call per block, ~15 MB/s; docs/decisions/0015-aes-ige.md)`;
}
