/**
 * The gateway's listening sockets: MTProto over TCP on every configured address and MTProto over
 * WebSocket (binary frames, always obfuscated, as web clients speak it).
 */
import { createServer, type Server, type Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { HostPort } from '../../../../shared/src/config/env';
import { TransportConnection, type ByteStream, type PacketHandler } from './connection';
import { MAX_FRAME } from './framing';

/** Connections one gateway process holds at most; beyond it new sockets are closed at once. */
export interface ListenerLimits {
  maxConnections: number;
  /** A connection that has not finished a transport header in this time is closed. */
  handshakeTimeoutMs: number;
  /** A connection silent for this long is closed (clients ping well within it). */
  idleTimeoutMs: number;
}

export const DEFAULT_LISTENER_LIMITS: ListenerLimits = {
  maxConnections: 50_000,
  handshakeTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
};

export interface Listeners {
  close(): Promise<void>;
  readonly connections: number;
}

export async function listen(
  tcp: readonly HostPort[],
  ws: readonly HostPort[],
  handler: PacketHandler,
  limits: ListenerLimits = DEFAULT_LISTENER_LIMITS,
): Promise<Listeners> {
  const live = new Set<{ close(): void }>();
  const servers: Server[] = [];
  const wsServers: WebSocketServer[] = [];

  const track = (conn: TransportConnection, closeSocket: () => void) => {
    const entry = { close: closeSocket };
    live.add(entry);
    return () => live.delete(entry);
  };

  for (const addr of tcp) {
    const server = createServer({ noDelay: true }, (socket: Socket) => {
      if (live.size >= limits.maxConnections) {
        socket.destroy();
        return;
      }
      const stream: ByteStream = {
        write: (d) => void socket.write(d),
        get pending() {
          return socket.writableLength;
        },
        close: () => socket.destroy(),
        remoteAddress: socket.remoteAddress ?? '',
        remotePort: socket.remotePort ?? 0,
      };
      const conn = new TransportConnection(stream, handler, true);
      const untrack = track(conn, () => socket.destroy());
      socket.setTimeout(limits.idleTimeoutMs, () => conn.close());
      const headerTimer = setTimeout(() => {
        if (conn.kind === undefined) conn.close();
      }, limits.handshakeTimeoutMs);
      socket.on('data', (d: Buffer) => conn.receive(d));
      socket.on('error', () => socket.destroy());
      socket.on('close', () => {
        clearTimeout(headerTimer);
        untrack();
        conn.closedByPeer();
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
        remoteAddress: req.socket.remoteAddress ?? '',
        remotePort: req.socket.remotePort ?? 0,
      };
      const conn = new TransportConnection(stream, handler, false);
      const untrack = track(conn, () => socket.terminate());
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) conn.close();
        else conn.receive(data);
      });
      socket.on('error', () => socket.terminate());
      socket.on('close', () => {
        untrack();
        conn.closedByPeer();
      });
    });
    wsServers.push(server);
  }

  return {
    get connections() {
      return live.size;
    },
    async close() {
      await Promise.all([
        ...servers.map((s) => new Promise<void>((r) => s.close(() => r()))),
        ...wsServers.map((s) => new Promise<void>((r) => s.close(() => r()))),
      ]);
      for (const c of live) c.close();
    },
  };
}
