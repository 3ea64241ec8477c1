/**
 * Telling transports apart by a connection's first bytes, as Telegram's servers do, and the
 * obfuscated2 layer (a 64-byte random header that keys AES-256-CTR in both directions and
 * carries the inner framing's tag).
 */
import { createCipheriv, createDecipheriv, type Cipher, type Decipher } from 'node:crypto';
import { TransportError, type FramingKind } from './framing';

const TAGS: Record<number, FramingKind> = {
  0xefefefef: 'abridged',
  0xeeeeeeee: 'intermediate',
  0xdddddddd: 'padded',
};
const HTTP_STARTS = ['POST', 'GET ', 'HEAD', 'OPTI', 'PUT '];

/** The result of detection: the framing, the obfuscation (if any) and how many bytes the header used. */
export interface Detected {
  kind: FramingKind;
  obfuscation?: Obfuscation;
  /** DC id the client put in the obfuscated header (informational; negative = media/test). */
  dcId?: number;
  headerLength: number;
}

/**
 * Looks at the first bytes; returns undefined while more are needed. Throws TransportError for
 * something no MTProto transport starts with (e.g. HTTP, which Tern does not serve on this port).
 */
export function detectTransport(head: Buffer, opts: { allowPlain: boolean }): Detected | undefined {
  if (opts.allowPlain) {
    if (head.length < 1) return undefined;
    if (head[0] === 0xef) return { kind: 'abridged', headerLength: 1 };
    if (head.length < 4) return undefined;
    const first = head.readUInt32LE(0);
    if (first === 0xeeeeeeee) return { kind: 'intermediate', headerLength: 4 };
    if (first === 0xdddddddd) return { kind: 'padded', headerLength: 4 };
    if (HTTP_STARTS.includes(head.subarray(0, 4).toString('latin1')))
      throw new TransportError('HTTP transport is not served on this port');
    if (head.length < 8) return undefined;
    // The full transport's first frame has seqno 0; obfuscated headers never have zero there.
    if (head.readUInt32LE(4) === 0) return { kind: 'full', headerLength: 0 };
  }
  if (head.length < 64) return undefined;
  return obfuscated(head.subarray(0, 64));
}

/** AES-256-CTR in both directions, keyed by the client's 64-byte header. */
export interface Obfuscation {
  decrypt(data: Buffer): Buffer;
  encrypt(data: Buffer): Buffer;
}

function obfuscated(header: Buffer): Detected {
  const reversed = Buffer.from(header.subarray(8, 56)).reverse();
  const decipher: Decipher = createDecipheriv('aes-256-ctr', header.subarray(8, 40), header.subarray(40, 56));
  const cipher: Cipher = createCipheriv('aes-256-ctr', reversed.subarray(0, 32), reversed.subarray(32, 48));
  // The whole header goes through the client→server stream: its last 8 bytes are encrypted.
  const plainHeader = decipher.update(header);
  const kind = TAGS[plainHeader.readUInt32LE(56)];
  if (!kind) throw new TransportError('obfuscated header carries an unknown protocol tag');
  return {
    kind,
    dcId: plainHeader.readInt16LE(60),
    headerLength: 64,
    obfuscation: { decrypt: (d) => decipher.update(d), encrypt: (d) => cipher.update(d) },
  };
}
