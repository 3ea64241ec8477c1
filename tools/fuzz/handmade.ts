/**
 * Crashers written by hand from reading the code, where random mutation is unlikely to build
 * the input (nested gzip_packed bombs) or the input is large (one frame in many small pieces).
 * `npx tsx tools/fuzz/handmade.ts` runs each against its target and keeps it under
 * test/fuzz/crashers/<target>/ with what it did (an existing crasher of the same name is left
 * alone, so edited statuses survive).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createFraming } from '../../services/gateway/src/mtproto/transport/framing';
import { CRASHERS_DIR, writeCrasher } from './corpus';
import { HANG_SIGNATURE, MEMORY_SIGNATURE, runOne, signatureOf } from './loop';
import { findTargets } from './targets';
import { gzipPacked, tlRegistry } from './targets/tl';
import type { Failure } from './types';

const TIME_BOUND_MS = 1000;
const INPUT_PEAK_MB = 256;
const ZEROS = 15 << 20;

function nested(levels: number, innermost: Buffer): Buffer {
  let b = innermost;
  for (let i = 0; i < levels; i++) b = gzipPacked(b, ZEROS);
  return b;
}

interface Handmade {
  target: string;
  name: string;
  input: () => Buffer;
  suggestedFix: string;
}

const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};

const QUADRATIC_FIX =
  'framing.ts Buffered.append: keep the chunks in a list and concatenate once a whole frame is there (or allocate the frame once its length is known), instead of Buffer.concat of everything buffered on every chunk (quadratic: a WebSocket client sends 1 MiB as 16-byte messages and blocks the event loop for seconds).';

export const HANDMADE: Handmade[] = [
  // Chunking mode 2 (pieces of 1..64 bytes), then one 1 MiB frame of zeros as Tern frames it.
  ...(['abridged', 'intermediate', 'padded', 'full'] as const).map((kind) => ({
    target: `framing-${kind}`,
    name: 'hang-one-frame-in-small-chunks',
    input: () =>
      Buffer.concat([Buffer.from([2, 1, 2, 3, 4]), createFraming(kind).encode(Buffer.alloc(1 << 20))]),
    suggestedFix: QUADRATIC_FIX,
  })),
  {
    target: 'tl-api',
    name: 'memory-nested-gzip-packed',
    input: () => {
      const head = Buffer.alloc(2);
      head.writeUInt16LE(tlRegistry().newestLayer);
      const getConfig = tlRegistry().forLayer(tlRegistry().newestLayer).encode({ _: 'help.getConfig' });
      return Buffer.concat([head, nested(24, getConfig)]);
    },
    suggestedFix:
      'codec.ts readGzipped: refuse gzip_packed inside gzip_packed (clients never nest it), or count inflated bytes against one budget per decode (maxInflatedBytes for the whole request, not per level): 24 levels of 15 MiB each come from a 25 KB request.',
  },
  {
    target: 'engine',
    name: 'memory-nested-gzip-packed-messages',
    input: () => {
      const header = Buffer.alloc(24);
      header[0] = 0x20; // valid salt and msg_id, content-related
      const ping = Buffer.concat([u32(0x7abe77ec), Buffer.alloc(8, 1)]);
      return Buffer.concat([header, nested(24, ping)]);
    },
    suggestedFix:
      'engine.ts handleBody: unpack gzip_packed once (a gzip_packed body that is again gzip_packed is a WireError → bad_msg_notification 64), and bound the bytes unpacked per packet; the recursion has no depth limit at all, so a 1 MiB frame can nest thousands of 15 MiB levels.',
  },
];

async function main(): Promise<void> {
  for (const h of HANDMADE) {
    const dir = join(CRASHERS_DIR, h.target);
    if (existsSync(join(dir, `${h.name}.json`))) {
      process.stdout.write(`${h.target}/${h.name}: kept\n`);
      continue;
    }
    const [target] = findTargets([h.target]);
    const instance = await target!.setup({ seed: 1, poolSize: 8 });
    const input = h.input();
    const out = await runOne(instance, input);
    const kind: Failure['kind'] = out.failure
      ? out.failure.kind
      : out.peakRise > INPUT_PEAK_MB << 20
        ? 'memory'
        : out.ms > TIME_BOUND_MS
          ? 'hang'
          : 'crash';
    const signature = out.failure
      ? signatureOf(out.failure.err)
      : kind === 'memory'
        ? MEMORY_SIGNATURE(INPUT_PEAK_MB)
        : kind === 'hang'
          ? HANG_SIGNATURE(TIME_BOUND_MS)
          : 'none';
    const message = `${input.length} bytes: ${out.ms.toFixed(0)} ms, peak rss +${Math.round(out.peakRise / 1048576)} MiB${out.failure ? `, ${String(out.failure.err)}` : ''}`;
    const file = writeCrasher(
      h.target,
      { kind, signature, message, stack: message, seed: 0, index: -1, input },
      h.suggestedFix,
      h.name,
    );
    process.stdout.write(`${h.target}/${h.name}: ${message} → ${file}\n`);
  }
}

if (require.main === module) void main();
