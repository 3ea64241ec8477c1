/**
 * The MTProto gateway as real client libraries see it: key exchange, encrypted sessions over
 * every TCP transport they offer, help.getConfig built from the topology, and Telegram-style
 * errors for what Tern does not serve.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { join } from 'node:path';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { gramClient, trustKey, type GramConnection } from './support/gramjs';

const s = stack();
const fingerprint = rsaFingerprint(createPublicKey(s.rsaPublicKey));
trustKey('telegram', s.rsaPublicKey, fingerprint);
trustKey('teleproto', s.rsaPublicKey, fingerprint);
trustKey('telegram-layer-145', s.rsaPublicKey, fingerprint);
trustKey('telegram-layer-174', s.rsaPublicKey, fingerprint);

describe.each([
  ['telegram', 'full'],
  ['telegram', 'abridged'],
  ['telegram', 'obfuscated'],
  ['telegram', 'websocket'],
  ['teleproto', 'full'],
  // Older clients, older layers (145 and 174).
  ['telegram-layer-145', 'full'],
  ['telegram-layer-174', 'obfuscated'],
  ['teleproto', 'obfuscated'],
] as const)('%s over %s TCP', (lib, connection: GramConnection) => {
  it('creates an auth key and gets the config of the DC it dialled', async () => {
    const dc = s.dcs[1]!;
    const { client, Api } = gramClient({ lib, dc, connection });
    try {
      await client.connect();
      const config = await client.invoke(new Api.help.GetConfig());
      expect(config.thisDc).toBe(2);
      expect(config.testMode).toBe(true);
      const options = config.dcOptions.filter((o) => !o.mediaOnly).map((o) => [o.id, o.ipAddress, o.port]);
      expect(options).toEqual(s.dcs.map((d) => [d.id, d.host, d.tcpPort]));
      const nearest = await client.invoke(new Api.help.GetNearestDc());
      expect(nearest.thisDc).toBe(2);
    } finally {
      await client.destroy();
    }
  });
});

describe.each([
  ['intermediate', false],
  ['padded', false],
  ['obfuscated', false],
  // Perfect forward secrecy: a temporary key, bound with auth.bindTempAuthKey.
  ['intermediate', true],
] as const)('mtcute over %s TCP (PFS: %s)', (codec, pfs) => {
  it('creates an auth key and gets the config', () => {
    const dc = s.dcs[2]!;
    const out = execFileSync(
      join(s.repoRoot, 'node_modules', '.bin', 'tsx'),
      [
        join(__dirname, 'clients', 'mtcute-probe.mts'),
        JSON.stringify({
          host: dc.host,
          port: dc.tcpPort,
          dcId: dc.id,
          rsaPublicKey: s.rsaPublicKey,
          codec,
          pfs,
          calls: ['help.getConfig', 'help.getNearestDc'],
        }),
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const result = JSON.parse(out.trim().split('\n').pop()!) as {
      fatal?: string;
      results: Record<
        string,
        {
          thisDc?: number;
          dcOptions?: Array<{ id: number; ipAddress: string; port: number; mediaOnly?: boolean }>;
        }
      >;
    };
    expect(result.fatal).toBeUndefined();
    const config = result.results['help.getConfig']!;
    expect(config.thisDc).toBe(3);
    expect(config.dcOptions!.filter((o) => !o.mediaOnly).map((o) => [o.id, o.ipAddress, o.port])).toEqual(
      s.dcs.map((d) => [d.id, d.host, d.tcpPort]),
    );
    expect(result.results['help.getNearestDc']!.thisDc).toBe(3);
  });
});

describe('sessions and keys', () => {
  it('a saved session reconnects with its stored key, without a new key exchange', async () => {
    const dc = s.dcs[0]!;
    const first = gramClient({ lib: 'telegram', dc });
    await first.client.connect();
    await first.client.invoke(new first.Api.help.GetConfig());
    const saved = first.session.save();
    await first.client.destroy();

    const again = gramClient({ lib: 'telegram', dc, session: saved });
    try {
      await again.client.connect();
      const config = await again.client.invoke(new again.Api.help.GetConfig());
      expect(config.thisDc).toBe(1);
      expect(again.session.save()).toBe(saved); // same auth key
    } finally {
      await again.client.destroy();
    }
  });

  it('answers a method Tern does not implement with an rpc_error at once', async () => {
    const { client, Api } = gramClient({ lib: 'telegram', dc: s.dcs[2]! });
    try {
      await client.connect();
      await expect(
        client.invoke(new Api.langpack.GetLanguages({ langPack: 'android' })),
      ).rejects.toMatchObject({ code: 501, errorMessage: 'METHOD_NOT_IMPLEMENTED' });
    } finally {
      await client.destroy();
    }
  });

  it('refuses an unknown auth key with transport error -404', async () => {
    const dc = s.dcs[0]!;
    const socket = connect(dc.tcpPort, dc.host);
    const packet = Buffer.concat([randomBytes(8), randomBytes(16), randomBytes(64)]);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(packet.length);
    socket.write(Buffer.concat([Buffer.alloc(4, 0xee), head, packet]));
    const answer = await new Promise<Buffer>((resolve, reject) => {
      let got = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
      socket.on('close', () => resolve(got));
      socket.on('error', reject);
    });
    expect(answer.readUInt32LE(0)).toBe(4);
    expect(answer.readInt32LE(4)).toBe(-404);
  });
});
