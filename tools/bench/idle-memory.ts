/**
 * Section 5: user-space memory per idle connection. A server process of our own is started,
 * its RSS read (/proc/<pid>/status VmRSS), then connections are opened that each send the
 * intermediate transport's 4-byte header (0xeeeeeeee) and stay silent; RSS is read again at 1,000
 * and at the full count. Done twice in the same run:
 *  - a bare Node `net` server that accepts and reads (the floor Node itself imposes per socket);
 *  - a dedicated gateway process (`node dist/services/main.js gateway`) with the environment the
 *    local stack gives DC 1's gateway, but its own listen ports and a throwaway RSA key.
 * Kernel socket buffers are not in RSS and not counted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, closeSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRsaKey } from '../stack/keys';
import { processEnv, type StackInfo } from '../stack/plan';
import { paths, REPO_ROOT } from '../stack/paths';
import { rssBytes, sleep } from './measure';

const INTERMEDIATE = Buffer.from([0xee, 0xee, 0xee, 0xee]);
/** Client sockets are spread over these source addresses, so ephemeral ports never run short. */
const SOURCE_ADDRESSES = ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14'];
const HOST = '127.0.0.1';

export interface MemoryPoint {
  connections: number;
  rss: number;
  heapUsed?: number;
}

export interface IdleMemoryResult {
  name: string;
  points: MemoryPoint[];
  /** Connections still open when the last point was read. */
  open: number;
  failed: number;
}

export interface Server {
  pid: number;
  heapUsed(): Promise<number | undefined>;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with status ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: HOST, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${HOST}:${port} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
}

const BARE_SERVER = `
const net = require('node:net');
const server = net.createServer((s) => { s.on('data', () => {}); s.on('error', () => s.destroy()); });
server.maxConnections = 50000;
server.listen(Number(process.argv[1]), process.argv[2]);
process.on('SIGTERM', () => process.exit(0));
`;

export async function startBareServer(port: number): Promise<Server> {
  const child = spawn(process.execPath, ['-e', BARE_SERVER, String(port), HOST], { stdio: 'ignore' });
  const stop = stopper(child);
  try {
    await waitForPort(port, child, 10_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: child.pid!, heapUsed: () => Promise.resolve(undefined), stop };
}

export interface GatewayPorts {
  tcp: number;
  ws: number;
  grpc: number;
  metrics: number;
}

/** A gateway process of DC 1 configured as the local stack does, on its own ports. */
async function startGateway(info: StackInfo, ports: GatewayPorts): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'tern-bench-'));
  const rsaKey = join(dir, 'rsa.pem');
  writeRsaKey(rsaKey);
  const env = {
    ...processEnv(
      1,
      'gateway',
      { minio: { accessKey: info.minio.accessKey, secretKey: info.minio.secretKey } },
      { topology: info.topologyFile, rsaKey, fileReferenceKey: info.fileReferenceKeyFile, tls: info.tlsDir },
    ),
    TERN_GATEWAY_TCP_LISTEN: `${HOST}:${ports.tcp}`,
    TERN_GATEWAY_WS_LISTEN: `${HOST}:${ports.ws}`,
    TERN_GRPC_LISTEN: `${HOST}:${ports.grpc}`,
    TERN_METRICS_LISTEN: `${HOST}:${ports.metrics}`,
  };
  const logFile = join(dir, 'gateway.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [paths.mainJs, 'gateway'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const stopChild = stopper(child);
  const stop = async () => {
    await stopChild();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(ports.tcp, child, 60_000);
  } catch (err) {
    const log = readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
    await stop();
    throw new Error(`${(err as Error).message}; gateway log:\n${log}`);
  }
  const heapUsed = async () => {
    try {
      const res = await fetch(`http://${HOST}:${ports.metrics}/metrics`);
      const m = /^tern_nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)/m.exec(await res.text());
      return m ? Number(m[1]) : undefined;
    } catch {
      return undefined;
    }
  };
  return { pid: child.pid!, heapUsed, stop };
}

interface Pool {
  sockets: Socket[];
  /** Sockets the server closed after they connected. */
  closed: number;
}

/** Opens sockets to `port` until the pool holds `total`, `batch` connects at a time. */
async function openIdle(port: number, pool: Pool, total: number, batch: number): Promise<number> {
  const { sockets } = pool;
  let failed = 0;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const s = connect({ host: HOST, port, localAddress: SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length] });
      const refused = () => {
        failed++;
        s.destroy();
        resolve();
      };
      s.once('error', refused);
      s.once('connect', () => {
        s.off('error', refused);
        s.on('error', () => s.destroy());
        s.once('close', () => pool.closed++);
        s.write(INTERMEDIATE);
        sockets.push(s);
        resolve();
      });
    });
  while (sockets.length < total) {
    const want = Math.min(batch, total - sockets.length);
    const start = sockets.length;
    await Promise.all(Array.from({ length: want }, (_, k) => one(start + k)));
    if (failed > total) break; // the server refuses: stop rather than loop forever
  }
  return failed;
}

export async function measureIdle(
  name: string,
  server: Server,
  port: number,
  total: number,
  settleMs: number,
): Promise<IdleMemoryResult> {
  const pool: Pool = { sockets: [], closed: 0 };
  const points: MemoryPoint[] = [];
  const point = async (connections: number) => {
    await sleep(settleMs);
    points.push({ connections, rss: rssBytes(server.pid), heapUsed: await server.heapUsed() });
  };
  try {
    await point(0);
    let failed = 0;
    for (const step of [Math.min(1000, total), total]) {
      failed += await openIdle(port, pool, step, 250);
      await point(pool.sockets.length);
    }
    return { name, points, open: pool.sockets.length - pool.closed, failed };
  } finally {
    for (const s of pool.sockets) s.destroy();
    await server.stop();
  }
}

export async function benchIdleMemory(
  info: StackInfo,
  total: number,
  ports: GatewayPorts & { bare: number },
  settleMs: number,
): Promise<IdleMemoryResult[]> {
  const bare = await measureIdle(
    'bare Node net server',
    await startBareServer(ports.bare),
    ports.bare,
    total,
    settleMs,
  );
  const gateway = await measureIdle(
    'gateway (DC 1 env)',
    await startGateway(info, ports),
    ports.tcp,
    total,
    settleMs,
  );
  return [bare, gateway];
}
