/**
 * One error mapping for the whole system:
 *
 *   domain error (TernError, thrown by a service)
 *     → gRPC status + trailing metadata (inside the deployment)
 *     → Telegram rpc_error { error_code, error_message } (at the gateway)
 *
 * Services throw TernError with Telegram's error name (PHONE_CODE_INVALID,
 * USER_MIGRATE_2, FLOOD_WAIT_30 …). It travels as a tern.common.v1.RpcErrorDetail in
 * the binary trailer `tern-rpc-error-bin` (proto/tern/common/v1/errors.proto), so the
 * gateway reproduces it exactly and callers read a redirect's DC or a flood wait
 * without parsing names; the gRPC status code is chosen so that generic gRPC tooling
 * (retries, dashboards) sees a sensible class of failure.
 *
 * Failures that may pass if the call is repeated — a downstream service unreachable or too
 * slow, Cassandra without a replica or timing out, a box changing owners — are UNAVAILABLE
 * inside and Telegram's -503 Timeout at the gateway, never INTERNAL: clients repeat the first
 * and give up on the second.
 */
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { errors as cassandraErrors, types as cassandraTypes } from 'cassandra-driver';
import { DcRedirect_Reason, RpcErrorDetail } from '../gen/tern/common/v1/errors';

/** Telegram's rpc_error classes (error_code values). */
export const TelegramErrorCode = {
  SEE_OTHER: 303,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  NOT_ACCEPTABLE: 406,
  FLOOD: 420,
  INTERNAL: 500,
  NOT_IMPLEMENTED: 501,
  /** Telegram's "-503 Timeout": the server could not answer now; clients repeat the call. */
  TIMEOUT: -503,
} as const;
export type TelegramErrorCode = (typeof TelegramErrorCode)[keyof typeof TelegramErrorCode];

/** A failure a client should see as a Telegram rpc_error. */
export class TernError extends Error {
  constructor(
    /** Telegram error name, e.g. PHONE_CODE_INVALID or FILE_MIGRATE_2. */
    readonly telegramName: string,
    readonly telegramCode: TelegramErrorCode = TelegramErrorCode.BAD_REQUEST,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(
      options?.detail ? `${telegramName}: ${options.detail}` : telegramName,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'TernError';
  }
}

/** Convenience constructors for the common classes. */
export const errors = {
  badRequest: (name: string, detail?: string) =>
    new TernError(name, TelegramErrorCode.BAD_REQUEST, { detail }),
  unauthorized: (name: string) => new TernError(name, TelegramErrorCode.UNAUTHORIZED),
  forbidden: (name: string) => new TernError(name, TelegramErrorCode.FORBIDDEN),
  notFound: (name: string) => new TernError(name, TelegramErrorCode.NOT_FOUND),
  /** *_MIGRATE_X: the client must repeat the call on DC `dc`. */
  migrate: (kind: 'PHONE' | 'NETWORK' | 'USER' | 'FILE' | 'STATS', dc: number) =>
    new TernError(`${kind}_MIGRATE_${dc}`, TelegramErrorCode.SEE_OTHER),
  floodWait: (seconds: number) =>
    new TernError(`FLOOD_WAIT_${Math.max(1, Math.ceil(seconds))}`, TelegramErrorCode.FLOOD),
  internal: (cause?: unknown) => new TernError('INTERNAL', TelegramErrorCode.INTERNAL, { cause }),
  /**
   * Not now, try again: a box changing owners, a store briefly unreachable. gRPC UNAVAILABLE, which
   * the retry interceptor repeats; a client that still sees it gets -503 Timeout and repeats too.
   */
  unavailable: (detail: string, cause?: unknown) =>
    new TernError('Timeout', TelegramErrorCode.TIMEOUT, { detail, cause }),
  notImplemented: (method: string) =>
    new TernError('METHOD_NOT_IMPLEMENTED', TelegramErrorCode.NOT_IMPLEMENTED, { detail: method }),
};

/** The binary trailer that carries a RpcErrorDetail across gRPC. */
export const ERROR_DETAIL_KEY = 'tern-rpc-error-bin';

const REDIRECT_REASONS: Record<string, DcRedirect_Reason> = {
  PHONE: DcRedirect_Reason.PHONE,
  NETWORK: DcRedirect_Reason.NETWORK,
  USER: DcRedirect_Reason.USER,
  FILE: DcRedirect_Reason.FILE,
  STATS: DcRedirect_Reason.STATS,
};

/** The structured detail of a TernError: redirects and flood waits parsed once, here. */
export function detailOf(err: TernError): RpcErrorDetail {
  const migrate = /^(PHONE|NETWORK|USER|FILE|STATS)_MIGRATE_(\d+)$/.exec(err.telegramName);
  const flood = /^FLOOD_WAIT_(\d+)$/.exec(err.telegramName);
  return {
    code: err.telegramCode,
    message: err.telegramName,
    ...(migrate ? { redirect: { reason: REDIRECT_REASONS[migrate[1]!]!, dcId: Number(migrate[2]) } } : {}),
    retryAfterSeconds: flood ? Number(flood[1]) : 0,
  };
}

/** Reads the RpcErrorDetail a failed call carries, if any. */
export function errorDetailFrom(err: ServiceError): RpcErrorDetail | undefined {
  const raw = err.metadata?.get(ERROR_DETAIL_KEY)[0];
  if (!Buffer.isBuffer(raw)) return undefined;
  try {
    return RpcErrorDetail.decode(raw);
  } catch {
    return undefined;
  }
}

const GRPC_BY_TELEGRAM: Record<number, GrpcStatus> = {
  303: GrpcStatus.FAILED_PRECONDITION,
  400: GrpcStatus.INVALID_ARGUMENT,
  401: GrpcStatus.UNAUTHENTICATED,
  403: GrpcStatus.PERMISSION_DENIED,
  404: GrpcStatus.NOT_FOUND,
  406: GrpcStatus.FAILED_PRECONDITION,
  420: GrpcStatus.RESOURCE_EXHAUSTED,
  500: GrpcStatus.INTERNAL,
  501: GrpcStatus.UNIMPLEMENTED,
  [-503]: GrpcStatus.UNAVAILABLE,
};

/** What a gRPC handler sends for a thrown error: a status, a message and metadata. */
export interface GrpcErrorParts {
  code: GrpcStatus;
  details: string;
  metadata: Metadata;
}

/** Maps anything a handler threw to the gRPC error to send (unknown errors become INTERNAL). */
export function toGrpcError(err: unknown): GrpcErrorParts {
  const metadata = new Metadata();
  const attach = (d: RpcErrorDetail) =>
    metadata.set(ERROR_DETAIL_KEY, Buffer.from(RpcErrorDetail.encode(d).finish()));
  if (err instanceof TernError) {
    attach(detailOf(err));
    return { code: GRPC_BY_TELEGRAM[err.telegramCode] ?? GrpcStatus.UNKNOWN, details: err.message, metadata };
  }
  if (isServiceError(err)) {
    // An error from a downstream gRPC call: pass its Telegram error through unchanged.
    const detail = errorDetailFrom(err);
    if (detail) {
      attach(detail);
      return { code: err.code, details: err.details, metadata };
    }
    // A downstream service that could not be reached or did not answer in time: not an internal
    // error of this one. Passed on as retryable, which callers repeat (Telegram: -503 Timeout).
    if (err.code === GrpcStatus.UNAVAILABLE || err.code === GrpcStatus.DEADLINE_EXCEEDED) {
      attach({ code: TelegramErrorCode.TIMEOUT, message: 'Timeout', retryAfterSeconds: 0 });
      return { code: GrpcStatus.UNAVAILABLE, details: err.details, metadata };
    }
  }
  if (storeUnavailable(err)) {
    attach({ code: TelegramErrorCode.TIMEOUT, message: 'Timeout', retryAfterSeconds: 0 });
    return { code: GrpcStatus.UNAVAILABLE, details: 'store unavailable', metadata };
  }
  if (busUnavailable(err)) {
    attach({ code: TelegramErrorCode.TIMEOUT, message: 'Timeout', retryAfterSeconds: 0 });
    return { code: GrpcStatus.UNAVAILABLE, details: 'event bus unavailable', metadata };
  }
  attach({ code: 500, message: 'INTERNAL', retryAfterSeconds: 0 });
  return { code: GrpcStatus.INTERNAL, details: 'internal error', metadata };
}

/** Cassandra's answers that mean "not now" (no replica up, overloaded, timed out), not a bug. */
const RETRYABLE_STORE_CODES: ReadonlySet<number> = new Set([
  cassandraTypes.responseErrorCodes.unavailableException,
  cassandraTypes.responseErrorCodes.overloaded,
  cassandraTypes.responseErrorCodes.isBootstrapping,
  cassandraTypes.responseErrorCodes.writeTimeout,
  cassandraTypes.responseErrorCodes.readTimeout,
]);

/**
 * True when a handler failed because the store could not be reached or did not answer in time:
 * the call may succeed if repeated, so it is answered as retryable (gRPC UNAVAILABLE, Telegram
 * -503 Timeout) instead of INTERNAL, which clients do not repeat.
 */
export function storeUnavailable(err: unknown): boolean {
  if (err instanceof cassandraErrors.NoHostAvailableError) return true;
  if (err instanceof cassandraErrors.OperationTimedOutError) return true;
  if (err instanceof cassandraErrors.BusyConnectionError) return true;
  // The driver's plain DriverError (not a subclass) is a connection's end: "Socket was closed" for
  // requests in flight when Cassandra went away, "Connection timeout". Whether such a write was
  // applied is unknown, which is why every write a client may repeat is idempotent.
  if (err instanceof Error && err.constructor === cassandraErrors.DriverError) return true;
  return err instanceof cassandraErrors.ResponseError && RETRYABLE_STORE_CODES.has(err.code);
}

/** The NATS client's codes for "not now": no answer in time, no connection, nobody listening. */
const RETRYABLE_BUS_CODES: ReadonlySet<string> = new Set([
  'TIMEOUT',
  'DISCONNECT',
  'CONNECTION_CLOSED',
  'CONNECTION_REFUSED',
  'CONNECTION_TIMEOUT',
  '503',
]);

/**
 * True when a handler failed because NATS could not be reached or did not answer in time (a
 * JetStream publish during an outage, found by `npm run chaos`): answered as retryable like a
 * store that is down. Matched on the client's error name and code (the nats package's NatsError).
 */
export function busUnavailable(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return e?.name === 'NatsError' && typeof e.code === 'string' && RETRYABLE_BUS_CODES.has(e.code);
}

/** A Telegram rpc_error as the gateway sends it. */
export interface TelegramRpcError {
  errorCode: number;
  errorMessage: string;
}

/**
 * Maps a failed gRPC call (as seen by the gateway) to Telegram's rpc_error. Errors
 * without Tern metadata are infrastructure failures: a dead or slow backend is
 * reported the way Telegram's servers report an internal timeout, so clients retry.
 */
export function toTelegramRpcError(err: unknown): TelegramRpcError {
  if (err instanceof TernError) return { errorCode: err.telegramCode, errorMessage: err.telegramName };
  if (isServiceError(err)) {
    const detail = errorDetailFrom(err);
    if (detail) return { errorCode: detail.code, errorMessage: detail.message };
    switch (err.code) {
      case GrpcStatus.UNAVAILABLE:
      case GrpcStatus.DEADLINE_EXCEEDED:
        return { errorCode: -503, errorMessage: 'Timeout' };
      case GrpcStatus.UNIMPLEMENTED:
        return { errorCode: 501, errorMessage: 'METHOD_NOT_IMPLEMENTED' };
      case GrpcStatus.UNAUTHENTICATED:
        return { errorCode: 401, errorMessage: 'AUTH_KEY_UNREGISTERED' };
      case GrpcStatus.RESOURCE_EXHAUSTED:
        return { errorCode: 420, errorMessage: 'FLOOD_WAIT_1' };
      default:
        return { errorCode: 500, errorMessage: 'INTERNAL' };
    }
  }
  return { errorCode: 500, errorMessage: 'INTERNAL' };
}

/** True for errors produced by @grpc/grpc-js for a failed call. */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err;
}
