import { ErrorCode, NatsError } from 'nats';
import { Metadata, status } from '@grpc/grpc-js';
import { errors as cassandraErrors, types as cassandraTypes } from 'cassandra-driver';
import { errors, toGrpcError, toTelegramRpcError, errorDetailFrom } from './errors';
import { DcRedirect_Reason } from '../gen/tern/common/v1/errors';

function asServiceError(parts: ReturnType<typeof toGrpcError>) {
  return Object.assign(new Error(parts.details), {
    code: parts.code,
    details: parts.details,
    metadata: parts.metadata,
  });
}

describe('error mapping: domain → gRPC → Telegram', () => {
  it.each([
    [errors.badRequest('PHONE_CODE_INVALID'), status.INVALID_ARGUMENT, 400, 'PHONE_CODE_INVALID'],
    [errors.migrate('USER', 2), status.FAILED_PRECONDITION, 303, 'USER_MIGRATE_2'],
    [errors.floodWait(29.2), status.RESOURCE_EXHAUSTED, 420, 'FLOOD_WAIT_30'],
    [errors.unauthorized('AUTH_KEY_UNREGISTERED'), status.UNAUTHENTICATED, 401, 'AUTH_KEY_UNREGISTERED'],
  ])('%s', (err, grpcCode, tgCode, tgName) => {
    const parts = toGrpcError(err);
    expect(parts.code).toBe(grpcCode);
    expect(toTelegramRpcError(asServiceError(parts))).toEqual({ errorCode: tgCode, errorMessage: tgName });
  });

  it('carries a flood wait as seconds', () => {
    expect(errorDetailFrom(asServiceError(toGrpcError(errors.floodWait(7))))?.retryAfterSeconds).toBe(7);
  });

  it('hides unknown errors as INTERNAL', () => {
    const parts = toGrpcError(new Error('secret detail'));
    expect(parts.code).toBe(status.INTERNAL);
    expect(parts.details).not.toContain('secret');
    expect(toTelegramRpcError(asServiceError(parts))).toEqual({ errorCode: 500, errorMessage: 'INTERNAL' });
  });

  it('passes a downstream Telegram error through a middle service unchanged', () => {
    const downstream = asServiceError(toGrpcError(errors.migrate('FILE', 3)));
    const relayed = errorDetailFrom(asServiceError(toGrpcError(downstream)));
    expect(relayed).toEqual({
      code: 303,
      message: 'FILE_MIGRATE_3',
      redirect: { reason: DcRedirect_Reason.FILE, dcId: 3 },
      retryAfterSeconds: 0,
    });
  });

  it('maps infrastructure failures without metadata', () => {
    const unavailable = Object.assign(new Error('x'), {
      code: status.UNAVAILABLE,
      details: 'x',
      metadata: new Metadata(),
    });
    expect(toTelegramRpcError(unavailable)).toEqual({ errorCode: -503, errorMessage: 'Timeout' });
  });

  it('passes an unreachable downstream service on as retryable, not INTERNAL', () => {
    const down = Object.assign(new Error('x'), {
      code: status.UNAVAILABLE,
      details: 'x',
      metadata: new Metadata(),
    });
    const relayed = toGrpcError(down);
    expect(relayed.code).toBe(status.UNAVAILABLE);
    expect(toTelegramRpcError(asServiceError(relayed))).toEqual({ errorCode: -503, errorMessage: 'Timeout' });
    const slow = Object.assign(new Error('y'), {
      code: status.DEADLINE_EXCEEDED,
      details: 'y',
      metadata: new Metadata(),
    });
    expect(toGrpcError(slow).code).toBe(status.UNAVAILABLE);
  });

  it('answers a box changing owners with UNAVAILABLE and -503 Timeout', () => {
    const parts = toGrpcError(errors.unavailable('box changing owners'));
    expect(parts.code).toBe(status.UNAVAILABLE);
    expect(toTelegramRpcError(asServiceError(parts))).toEqual({ errorCode: -503, errorMessage: 'Timeout' });
  });

  it('answers a store that is down or slow as retryable, and other store errors as INTERNAL', () => {
    const down = new cassandraErrors.NoHostAvailableError({});
    expect(toGrpcError(down).code).toBe(status.UNAVAILABLE);
    expect(toTelegramRpcError(asServiceError(toGrpcError(down)))).toEqual({
      errorCode: -503,
      errorMessage: 'Timeout',
    });
    const timeout = new cassandraErrors.ResponseError(cassandraTypes.responseErrorCodes.writeTimeout, 'x');
    expect(toGrpcError(timeout).code).toBe(status.UNAVAILABLE);
    expect(toGrpcError(new cassandraErrors.OperationTimedOutError('slow')).code).toBe(status.UNAVAILABLE);
    const invalid = new cassandraErrors.ResponseError(cassandraTypes.responseErrorCodes.invalid, 'bad query');
    expect(toGrpcError(invalid).code).toBe(status.INTERNAL);
    // A request in flight when Cassandra went away (seen in `npm run chaos`).
    // (Abstract in the driver's typings; the driver itself throws plain DriverErrors.)
    const DriverError = cassandraErrors.DriverError as unknown as new (message: string) => Error;
    expect(toGrpcError(new DriverError('Socket was closed')).code).toBe(status.UNAVAILABLE);
    expect(toGrpcError(new cassandraErrors.ArgumentError('a bug')).code).toBe(status.INTERNAL);
  });

  it('answers NATS out of reach as retryable, and other NATS errors as INTERNAL', () => {
    expect(toGrpcError(NatsError.errorForCode(ErrorCode.Timeout)).code).toBe(status.UNAVAILABLE);
    expect(toGrpcError(NatsError.errorForCode(ErrorCode.Disconnect)).code).toBe(status.UNAVAILABLE);
    expect(toGrpcError(NatsError.errorForCode(ErrorCode.BadPayload)).code).toBe(status.INTERNAL);
  });
});
