/**
 * The MTProto engine of a gateway: takes transport packets, runs the key exchange for
 * unencrypted ones, decrypts and checks encrypted ones, keeps sessions, answers service
 * messages itself and hands API calls to the method table. Telegram's rules, in order:
 *   unknown auth key → transport error -404;
 *   any decryption/msg_key failure → the connection is closed, the same way for every failure;
 *   wrong salt → bad_server_salt; bad msg_id / seqno → bad_msg_notification with its code;
 *   replays are dropped; answers are rpc_result (gzip_packed when large) or rpc_error.
 */
import { sha256 } from './crypto/hash';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import {
  buildUnencrypted,
  decryptClientMessage,
  encryptServerMessage,
  packetAuthKeyId,
  parseUnencrypted,
  type DecryptedMessage,
} from './envelope';
import { Handshake, HandshakeError, type NewAuthKey } from './handshake';
import type { ServerRsaKey } from './crypto/rsa';
import { BadMsg, ServerMsgIds, checkClientMsgId } from './msg-id';
import { Salts } from './salts';
import { SessionStore, type AuthKeyEntry, type Session } from './sessions';
import type { TlObject } from './tl-types';
import type { PacketHandler, TransportConnection } from './transport/connection';
import {
  ID,
  WireError,
  buildContainer,
  buildFutureSalts,
  buildRpcResult,
  constructorId,
  parseContainer,
  unpackGzip,
  type InnerMessage,
} from './wire';
import { authKeyId as computeAuthKeyId } from './crypto/message-keys';

/** The TL codecs the engine needs (adapted from the gateway's TL registry). */
export interface TlRuntime {
  readonly newestLayer: number;
  serves(layer: number): boolean;
  /** True when the constructor id belongs to the MTProto service schema. */
  isService(id: number): boolean;
  decodeService(body: Buffer): TlObject;
  encodeService(obj: TlObject): Buffer;
  decodeApi(layer: number, body: Buffer): TlObject;
  /** Serializes a layer-neutral result in the client's layer. */
  /** `method` names the call answered (its result type tells how to write a bare vector). */
  encodeApi(layer: number, obj: ApiResult, method: string): Buffer;
  /** Serializes a layer-neutral object (a pushed Updates) in the client's layer. */
  encodeObject(layer: number, obj: TlObject): Buffer;
}

/** Where auth keys live (the DC's auth service). */
export interface KeyStore {
  load(
    id: bigint,
  ): Promise<{ key: Buffer; temporary: boolean; expiresAt: number; permAuthKeyId?: bigint } | undefined>;
  save(key: NewAuthKey): Promise<'created' | 'exists'>;
  /** destroy_auth_key: forgets the key and its login; false when it was unknown. */
  destroy(id: bigint): Promise<boolean>;
}

/** A Telegram rpc_error raised by a method handler. */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly code: number,
    readonly errorMessage: string,
  ) {
    super(`${code} ${errorMessage}`);
  }
}

/** What a method handler is given besides the call itself. */
export interface CallContext {
  /** The msg_id the call arrived in (auth.bindTempAuthKey checks it). */
  readonly msgId: bigint;
  readonly session: Session;
  readonly authKey: AuthKeyEntry;
  readonly layer: number;
  readonly remoteAddress: string;
}

/**
 * A method's answer: a TL object, a boolean (Bool results) or an array (Vector results: of
 * objects, or of longs such as photos.deletePhotos' ids).
 */
export type ApiResult = TlObject | boolean | TlObject[] | bigint[];
export type ApiHandler = (call: TlObject, ctx: CallContext) => Promise<ApiResult>;

/** Maps a thrown error to an rpc_error (the gateway's one place for it, via shared/errors). */
export type ErrorMapper = (err: unknown) => { errorCode: number; errorMessage: string };

export interface EngineDeps {
  rsa: ServerRsaKey;
  tl: TlRuntime;
  keys: KeyStore;
  api: ApiHandler;
  mapError: ErrorMapper;
  dcId: number;
  log: Logger;
  sessions?: SessionStore;
  /** Packets a connection may have queued for processing; beyond it: -429. */
  maxQueuedPackets?: number;
  /** Told which users have live connections (../presence.ts), for push notifications. */
  presence?: { seen(userId: bigint, connId: number): void; closed(connId: number): void };
}

interface OutMessage {
  msgId: bigint;
  seqNo: number;
  body: Buffer;
}

/** How long the key exchange's first salt stays valid. */
const FIRST_SALT_VALID_MS = 30 * 60 * 1000;

const SERVICE_ONLY = new Set([
  'msgs_ack',
  'msg_container',
  'http_wait',
  'msgs_all_info',
  'msg_detailed_info',
  'msg_new_detailed_info',
]);

export class MtprotoEngine implements PacketHandler {
  readonly sessions: SessionStore;
  private readonly salts: Salts;
  private readonly handshakes = new WeakMap<TransportConnection, Handshake>();
  private readonly queues = new WeakMap<TransportConnection, { tail: Promise<void>; size: number }>();
  private readonly plainMsgIds = new ServerMsgIds();
  private readonly maxQueued: number;

  constructor(private readonly deps: EngineDeps) {
    this.sessions = deps.sessions ?? new SessionStore();
    // Salts keyed by a secret every replica of this DC's gateway derives from the same RSA key.
    this.salts = new Salts(sha256(Buffer.from(deps.rsa.privateKey.export({ format: 'der', type: 'pkcs1' }))));
    this.maxQueued = deps.maxQueuedPackets ?? 256;
  }

  onPacket(conn: TransportConnection, payload: Buffer, quickAck: boolean): void {
    let q = this.queues.get(conn);
    if (!q) {
      q = { tail: Promise.resolve(), size: 0 };
      this.queues.set(conn, q);
    }
    if (q.size >= this.maxQueued) {
      conn.fail(-429);
      return;
    }
    q.size++;
    const queue = q;
    queue.tail = queue.tail
      .then(() => this.process(conn, payload, quickAck))
      .catch((err: unknown) => {
        this.deps.log.warn({ err, conn: conn.id }, 'packet failed; closing connection');
        conn.close();
      })
      .finally(() => void queue.size--);
  }

  onClose(conn: TransportConnection): void {
    this.handshakes.delete(conn);
    this.deps.presence?.closed(conn.id);
  }

  private async process(conn: TransportConnection, payload: Buffer, quickAck: boolean): Promise<void> {
    const keyId = packetAuthKeyId(payload);
    if (keyId === undefined) return conn.close();
    if (keyId === 0n) return this.processUnencrypted(conn, payload);
    const key = await this.authKey(keyId);
    if (!key) return conn.fail(-404);
    const m = decryptClientMessage(payload, key.key);
    if (!m) return conn.close();
    if (quickAck) conn.sendQuickAck(m.quickAckToken);
    return this.processEncrypted(conn, key, m);
  }

  private async processUnencrypted(conn: TransportConnection, payload: Buffer): Promise<void> {
    const msg = parseUnencrypted(payload);
    if (!msg) return conn.close();
    let hs = this.handshakes.get(conn);
    if (!hs) {
      hs = new Handshake({
        rsa: this.deps.rsa,
        decode: (b) => this.deps.tl.decodeService(b),
        encode: (o) => this.deps.tl.encodeService(o),
        saveKey: (k) => this.saveKey(k),
        dcId: this.deps.dcId,
      });
      this.handshakes.set(conn, hs);
    }
    try {
      const answer = await hs.handle(msg.body);
      conn.send(buildUnencrypted(this.plainMsgIds.next('answer'), answer));
    } catch (err) {
      if (!(err instanceof HandshakeError)) throw err;
      this.deps.log.info({ conn: conn.id, reason: err.message }, 'key exchange refused');
      conn.close();
    }
  }

  private async saveKey(k: NewAuthKey): Promise<'created' | 'exists'> {
    const result = await this.deps.keys.save(k);
    if (result === 'created')
      this.sessions.putKey({
        id: k.authKeyId,
        idBytes: computeAuthKeyId(k.authKey),
        key: k.authKey,
        temporary: k.temporary,
        expiresAt: k.expiresAt,
        firstSalt: { salt: k.firstSalt, until: Date.now() + FIRST_SALT_VALID_MS },
      });
    return result;
  }

  private async authKey(id: bigint): Promise<AuthKeyEntry | undefined> {
    let entry = this.sessions.getKey(id);
    if (!entry) {
      const stored = await this.deps.keys.load(id);
      if (!stored) return undefined;
      entry = {
        id,
        idBytes: computeAuthKeyId(stored.key),
        key: stored.key,
        temporary: stored.temporary,
        expiresAt: stored.expiresAt,
        permAuthKeyId: stored.permAuthKeyId,
      };
      this.sessions.putKey(entry);
    }
    if (entry.temporary && entry.expiresAt > 0 && entry.expiresAt < Date.now() / 1000) {
      this.sessions.dropKey(id);
      return undefined;
    }
    return entry;
  }

  private processEncrypted(conn: TransportConnection, key: AuthKeyEntry, m: DecryptedMessage): void {
    const { session, created } = this.sessions.session(key, m.sessionId);
    const reattached = !created && session.connection !== conn;
    session.connection = conn;
    if (key.userId) this.deps.presence?.seen(key.userId, conn.id);
    const out: OutMessage[] = [];
    if (created) {
      out.push(
        this.serverMessage(
          session,
          this.deps.tl.encodeService({
            _: 'new_session_created',
            first_msg_id: m.msgId,
            unique_id: randomBytes(8).readBigInt64LE(),
            server_salt: this.salts.current(key.id),
          }),
          true,
        ),
      );
    }
    if (reattached) {
      // A client back on a new connection gets what it has not acknowledged yet.
      for (const u of session.unacknowledged()) out.push(u);
    }
    const firstSaltOk =
      key.firstSalt !== undefined && key.firstSalt.salt === m.salt && Date.now() < key.firstSalt.until;
    if (!firstSaltOk && !this.salts.isValid(key.id, m.salt)) {
      out.push(
        this.serverMessage(
          session,
          this.deps.tl.encodeService({
            _: 'bad_server_salt',
            bad_msg_id: m.msgId,
            bad_msg_seqno: m.seqNo,
            error_code: BadMsg.BAD_SERVER_SALT,
            new_server_salt: this.salts.current(key.id),
          }),
          false,
        ),
      );
      return this.flush(session, out);
    }
    const bad = this.checkMessage(session, m.msgId, m.seqNo);
    if (bad !== undefined) {
      if (bad !== 'duplicate') out.push(this.badMsg(session, m.msgId, m.seqNo, bad));
      return this.flush(session, out);
    }
    try {
      this.handleBody(session, conn, { msgId: m.msgId, seqNo: m.seqNo, body: m.body }, out, false);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      out.push(this.badMsg(session, m.msgId, m.seqNo, BadMsg.BAD_CONTAINER));
    }
    this.flush(session, out);
  }

  /** msg_id and seqno checks; records the message as received when it passes. */
  private checkMessage(session: Session, msgId: bigint, seqNo: number): number | 'duplicate' | undefined {
    const code = checkClientMsgId(msgId);
    if (code !== undefined) return code;
    if (session.received.has(msgId)) return 'duplicate';
    if (session.received.tooOld(msgId)) return BadMsg.MSG_TOO_OLD;
    const seq = session.received.checkSeqNo(msgId, seqNo);
    if (seq !== undefined) return seq;
    session.received.add(msgId, seqNo);
    return undefined;
  }

  private badMsg(session: Session, msgId: bigint, seqNo: number, code: number): OutMessage {
    return this.serverMessage(
      session,
      this.deps.tl.encodeService({
        _: 'bad_msg_notification',
        bad_msg_id: msgId,
        bad_msg_seqno: seqNo,
        error_code: code,
      }),
      false,
    );
  }

  private handleBody(
    session: Session,
    conn: TransportConnection,
    msg: InnerMessage,
    out: OutMessage[],
    inContainer: boolean,
  ): void {
    const id = constructorId(msg.body);
    if (id === undefined) throw new WireError('empty message');
    if (id === ID.msg_container) {
      if (inContainer) throw new WireError('container inside a container');
      for (const inner of parseContainer(msg.body)) {
        if (inner.msgId >= msg.msgId) {
          out.push(this.badMsg(session, inner.msgId, inner.seqNo, BadMsg.BAD_CONTAINER));
          continue;
        }
        const bad = this.checkMessage(session, inner.msgId, inner.seqNo);
        if (bad === 'duplicate') continue;
        if (bad !== undefined) {
          out.push(this.badMsg(session, inner.msgId, inner.seqNo, bad));
          continue;
        }
        this.handleBody(session, conn, inner, out, true);
      }
      return;
    }
    if (id === ID.gzip_packed)
      return this.handleBody(session, conn, { ...msg, body: unpackGzip(msg.body) }, out, inContainer);
    const contentRelated = msg.seqNo % 2 === 1;
    if (contentRelated) session.toAck.push(msg.msgId);
    if (id !== ID.invokeWithLayer && this.deps.tl.isService(id)) {
      const obj = this.deps.tl.decodeService(msg.body);
      if (!SERVICE_ONLY.has(obj._) && !contentRelated) {
        // Requests that expect an answer must be content-related (odd seqno).
        out.push(this.badMsg(session, msg.msgId, msg.seqNo, BadMsg.SEQNO_EXPECTED_ODD));
        return;
      }
      return this.handleService(session, conn, msg, obj, out);
    }
    if (!contentRelated) {
      out.push(this.badMsg(session, msg.msgId, msg.seqNo, BadMsg.SEQNO_EXPECTED_ODD));
      return;
    }
    this.startCall(session, msg);
  }

  private handleService(
    session: Session,
    conn: TransportConnection,
    msg: InnerMessage,
    obj: TlObject,
    out: OutMessage[],
  ): void {
    const key = session.authKey;
    switch (obj._) {
      case 'msgs_ack':
        session.acknowledge(obj.msg_ids as bigint[]);
        return;
      case 'ping':
        out.push(
          this.serverMessage(
            session,
            this.deps.tl.encodeService({ _: 'pong', msg_id: msg.msgId, ping_id: obj.ping_id }),
            true,
          ),
        );
        return;
      case 'ping_delay_disconnect': {
        out.push(
          this.serverMessage(
            session,
            this.deps.tl.encodeService({ _: 'pong', msg_id: msg.msgId, ping_id: obj.ping_id }),
            true,
          ),
        );
        this.armDisconnect(conn, Number(obj.disconnect_delay));
        return;
      }
      case 'get_future_salts':
        out.push(
          this.serverMessage(
            session,
            buildFutureSalts(
              msg.msgId,
              Math.floor(Date.now() / 1000),
              this.salts.future(key.id, Number(obj.num)),
            ),
            true,
          ),
        );
        return;
      case 'destroy_session': {
        const sessionId = obj.session_id as bigint;
        const existed = sessionId !== session.id && this.sessions.destroySession(key, sessionId);
        const answer = this.deps.tl.encodeService({
          _: existed ? 'destroy_session_ok' : 'destroy_session_none',
          session_id: sessionId,
        });
        out.push(this.serverMessage(session, buildRpcResult(msg.msgId, answer), true));
        return;
      }
      case 'msgs_state_req': {
        const ids = obj.msg_ids as bigint[];
        const info = Buffer.from(ids.map((id) => this.msgState(session, id)));
        out.push(
          this.serverMessage(
            session,
            this.deps.tl.encodeService({ _: 'msgs_state_info', req_msg_id: msg.msgId, info }),
            true,
          ),
        );
        return;
      }
      case 'msg_resend_req': {
        const ids = obj.msg_ids as bigint[];
        for (const u of session.unacknowledged(ids)) out.push(u);
        return;
      }
      case 'rpc_drop_answer': {
        // Answers are sent as soon as they exist; one not yet sent cannot be told apart from unknown.
        out.push(
          this.serverMessage(
            session,
            buildRpcResult(msg.msgId, this.deps.tl.encodeService({ _: 'rpc_answer_unknown' })),
            true,
          ),
        );
        return;
      }
      case 'destroy_auth_key':
        void this.destroyAuthKey(session);
        return;
      case 'msgs_all_info':
      case 'msg_detailed_info':
      case 'msg_new_detailed_info':
      case 'http_wait':
        return;
      default:
        // A service-schema method Tern does not serve (e.g. destroy_auth_key): a plain rpc_error.
        out.push(
          this.serverMessage(
            session,
            buildRpcResult(msg.msgId, this.rpcErrorBody(400, 'METHOD_INVALID')),
            true,
          ),
        );
    }
  }

  /**
   * destroy_auth_key: the answer (not an rpc_result) is the last message encrypted with the key;
   * afterwards the key is unknown here and in storage (-404 on its next use).
   */
  private async destroyAuthKey(session: Session): Promise<void> {
    const key = session.authKey;
    let answer: string;
    try {
      answer = (await this.deps.keys.destroy(key.id)) ? 'destroy_auth_key_ok' : 'destroy_auth_key_none';
    } catch (err) {
      this.deps.log.warn({ err }, 'destroy_auth_key failed');
      answer = 'destroy_auth_key_fail';
    }
    this.flush(session, [this.serverMessage(session, this.deps.tl.encodeService({ _: answer }), false)]);
    if (answer !== 'destroy_auth_key_fail') this.sessions.dropKey(key.id);
  }

  /**
   * The auth service ended a key's login (logOut, reset, destroy_auth_key) possibly through another
   * gateway: forget what this process cached about it.
   */
  authKeyRevoked(authKeyId: bigint, destroyed: boolean): void {
    if (destroyed) this.sessions.dropKey(authKeyId);
    else this.sessions.forgetLogin(authKeyId);
  }

  /**
   * Sends a live update to every session of `userId` held by this process, encoded in each
   * session's layer. Sessions of `excludeAuthKeyId` (the key whose call caused the update, which
   * got it as its answer) are skipped. Returns how many sessions it went to.
   */
  pushToUser(userId: bigint, excludeAuthKeyId: bigint, encode: (layer: number) => Buffer): number {
    let sent = 0;
    for (const session of this.sessions.sessionsOfUser(userId)) {
      const key = session.authKey;
      if (key.userId !== userId) {
        this.sessions.indexUser(session, key.userId ?? 0n);
        continue;
      }
      if (excludeAuthKeyId !== 0n && (key.permAuthKeyId ?? key.id) === excludeAuthKeyId) continue;
      let body: Buffer;
      try {
        body = encode(session.layer ?? key.layer ?? this.deps.tl.newestLayer);
      } catch (err) {
        this.deps.log.warn({ err }, 'update could not be encoded for the session layer');
        continue;
      }
      this.sendLater(session, body);
      sent++;
    }
    return sent;
  }

  /** msgs_state_info byte for one of the client's msg_ids. */
  private msgState(session: Session, msgId: bigint): number {
    if (checkClientMsgId(msgId) === BadMsg.MSG_ID_TOO_HIGH) return 3;
    if (session.received.has(msgId)) return 4;
    if (session.received.tooOld(msgId)) return 1;
    return 2;
  }

  private readonly disconnectTimers = new WeakMap<TransportConnection, NodeJS.Timeout>();
  private armDisconnect(conn: TransportConnection, delaySeconds: number): void {
    clearTimeout(this.disconnectTimers.get(conn));
    const seconds = Math.min(Math.max(delaySeconds, 1), 3600);
    this.disconnectTimers.set(conn, setTimeout(() => conn.close(), seconds * 1000).unref());
  }

  /** Runs an API call; its rpc_result goes to whichever connection the session has when it ends. */
  private startCall(session: Session, msg: InnerMessage): void {
    if (session.pendingRequests >= session.limits.maxPendingRequests) {
      this.sendLater(session, buildRpcResult(msg.msgId, this.rpcErrorBody(420, 'FLOOD_WAIT_1')));
      return;
    }
    session.pendingRequests++;
    const done = this.runCall(session, msg).then((result) =>
      this.sendLater(session, buildRpcResult(msg.msgId, result)),
    );
    session.running.set(msg.msgId, done);
    void done.finally(() => {
      session.pendingRequests--;
      session.running.delete(msg.msgId);
    });
  }

  private async runCall(session: Session, msg: InnerMessage): Promise<Buffer> {
    let layer = session.layer ?? session.authKey.layer ?? this.deps.tl.newestLayer;
    try {
      let body = msg.body;
      // invokeWithLayer picks the schema the rest is decoded with, so it is unwrapped by hand.
      while (constructorId(body) === ID.invokeWithLayer) {
        if (body.length < 12) throw new RpcError(400, 'INPUT_REQUEST_INVALID');
        const asked = body.readInt32LE(4);
        if (!this.deps.tl.serves(asked)) throw new RpcError(400, 'CONNECTION_LAYER_INVALID');
        layer = asked;
        session.layer = asked;
        session.authKey.layer = asked;
        body = body.subarray(8);
      }
      let call: TlObject;
      try {
        call = this.deps.tl.decodeApi(layer, body);
      } catch (err) {
        this.deps.log.debug({ err, layer }, 'undecodable request');
        throw new RpcError(400, 'INPUT_METHOD_INVALID');
      }
      const after: bigint[] = [];
      call = this.unwrap(session, call, after);
      // invokeAfterMsg(s): start only once the named calls of this session have been answered.
      const earlier = after.map((id) => session.running.get(id)).filter((p) => p !== undefined);
      if (earlier.length > 0) await Promise.all(earlier);
      const result = await this.deps.api(call, {
        msgId: msg.msgId,
        session,
        authKey: session.authKey,
        layer,
        remoteAddress: session.connection?.remoteAddress ?? '',
      });
      // Handlers learn who the key is logged in as; from now on the session gets the user's updates.
      if (session.authKey.userId !== undefined) this.sessions.indexUser(session, session.authKey.userId);
      if (session.authKey.userId && session.connection)
        this.deps.presence?.seen(session.authKey.userId, session.connection.id);
      return this.deps.tl.encodeApi(layer, result, call._);
    } catch (err) {
      const e =
        err instanceof RpcError
          ? { errorCode: err.code, errorMessage: err.errorMessage }
          : this.deps.mapError(err);
      if (e.errorCode >= 500) this.deps.log.warn({ err }, 'call failed');
      return this.rpcErrorBody(e.errorCode, e.errorMessage);
    }
  }

  /**
   * initConnection, invokeWithoutUpdates and friends: record what they say, return the inner call.
   * The msg_ids invokeAfterMsg(s) name are added to `after`.
   */
  private unwrap(session: Session, call: TlObject, after: bigint[]): TlObject {
    for (let depth = 0; depth < 8; depth++) {
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
          after.push(...(call.msg_ids as bigint[]).slice(0, 64));
          call = call.query as TlObject;
          continue;
        case 'invokeWithoutUpdates':
          call = call.query as TlObject;
          continue;
        case 'invokeWithLayer':
          throw new RpcError(400, 'CONNECTION_LAYER_INVALID');
        default:
          return call;
      }
    }
    throw new RpcError(400, 'INPUT_REQUEST_TOO_LONG');
  }

  private rpcErrorBody(code: number, message: string): Buffer {
    return this.deps.tl.encodeService({ _: 'rpc_error', error_code: code, error_message: message });
  }

  private serverMessage(session: Session, body: Buffer, contentRelated: boolean): OutMessage {
    const msgId = session.msgIds.next(contentRelated ? 'answer' : 'server');
    const seqNo = session.nextSeqNo(contentRelated);
    if (contentRelated) session.remember(msgId, seqNo, body);
    return { msgId, seqNo, body };
  }

  private sendLater(session: Session, body: Buffer): void {
    this.flush(session, [this.serverMessage(session, body, true)]);
  }

  /** Sends messages (with any pending msgs_ack) to the session's current connection, in one container when several. */
  private flush(session: Session, out: OutMessage[]): void {
    const conn = session.connection;
    if (!conn) return;
    if (session.toAck.length > 0) {
      const ack = this.serverMessage(
        session,
        this.deps.tl.encodeService({ _: 'msgs_ack', msg_ids: session.toAck.splice(0) }),
        false,
      );
      out.unshift(ack);
    }
    if (out.length === 0) return;
    const key = session.authKey;
    const salt = this.salts.current(key.id);
    const send = (m: OutMessage) =>
      conn.send(
        encryptServerMessage(key.key, key.idBytes, {
          salt,
          sessionId: session.id,
          msgId: m.msgId,
          seqNo: m.seqNo,
          body: m.body,
        }),
      );
    if (out.length === 1) return send(out[0]!);
    const container = {
      msgId: session.msgIds.next('server'),
      seqNo: session.nextSeqNo(false),
      body: buildContainer(out),
    };
    send(container);
  }
}
