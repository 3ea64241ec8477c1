import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { TransportConnection, type ByteStream, type PacketHandler } from './connection';
import { MAX_FRAME, TransportError, createFraming, crc32, type FramingKind } from './framing';

/** A client's side of a transport, written from the spec for the test. */
function clientFraming(kind: FramingKind, obfuscated: boolean) {
  const tags = { abridged: 0xefefefef, intermediate: 0xeeeeeeee, padded: 0xdddddddd, full: 0 };
  const framing = createFraming(kind);
  if (!obfuscated) {
    const preamble =
      kind === 'abridged'
        ? Buffer.from([0xef])
        : kind === 'full'
          ? Buffer.alloc(0)
          : Buffer.alloc(4, kind === 'intermediate' ? 0xee : 0xdd);
    return { preamble, out: (b: Buffer) => b, in: (b: Buffer) => b, framing };
  }
  const init = randomBytes(64);
  init[0] = 0x55; // not 0xef
  init.writeUInt32LE(1, 4); // second word non-zero
  init.writeUInt32LE(tags[kind], 56);
  init.writeInt16LE(2, 60);
  const enc = createCipheriv('aes-256-ctr', init.subarray(8, 40), init.subarray(40, 56));
  const encrypted = enc.update(init);
  const preamble = Buffer.concat([init.subarray(0, 56), encrypted.subarray(56, 64)]);
  const rev = Buffer.from(init.subarray(8, 56)).reverse();
  const dec = createDecipheriv('aes-256-ctr', rev.subarray(0, 32), rev.subarray(32, 48));
  return { preamble, out: (b: Buffer) => enc.update(b), in: (b: Buffer) => dec.update(b), framing };
}

/** A connection over a fake stream; `writev`: the stream writes pieces as TCP sockets do. */
function harness(allowPlain = true, writev = false) {
  const written: Buffer[] = [];
  const packets: Array<{ payload: Buffer; quickAck: boolean }> = [];
  let closed = false;
  const stream: ByteStream = {
    write: (d) => void written.push(d),
    ...(writev ? { writev: (chunks: Buffer[]) => void written.push(...chunks) } : {}),
    pending: 0,
    close: () => void (closed = true),
    remoteAddress: '127.0.0.9',
    remotePort: 1,
  };
  const handler: PacketHandler = {
    onPacket: (_c, payload, quickAck) => void packets.push({ payload, quickAck }),
    onClose: () => undefined,
  };
  const conn = new TransportConnection(stream, handler, allowPlain);
  return { conn, written, packets, isClosed: () => closed };
}

const KINDS: FramingKind[] = ['abridged', 'intermediate', 'padded', 'full'];

describe('MTProto transports', () => {
  // Obfuscation wraps abridged and (padded) intermediate only: its header has no tag for full.
  it.each(
    KINDS.flatMap((k): Array<[FramingKind, boolean]> =>
      k === 'full'
        ? [[k, false]]
        : [
            [k, false],
            [k, true],
          ],
    ),
  )('%s (obfuscated: %s) carries packets both ways, split anywhere', (kind, obfuscated) => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 50 }),
        fc.boolean(),
        (sizes, chunk, writev) => {
          const client = clientFraming(kind, obfuscated);
          const h = harness(true, writev);
          const payloads = sizes.map((n) => randomBytes(n * 4));
          const bytes = Buffer.concat([
            client.preamble,
            client.out(Buffer.concat(payloads.map((p) => client.framing.encode(p)))),
          ]);
          for (let i = 0; i < bytes.length; i += chunk) h.conn.receive(bytes.subarray(i, i + chunk));
          // Padded intermediate appends up to 15 random bytes; the MTProto layer ignores them.
          expect(h.packets).toHaveLength(payloads.length);
          h.packets.forEach((p, i) =>
            expect(p.payload.subarray(0, payloads[i]!.length).equals(payloads[i]!)).toBe(true),
          );
          expect(h.conn.kind).toBe(kind);
          const answers = [randomBytes(64), randomBytes(4096)];
          for (const a of answers) h.conn.send(a);
          const back = client.framing.push(client.in(Buffer.concat(h.written)));
          // Padded intermediate appends up to 15 random bytes after the payload.
          expect(back).toHaveLength(2);
          back.forEach((b, i) =>
            expect(b.payload.subarray(0, answers[i]!.length).equals(answers[i]!)).toBe(true),
          );
        },
      ),
      { numRuns: 15 },
    );
  });

  it('reports a quick-ack request (top bit of the length)', () => {
    const h = harness();
    const payload = randomBytes(8);
    const head = Buffer.alloc(4);
    head.writeUInt32LE((payload.length | 0x80000000) >>> 0);
    h.conn.receive(Buffer.concat([Buffer.alloc(4, 0xee), head, payload]));
    expect(h.packets[0]).toMatchObject({ quickAck: true });
  });

  it('closes on a bad CRC, an oversized frame, HTTP, or a plain transport on WebSocket', () => {
    const full = harness();
    const frame = createFraming('full').encode(randomBytes(16));
    frame[10] = frame[10]! ^ 1;
    full.conn.receive(frame);
    expect(full.isClosed()).toBe(true);

    const big = harness();
    big.conn.receive(Buffer.from([0xef, 0x7f, 0xff, 0xff, 0xff]));
    expect(big.isClosed()).toBe(true);

    const http = harness();
    http.conn.receive(Buffer.from('POST /api HTTP/1.1\r\n'));
    expect(http.isClosed()).toBe(true);

    const ws = harness(false);
    ws.conn.receive(Buffer.concat([Buffer.from([0xef]), randomBytes(63)]));
    expect(ws.isClosed()).toBe(true);
  });

  it('sends transport errors as a 4-byte negative code', () => {
    const h = harness();
    h.conn.receive(Buffer.alloc(4, 0xee));
    h.conn.fail(-404);
    const frame = Buffer.concat(h.written);
    expect(frame.readUInt32LE(0)).toBe(4);
    expect(frame.readInt32LE(4)).toBe(-404);
    expect(h.isClosed()).toBe(true);
  });

  it.each(KINDS)('%s frames the same bytes whole or in pieces', (kind) => {
    const payload = randomBytes(1024);
    const [a, b] = [createFraming(kind), createFraming(kind)];
    for (let i = 0; i < 3; i++) {
      const whole = a.encode(payload);
      const pieces = Buffer.concat(b.encodeChunks(payload));
      // Padded intermediate's random padding differs; the length and payload do not.
      if (kind === 'padded')
        expect(pieces.subarray(4, 4 + 1024).equals(whole.subarray(4, 4 + 1024))).toBe(true);
      else expect(pieces.equals(whole)).toBe(true);
    }
  });

  it('computes the IEEE CRC32', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  describe('reassembly', () => {
    const cut = (stream: Buffer, sizes: () => number): Buffer[] => {
      const out: Buffer[] = [];
      for (let at = 0; at < stream.length;) {
        const n = sizes();
        out.push(stream.subarray(at, at + n));
        at += n;
      }
      return out;
    };

    it.each(KINDS)('%s: a 1 MiB frame in 64-byte pieces is reassembled in linear time', (kind) => {
      const payload = randomBytes(MAX_FRAME - 1024);
      const enc = createFraming(kind);
      const stream = Buffer.concat([enc.encode(payload), enc.encode(payload)]);
      const f = createFraming(kind);
      // CPU time of this process, not wall time: on a loaded machine (the stack, other workers)
      // wall time once passed 500 ms for the linear version; CPU time only grows with the work.
      const started = process.cpuUsage();
      const frames = cut(stream, () => 64).flatMap((c) => f.push(c));
      const used = process.cpuUsage(started);
      const ms = (used.user + used.system) / 1000;
      expect(frames).toHaveLength(2);
      for (const fr of frames) expect(fr.payload.subarray(0, payload.length).equals(payload)).toBe(true);
      // The quadratic version took 3–10 s; linear is tens of milliseconds.
      expect(ms).toBeLessThan(500);
    });

    it.each(KINDS)('%s: frames come out the same whatever the chunking, each a copy of its own', (kind) => {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 6 }),
          fc.integer({ min: 1, max: 97 }),
          (lengths, piece) => {
            const enc = createFraming(kind);
            const payloads = lengths.map((n) => randomBytes(n * 4));
            const stream = Buffer.concat(payloads.map((p) => enc.encode(p)));
            const f = createFraming(kind);
            const chunks = cut(Buffer.from(stream), () => piece);
            const frames = chunks.flatMap((c) => f.push(c));
            for (const c of chunks) c.fill(0); // a frame must not alias what the socket handed over
            expect(frames.map((x) => x.payload.subarray(0, payloads[frames.indexOf(x)]!.length))).toEqual(
              payloads,
            );
          },
        ),
        { numRuns: 50 },
      );
    });

    it('never buffers more than a frame: a header promising more is refused at once', () => {
      const f = createFraming('intermediate');
      const head = Buffer.alloc(4);
      head.writeUInt32LE(MAX_FRAME + 4);
      expect(() => f.push(head)).toThrow(TransportError);
      const ok = createFraming('abridged');
      // A frame of the largest size, one byte short: everything stays buffered, nothing more.
      const frame = ok.encode(Buffer.alloc(MAX_FRAME - (MAX_FRAME % 4)));
      expect(ok.push(frame.subarray(0, frame.length - 1))).toEqual([]);
      expect(ok.push(frame.subarray(frame.length - 1))).toHaveLength(1);
    });
  });
});
