/**
 * API calls: a content message that is not a service message is a call of the client's API
 * layer. invokeWithLayer picks the schema it is decoded with; initConnection, invokeAfterMsg(s)
 * and invokeWithoutUpdates are unwrapped here; the inner call goes to the method table
 * (../api/methods.ts), and its answer or failure comes back as rpc_result in the client's layer.
 * Calls of a session run concurrently, each answered whenever it ends.
 */
import type { Logger } from 'pino';
import { errors } from '../../../shared/src';
import type { Outbox } from './outbox';
import { rpcErrorOf } from './rpc-error';
import type { AuthKeyEntry, Session, SessionStore } from './sessions';
import type { ApiResult, TlObject, TlRuntime } from './tl-types';
import { ID, buildRpcResult, constructorId, type InnerMessage, type ResultWithBytes } from './wire';

/** What a method handler is given besides the call itself. */
export interface CallContext {
  /** The msg_id the call arrived in (auth.bindTempAuthKey checks it). */
  readonly msgId: bigint;
  readonly session: Session;
  readonly authKey: AuthKeyEntry;
  /** The layer the answer is written in (the one the client announced, or the newest). */
  readonly layer: number;
  readonly remoteAddress: string;
}

/** Answers one API call; failures are thrown (a TernError says which rpc_error). */
export type ApiHandler = (call: TlObject, ctx: CallContext) => Promise<ApiResult>;

export interface InvocationDeps {
  tl: TlRuntime;
  api: ApiHandler;
  /** Keeps a layer a client announced with its key (AuthKeys.announceLayer). */
  announceLayer?: (key: AuthKeyEntry, layer: number) => Promise<void>;
  sessions: SessionStore;
  outbox: Outbox;
  log: Logger;
  presence?: { seen(userId: bigint, connId: number): void };
}

/** How deep initConnection / invokeAfterMsg / invokeWithoutUpdates wrappers may nest. */
const MAX_WRAPPERS = 8;
/** msg_ids one invokeAfterMsgs may wait for. */
const MAX_AFTER_MSGS = 64;

export class Invocations {
  constructor(private readonly d: InvocationDeps) {}

  /**
   * Starts a call; its rpc_result goes to whichever connection the session has when it ends.
   * A session with too many calls running gets FLOOD_WAIT_1 instead.
   */
  start(session: Session, msg: InnerMessage): void {
    if (session.pendingRequests >= session.limits.maxPendingRequests) {
      this.d.outbox.send(session, buildRpcResult(msg.msgId, rpcErrorOf(this.d.tl, errors.floodWait(1)).body));
      return;
    }
    session.pendingRequests++;
    const done = this.run(session, msg).then((result) =>
      this.d.outbox.send(session, buildRpcResult(msg.msgId, result)),
    );
    session.running.set(msg.msgId, done);
    void done.finally(() => {
      session.pendingRequests--;
      session.running.delete(msg.msgId);
    });
  }

  /** The serialized answer of one call: its result in the client's layer, or an rpc_error. */
  private async run(session: Session, msg: InnerMessage): Promise<Buffer | ResultWithBytes> {
    const { tl } = this.d;
    let layer = session.layer ?? session.authKey.layer ?? tl.newestLayer;
    try {
      let body = msg.body;
      // invokeWithLayer picks the schema the rest is decoded with, so it is unwrapped by hand.
      while (constructorId(body) === ID.invokeWithLayer) {
        if (body.length < 12) throw errors.badRequest('INPUT_REQUEST_INVALID');
        const asked = body.readInt32LE(4);
        if (!tl.serves(asked)) throw errors.badRequest('CONNECTION_LAYER_INVALID');
        layer = asked;
        session.layer = asked;
        if (session.authKey.layer !== asked) {
          // Stored before the call runs: the client may next reach another gateway process, and
          // will not announce the layer again (GramJS does so on its first connect only).
          if (this.d.announceLayer)
            await this.d
              .announceLayer(session.authKey, asked)
              .catch((err: unknown) =>
                this.d.log.warn({ err, layer: asked }, 'layer not stored with its key'),
              );
          else session.authKey.layer = asked;
        }
        body = body.subarray(8);
      }
      let call: TlObject;
      try {
        call = tl.decodeApi(layer, body);
      } catch (err) {
        this.d.log.debug({ err, layer }, 'undecodable request');
        throw errors.badRequest('INPUT_METHOD_INVALID');
      }
      const after: bigint[] = [];
      call = unwrap(session, call, after);
      // invokeAfterMsg(s): start only once the named calls of this session have been answered.
      const earlier = after.map((id) => session.running.get(id)).filter((p) => p !== undefined);
      if (earlier.length > 0) await Promise.all(earlier);
      const result = await this.d.api(call, {
        msgId: msg.msgId,
        session,
        authKey: session.authKey,
        layer,
        remoteAddress: session.connection?.remoteAddress ?? '',
      });
      // Handlers learn who the key is logged in as; from now on the session gets the user's updates.
      const userId = session.authKey.userId;
      if (userId !== undefined) this.d.sessions.indexUser(session, userId);
      if (userId && session.connection) this.d.presence?.seen(userId, session.connection.id);
      return encodeResult(tl, layer, result, call._);
    } catch (err) {
      const e = rpcErrorOf(tl, err);
      if (e.errorCode >= 500) this.d.log.warn({ err }, 'call failed');
      return e.body;
    }
  }
}

/**
 * initConnection, invokeWithoutUpdates and friends: record what they say, return the inner call.
 * The msg_ids invokeAfterMsg(s) name are added to `after`. invokeWithLayer is only valid
 * outermost (handled before decoding).
 */
function unwrap(session: Session, call: TlObject, after: bigint[]): TlObject {
  for (let depth = 0; depth < MAX_WRAPPERS; depth++) {
    switch (call._) {
      case 'initConnection':
        session.client = {
          apiId: Number(call.api_id),
          deviceModel: String(call.device_model),
          systemVersion: String(call.system_version),
          appVersion: String(call.app_version),
          langCode: String(call.lang_code),
          systemLangCode: String(call.system_lang_code),
          langPack: String(call.lang_pack),
        };
        call = call.query as TlObject;
        continue;
      case 'invokeAfterMsg':
        after.push(call.msg_id as bigint);
        call = call.query as TlObject;
        continue;
      case 'invokeAfterMsgs':
        after.push(...(call.msg_ids as bigint[]).slice(0, MAX_AFTER_MSGS));
        call = call.query as TlObject;
        continue;
      case 'invokeWithoutUpdates':
        call = call.query as TlObject;
        continue;
      case 'invokeWithLayer':
        throw errors.badRequest('CONNECTION_LAYER_INVALID');
      default:
        return call;
    }
  }
  throw errors.badRequest('INPUT_REQUEST_TOO_LONG');
}

/** upload.file answers whose bytes are longer than this keep them apart from the rest (below). */
const SPLIT_BYTES_ABOVE = 16 * 1024;
/** The TL encoding of empty bytes: a zero length byte and three bytes of padding. */
const EMPTY_BYTES = Buffer.alloc(4);

/**
 * A result in the client's layer. A file part (upload.file, whose last field is its bytes) comes
 * back as its head and its bytes, which buildRpcResult joins with a single copy of the bytes.
 */
export function encodeResult(
  tl: TlRuntime,
  layer: number,
  result: ApiResult,
  method: string,
): Buffer | ResultWithBytes {
  if (typeof result === 'object' && !Array.isArray(result) && result._ === 'upload.file') {
    const bytes = result.bytes;
    if (Buffer.isBuffer(bytes) && bytes.length > SPLIT_BYTES_ABOVE) {
      const whole = tl.encodeApi(layer, { ...result, bytes: Buffer.alloc(0) }, method);
      if (whole.subarray(whole.length - 4).equals(EMPTY_BYTES))
        return { head: whole.subarray(0, whole.length - 4), bytes };
    }
  }
  return tl.encodeApi(layer, result, method);
}
