/**
 * How any failure of a call becomes an rpc_error on the wire. There is one error type for it,
 * the shared TernError (thrown by handlers, by the engine itself, or carried over gRPC from a
 * service), and one mapping, shared/src/errors: what a client reads is decided there, not here.
 */
import { toTelegramRpcError, type TelegramRpcError } from '../../../shared/src';
import type { TlRuntime } from './tl-types';

/** The rpc_error object for `err`, serialized in the service schema, and what it says. */
export function rpcErrorOf(
  tl: Pick<TlRuntime, 'encodeService'>,
  err: unknown,
): TelegramRpcError & { body: Buffer } {
  const e = toTelegramRpcError(err);
  return {
    ...e,
    body: tl.encodeService({ _: 'rpc_error', error_code: e.errorCode, error_message: e.errorMessage }),
  };
}
