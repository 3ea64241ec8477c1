/**
 * The MTProto engine of a gateway: takes transport packets and decides what each is. Unencrypted
 * ones run the key exchange (handshake.ts); encrypted ones are decrypted and checked, then each
 * message goes to the service messages (service-messages.ts) or is an API call (invocation.ts);
 * everything sent back goes through the session's outbox (outbox.ts). Telegram's rules, in order:
 *   unknown auth key → transport error -404;
 *   any decryption/msg_key failure → the connection is closed, the same way for every failure;
 *   wrong salt → bad_server_salt; bad msg_id / seqno → bad_msg_notification with its code;
 *   replays are dropped; answers are rpc_result (gzip_packed when large) with the result or an
 *   rpc_error.
 * Packets of one connection are handled one after another, in arrival order.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { AuthKeys, type KeyStore } from './auth-keys';
import type { ServerRsaKey } from './crypto/rsa';
import {
  buildUnencrypted,
  decryptClientMessage,
  packetAuthKeyId,
  parseUnencrypted,
  type DecryptedMessage,
} from './envelope';
import { Handshake, HandshakeError } from './handshake';
import { Invocations, type ApiHandler } from './invocation';
import { BadMsg, ServerMsgIds, checkClientMsgId } from './msg-id';
import { Outbox, type OutMessage } from './outbox';
import { Salts } from './salts';
import { ANSWERED_WHATEVER_PARITY, NOT_CONTENT_RELATED, ServiceMessages } from './service-messages';
import { SessionStore, type AuthKeyEntry, type Session } from './sessions';
import type { TlObject, TlRuntime } from './tl-types';
import type { PacketHandler, TransportConnection } from './transport/connection';
import { TlDecodeError } from '../tl/errors';
import {
  ID,
  MAX_GZIP_DEPTH,
  MAX_UNPACKED_PER_PACKET,
  WireError,
  constructorId,
  parseContainer,
  unpackGzip,
  type InnerMessage,
} from './wire';

/**
 * What one packet may still inflate (gzip_packed) to, shared by all its messages: a container of
 * many gzip_packed messages must not multiply what one packet costs. Only inflation draws on it;
 * plain messages, however large (512 KiB upload parts), never do.
 */
interface UnpackBudget {
  left: number;
}

export interface EngineDeps {
  rsa: ServerRsaKey;
  tl: TlRuntime;
  keys: KeyStore;
  api: ApiHandler;
  dcId: number;
  log: Logger;
  sessions?: SessionStore;
  /** Packets a connection may have queued for processing; beyond it: -429. */
  maxQueuedPackets?: number;
  /** Told which users have live connections (../backend/presence.ts), for push notifications. */
  presence?: { seen(userId: bigint, connId: number): void; closed(connId: number): void };
}

export class MtprotoEngine implements PacketHandler {
  readonly sessions: SessionStore;
  private readonly salts: Salts;
  private readonly keys: AuthKeys;
  private readonly outbox: Outbox;
  private readonly service: ServiceMessages;
  private readonly calls: Invocations;
  private readonly handshakes = new WeakMap<TransportConnection, Handshake>();
  private readonly queues = new WeakMap<TransportConnection, { tail: Promise<void>; size: number }>();
  private readonly plainMsgIds = new ServerMsgIds();
  private readonly maxQueued: number;

  constructor(private readonly deps: EngineDeps) {
    this.sessions = deps.sessions ?? new SessionStore();
    // Salts keyed by a secret every replica of this DC's gateway derives from the same RSA key.
    this.salts = Salts.fromRsaKey(deps.rsa.privateKey);
    this.maxQueued = deps.maxQueuedPackets ?? 256;
    this.keys = new AuthKeys(deps.keys, this.sessions);
    this.outbox = new Outbox(deps.tl, this.salts);
    const shared = { tl: deps.tl, sessions: this.sessions, outbox: this.outbox, log: deps.log };
    this.service = new ServiceMessages({ ...shared, salts: this.salts, keys: this.keys });
    this.calls = new Invocations({
      ...shared,
      api: deps.api,
      presence: deps.presence,
      announceLayer: (key, layer) => this.keys.announceLayer(key, layer),
    });
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
        // The key logged out or in as someone else since the session was indexed.
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
      this.outbox.send(session, body);
      sent++;
    }
    return sent;
  }

  private async process(conn: TransportConnection, payload: Buffer, quickAck: boolean): Promise<void> {
    const keyId = packetAuthKeyId(payload);
    if (keyId === undefined) return conn.close();
    if (keyId === 0n) return this.processUnencrypted(conn, payload);
    const key = await this.keys.find(keyId);
    if (!key) return conn.fail(-404);
    const m = decryptClientMessage(payload, key.key);
    if (!m) return conn.close();
    if (quickAck) conn.sendQuickAck(m.quickAckToken);
    return this.processEncrypted(conn, key, m);
  }

  /** The key exchange, one per connection; any refusal closes the connection. */
  private async processUnencrypted(conn: TransportConnection, payload: Buffer): Promise<void> {
    const msg = parseUnencrypted(payload);
    if (!msg) return conn.close();
    let hs = this.handshakes.get(conn);
    if (!hs) {
      hs = new Handshake({
        rsa: this.deps.rsa,
        decode: (b) => this.deps.tl.decodeService(b),
        encode: (o) => this.deps.tl.encodeService(o),
        saveKey: (k) => this.keys.save(k),
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

  private processEncrypted(conn: TransportConnection, key: AuthKeyEntry, m: DecryptedMessage): void {
    const { session, created } = this.sessions.session(key, m.sessionId);
    const reattached = !created && session.connection !== conn;
    session.connection = conn;
    if (key.userId) this.deps.presence?.seen(key.userId, conn.id);
    const out: OutMessage[] = [];
    if (created) {
      const notice = {
        _: 'new_session_created',
        first_msg_id: m.msgId,
        unique_id: randomBytes(8).readBigInt64LE(),
        server_salt: this.salts.current(key.id),
      };
      out.push(this.outbox.service(session, notice, true));
    }
    // A client back on a new connection gets what it has not acknowledged yet.
    if (reattached) out.push(...this.outbox.unacknowledged(session));
    const firstSaltOk =
      key.firstSalt !== undefined && key.firstSalt.salt === m.salt && Date.now() < key.firstSalt.until;
    if (!firstSaltOk && !this.salts.isValid(key.id, m.salt)) {
      const correction = {
        _: 'bad_server_salt',
        bad_msg_id: m.msgId,
        bad_msg_seqno: m.seqNo,
        error_code: BadMsg.BAD_SERVER_SALT,
        new_server_salt: this.salts.current(key.id),
      };
      out.push(this.outbox.service(session, correction, false));
      return this.outbox.flush(session, out);
    }
    const bad = this.checkMessage(session, m.msgId, m.seqNo);
    if (bad !== undefined) {
      if (bad !== 'duplicate') out.push(this.badMsg(session, m.msgId, m.seqNo, bad));
      return this.outbox.flush(session, out);
    }
    const budget: UnpackBudget = { left: MAX_UNPACKED_PER_PACKET };
    this.handleMessage(
      session,
      conn,
      { msgId: m.msgId, seqNo: m.seqNo, body: m.body },
      out,
      false,
      budget,
      0,
    );
    this.outbox.flush(session, out);
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
    const notice = { _: 'bad_msg_notification', bad_msg_id: msgId, bad_msg_seqno: seqNo, error_code: code };
    return this.outbox.service(session, notice, false);
  }

  /**
   * handleBody, with a message that cannot be taken apart (a broken container, gzip_packed that does
   * not unpack, is nested or goes over the packet's budget, a service message that does not decode:
   * WireError) answered with bad_msg_notification 64 for that message alone. The connection stays
   * open, and the other messages of a container are still handled.
   */
  private handleMessage(
    session: Session,
    conn: TransportConnection,
    msg: InnerMessage,
    out: OutMessage[],
    inContainer: boolean,
    budget: UnpackBudget,
    gzipDepth: number,
  ): void {
    try {
      this.handleBody(session, conn, msg, out, inContainer, budget, gzipDepth);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      this.deps.log.debug({ conn: conn.id, reason: err.message }, 'message refused');
      out.push(this.badMsg(session, msg.msgId, msg.seqNo, BadMsg.BAD_CONTAINER));
    }
  }

  /**
   * One message: a container's messages are checked and handled one by one (containers do not
   * nest), gzip_packed is unpacked, a service message is answered at once, anything else is an
   * API call started in the background.
   */
  private handleBody(
    session: Session,
    conn: TransportConnection,
    msg: InnerMessage,
    out: OutMessage[],
    inContainer: boolean,
    budget: UnpackBudget,
    gzipDepth: number,
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
        this.handleMessage(session, conn, inner, out, true, budget, gzipDepth);
      }
      return;
    }
    if (id === ID.gzip_packed) {
      // Clients pack a message (or a container) once, and containers do not nest: at most
      // gzip_packed → msg_container → gzip_packed. Anything deeper only multiplies what inflates.
      if (gzipDepth >= MAX_GZIP_DEPTH) throw new WireError('gzip_packed nested too deep');
      const body = unpackGzip(msg.body, budget.left);
      budget.left -= body.length;
      if (constructorId(body) === ID.gzip_packed) throw new WireError('gzip_packed inside gzip_packed');
      return this.handleBody(session, conn, { ...msg, body }, out, inContainer, budget, gzipDepth + 1);
    }
    const contentRelated = msg.seqNo % 2 === 1;
    if (contentRelated) session.toAck.push(msg.msgId);
    if (id !== ID.invokeWithLayer && this.deps.tl.isService(id)) {
      let obj: TlObject;
      try {
        obj = this.deps.tl.decodeService(msg.body);
      } catch (err) {
        if (!(err instanceof TlDecodeError)) throw err;
        throw new WireError(`service message does not decode: ${err.message}`, { cause: err });
      }
      if (!NOT_CONTENT_RELATED.has(obj._) && !ANSWERED_WHATEVER_PARITY.has(obj._) && !contentRelated) {
        // Requests that expect an answer must be content-related (odd seqno); pings are answered anyway.
        out.push(this.badMsg(session, msg.msgId, msg.seqNo, BadMsg.SEQNO_EXPECTED_ODD));
        return;
      }
      return this.service.handle(session, conn, msg, obj, out);
    }
    if (!contentRelated) {
      out.push(this.badMsg(session, msg.msgId, msg.seqNo, BadMsg.SEQNO_EXPECTED_ODD));
      return;
    }
    this.calls.start(session, msg);
  }
}
