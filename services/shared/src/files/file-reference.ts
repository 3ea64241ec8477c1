/**
 * File references: the opaque bytes a client must present with a photo or document id to download
 * it, and which stop working after a while (FILE_REFERENCE_EXPIRED). A client that meets the error
 * fetches the message again (messages.getMessages, getHistory...) and gets a fresh one.
 *
 * A reference is issued whenever the gateway shows a file to a client, not when the file is
 * stored: a message fetched today carries a reference valid from today. It is
 * `version(1) ‖ issued_at(4, unix seconds, BE) ‖ HMAC-SHA256(key, id ‖ issued_at)[0..16)`, so
 * any gateway can issue one and the media service of the file's DC can check it with nothing but
 * the deployment's key (TERN_FILE_REFERENCE_KEY_FILE) — no row is written per issue.
 *
 * Why not the per-file random reference stored with the file (what Tern had first): it never
 * expires, and rotating it would mean rewriting every stored message that embeds it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { int, settingProblem, type Setting, type SpecOf } from '../config/env';

const VERSION = 1;
const TAG_BYTES = 16;
/** version + issued_at + tag. */
export const FILE_REFERENCE_BYTES = 1 + 4 + TAG_BYTES;
/** References issued by a gateway whose clock runs ahead by up to this are still accepted. */
const CLOCK_SKEW_SECONDS = 60;

export type ReferenceCheck = 'valid' | 'expired' | 'invalid';

export class FileReferences {
  /**
   * @param key the deployment's shared secret (≥ 32 bytes), the same in every DC.
   * @param ttlSeconds how long an issued reference works.
   */
  constructor(
    private readonly key: Buffer,
    readonly ttlSeconds: number,
  ) {
    if (key.length < 32) throw new Error('a file reference key has at least 32 bytes');
  }

  /** A reference to file `id` (a photo or document id) issued at `nowMs`. */
  issue(id: bigint, nowMs = Date.now()): Buffer {
    const out = Buffer.alloc(FILE_REFERENCE_BYTES);
    out[0] = VERSION;
    out.writeUInt32BE(Math.floor(nowMs / 1000), 1);
    this.tag(id, out.subarray(1, 5)).copy(out, 5);
    return out;
  }

  /**
   * Whether `ref` is a reference this deployment issued for `id` and still within its lifetime.
   * `invalid` covers forged, truncated and other files' references alike.
   */
  check(id: bigint, ref: Uint8Array, nowMs = Date.now()): ReferenceCheck {
    const b = Buffer.from(ref);
    if (b.length !== FILE_REFERENCE_BYTES || b[0] !== VERSION) return 'invalid';
    const expected = this.tag(id, b.subarray(1, 5));
    if (!timingSafeEqual(expected, b.subarray(5))) return 'invalid';
    const issued = b.readUInt32BE(1);
    const now = Math.floor(nowMs / 1000);
    if (issued > now + CLOCK_SKEW_SECONDS) return 'invalid';
    return now - issued > this.ttlSeconds ? 'expired' : 'valid';
  }

  private tag(id: bigint, issuedAt: Buffer): Buffer {
    const idBytes = Buffer.alloc(8);
    idBytes.writeBigUInt64BE(BigInt.asUintN(64, id));
    return createHmac('sha256', this.key).update(idBytes).update(issuedAt).digest().subarray(0, TAG_BYTES);
  }
}

/** Reads a key file: at least 32 bytes, raw or as hex/base64 text (what `openssl rand` writes). */
export function parseFileReferenceKey(content: Buffer): Buffer {
  const text = content.toString('utf8').trim();
  let key = content;
  if (/^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) key = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/_-]+=*$/.test(text)) key = Buffer.from(text, 'base64');
  if (key.length < 32) throw new Error(`has ${key.length} bytes; at least 32 are needed`);
  return key;
}

export interface FileReferenceSettings {
  TERN_FILE_REFERENCE_KEY_FILE: Buffer;
  TERN_FILE_REFERENCE_TTL_SECONDS: number;
}

function keyFile(): Setting<Buffer> {
  return {
    describe: 'path of the file-reference key (≥ 32 random bytes, the same in every DC)',
    secret: true,
    parse: (raw) => {
      const path = raw?.trim();
      if (!path) return settingProblem('is required');
      let content: Buffer;
      try {
        content = readFileSync(path);
      } catch (err) {
        return settingProblem(`cannot read ${path}: ${(err as Error).message}`);
      }
      try {
        return parseFileReferenceKey(content);
      } catch (err) {
        return settingProblem(`${path} ${(err as Error).message}`);
      }
    },
  };
}

/** What the gateway (issues references) and the media service (checks them) both read. */
export const fileReferenceSpec: SpecOf<FileReferenceSettings> = {
  TERN_FILE_REFERENCE_KEY_FILE: keyFile(),
  TERN_FILE_REFERENCE_TTL_SECONDS: int({
    default: 86_400,
    min: 60,
    max: 30 * 86_400,
    describe: 'how long a file reference shown to a client works (then FILE_REFERENCE_EXPIRED)',
  }),
};

/** The references of a process, from its settings. */
export const fileReferencesOf = (s: FileReferenceSettings): FileReferences =>
  new FileReferences(s.TERN_FILE_REFERENCE_KEY_FILE, s.TERN_FILE_REFERENCE_TTL_SECONDS);
