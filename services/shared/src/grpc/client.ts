/**
 * gRPC clients for calling another Tern service, in this DC or another one.
 *
 * Addresses come from the topology, never from code. Every client gets the retry
 * interceptor (grpc/retry.ts) and a default deadline so that no call can hang.
 */
import {
  Client as GrpcClient,
  Metadata,
  type CallOptions,
  type ChannelOptions,
  type Client,
  type Interceptor,
  type ServerUnaryCall,
  type ServiceDefinition,
  type ServiceError,
  type ChannelCredentials,
} from '@grpc/grpc-js';
import { retryInterceptor } from './retry';
import { serviceOfPath } from './access';
import { transportSecurity } from './tls';
import type { HostPort } from '../config/env';
import { dcOf, type ServiceName, type Topology } from '../config/topology';

/** The constructor ts-proto generates for a service client. */
export type ClientConstructor<C extends Client> = (new (
  address: string,
  creds: ChannelCredentials,
  options?: Partial<ChannelOptions>,
) => C) & { service?: ServiceDefinition };

const CLIENT_OPTIONS: Partial<ChannelOptions> = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
  'grpc.max_send_message_length': 4 * 1024 * 1024,
  // HTTP/2 flow control: how much a server may send before this client's WINDOW_UPDATE. The
  // default 64 KiB made a 1 MiB upload.getFile answer from media wait for 16 round trips of
  // window updates; 8 MiB lets 8 such answers flow at once. A window is a permission, not memory:
  // what arrives is bounded by the message size limit above and by the calls in flight.
  'grpc-node.flow_control_window': 8 * 1024 * 1024,
  // A peer that went away (a restarted service, a DC down) is dialed again at most 2 s apart; the
  // default backs off to 120 s, so a DC back after a minute was reached a minute or more later.
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 2000,
  // TLS: servers are checked by the identity in their certificate, not a host name (grpc/tls.ts);
  // a fixed name also keeps Node from sending an IP address as the TLS server name (DEP0123).
  'grpc.ssl_target_name_override': 'tern',
};

/** Default per-call deadline: generous for cross-DC calls, short enough that a client never waits forever. */
export const DEFAULT_DEADLINE_MS = 10_000;

/** A deadline `ms` from now, for call options. */
export function deadlineIn(ms: number = DEFAULT_DEADLINE_MS): Date {
  return new Date(Date.now() + ms);
}

/** The full-form signature of a generated unary method (request, metadata, options, callback). */
export type UnaryMethod<Req, Res> = (
  req: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (err: ServiceError | null, res: Res) => void,
) => unknown;

/**
 * Calls a unary method of a generated client as a promise, always with a deadline:
 * `await unary(client.getAuthKey.bind(client), { authKeyId })`.
 */
export function unary<Req, Res>(
  method: UnaryMethod<Req, Res>,
  req: Req,
  opts: { deadlineMs?: number; metadata?: Metadata } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    method(req, opts.metadata ?? new Metadata(), { deadline: deadlineIn(opts.deadlineMs) }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

export function addressOf(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}

/** The Tern service a generated client constructor calls (from its methods' paths). */
function serviceOfClient(Ctor: { service?: ServiceDefinition }): ServiceName | undefined {
  const first = Object.values(Ctor.service ?? {})[0];
  return first ? serviceOfPath(first.path) : undefined;
}

/**
 * Creates a client of `Ctor` for `address`, with retries, over this process's transport security
 * (grpc/tls.ts): with mutual TLS the server must present the identity of the service `Ctor` calls.
 */
export function createClient<C extends Client>(
  Ctor: ClientConstructor<C>,
  address: HostPort,
  extra: Interceptor[] = [],
): C {
  return new Ctor(addressOf(address), transportSecurity().client(serviceOfClient(Ctor)), {
    ...CLIENT_OPTIONS,
    interceptors: [retryInterceptor(), ...extra],
  });
}

/**
 * Clients of one service kind for every DC, created lazily and kept for the
 * process's lifetime (a grpc-js client multiplexes calls over one connection).
 */
export class DcClients<C extends Client> {
  private readonly clients = new Map<number, C>();

  constructor(
    private readonly Ctor: ClientConstructor<C>,
    private readonly topology: Topology,
    private readonly service: ServiceName,
  ) {}

  /** The client of `service` in DC `dcId`. */
  forDc(dcId: number): C {
    let c = this.clients.get(dcId);
    if (!c) {
      c = createClient(this.Ctor, dcOf(this.topology, dcId).services[this.service]);
      this.clients.set(dcId, c);
    }
    return c;
  }

  /** Closes every connection (graceful shutdown). */
  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/**
 * Passes one unary call on to another server as it came (same method, request and metadata),
 * within the original call's deadline (or DEFAULT_DEADLINE_MS when it had none). Used by the
 * services that route calls to the replica or DC that owns their subject (messaging's boxes, the
 * channel service's channels); the answer or error comes back unchanged.
 */
export function forwardUnary(
  client: Client,
  method: ServiceDefinition[string],
  req: unknown,
  metadata: Metadata,
  deadline: ReturnType<ServerUnaryCall<unknown, unknown>['getDeadline']>,
): Promise<unknown> {
  const until = deadline instanceof Date || typeof deadline === 'number' ? deadline : Infinity;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      req,
      metadata,
      { deadline: until === Infinity ? Date.now() + DEFAULT_DEADLINE_MS : until },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

/**
 * A client for any method of the `expect` service at `address` (`host:port`), with retries and
 * this process's transport security: what a service uses to pass a call on as it came
 * ({@link forwardUnary}) to another replica or DC of its own kind.
 */
export function createRawClient(address: string, expect: ServiceName): Client {
  return new GrpcClient(address, transportSecurity().client(expect), {
    ...CLIENT_OPTIONS,
    interceptors: [retryInterceptor()],
  });
}
