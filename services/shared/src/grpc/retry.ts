/**
 * Client-side retries as a gRPC interceptor.
 *
 * Only these status codes are retried, and only for unary calls:
 *   - UNAVAILABLE: the connection failed or the server is draining (a pod being
 *     replaced, a DC briefly unreachable). The request either never reached a handler,
 *     or reached one whose effect is idempotent: every Tern RPC that writes carries an
 *     idempotency key (random_id, file part number, auth key id), so repeating it is safe.
 *   - RESOURCE_EXHAUSTED is NOT retried: it carries FLOOD_WAIT to the client.
 *   - DEADLINE_EXCEEDED is NOT retried: the caller's deadline is spent.
 * Attempts back off exponentially with full jitter, within the call's deadline.
 */
import {
  InterceptingCall,
  status as GrpcStatus,
  type Interceptor,
  type NextCall,
  type Metadata,
  type StatusObject,
  type InterceptingListener,
} from '@grpc/grpc-js';

export const RETRYABLE_CODES: readonly GrpcStatus[] = [GrpcStatus.UNAVAILABLE];

export interface RetryPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, initialBackoffMs: 50, maxBackoffMs: 1000 };

/** Builds the retry interceptor for `policy` (unary calls only). */
export function retryInterceptor(policy: RetryPolicy = DEFAULT_RETRY): Interceptor {
  return (options, nextCall) => {
    let metadata: Metadata | undefined;
    let request: unknown;
    let outer: InterceptingListener | undefined;
    let current: ReturnType<NextCall> | undefined;
    let cancelled = false;
    let attempt = 0;
    const deadline =
      options.deadline instanceof Date
        ? options.deadline.getTime()
        : typeof options.deadline === 'number'
          ? options.deadline
          : Infinity;

    // Each attempt is its own call; only the final attempt's metadata, message and
    // status reach the caller, so a retried failure is invisible to it.
    const startAttempt = (): void => {
      if (cancelled || !metadata || !outer) return;
      const listener = outer;
      attempt++;
      let headers: Metadata | undefined;
      let message: unknown;
      let gotMessage = false;
      const call = nextCall(options);
      current = call;
      call.start(metadata.clone(), {
        onReceiveMetadata: (md) => {
          headers = md;
        },
        onReceiveMessage: (msg) => {
          message = msg;
          gotMessage = true;
        },
        onReceiveStatus: (st: StatusObject) => {
          const backoff =
            Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempt - 1)) * Math.random();
          const retryable =
            RETRYABLE_CODES.includes(st.code) &&
            attempt < policy.maxAttempts &&
            Date.now() + backoff < deadline;
          if (retryable && !cancelled) {
            setTimeout(startAttempt, backoff);
            return;
          }
          if (headers) listener.onReceiveMetadata?.(headers);
          if (gotMessage) listener.onReceiveMessage?.(message);
          listener.onReceiveStatus?.(st);
        },
      });
      call.sendMessage(request);
      call.halfClose();
    };

    // The underlying call handed to InterceptingCall is never started: every attempt,
    // the first included, is started by startAttempt.
    return new InterceptingCall(nextCall(options), {
      start: (md, listener) => {
        metadata = md;
        outer = listener;
      },
      sendMessage: (msg) => {
        request = msg;
      },
      halfClose: () => startAttempt(),
      cancel: () => {
        cancelled = true;
        current?.cancelWithStatus(GrpcStatus.CANCELLED, 'cancelled by caller');
      },
    });
  };
}
