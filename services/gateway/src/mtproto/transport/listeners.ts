/**
 * The gateway's listening sockets: MTProto over TCP on every configured address and MTProto over
 * WebSocket (binary frames, always obfuscated, as web clients speak it).
 *
 * TCP connections from trusted load balancers may start with a PROXY protocol header
 * (proxy-protocol.ts); the address it names is then the connection's remoteAddress. Each client
 * address (after PROXY) may hold a bounded number of connections; one over the bound is answered
 * with transport error -429 in its own framing and closed.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { HostPort } from '../../../../shared/src/config/env';
import { TransportConnection, type ByteStream, type PacketHandler } from './connection';
import { MAX_FRAME } from './framing';
import {
  addressMatcher,
  normalizeAddress,
  ProxyHeaderReader,
  ProxyProtocolError,
  type Cidr,
  type ProxyMode,
} from './proxy-protocol';

/** Bounds on what clients can make one gateway process hold. */
export interface ListenerLimits {
  /** Connections one gateway process holds at most; beyond it new sockets are closed at once. */
  maxConnections: number;
  /** Concurrent connections of one client address; beyond it: transport error -429, then close. */
  maxConnectionsPerAddress: number;
  /** A connection that has not finished a transport header in this time is closed. */
  handshakeTimeoutMs: number;
  /** A connection whose PROXY header is not complete in this time is closed. */
  proxyHeaderTimeoutMs: number;
  /** A connection silent for this long is closed (clients ping well within it). */
  idleTimeoutMs: number;
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  maxConnections: 50_000,
  maxConnectionsPerAddress: 1000,
  handshakeTimeoutMs: 30_000,
  proxyHeaderTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
};

/** PROXY protocol on the TCP listeners (TERN_GATEWAY_PROXY_PROTOCOL / _TRUSTED). */
export interface ProxyProtocolOptions {
  mode: ProxyMode;
  /** Peers whose header is honoured; from anyone else it is not (closed in `required` mode). */
  trusted: readonly Cidr[];
}

export interface ListenerOptions {
  limits?: Partial<ListenerLimits>;
  proxy?: ProxyProtocolOptions;
}

/** The transport error for too many connections (the spec's flood error). */
const TOO_MANY = -429;

/** Ignores everything: the handler of refused connections, which the MTProto layer never sees. */
const REFUSED: PacketHandler = { onPacket: () => undefined, onClose: () => undefined };

export interface Listeners {
  close(): Promise<void>;
  readonly connections: number;
  /** Where the TCP listeners are bound (port 0 in the configuration becomes the real port). */
  readonly tcpAddresses: HostPort[];
}

/** Open connections per client address. */
class AddressCounts {
  private readonly counts = new Map<string, number>();
  constructor(private readonly max: number) {}

  /** Counts one more connection of `address`; false (nothing counted) when it already has `max`. */
  acquire(address: string): boolean {
    const n = this.counts.get(address) ?? 0;
    if (n >= this.max) return false;
    this.counts.set(address, n + 1);
    return true;
  }

  release(address: string): void {
    const n = this.counts.get(address) ?? 0;
    if (n <= 1) this.counts.delete(address);
    else this.counts.set(address, n - 1);
  }
}

export async function listen(
  tcp: readonly HostPort[],
  ws: readonly HostPort[],
  handler: PacketHandler,
  options: ListenerOptions = {},
): Promise<Listeners> {
  const limits: ListenerLimits = { ...DEFAULT_LISTENER_LIMITS, ...options.limits };
  const proxyMode = options.proxy?.mode ?? 'off';
  const isTrusted = addressMatcher(options.proxy?.trusted ?? []);
  const live = new Set<{ close(): void }>();
  const perAddress = new AddressCounts(limits.maxConnectionsPerAddress);
  const servers: Server[] = [];
  const wsServers: WebSocketServer[] = [];

  const track = (closeSocket: () => void) => {
    const entry = { close: closeSocket };
    live.add(entry);
    return () => live.delete(entry);
  };

  /**
   * A transport connection for the client `stream.remoteAddress`, counted against that address's
   * limit (over it, the connection only answers -429). Returns it and what uncounts it.
   */
  const open = (stream: ByteStream, allowPlain: boolean) => {
    const counted = perAddress.acquire(stream.remoteAddress);
    const conn = new TransportConnection(stream, counted ? handler : REFUSED, allowPlain);
    if (!counted) conn.refuse(TOO_MANY);
    const release = () => {
      if (counted) perAddress.release(stream.remoteAddress);
    };
    return { conn, release };
  };

  for (const addr of tcp) {
    const server = createServer({ noDelay: true }, (socket: Socket) => {
      if (live.size >= limits.maxConnections) {
        socket.destroy();
        return;
      }
      const peer = normalizeAddress(socket.remoteAddress ?? '');
      const trusted = proxyMode !== 'off' && isTrusted(peer);
      if (proxyMode === 'required' && !trusted) {
        socket.destroy();
        return;
      }
      const untrack = track(() => socket.destroy());
      let conn: TransportConnection | undefined;
      let release: () => void = () => undefined;
      let proxyTimer: NodeJS.Timeout | undefined;
      let headerTimer: NodeJS.Timeout | undefined;

      const start = (address: string, port: number, first: Buffer | undefined) => {
        const stream: ByteStream = {
          write: (d) => void socket.write(d),
          writev: (chunks) => {
            socket.cork();
            for (const c of chunks) socket.write(c);
            socket.uncork();
          },
          get pending() {
            return socket.writableLength;
          },
          close: () => socket.destroy(),
          remoteAddress: address,
          remotePort: port,
        };
        const opened = open(stream, true);
        conn = opened.conn;
        release = opened.release;
        const c = conn;
        headerTimer = setTimeout(() => {
          if (c.kind === undefined) c.close();
        }, limits.handshakeTimeoutMs);
        if (first && first.length > 0) c.receive(first);
      };

      const reader = trusted ? new ProxyHeaderReader(proxyMode === 'required') : undefined;
      if (reader) {
        proxyTimer = setTimeout(() => socket.destroy(), limits.proxyHeaderTimeoutMs);
      } else {
        start(peer, socket.remotePort ?? 0, undefined);
      }

      socket.setTimeout(limits.idleTimeoutMs, () => (conn ? conn.close() : socket.destroy()));
      socket.on('data', (d: Buffer) => {
        if (conn) {
          conn.receive(d);
          return;
        }
        if (!reader || socket.destroyed) return;
        let read;
        try {
          read = reader.push(d);
        } catch (err) {
          if (!(err instanceof ProxyProtocolError)) throw err;
          socket.destroy();
          return;
        }
        if (!read) return;
        clearTimeout(proxyTimer);
        const source = read.header?.command === 'proxy' ? read.header.source : undefined;
        start(source?.address ?? peer, source?.port ?? socket.remotePort ?? 0, read.rest);
      });
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        clearTimeout(proxyTimer);
        clearTimeout(headerTimer);
        untrack();
        release();
        conn?.closedByPeer();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(addr.port, addr.host, () => resolve());
    });
    servers.push(server);
  }

  for (const addr of ws) {
    const server = new WebSocketServer({
      host: addr.host,
      port: addr.port,
      maxPayload: MAX_FRAME + 64,
      perMessageDeflate: false,
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.once('listening', () => resolve());
    });
    server.on('connection', (socket: WebSocket, req) => {
      if (live.size >= limits.maxConnections) {
        socket.terminate();
        return;
      }
      const stream: ByteStream = {
        write: (d) => socket.send(d, { binary: true }),
        get pending() {
          return socket.bufferedAmount;
        },
        close: () => socket.terminate(),
        remoteAddress: normalizeAddress(req.socket.remoteAddress ?? ''),
        remotePort: req.socket.remotePort ?? 0,
      };
      const { conn, release } = open(stream, false);
      const untrack = track(() => socket.terminate());
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) conn.close();
        else conn.receive(data);
      });
      socket.on('error', () => socket.terminate());
      socket.on('close', () => {
        untrack();
        release();
        conn.closedByPeer();
      });
    });
    wsServers.push(server);
  }

  return {
    get connections() {
      return live.size;
    },
    tcpAddresses: servers.map((s) => {
      const a = s.address() as AddressInfo;
      return { host: a.address, port: a.port };
    }),
    async close() {
      await Promise.all([
        ...servers.map((s) => new Promise<void>((r) => s.close(() => r()))),
        ...wsServers.map((s) => new Promise<void>((r) => s.close(() => r()))),
      ]);
      for (const c of live) c.close();
    },
  };
}
