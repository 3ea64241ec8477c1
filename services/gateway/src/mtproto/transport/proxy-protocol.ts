/**
 * The PROXY protocol (HAProxy's spec, versions 1 and 2): a load balancer that terminates the
 * client's TCP connection prepends one header naming the client's address, so the gateway sees
 * the real client instead of the balancer.
 *
 * - v1 is one text line, "PROXY TCP4|TCP6|UNKNOWN <src> <dst> <srcport> <dstport>\r\n", at most
 *   107 bytes;
 * - v2 is binary: a 12-byte signature, version/command, family/protocol, a big-endian length and
 *   then the addresses (and optional TLVs, which Tern ignores).
 *
 * A header is honoured only from trusted peers (the balancers' addresses, TERN_GATEWAY_PROXY_TRUSTED):
 * anyone else could claim any address, and an obfuscated2 transport header is random bytes that
 * may, very rarely, begin like a PROXY header.
 */
import { BlockList, isIPv4, isIPv6, SocketAddress } from 'node:net';

export type ProxyMode = 'off' | 'optional' | 'required';

/** A malformed (or, where one is required, missing) header: the connection is closed. */
export class ProxyProtocolError extends Error {
  override readonly name = 'ProxyProtocolError';
}

/** What a complete header says. */
export interface ProxyHeader {
  version: 1 | 2;
  /**
   * `proxy`: `source` is the client's address. `local`: the connection is the balancer's own
   * (v2 LOCAL, e.g. a health check), or it carries no usable address (v1 UNKNOWN, v2 UNSPEC or
   * UNIX): the socket's own address stays.
   */
  command: 'proxy' | 'local';
  source?: { address: string; port: number };
}

/** The result of reading the start of a connection: its header (if any) and the bytes after it. */
export interface ProxyRead {
  header: ProxyHeader | undefined;
  rest: Buffer;
}

const V1_SIGNATURE = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** The v1 spec's bound: a line is at most 107 bytes including CRLF. */
export const PROXY_V1_MAX_LENGTH = 107;
/** v2: the fixed 16 bytes plus at most this many bytes of addresses and TLVs (Tern's own bound). */
export const PROXY_V2_MAX_BODY = 2048;

type Match = 'yes' | 'maybe' | 'no';

/** Whether `buf` starts with `sig` (`maybe`: too short to tell, but so far it does). */
function startsWith(buf: Buffer, sig: Buffer): Match {
  const n = Math.min(buf.length, sig.length);
  if (!buf.subarray(0, n).equals(sig.subarray(0, n))) return 'no';
  return n === sig.length ? 'yes' : 'maybe';
}

/**
 * Parses a PROXY header at the start of `buf`. Returns undefined while more bytes are needed,
 * `{ header: undefined }` when the bytes are not a PROXY header at all (the caller decides whether
 * that is allowed), and throws ProxyProtocolError for a malformed header.
 */
export function parseProxyHeader(
  buf: Buffer,
): { header: ProxyHeader | undefined; length: number } | undefined {
  const v1 = startsWith(buf, V1_SIGNATURE);
  const v2 = startsWith(buf, V2_SIGNATURE);
  if (v1 === 'yes') return parseV1(buf);
  if (v2 === 'yes') return parseV2(buf);
  if (v1 === 'no' && v2 === 'no') return { header: undefined, length: 0 };
  return undefined;
}

function parseV1(buf: Buffer): { header: ProxyHeader; length: number } | undefined {
  const window = buf.subarray(0, PROXY_V1_MAX_LENGTH);
  const end = window.indexOf('\r\n', 0, 'latin1');
  if (end < 0) {
    if (buf.length >= PROXY_V1_MAX_LENGTH)
      throw new ProxyProtocolError('PROXY v1 line longer than 107 bytes');
    // A bare LF or any byte outside printable ASCII can never become a valid line.
    for (let i = 0; i < window.length; i++) {
      const b = window[i]!;
      if (b === 0x0d && i === window.length - 1) continue;
      if (b < 0x20 || b > 0x7e) throw new ProxyProtocolError('PROXY v1 line has a non-printable byte');
    }
    return undefined;
  }
  const line = window.subarray(0, end).toString('latin1');
  if (!/^[\x20-\x7e]*$/.test(line)) throw new ProxyProtocolError('PROXY v1 line has a non-printable byte');
  const length = end + 2;
  const parts = line.split(' ');
  // "PROXY UNKNOWN" may be followed by anything: the receiver ignores it.
  if (parts[1] === 'UNKNOWN') return { header: { version: 1, command: 'local' }, length };
  if (parts.length !== 6) throw new ProxyProtocolError(`PROXY v1 line "${line}" does not have six fields`);
  const [, proto, src, dst, srcPort, dstPort] = parts as [string, string, string, string, string, string];
  const isFamily = proto === 'TCP4' ? isIPv4 : proto === 'TCP6' ? isIPv6 : undefined;
  if (!isFamily) throw new ProxyProtocolError(`PROXY v1 protocol "${proto}" is not TCP4, TCP6 or UNKNOWN`);
  if (!isFamily(src) || !isFamily(dst)) throw new ProxyProtocolError(`PROXY v1 addresses are not ${proto}`);
  const port = v1Port(srcPort);
  v1Port(dstPort);
  return {
    header: { version: 1, command: 'proxy', source: { address: normalizeAddress(src), port } },
    length,
  };
}

function v1Port(s: string): number {
  if (!/^(0|[1-9]\d{0,4})$/.test(s) || Number(s) > 65535)
    throw new ProxyProtocolError(`PROXY v1 port "${s}" is not 0..65535`);
  return Number(s);
}

function parseV2(buf: Buffer): { header: ProxyHeader; length: number } | undefined {
  if (buf.length < 16) return undefined;
  const versionCommand = buf[12]!;
  if (versionCommand >> 4 !== 2) throw new ProxyProtocolError(`PROXY v2 version ${versionCommand >> 4}`);
  const command = versionCommand & 0x0f;
  if (command > 1) throw new ProxyProtocolError(`PROXY v2 command ${command}`);
  const familyProtocol = buf[13]!;
  const bodyLength = buf.readUInt16BE(14);
  if (bodyLength > PROXY_V2_MAX_BODY)
    throw new ProxyProtocolError(`PROXY v2 header of ${bodyLength} bytes is over ${PROXY_V2_MAX_BODY}`);
  const length = 16 + bodyLength;
  if (buf.length < length) return undefined;
  const body = buf.subarray(16, length);
  // LOCAL: the balancer's own connection (health checks); whatever follows is ignored.
  if (command === 0) return { header: { version: 2, command: 'local' }, length };
  switch (familyProtocol) {
    case 0x00: // UNSPEC: no address to use
      return { header: { version: 2, command: 'local' }, length };
    case 0x11: // TCP over IPv4: src 4, dst 4, src port 2, dst port 2
      if (body.length < 12) throw new ProxyProtocolError('PROXY v2 TCP4 block too short');
      return {
        header: {
          version: 2,
          command: 'proxy',
          source: { address: Array.from(body.subarray(0, 4)).join('.'), port: body.readUInt16BE(8) },
        },
        length,
      };
    case 0x21: // TCP over IPv6: src 16, dst 16, src port 2, dst port 2
      if (body.length < 36) throw new ProxyProtocolError('PROXY v2 TCP6 block too short');
      return {
        header: {
          version: 2,
          command: 'proxy',
          source: { address: ipv6FromBytes(body.subarray(0, 16)), port: body.readUInt16BE(32) },
        },
        length,
      };
    case 0x31: // a UNIX stream socket: no IP address to use
      if (body.length < 216) throw new ProxyProtocolError('PROXY v2 UNIX block too short');
      return { header: { version: 2, command: 'local' }, length };
    default:
      // Datagram families make no sense on a TCP listener; anything else the spec rejects.
      throw new ProxyProtocolError(`PROXY v2 family/protocol 0x${familyProtocol.toString(16)} not accepted`);
  }
}

function ipv6FromBytes(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return normalizeAddress(groups.join(':'));
}

/**
 * One spelling per address, so that limits and CIDR checks agree: IPv6 in its canonical form,
 * IPv4-mapped IPv6 (what a dual-stack socket reports for IPv4 peers) as plain IPv4.
 */
export function normalizeAddress(address: string): string {
  if (!isIPv6(address)) return address;
  const canonical = new SocketAddress({ address, family: 'ipv6' }).address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(canonical);
  return mapped ? mapped[1]! : canonical;
}

/**
 * Reads the start of one connection until its PROXY header is complete (or known to be absent),
 * bytes arriving in any pieces. Bounded in size by the spec's limits; the caller bounds it in time.
 */
export class ProxyHeaderReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly required: boolean) {}

  /** Returns the outcome once decided, undefined while more bytes are needed; throws ProxyProtocolError. */
  push(chunk: Buffer): ProxyRead | undefined {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const parsed = parseProxyHeader(this.buf);
    if (!parsed) return undefined;
    if (!parsed.header && this.required) throw new ProxyProtocolError('a PROXY header is required');
    const rest = this.buf.subarray(parsed.length);
    this.buf = Buffer.alloc(0);
    return { header: parsed.header, rest };
  }
}

/** A CIDR block as the settings give it. */
export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parses "10.0.0.0/8,2001:db8::/32,192.0.2.7" (a bare address is a single host); throws a readable message. */
export function parseCidrList(spec: string): Cidr[] {
  if (!spec.trim()) return [];
  return spec.split(',').map((part) => {
    const m = /^\s*([0-9a-fA-F.:]+)(?:\/(\d{1,3}))?\s*$/.exec(part);
    const family = m && isIPv4(m[1]!) ? 'ipv4' : m && isIPv6(m[1]!) ? 'ipv6' : undefined;
    if (!m || !family) throw new Error(`"${part.trim()}" is not an address or CIDR block`);
    const max = family === 'ipv4' ? 32 : 128;
    const prefix = m[2] === undefined ? max : Number(m[2]);
    if (prefix > max) throw new Error(`"${part.trim()}" has a prefix longer than ${max} bits`);
    return { address: m[1]!, prefix, family };
  });
}

/** A predicate telling whether a (normalized) peer address is inside one of the blocks. */
export function addressMatcher(cidrs: readonly Cidr[]): (address: string) => boolean {
  const list = new BlockList();
  for (const c of cidrs) list.addSubnet(c.address, c.prefix, c.family);
  return (address) => {
    if (isIPv4(address)) return list.check(address, 'ipv4');
    if (isIPv6(address)) return list.check(address, 'ipv6');
    return false;
  };
}
