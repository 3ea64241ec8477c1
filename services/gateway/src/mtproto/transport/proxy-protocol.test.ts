import { randomBytes } from 'node:crypto';
import {
  addressMatcher,
  normalizeAddress,
  parseCidrList,
  parseProxyHeader,
  PROXY_V2_MAX_BODY,
  ProxyHeaderReader,
  ProxyProtocolError,
  type ProxyRead,
} from './proxy-protocol';

const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** A v2 header written from the spec for the test: command 0 LOCAL / 1 PROXY, family/protocol byte. */
function v2(command: number, familyProtocol: number, body: Buffer, version = 2): Buffer {
  const head = Buffer.alloc(4);
  head[0] = (version << 4) | command;
  head[1] = familyProtocol;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([V2_SIGNATURE, head, body]);
}

function v2Inet4(src: number[], srcPort: number, tlvs = Buffer.alloc(0)): Buffer {
  const body = Buffer.alloc(12);
  Buffer.from(src).copy(body, 0);
  Buffer.from([10, 0, 0, 1]).copy(body, 4);
  body.writeUInt16BE(srcPort, 8);
  body.writeUInt16BE(443, 10);
  return v2(1, 0x11, Buffer.concat([body, tlvs]));
}

function v2Inet6(src: string, srcPort: number): Buffer {
  const body = Buffer.alloc(36);
  Buffer.from(src, 'hex').copy(body, 0);
  body.writeUInt16BE(srcPort, 32);
  body.writeUInt16BE(443, 34);
  return v2(1, 0x21, body);
}

/** Feeds `bytes` to a reader in pieces of `size`; the outcome and how many pushes it took. */
function readInPieces(bytes: Buffer, size: number, required = false): ProxyRead | undefined {
  const reader = new ProxyHeaderReader(required);
  for (let i = 0; i < bytes.length; i += size) {
    const out = reader.push(bytes.subarray(i, i + size));
    if (out) {
      // What the reader had not consumed plus what was never pushed is the transport's input.
      return { header: out.header, rest: Buffer.concat([out.rest, bytes.subarray(i + size)]) };
    }
  }
  return undefined;
}

const MTPROTO = Buffer.concat([Buffer.alloc(4, 0xee), randomBytes(40)]);

describe('PROXY protocol v1', () => {
  it('reads TCP4 and TCP6 source addresses', () => {
    const four = Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 51234 443\r\n');
    expect(parseProxyHeader(Buffer.concat([four, MTPROTO]))).toEqual({
      header: { version: 1, command: 'proxy', source: { address: '198.51.100.7', port: 51234 } },
      length: four.length,
    });
    const six = Buffer.from('PROXY TCP6 2001:DB8:0:0::7 2001:db8::1 65535 443\r\n');
    expect(parseProxyHeader(six)?.header?.source).toEqual({ address: '2001:db8::7', port: 65535 });
    const mapped = Buffer.from('PROXY TCP6 ::ffff:203.0.113.9 ::1 1 443\r\n');
    expect(parseProxyHeader(mapped)?.header?.source?.address).toBe('203.0.113.9');
  });

  it('treats UNKNOWN as "keep the socket address", whatever follows it', () => {
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'))).toEqual({
      header: { version: 1, command: 'local' },
      length: 15,
    });
    expect(parseProxyHeader(Buffer.from('PROXY UNKNOWN ffff:f::1 ffff:f::2 1 2\r\nxyz'))?.header).toEqual({
      version: 1,
      command: 'local',
    });
  });

  it.each([
    ['a wrong protocol', 'PROXY UDP4 198.51.100.7 10.0.0.1 1 2\r\n'],
    ['an IPv6 address under TCP4', 'PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n'],
    ['an IPv4 address under TCP6', 'PROXY TCP6 198.51.100.7 ::1 1 2\r\n'],
    ['a port over 65535', 'PROXY TCP4 198.51.100.7 10.0.0.1 65536 2\r\n'],
    ['a port with a leading zero', 'PROXY TCP4 198.51.100.7 10.0.0.1 080 2\r\n'],
    ['two spaces', 'PROXY TCP4  198.51.100.7 10.0.0.1 1 2\r\n'],
    ['a missing field', 'PROXY TCP4 198.51.100.7 10.0.0.1 1\r\n'],
    ['a bare LF', 'PROXY TCP4 198.51.100.7 10.0.0.1 1 2\n'],
    ['a CR not followed by LF', 'PROXY TCP4 198.51.100.7\r10.0.0.1 1 2\r\n'],
    ['no CRLF within 107 bytes', `PROXY TCP4 ${'1'.repeat(120)}`],
  ])('rejects %s', (_what, line) => {
    expect(() => parseProxyHeader(Buffer.from(line, 'latin1'))).toThrow(ProxyProtocolError);
  });
});

describe('PROXY protocol v2', () => {
  it('reads an IPv4 source, skipping TLVs', () => {
    const tlv = Buffer.from([0x04, 0x00, 0x03, 0x61, 0x62, 0x63]); // PP2_TYPE_NOOP, 3 bytes
    const header = v2Inet4([198, 51, 100, 7], 40000, tlv);
    expect(parseProxyHeader(Buffer.concat([header, MTPROTO]))).toEqual({
      header: { version: 2, command: 'proxy', source: { address: '198.51.100.7', port: 40000 } },
      length: header.length,
    });
  });

  it('reads an IPv6 source in canonical form (IPv4-mapped as IPv4)', () => {
    expect(parseProxyHeader(v2Inet6('20010db8000000000000000000000042', 5))?.header?.source).toEqual({
      address: '2001:db8::42',
      port: 5,
    });
    expect(parseProxyHeader(v2Inet6('00000000000000000000ffffcb007109', 6))?.header?.source).toEqual({
      address: '203.0.113.9',
      port: 6,
    });
  });

  it('keeps the socket address for LOCAL, UNSPEC and UNIX', () => {
    const local = { version: 2, command: 'local' };
    expect(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0)))?.header).toEqual(local);
    // LOCAL with an address block: the block is skipped, not used.
    expect(parseProxyHeader(v2(0, 0x11, Buffer.alloc(12, 7)))).toEqual({ header: local, length: 28 });
    expect(parseProxyHeader(v2(1, 0x00, Buffer.alloc(0)))?.header).toEqual(local);
    expect(parseProxyHeader(v2(1, 0x31, Buffer.alloc(216)))?.header).toEqual(local);
  });

  it.each([
    ['version 1 in the binary form', v2(1, 0x11, Buffer.alloc(12), 1)],
    ['an unknown command', v2(2, 0x11, Buffer.alloc(12))],
    ['a datagram family', v2(1, 0x12, Buffer.alloc(12))],
    ['an unknown family', v2(1, 0x41, Buffer.alloc(12))],
    ['a short IPv4 block', v2(1, 0x11, Buffer.alloc(11))],
    ['a short IPv6 block', v2(1, 0x21, Buffer.alloc(35))],
    ['a header over the size limit', v2(1, 0x11, Buffer.alloc(PROXY_V2_MAX_BODY + 1))],
  ])('rejects %s', (_what, bytes) => {
    expect(() => parseProxyHeader(bytes)).toThrow(ProxyProtocolError);
  });

  it('rejects an oversized header from its first 16 bytes, before buffering it', () => {
    const head = v2(1, 0x11, Buffer.alloc(PROXY_V2_MAX_BODY + 1)).subarray(0, 16);
    expect(() => new ProxyHeaderReader(false).push(head)).toThrow(ProxyProtocolError);
  });
});

describe('reading the start of a connection', () => {
  const headers: Array<[string, Buffer, string | undefined]> = [
    ['v1 TCP4', Buffer.from('PROXY TCP4 198.51.100.7 10.0.0.1 51234 443\r\n'), '198.51.100.7'],
    ['v1 UNKNOWN', Buffer.from('PROXY UNKNOWN\r\n'), undefined],
    ['v2 TCP4', v2Inet4([198, 51, 100, 7], 1), '198.51.100.7'],
    ['v2 TCP6', v2Inet6('20010db8000000000000000000000042', 1), '2001:db8::42'],
    ['v2 LOCAL', v2(0, 0x00, Buffer.alloc(0)), undefined],
  ];

  it.each(headers)(
    '%s split at every size gives the same header and leaves the rest',
    (_n, header, source) => {
      const bytes = Buffer.concat([header, MTPROTO]);
      for (let size = 1; size <= bytes.length; size++) {
        const out = readInPieces(bytes, size);
        expect(out?.header?.source?.address).toBe(source);
        expect(out?.rest.equals(MTPROTO)).toBe(true);
      }
    },
  );

  it('waits while the bytes could still become a header', () => {
    const reader = new ProxyHeaderReader(false);
    expect(reader.push(Buffer.from('PRO'))).toBeUndefined();
    expect(reader.push(Buffer.from('XY '))).toBeUndefined();
    expect(new ProxyHeaderReader(false).push(V2_SIGNATURE.subarray(0, 11))).toBeUndefined();
    expect(new ProxyHeaderReader(false).push(v2Inet4([1, 2, 3, 4], 1).subarray(0, 27))).toBeUndefined();
  });

  it('passes every MTProto transport start on untouched when the header is optional', () => {
    const starts = [
      Buffer.from([0xef, 0x0a]),
      Buffer.alloc(8, 0xee),
      Buffer.alloc(8, 0xdd),
      Buffer.from('2800000000000000', 'hex'), // full: length 40, seqno 0
      Buffer.from('0d0a0d0a00', 'hex'), // diverges from the v2 signature at its sixth byte
      Buffer.from('PROXX'),
    ];
    for (const start of starts) {
      const bytes = Buffer.concat([start, randomBytes(64)]);
      const out = readInPieces(bytes, 1);
      expect(out).toEqual({ header: undefined, rest: bytes });
    }
  });

  it('closes a connection without a header when one is required', () => {
    expect(() => new ProxyHeaderReader(true).push(Buffer.alloc(8, 0xee))).toThrow(ProxyProtocolError);
    expect(readInPieces(Buffer.concat([v2Inet4([1, 2, 3, 4], 1), MTPROTO]), 3, true)?.header?.command).toBe(
      'proxy',
    );
  });
});

describe('trusted peers', () => {
  it('parses CIDR lists and single hosts, and rejects nonsense', () => {
    expect(parseCidrList(' 127.0.0.0/8 , 2001:db8::/32,192.0.2.7')).toEqual([
      { address: '127.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '2001:db8::', prefix: 32, family: 'ipv6' },
      { address: '192.0.2.7', prefix: 32, family: 'ipv4' },
    ]);
    expect(parseCidrList('')).toEqual([]);
    expect(() => parseCidrList('10.0.0.0/33')).toThrow('prefix');
    expect(() => parseCidrList('lb.example/24')).toThrow('not an address');
    expect(() => parseCidrList('10.0.0.0/8,')).toThrow('not an address');
  });

  it('matches IPv4 and IPv6 peers, never a non-address', () => {
    const trusted = addressMatcher(parseCidrList('127.0.0.0/8,2001:db8::/32'));
    expect(trusted('127.0.0.1')).toBe(true);
    expect(trusted(normalizeAddress('::ffff:127.0.0.5'))).toBe(true);
    expect(trusted('2001:db8:1::1')).toBe(true);
    expect(trusted('128.0.0.1')).toBe(false);
    expect(trusted('2001:db9::1')).toBe(false);
    expect(trusted('')).toBe(false);
    expect(addressMatcher([])('127.0.0.1')).toBe(false);
  });

  it('normalizes addresses to one spelling', () => {
    expect(normalizeAddress('::FFFF:10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeAddress('2001:0DB8::0001')).toBe('2001:db8::1');
    expect(normalizeAddress('10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeAddress('')).toBe('');
  });
});
