/**
 * The local stack's stand-in for a Kubernetes Service in front of a DC's messaging replicas: a
 * plain TCP proxy on the DC's one messaging address that hands each incoming connection to one
 * replica, round robin (docs/decisions/0006-local-stack-as-processes.md, "Addendum").
 *
 * Like kube-proxy it balances connections, not calls: a gRPC client keeps one HTTP/2 connection,
 * so all its calls reach the same replica, and the replicas themselves pass calls about boxes
 * they do not own on to the owner. What it adds over "any replica":
 * - a replica that refuses (stopped, or not listening yet) or does not answer within the connect
 *   timeout is skipped and the next one tried, so a new connection lands on a live replica
 *   whenever there is one;
 * - when the replica's side of a connection ends or fails, the client's side is closed at once,
 *   so the client's gRPC channel reconnects (through here, to a live replica) instead of waiting
 *   on a dead peer.
 *
 * Run by `npm run stack` as `node --import tsx tools/stack/balancer.ts <listen> <backend>...`
 * (host:port each); stops on SIGTERM. No dependencies beyond Node's `net`.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** A host and port, as the balancer listens on or dials. */
export interface Endpoint {
  host: string;
  port: number;
}

export interface BalancerOptions {
  listen: Endpoint;
  /** The replicas, in round-robin order. */
  backends: readonly Endpoint[];
  /** How long a replica may take to accept before the next is tried (default 2 s). */
  connectTimeoutMs?: number;
  /** Where it says what it does (default: nowhere). */
  log?: (line: string) => void;
}

/** A running balancer. */
export interface Balancer {
  /** Where it listens (the real port when asked for port 0). */
  readonly address: Endpoint;
  /** Stops listening and closes every connection it holds. */
  close(): Promise<void>;
}

/** Parses `host:port` (`[v6]:port` too), throwing a message that names the value. */
export function parseEndpoint(value: string): Endpoint {
  const m = /^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.exec(value.trim());
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535) throw new Error(`"${value}" is not host:port`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

const show = (e: Endpoint) => (e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`);

/** Starts a balancer; resolves once it listens. */
export async function startBalancer(opts: BalancerOptions): Promise<Balancer> {
  if (opts.backends.length === 0) throw new Error('a balancer needs at least one backend');
  const log = opts.log ?? (() => {});
  const connectTimeoutMs = opts.connectTimeoutMs ?? 2000;
  const open = new Set<Socket>();
  const track = (s: Socket) => {
    open.add(s);
    s.once('close', () => open.delete(s));
  };
  let next = 0;

  /** Joins the two sockets; whichever side ends or fails takes the other with it. */
  const splice = (client: Socket, upstream: Socket) => {
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // A graceful end (the replica drained: GOAWAY, then FIN) is passed on as an end, so what was
    // already written still arrives; an error or a reset closes the other side at once.
    upstream.on('close', (hadError) => finish(client, hadError));
    client.on('close', (hadError) => finish(upstream, hadError));
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  };
  const finish = (other: Socket, abrupt: boolean) => {
    if (other.destroyed) return;
    if (abrupt) {
      other.destroy();
      return;
    }
    other.end();
    // A peer that never closes its half must not keep the connection (and the client) hanging.
    setTimeout(() => other.destroy(), 5000).unref();
  };

  /** Tries backend `start + tried`, then the following ones, until one accepts or all refused. */
  const dial = (client: Socket, start: number, tried: number) => {
    if (client.destroyed) return;
    if (tried === opts.backends.length) {
      log(`no replica accepted a connection from ${client.remoteAddress}:${client.remotePort}; closed it`);
      client.destroy();
      return;
    }
    const backend = opts.backends[(start + tried) % opts.backends.length]!;
    const upstream = connect({ host: backend.host, port: backend.port });
    track(upstream);
    const timer = setTimeout(
      () => upstream.destroy(new Error(`no answer within ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    const refused = (err: Error) => {
      clearTimeout(timer);
      upstream.destroy();
      log(`${show(backend)} refused (${err.message}); trying the next replica`);
      dial(client, start, tried + 1);
    };
    upstream.once('error', refused);
    upstream.once('connect', () => {
      clearTimeout(timer);
      upstream.off('error', refused);
      // Errors now end both sides through 'close' (splice); without a listener they would throw.
      upstream.on('error', () => {});
      if (client.destroyed) upstream.destroy();
      else splice(client, upstream);
    });
  };

  // Paused until a replica accepted: nothing the client sends first is read, and so none is lost.
  const server = createServer({ pauseOnConnect: true }, (client) => {
    track(client);
    client.on('error', () => {});
    const start = next;
    next = (next + 1) % opts.backends.length;
    dial(client, start, 0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const address = { host: opts.listen.host, port: bound.port };
  log(`listening on ${show(address)}, replicas ${opts.backends.map(show).join(', ')}`);
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
}

/** `balancer.ts <listen> <backend>...`: runs until SIGTERM or SIGINT. */
async function main(argv: readonly string[]): Promise<void> {
  const [listen, ...backends] = argv;
  if (listen === undefined || backends.length === 0) {
    process.stderr.write('usage: balancer.ts <listen host:port> <backend host:port>...\n');
    process.exit(64);
  }
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const balancer = await startBalancer({
    listen: parseEndpoint(listen),
    backends: backends.map(parseEndpoint),
    log,
  });
  const stop = (signal: string) => {
    log(`${signal}: stopping`);
    void balancer.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`balancer: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
