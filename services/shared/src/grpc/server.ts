/**
 * gRPC server plumbing shared by every service: binding, async handler adaptation,
 * the error mapping (errors/errors.ts), metrics and logging of unexpected failures.
 *
 * Services implement their RPCs as `async (request, call) => response` and never touch
 * callbacks or status codes; throwing a TernError is how a handler answers with a
 * Telegram error.
 */
import {
  Server,
  status as GrpcStatus,
  type ServerUnaryCall,
  type sendUnaryData,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { toGrpcError } from '../errors/errors';
import { grpcServerCalls, grpcServerDuration } from '../metrics/metrics';
import type { Logger } from '../log/logger';
import type { ServiceName } from '../config/topology';
import type { HostPort } from '../config/env';
import { describeIdentity, identityOfPeer, mayCall } from './access';
import { transportSecurity } from './tls';

/** An async unary handler. */
export type AsyncUnary<Req, Res> = (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>;

/** Maps each unary method of a generated service to its async implementation. */
export type AsyncService<S> = {
  // Generated server interfaces extend grpc-js's UntypedServiceImplementation, whose string index
  // signature would map to `never` and reject every real handler: keep only the named methods.
  [K in keyof S as string extends K ? never : K]: S[K] extends (
    call: ServerUnaryCall<infer Req, infer Res>,
    cb: sendUnaryData<infer _R>,
  ) => void
    ? AsyncUnary<Req, Res>
    : never;
};

/**
 * The async implementation of every unary method of a generated service definition (ts-proto's
 * `XServiceService`), typed from the definition itself: a missing or misspelt RPC, or a handler
 * with the wrong request or response type, is a compile error instead of a run-time UNIMPLEMENTED.
 */
export type AsyncImplOf<D> = {
  [K in keyof D]: D[K] extends {
    requestDeserialize: (bytes: Buffer) => infer Req;
    responseSerialize: (value: infer Res) => Buffer;
  }
    ? AsyncUnary<Req, Res>
    : never;
};

/** Thrown by an RPC that is declared in proto/ but not built yet; answers UNIMPLEMENTED (Telegram 501). */
export class NotImplementedError extends Error {
  override readonly name = 'NotImplementedError';
}

/**
 * An implementation of every RPC of `definition` that answers UNIMPLEMENTED: for a service whose
 * contract exists before its code, so that "not built" is written down rather than implied.
 */
export function notImplemented<D extends ServiceDefinition>(definition: D): AsyncImplOf<D> {
  const impl: Record<string, AsyncUnary<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition))
    impl[name] = () => Promise.reject(new NotImplementedError(`${method.path} is not implemented`));
  // Every key of the definition has a handler, which is what AsyncImplOf<D> says.
  return impl as AsyncImplOf<D>;
}

/** Limits applied to every server: bounded messages, keepalive so dead peers are noticed. */
const SERVER_OPTIONS = {
  'grpc.max_receive_message_length': 4 * 1024 * 1024,
  'grpc.max_send_message_length': 4 * 1024 * 1024,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.max_concurrent_streams': 1000,
};

/** Creates a server with Tern's limits. */
export function createServer(): Server {
  return new Server(SERVER_OPTIONS);
}

/**
 * The refusal of a caller the RPC's `Callers:` line does not name (grpc/access.ts), or undefined
 * when it may call. Plaintext servers (development) have no caller identity and check nothing.
 */
function refusal(
  call: ServerUnaryCall<unknown, unknown>,
  path: string,
  self: ServerIdentity,
): string | undefined {
  if (!transportSecurity().identity) return undefined;
  const caller = identityOfPeer(call.getAuthContext().sslPeerCertificate);
  if (caller && mayCall(caller, path, self)) return undefined;
  return `${describeIdentity(caller)} may not call ${path} (proto/: its "Callers:" line)`;
}

/** The service and DC a server runs as, which the callers' rights are relative to. */
export interface ServerIdentity {
  service: ServiceName;
  dcId: number;
}

/**
 * Adapts async handlers to grpc-js callbacks for every method of `definition`; methods
 * missing from `impl` answer UNIMPLEMENTED (mapped to Telegram's 501 at the gateway).
 * `impl` is read per call: until it returns an implementation (the service is still
 * connecting its dependencies) calls answer UNAVAILABLE, which clients retry. With mutual TLS,
 * a caller the RPC's `Callers:` line does not allow is answered PERMISSION_DENIED first.
 */
export function adaptService(
  definition: ServiceDefinition,
  impl: () => object | undefined,
  log: Logger,
  self: ServerIdentity,
): UntypedServiceImplementation {
  const out: UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const path = method.path;
    out[name] = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const refused = refusal(call, path, self);
      if (refused) {
        grpcServerCalls.inc({ method: path, code: String(GrpcStatus.PERMISSION_DENIED) });
        log.warn({ method: path, peer: call.getPeer() }, refused);
        callback({ code: GrpcStatus.PERMISSION_DENIED, details: refused });
        return;
      }
      const current = impl();
      if (!current) {
        // Dependencies are still connecting (health says NOT_SERVING): a retryable answer.
        callback({ code: 14, details: 'service is starting' });
        return;
      }
      const handler = (current as Record<string, AsyncUnary<unknown, unknown> | undefined>)[name];
      const stop = grpcServerDuration.startTimer({ method: path });
      const run = handler
        ? handler.call(current, call.request, call)
        : Promise.reject(new NotImplementedError(`${path} is not implemented`));
      run.then(
        (response) => {
          stop();
          grpcServerCalls.inc({ method: path, code: 'OK' });
          callback(null, response);
        },
        (err: unknown) => {
          stop();
          if (err instanceof NotImplementedError) {
            grpcServerCalls.inc({ method: path, code: 'UNIMPLEMENTED' });
            callback({ code: 12, details: `${path} is not implemented yet` });
            return;
          }
          const mapped = toGrpcError(err);
          grpcServerCalls.inc({ method: path, code: String(mapped.code) });
          if (mapped.code === GrpcStatus.INTERNAL) log.error({ err, method: path }, 'handler failed');
          callback({ code: mapped.code, details: mapped.details, metadata: mapped.metadata });
        },
      );
    };
  }
  return out;
}

/** Binds `server` on `listen` with this process's transport security (grpc/tls.ts); resolves with the bound port. */
export async function bindServer(server: Server, listen: HostPort): Promise<number> {
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  await transportSecurity().ready();
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${listen.port}`, transportSecurity().server(), (err, port) =>
      err ? reject(err) : resolve(port),
    );
  });
}

/** Stops taking calls, lets in-flight calls finish for up to `graceMs`, then forces. */
export async function drainServer(server: Server, graceMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
