/**
 * The gateway's own work for one file-part answer, offline: what happens to an `upload.file` of
 * 1 MiB between the media service's reply and the socket (TL encoding, rpc_result, msg_key and
 * AES-256-IGE encryption, transport framing), in CPU milliseconds per MiB. Two paths:
 *
 *   - file part: the one the gateway takes for upload.file (its bytes kept apart and copied once
 *     into the rpc_result, frame written as pieces);
 *   - generic: the one every other answer takes (whole TL encoding, rpc_result joined, frame
 *     joined), i.e. what a file part cost before it had a path of its own.
 *
 * The ceiling is the cryptography alone on the same bytes: native AES-256-CBC (IGE encryption is
 * one CBC pass) plus the SHA-256 msg_key needs. Everything above it is copies and allocation.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { authKeyId } from '../../services/gateway/src/mtproto/crypto/message-keys';
import { encryptServerMessage } from '../../services/gateway/src/mtproto/envelope';
import { encodeResult } from '../../services/gateway/src/mtproto/invocation';
import { createFraming } from '../../services/gateway/src/mtproto/transport/framing';
import { buildRpcResult } from '../../services/gateway/src/mtproto/wire';
import { loadTlRuntime } from '../../services/gateway/src/tl-runtime';

export interface AnswerPathResult {
  filePartMs: number;
  genericMs: number;
  cryptoMs: number;
}

const MiB = 1024 * 1024;

/** CPU milliseconds per call of `fn`, over about `ms` of work after a short warm-up. */
function cpuMsPerCall(fn: () => unknown, ms: number): number {
  for (let i = 0; i < 5; i++) fn();
  const start = process.cpuUsage();
  const wall = performance.now();
  let n = 0;
  while (performance.now() - wall < ms) {
    fn();
    n++;
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / n;
}

export function benchAnswerPath(ms: number): AnswerPathResult {
  const tl = loadTlRuntime();
  const layer = tl.newestLayer;
  const authKey = randomBytes(256);
  const keyId = authKeyId(authKey);
  const bytes = randomBytes(MiB);
  const answer = { _: 'upload.file', type: { _: 'storage.filePartial' }, mtime: 0, bytes };
  const message = (body: Buffer) => ({ salt: 1n, sessionId: 2n, msgId: 3n, seqNo: 1, body });
  const framing = createFraming('intermediate');
  const filePartMs = cpuMsPerCall(() => {
    const body = buildRpcResult(5n, encodeResult(tl, layer, answer, 'upload.getFile'));
    return framing.encodeChunks(encryptServerMessage(authKey, keyId, message(body)));
  }, ms);
  const genericMs = cpuMsPerCall(() => {
    const body = buildRpcResult(5n, tl.encodeApi(layer, answer, 'upload.getFile'));
    return framing.encode(encryptServerMessage(authKey, keyId, message(body)));
  }, ms);
  const key = randomBytes(32);
  const iv = randomBytes(16);
  const cryptoMs = cpuMsPerCall(() => {
    createHash('sha256').update(authKey.subarray(88, 120)).update(bytes).digest();
    return createCipheriv('aes-256-cbc', key, iv).setAutoPadding(false).update(bytes);
  }, ms);
  return { filePartMs, genericMs, cryptoMs };
}

export function formatAnswerPath(r: AnswerPathResult): string {
  const line = (name: string, v: number) =>
    `  ${name.padEnd(44)} ${v.toFixed(2).padStart(6)} ms per MiB  (${(r.cryptoMs / v).toFixed(2)}× of the ceiling)`;
  return [
    line('file part (upload.file path)', r.filePartMs),
    line('generic answer path, same bytes', r.genericMs),
    `  ${'ceiling: native CBC + SHA-256 of the bytes'.padEnd(44)} ${r.cryptoMs.toFixed(2).padStart(6)} ms per MiB`,
  ].join('\n');
}
