/**
 * A new user is homed in the DC the CIDR map (TERN_AUTH_PLACEMENT) gives the client's real
 * address, also when the client comes through a load balancer: the balancer's PROXY protocol
 * header carries that address to the gateway, and the gateway passes it on to auth.
 *
 * The test plays the balancer: a TCP proxy on a spare loopback address, port 443 (GramJS dials
 * 443 whatever the DC options say), that prepends a PROXY header and forwards to DC 1's gateway.
 * The local stack trusts PROXY headers from 127.0.0.0/8 and maps 198.51.100.0/24 to DC 3
 * (tools/stack/plan.ts).
 */
import { createPublicKey, randomInt } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Client } from 'cassandra-driver';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';

import { LOCAL_PLACEMENT } from '../../tools/stack/plan';
import { eventually, stack, stackCassandra } from '../support/stack';
import { gramClient, trustKey } from './support/gramjs';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

/** A fresh ordinary (not 99966XYYYY) number, so runs never collide: +1 555 01xx xxxx style. */
const ordinaryNumber = () => `1555${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;

const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A PROXY v2 header (PROXY command, TCP over IPv4) naming `source` as the client. */
function proxyV2(source: string, sourcePort: number, destination: string, destinationPort: number): Buffer {
  const block = Buffer.alloc(12);
  Buffer.from(source.split('.').map(Number)).copy(block, 0);
  Buffer.from(destination.split('.').map(Number)).copy(block, 4);
  block.writeUInt16BE(sourcePort, 8);
  block.writeUInt16BE(destinationPort, 10);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x11, 0, block.length]), block]);
}

/** A load balancer in a few lines: every connection to `listen`:443 goes to `target` behind `header`. */
async function loadBalancer(
  listen: string,
  target: { host: string; port: number },
  header: (client: Socket) => Buffer,
): Promise<{ server: Server; close: () => Promise<void> }> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    open.add(client).add(upstream);
    upstream.write(header(client));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(443, listen, () => resolve());
  });
  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        for (const sock of open) sock.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The latest login code the development provider of DC `dc` delivered for `phone`. */
async function devCode(dc: number, phone: string): Promise<string> {
  const host = s.dcs.find((d) => d.id === dc)!.host;
  return eventually(async () => {
    const res = await fetch(`http://${host}:9480/codes/${phone}`);
    if (!res.ok) return undefined;
    return ((await res.json()) as { code: string }).code;
  }, 10_000);
}

describe('placement of new users behind a load balancer (PROXY protocol)', () => {
  const dc1 = s.dcs[0]!;
  const gateway1 = { host: dc1.host, port: dc1.tcpPort };
  let db: Client;

  beforeAll(async () => {
    db = await stackCassandra(s, 1, 'global');
  });
  afterAll(async () => {
    await db?.shutdown();
  });

  /** The home DC the global directory records for `phone`. */
  async function homeDc(phone: string): Promise<number | undefined> {
    const row = (
      await db.execute('SELECT home_dc FROM users_by_phone WHERE phone = ?', [phone], { prepare: true })
    ).first();
    return row ? (row.get('home_dc') as number) : undefined;
  }

  /**
   * Signs `phone` up with GramJS dialling DC 1 at `address` (a load balancer), codes read from the
   * development endpoint of whichever DC the client was sent to. Returns the DC it ended on.
   */
  async function signUpThrough(address: string, phone: string): Promise<number> {
    const { client } = gramClient({ lib: 'telegram', dc: { ...dc1, host: address } });
    try {
      await client.start({
        phoneNumber: phone,
        phoneCode: () => devCode(client.session.dcId, phone),
        firstAndLastNames: () => Promise.resolve(['Grace', 'Hopper']),
        onError: (err) => {
          throw err;
        },
      });
      const me = await client.getMe();
      expect(me.phone).toBe(phone);
      expect(me.firstName).toBe('Grace');
      expect(me.self).toBe(true);
      return client.session.dcId;
    } finally {
      await client.destroy();
    }
  }

  it('homes a new ordinary number on DC 3 when the balancer says the client is in 198.51.100.0/24', async () => {
    expect(LOCAL_PLACEMENT).toContainEqual({ cidr: '198.51.100.0/24', dc: 3 });
    const lb = await loadBalancer('127.0.0.21', gateway1, (c) =>
      proxyV2('198.51.100.7', c.remotePort ?? 0, dc1.host, dc1.tcpPort),
    );
    try {
      const phone = ordinaryNumber();
      // DC 1 answers sendCode with NETWORK_MIGRATE_3; GramJS moves to DC 3 and signs up there.
      expect(await signUpThrough('127.0.0.21', phone)).toBe(3);
      expect(await homeDc(phone)).toBe(3);
    } finally {
      await lb.close();
    }
  });

  it('keeps a new number on DC 1 when the balancer names an address outside the map', async () => {
    // PROXY v1 this time, with an IPv6 documentation address (the map has IPv4 ranges only).
    const lb = await loadBalancer('127.0.0.22', gateway1, (c) =>
      Buffer.from(`PROXY TCP6 2001:db8::7 ::1 ${c.remotePort ?? 0} ${dc1.tcpPort}\r\n`),
    );
    try {
      const phone = ordinaryNumber();
      expect(await signUpThrough('127.0.0.22', phone)).toBe(1);
      expect(await homeDc(phone)).toBe(1);
    } finally {
      await lb.close();
    }
  });
});
