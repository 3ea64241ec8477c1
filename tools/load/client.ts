/**
 * A light MTProto 2.0 client for load: one TCP connection (intermediate framing), one session,
 * an auth key made elsewhere (handshake.ts). It sends API calls and matches their answers,
 * follows the server's salt and msg_id corrections, acknowledges what the server sends, pings to
 * stay connected, and hands every other object (live updates) to `onUpdate`.
 *
 * Built on the gateway's own framing, crypto and TL codec so that the load client costs about
 * what the gateway costs per message, not what a full client library costs (GramJS would take
 * most of a core at the rates the gateway can serve; docs/load.md).
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { authKeyId } from '../../services/gateway/src/mtproto/crypto/message-keys';
import type { TlObject } from '../../services/gateway/src/mtproto/tl-types';
import {
  createFraming,
  TransportError,
  type Framing,
} from '../../services/gateway/src/mtproto/transport/framing';
import { ID, parseContainer, unpackGzip } from '../../services/gateway/src/mtproto/wire';
import type { TlCodec } from '../../services/gateway/src/tl/codec';
import { ClientMsgIds, decryptServerMessage, encryptClientMessage } from './wire';

/** The codecs a client speaks: the MTProto service schema and one API layer. */
export interface ClientTl {
  layer: number;
  api: TlCodec;
  mtproto: TlCodec;
}

/** An rpc_error answer; `message` is Telegram's error name (FLOOD_WAIT_3, PEER_ID_INVALID). */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A call that got no answer: timeout, closed connection, transport error, refused msg. */
export class CallFailed extends Error {
  override readonly name = 'CallFailed';
}

export interface LightClientOptions {
  host: string;
  port: number;
  /** Source address to connect from (a loopback address other than 127.0.0.1 in load runs). */
  localAddress?: string;
  authKey: Buffer;
  tl: ClientTl;
  /** Every server object that is neither an answer nor a service message: live updates. */
  onUpdate?: (update: TlObject) => void;
  /** When the connection ends (by either side). */
  onClose?: (reason: string) => void;
  /** How long a call may wait for its answer. */
  callTimeoutMs?: number;
}

interface Pending {
  body: Buffer;
  resolve: (value: TlObject) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
  resends: number;
}

/** The close reason when the client itself closed the connection (not a failure). */
export const CLOSED_BY_CLIENT = 'closed by the client';

const RPC_ERROR = 0x2144ca19;
const BOOL_TRUE = 0x997275b5;
const BOOL_FALSE = 0xbc799737;
const INTERMEDIATE_HEADER = Buffer.from([0xee, 0xee, 0xee, 0xee]);
/** bad_msg_notification codes a client fixes by sending again (msg_id time, seqno, salt). */
const RESENDABLE = new Set([16, 17, 32, 33, 48]);
const MAX_RESENDS = 3;
/** Acks are gathered this long and sent as one msgs_ack. */
const ACK_DELAY_MS = 100;
/** Idle connections are pinged this often so no gateway or NAT timeout closes them. */
const PING_EVERY_MS = 20_000;

export class LightClient {
  private readonly framing: Framing = createFraming('intermediate');
  private readonly keyId: Buffer;
  private readonly sessionId = randomBytes(8).readBigInt64LE();
  private readonly msgIds = new ClientMsgIds();
  private readonly pending = new Map<bigint, Pending>();
  private salt = 0n;
  private contentSent = 0;
  private toAck: bigint[] = [];
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly pingTimer: ReturnType<typeof setInterval>;
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly o: LightClientOptions,
  ) {
    this.keyId = authKeyId(o.authKey);
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', (err) => this.close(`socket: ${err.message}`));
    socket.on('close', () => this.close('closed by the server'));
    socket.write(INTERMEDIATE_HEADER);
    this.pingTimer = setInterval(() => {
      const ping = this.o.tl.mtproto.encode({ _: 'ping', ping_id: randomBytes(8).readBigInt64LE() });
      this.callRaw(ping).catch(() => undefined); // a lost ping shows as the connection closing
    }, PING_EVERY_MS);
    this.pingTimer.unref();
  }

  /** Connects to the gateway; the session starts with the first call. */
  static connect(o: LightClientOptions): Promise<LightClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: o.host, port: o.port, localAddress: o.localAddress });
      const failed = (err: Error) => reject(err);
      socket.once('error', failed);
      socket.once('connect', () => {
        socket.off('error', failed);
        resolve(new LightClient(socket, o));
      });
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Calls an API method of the client's layer; resolves with its (decoded) answer. */
  call(request: TlObject): Promise<TlObject> {
    return this.callRaw(this.o.tl.api.encode(request));
  }

  /** Calls an already serialized method (an API call, or a service one such as ping). */
  callRaw(body: Buffer): Promise<TlObject> {
    if (this.closed) return Promise.reject(new CallFailed('CONNECTION_CLOSED'));
    return new Promise((resolve, reject) => {
      const msgId = this.send(body, true);
      const timer = setTimeout(
        () => this.fail(msgId, new CallFailed('TIMEOUT')),
        this.o.callTimeoutMs ?? 30_000,
      );
      this.pending.set(msgId, { body, resolve, reject, timer, resends: 0 });
    });
  }

  /** Closes the connection; calls still waiting fail (CONNECTION_CLOSED). */
  close(reason = CLOSED_BY_CLIENT): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    clearTimeout(this.ackTimer);
    this.socket.destroy();
    for (const [msgId] of this.pending) this.fail(msgId, new CallFailed('CONNECTION_CLOSED'));
    this.o.onClose?.(reason);
  }

  private send(body: Buffer, contentRelated: boolean): bigint {
    const msgId = this.msgIds.next();
    // seqno: twice the content-related messages sent before, plus one for a content-related one.
    const seqNo = contentRelated ? 2 * this.contentSent++ + 1 : 2 * this.contentSent;
    const packet = encryptClientMessage(this.o.authKey, this.keyId, {
      salt: this.salt,
      sessionId: this.sessionId,
      msgId,
      seqNo,
      body,
    });
    this.socket.write(this.framing.encode(packet));
    return msgId;
  }

  private fail(msgId: bigint, err: Error): void {
    const p = this.pending.get(msgId);
    if (!p) return;
    this.pending.delete(msgId);
    clearTimeout(p.timer);
    p.reject(err);
  }

  /** Sends a waiting call again under a new msg_id (after a salt or msg_id correction). */
  private resend(badMsgId: bigint, why: string): void {
    const p = this.pending.get(badMsgId);
    if (!p) return;
    this.pending.delete(badMsgId);
    if (++p.resends > MAX_RESENDS) {
      clearTimeout(p.timer);
      p.reject(new CallFailed(why));
      return;
    }
    this.pending.set(this.send(p.body, true), p);
  }

  private onData(chunk: Buffer): void {
    let frames;
    try {
      frames = this.framing.push(chunk);
    } catch (err) {
      if (!(err instanceof TransportError)) throw err;
      return this.close(`transport: ${err.message}`);
    }
    for (const { payload } of frames) {
      // A 4-byte frame is a transport error code (-404: unknown auth key, -429: too many).
      if (payload.length === 4) return this.close(`transport error ${payload.readInt32LE(0)}`);
      const m = decryptServerMessage(payload, this.o.authKey, this.keyId);
      if (!m) return this.close('undecryptable packet');
      this.onMessage(m.msgId, m.seqNo, m.body);
    }
  }

  private onMessage(msgId: bigint, seqNo: number, body: Buffer): void {
    if (seqNo % 2 === 1) this.ack(msgId);
    const id = body.readUInt32LE(0);
    if (id === ID.msg_container) {
      for (const inner of parseContainer(body)) this.onMessage(inner.msgId, inner.seqNo, inner.body);
    } else if (id === ID.gzip_packed) {
      this.onMessage(msgId, 0, unpackGzip(body)); // acknowledged above already
    } else if (id === ID.rpc_result) {
      this.onResult(body.readBigInt64LE(4), body.subarray(12));
    } else if (this.o.tl.mtproto.hasId(id)) {
      this.onService(this.o.tl.mtproto.decode(body));
    } else {
      this.o.onUpdate?.(this.o.tl.api.decode(body));
    }
  }

  private onResult(reqMsgId: bigint, result: Buffer): void {
    const p = this.pending.get(reqMsgId);
    if (!p) return; // answered after a timeout
    this.pending.delete(reqMsgId);
    clearTimeout(p.timer);
    if (result.readUInt32LE(0) === ID.gzip_packed) result = unpackGzip(result);
    const id = result.readUInt32LE(0);
    if (id === RPC_ERROR) {
      const e = this.o.tl.mtproto.decode(result);
      p.reject(new RpcError(e.error_code as number, e.error_message as string));
    } else if (id === BOOL_TRUE || id === BOOL_FALSE) {
      // The codec decodes Bool to a JavaScript boolean; answers here are always objects.
      p.resolve({ _: id === BOOL_TRUE ? 'boolTrue' : 'boolFalse' });
    } else if (this.o.tl.mtproto.hasId(id)) {
      p.resolve(this.o.tl.mtproto.decode(result));
    } else {
      p.resolve(this.o.tl.api.decode(result));
    }
  }

  private onService(obj: TlObject): void {
    switch (obj._) {
      case 'new_session_created':
        this.salt = obj.server_salt as bigint;
        return;
      case 'bad_server_salt':
        this.salt = obj.new_server_salt as bigint;
        return this.resend(obj.bad_msg_id as bigint, 'BAD_SERVER_SALT');
      case 'bad_msg_notification': {
        const code = obj.error_code as number;
        const msgId = obj.bad_msg_id as bigint;
        if (RESENDABLE.has(code)) return this.resend(msgId, `BAD_MSG_${code}`);
        return this.fail(msgId, new CallFailed(`BAD_MSG_${code}`));
      }
      case 'pong': {
        const p = this.pending.get(obj.msg_id as bigint);
        if (!p) return;
        this.pending.delete(obj.msg_id as bigint);
        clearTimeout(p.timer);
        return p.resolve(obj);
      }
      default:
        return; // msgs_ack, msg_detailed_info, future salts: nothing a load client needs
    }
  }

  private ack(msgId: bigint): void {
    this.toAck.push(msgId);
    this.ackTimer ??= setTimeout(() => {
      this.ackTimer = undefined;
      if (this.closed || this.toAck.length === 0) return;
      const ids = this.toAck;
      this.toAck = [];
      this.send(this.o.tl.mtproto.encode({ _: 'msgs_ack', msg_ids: ids }), false);
    }, ACK_DELAY_MS);
  }
}
