/**
 * mtcute (layer 227) as a test client. mtcute ships ESM only, so the Jest suite runs this
 * script as a child process (`tsx mtcute-probe.mts <json options>`); it prints one JSON line.
 *
 *   { "host", "port", "dcId", "rsaPublicKey", "codec": "intermediate" | "padded" | "obfuscated",
 *     "calls": ["help.getConfig", ...], "pfs": false }
 */
import {
  IntermediatePacketCodec,
  MemoryStorage,
  ObfuscatedPacketCodec,
  PaddedIntermediatePacketCodec,
  TcpTransport,
  TelegramClient,
} from '@mtcute/node';
import { createHash } from 'node:crypto';
import { addPublicKey } from '@mtcute/core/utils.js';

interface Options {
  host: string;
  port: number;
  dcId: number;
  rsaPublicKey: string;
  codec: 'intermediate' | 'padded' | 'obfuscated';
  calls: string[];
  /** Perfect forward secrecy: a temporary key bound to the permanent one with auth.bindTempAuthKey. */
  pfs?: boolean;
}

const opts = JSON.parse(process.argv[2] ?? '{}') as Options;

class Transport extends TcpTransport {
  override packetCodec() {
    if (opts.codec === 'obfuscated')
      return new ObfuscatedPacketCodec(new IntermediatePacketCodec()) as unknown as IntermediatePacketCodec;
    if (opts.codec === 'padded') return new PaddedIntermediatePacketCodec();
    return new IntermediatePacketCodec();
  }
}

const dc = { id: opts.dcId, ipAddress: opts.host, port: opts.port };
const client = new TelegramClient({
  apiId: 12345,
  apiHash: '0123456789abcdef0123456789abcdef',
  storage: new MemoryStorage(),
  defaultDcs: { main: dc, media: { ...dc, mediaOnly: true } },
  transport: new Transport(),
  logLevel: process.env.MTCUTE_LOG ? 5 : 0,
  disableUpdates: true,
  network: { usePfs: opts.pfs === true },
});

async function main(): Promise<void> {
  // Only the key's fingerprint is computed here (SHA1), so a minimal provider suffices.
  const sha1Only = { sha1: (d: Uint8Array) => new Uint8Array(createHash('sha1').update(d).digest()) };
  addPublicKey(sha1Only as unknown as Parameters<typeof addPublicKey>[0], opts.rsaPublicKey);
  await client.connect();
  const results: Record<string, unknown> = {};
  for (const method of opts.calls) {
    try {
      results[method] = await client.call({ _: method } as never);
    } catch (err) {
      results[method] = { error: err instanceof Error ? err.message : String(err) };
    }
  }
  process.stdout.write(
    `${JSON.stringify({ results }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`,
  );
  // With PFS mtcute keeps a key-renewal timer alive after destroy(); the probe's work is done.
  await Promise.race([client.destroy(), new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ fatal: err instanceof Error ? err.message : String(err) })}\n`);
  process.exit(1);
});
