/**
 * The TCP listener with real sockets on 127.0.0.1: PROXY protocol headers (trusted or not,
 * optional or required, split, malformed, late) and the per-address connection limit.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import type { PacketHandler } from './connection';
import { listen, type ListenerOptions, type Listeners } from './listeners';
import { parseCidrList } from './proxy-protocol';

const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

function v2Header(command: 0 | 1, src?: { v4?: number[]; v6?: string; port: number }): Buffer {
  let family = 0x00;
  let body = Buffer.alloc(0);
  if (src?.v4) {
    family = 0x11;
    body = Buffer.alloc(12);
    Buffer.from(src.v4).copy(body, 0);
    Buffer.from([127, 0, 0, 1]).copy(body, 4);
    body.writeUInt16BE(src.port, 8);
    body.writeUInt16BE(443, 10);
  } else if (src?.v6) {
    family = 0x21;
    body = Buffer.alloc(36);
    Buffer.from(src.v6, 'hex').copy(body, 0);
    body[31] = 1;
    body.writeUInt16BE(src.port, 32);
    body.writeUInt16BE(443, 34);
  }
  const head = Buffer.from([0x20 | command, family, 0, 0]);
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, body]);
}

/** The intermediate transport's header and one packet in its framing. */
function intermediate(payload: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32LE(payload.length);
  return Buffer.concat([Buffer.alloc(4, 0xee), len, payload]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Client {
  socket: Socket;
  received(): Buffer;
  /** Resolves when the listener closed the connection; fails the test after 5 s. */
  closed(): Promise<void>;
}

/** Dials the listener and writes `chunks`, pausing `gapMs` between them (separate TCP reads). */
async function dial(port: number, chunks: Buffer[], gapMs = 0): Promise<Client> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const data: Buffer[] = [];
  socket.on('data', (d: Buffer) => data.push(d));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  for (const [i, chunk] of chunks.entries()) {
    if (socket.destroyed) break;
    socket.write(chunk);
    if (gapMs > 0 && i < chunks.length - 1) await sleep(gapMs);
  }
  return {
    socket,
    received: () => Buffer.concat(data),
    closed: () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the listener did not close the connection')), 5000);
      });
      return Promise.race([closed, timeout]).finally(() => clearTimeout(timer));
    },
  };
}

describe('MTProto TCP listener', () => {
  let listeners: Listeners | undefined;
  const packets: Array<{ address: string; payload: Buffer }> = [];
  const clients: Client[] = [];
  const handler: PacketHandler = {
    onPacket: (conn, payload) => void packets.push({ address: conn.remoteAddress, payload }),
    onClose: () => undefined,
  };

  async function start(options: ListenerOptions): Promise<number> {
    listeners = await listen([{ host: '127.0.0.1', port: 0 }], [], handler, options);
    return listeners.tcpAddresses[0]!.port;
  }
  async function client(port: number, chunks: Buffer[], gapMs = 0): Promise<Client> {
    const c = await dial(port, chunks, gapMs);
    clients.push(c);
    return c;
  }
  /** The address the listener reported for the packet carrying `payload`. */
  async function addressOf(payload: Buffer): Promise<string> {
    await waitFor('the packet', () => packets.some((p) => p.payload.equals(payload)));
    return packets.find((p) => p.payload.equals(payload))!.address;
  }

  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    await listeners?.close();
    listeners = undefined;
    packets.length = 0;
  });

  const trustLoopback = (mode: 'optional' | 'required') => ({
    proxy: { mode, trusted: parseCidrList('127.0.0.0/8') },
  });

  describe('PROXY protocol from a trusted peer', () => {
    it('uses the v2 IPv4 source address, the header split across many reads', async () => {
      const port = await start(trustLoopback('optional'));
      const payload = randomBytes(16);
      const bytes = Buffer.concat([
        v2Header(1, { v4: [198, 51, 100, 7], port: 40000 }),
        intermediate(payload),
      ]);
      // One byte per read through the header and into the transport's, then the rest.
      const chunks = [...Array.from({ length: 34 }, (_, i) => bytes.subarray(i, i + 1)), bytes.subarray(34)];
      await client(port, chunks, 3);
      expect(await addressOf(payload)).toBe('198.51.100.7');
    });

    it('uses the v2 IPv6 source address', async () => {
      const port = await start(trustLoopback('required'));
      const payload = randomBytes(8);
      await client(port, [
        v2Header(1, { v6: '20010db8000000000000000000000007', port: 1 }),
        intermediate(payload),
      ]);
      expect(await addressOf(payload)).toBe('2001:db8::7');
    });

    it('uses the v1 source address (TCP4 and TCP6)', async () => {
      const port = await start(trustLoopback('optional'));
      const four = randomBytes(8);
      const six = randomBytes(8);
      await client(port, [Buffer.from('PROXY TCP4 203.0.113.9 127.0.0.1 5000 443\r\n'), intermediate(four)]);
      await client(
        port,
        [
          Buffer.from('PROXY TCP6 2001:db8::9 ::1 5000 443'),
          Buffer.from('\r'),
          Buffer.from('\n'),
          intermediate(six),
        ],
        10,
      );
      expect(await addressOf(four)).toBe('203.0.113.9');
      expect(await addressOf(six)).toBe('2001:db8::9');
    });

    it('keeps the socket address for a v2 LOCAL header and, in optional mode, without a header', async () => {
      const port = await start(trustLoopback('optional'));
      const local = randomBytes(8);
      const none = randomBytes(8);
      await client(port, [Buffer.concat([v2Header(0), intermediate(local)])]);
      await client(port, [intermediate(none)]);
      expect(await addressOf(local)).toBe('127.0.0.1');
      expect(await addressOf(none)).toBe('127.0.0.1');
    });

    it('closes a connection whose header is malformed', async () => {
      const port = await start(trustLoopback('optional'));
      const payload = randomBytes(8);
      const bad = await client(port, [
        Buffer.from('PROXY TCP4 198.51.100.7 nonsense 1 2\r\n'),
        intermediate(payload),
      ]);
      await bad.closed();
      const bin = await client(port, [
        Buffer.concat([V2_SIGNATURE, Buffer.from([0x21, 0x12, 0, 12]), Buffer.alloc(12)]),
      ]);
      await bin.closed();
      expect(packets).toHaveLength(0);
    });

    it('closes a connection without a header in required mode', async () => {
      const port = await start(trustLoopback('required'));
      const c = await client(port, [intermediate(randomBytes(8))]);
      await c.closed();
      expect(packets).toHaveLength(0);
    });

    it('closes a connection whose header does not complete in time', async () => {
      const port = await start({ ...trustLoopback('optional'), limits: { proxyHeaderTimeoutMs: 100 } });
      const started = Date.now();
      const c = await client(port, [Buffer.from('PROXY TCP4 198.51.100.7')]);
      await c.closed();
      expect(Date.now() - started).toBeLessThan(2000);
    });
  });

  describe('PROXY protocol from an untrusted peer', () => {
    const untrusted = (mode: 'optional' | 'required') => ({
      proxy: { mode, trusted: parseCidrList('10.0.0.0/8') },
    });

    it('does not honour the header in optional mode: it is no MTProto transport, so the connection closes', async () => {
      const port = await start(untrusted('optional'));
      const spoofed = await client(port, [
        Buffer.from('PROXY TCP4 198.51.100.7 127.0.0.1 1 443\r\n'),
        intermediate(randomBytes(64)),
      ]);
      await spoofed.closed();
      expect(packets).toHaveLength(0);
      const plain = randomBytes(8);
      await client(port, [intermediate(plain)]);
      expect(await addressOf(plain)).toBe('127.0.0.1');
    });

    it('closes every connection at once in required mode', async () => {
      const port = await start(untrusted('required'));
      const c = await client(port, [
        Buffer.concat([v2Header(1, { v4: [198, 51, 100, 7], port: 1 }), intermediate(randomBytes(8))]),
      ]);
      await c.closed();
      expect(c.received()).toHaveLength(0);
      expect(packets).toHaveLength(0);
    });

    it('reads no header at all when PROXY is off', async () => {
      const port = await start({});
      const c = await client(port, [v2Header(1, { v4: [198, 51, 100, 7], port: 1 }), randomBytes(64)]);
      await c.closed();
      expect(packets).toHaveLength(0);
    });
  });

  describe('connections per client address', () => {
    /** A -429 transport error in the intermediate framing: length 4, then int32 LE -429. */
    const TOO_MANY_INTERMEDIATE = Buffer.from([4, 0, 0, 0, 0x53, 0xfe, 0xff, 0xff]);

    it('answers -429 over the limit, counting the address the PROXY header names', async () => {
      const port = await start({ ...trustLoopback('optional'), limits: { maxConnectionsPerAddress: 2 } });
      const from = (v4: number[], payload: Buffer) =>
        client(port, [Buffer.concat([v2Header(1, { v4, port: 1 }), intermediate(payload)])]);
      const a = randomBytes(8);
      const b = randomBytes(8);
      const first = await from([203, 0, 113, 5], a);
      await from([203, 0, 113, 5], b);
      expect(await addressOf(a)).toBe('203.0.113.5');
      expect(await addressOf(b)).toBe('203.0.113.5');

      const third = randomBytes(8);
      const refused = await from([203, 0, 113, 5], third);
      await refused.closed();
      expect(refused.received().equals(TOO_MANY_INTERMEDIATE)).toBe(true);
      expect(refused.received().readInt32LE(4)).toBe(-429);
      expect(packets.some((p) => p.payload.equals(third))).toBe(false);

      // Another address (the same balancer peer) is not affected.
      const other = randomBytes(8);
      await from([203, 0, 113, 6], other);
      expect(await addressOf(other)).toBe('203.0.113.6');

      // A closed connection frees its place.
      const before = listeners!.connections;
      first.socket.destroy();
      await waitFor('the close to reach the listener', () => listeners!.connections < before);
      const again = randomBytes(8);
      await from([203, 0, 113, 5], again);
      expect(await addressOf(again)).toBe('203.0.113.5');
    });

    it('answers -429 in the framing the client chose (abridged), by socket address without PROXY', async () => {
      const port = await start({ limits: { maxConnectionsPerAddress: 1 } });
      const ok = randomBytes(8);
      await client(port, [Buffer.concat([Buffer.from([0xef, 2]), ok])]);
      expect(await addressOf(ok)).toBe('127.0.0.1');
      // The transport header arrives after a pause: the error waits for it to know the framing.
      const refused = await client(port, [Buffer.alloc(0), Buffer.from([0xef])], 50);
      await refused.closed();
      expect(refused.received().equals(Buffer.from([1, 0x53, 0xfe, 0xff, 0xff]))).toBe(true);
    });
  });
});
