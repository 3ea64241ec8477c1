import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { parseEndpoint, startBalancer, type Balancer, type Endpoint } from './balancer';

const HOST = '127.0.0.1';

/** A throwaway replica on an ephemeral port: greets with its name, then echoes. */
async function replica(
  name: string,
  onConnection?: (s: Socket) => void,
): Promise<{ server: Server; at: Endpoint }> {
  const server = createServer((s) => {
    s.on('error', () => {});
    s.write(`${name}\n`);
    if (onConnection) onConnection(s);
    else s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  return { server, at: { host: HOST, port: (server.address() as AddressInfo).port } };
}

/** An address nothing listens on: a port just bound and released. */
async function refusingEndpoint(): Promise<Endpoint> {
  const { server, at } = await replica('gone');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return at;
}

/** A client of the balancer: what it receives, and when it is closed. */
function client(at: Endpoint) {
  const socket = connect(at.port, at.host);
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString()));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  /** The first `n` lines received, once they are all there. */
  const line = async (n = 1): Promise<string[]> => {
    const deadline = Date.now() + 5000;
    while (received.split('\n').length <= n) {
      if (socket.destroyed || Date.now() > deadline) throw new Error(`got only ${JSON.stringify(received)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return received.split('\n').slice(0, n);
  };
  return { socket, closed, line };
}

describe('the local TCP balancer', () => {
  const servers: Server[] = [];
  let balancer: Balancer | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await balancer?.close();
    balancer = undefined;
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  async function balance(...backends: Endpoint[]): Promise<Endpoint> {
    balancer = await startBalancer({ listen: { host: HOST, port: 0 }, backends, connectTimeoutMs: 1000 });
    return balancer.address;
  }
  async function up(name: string, onConnection?: (s: Socket) => void): Promise<Endpoint> {
    const r = await replica(name, onConnection);
    servers.push(r.server);
    return r.at;
  }
  function open(at: Endpoint) {
    const c = client(at);
    sockets.push(c.socket);
    return c;
  }

  it('hands connections to the replicas in turn, both directions passed through', async () => {
    const at = await balance(await up('a'), await up('b'));
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const c = open(at);
      // Written before the balancer has a replica: held, not lost.
      c.socket.write(`ping ${i}\n`);
      const [who, echo] = await c.line(2);
      expect(echo).toBe(`ping ${i}`);
      seen.push(who!);
    }
    expect(seen).toEqual(['a', 'b', 'a', 'b']);
  });

  it('skips a replica that refuses the connection and tries the next', async () => {
    const at = await balance(await refusingEndpoint(), await up('live'));
    for (let i = 0; i < 3; i++) expect(await open(at).line()).toEqual(['live']);
  });

  it('closes the client when no replica accepts', async () => {
    const at = await balance(await refusingEndpoint(), await refusingEndpoint());
    await open(at).closed;
  });

  it("closes the client's connection when its replica's connection dies, and the next lands on a live one", async () => {
    let held: Socket | undefined;
    const dying = await up('dying', (s) => (held = s));
    const at = await balance(dying, await up('live'));
    const first = open(at);
    expect(await first.line()).toEqual(['dying']);
    held!.destroy();
    await first.closed;
    // The dying replica is gone for good: stop it listening, so the next connection skips it.
    await new Promise((r) => servers.shift()!.close(r));
    for (let i = 0; i < 2; i++) expect(await open(at).line()).toEqual(['live']);
  });

  it('closes every connection it holds when closed', async () => {
    const at = await balance(await up('a'));
    const c = open(at);
    await c.line();
    await balancer!.close();
    balancer = undefined;
    await c.closed;
  });

  it('parses host:port, IPv6 in brackets, and refuses anything else', () => {
    expect(parseEndpoint('127.0.0.2:50062')).toEqual({ host: '127.0.0.2', port: 50062 });
    expect(parseEndpoint('[::1]:50052')).toEqual({ host: '::1', port: 50052 });
    for (const bad of ['127.0.0.1', ':50052', '127.0.0.1:0', '127.0.0.1:70000'])
      expect(() => parseEndpoint(bad)).toThrow(/host:port/);
  });
});
