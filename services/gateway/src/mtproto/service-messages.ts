/**
 * MTProto's own messages, answered by the gateway without any backend call except
 * destroy_auth_key: ping / ping_delay_disconnect, msgs_ack, get_future_salts, destroy_session,
 * msgs_state_req, msg_resend_req, rpc_drop_answer, destroy_auth_key, and the informational
 * messages clients may send (msgs_all_info, msg_detailed_info, msg_new_detailed_info, http_wait).
 */
import type { Logger } from 'pino';
import { errors } from '../../../shared/src';
import type { AuthKeys } from './auth-keys';
import { BadMsg, checkClientMsgId } from './msg-id';
import type { OutMessage, Outbox } from './outbox';
import { rpcErrorOf } from './rpc-error';
import type { Salts } from './salts';
import type { Session, SessionStore } from './sessions';
import type { TlObject, TlRuntime } from './tl-types';
import type { TransportConnection } from './transport/connection';
import { buildFutureSalts, buildRpcResult, type InnerMessage } from './wire';

/**
 * Service messages that are not requests (nothing answers them), so they may come with an even
 * seqno; every other message must be content-related (odd), or it gets bad_msg_notification 35
 * (except the pings of ANSWERED_WHATEVER_PARITY).
 */
export const NOT_CONTENT_RELATED: ReadonlySet<string> = new Set([
  'msgs_ack',
  'msg_container',
  'http_wait',
  'msgs_all_info',
  'msg_detailed_info',
  'msg_new_detailed_info',
]);

/**
 * Requests answered whatever their seqno's parity, as Telegram does: some libraries send their
 * first ping (the connection check before any call) with an even seqno, and a pong is what
 * keeps them connected. The pong is sent all the same; an even ping is not acknowledged.
 */
export const ANSWERED_WHATEVER_PARITY: ReadonlySet<string> = new Set(['ping', 'ping_delay_disconnect']);

export interface ServiceMessageDeps {
  tl: Pick<TlRuntime, 'encodeService'>;
  salts: Salts;
  sessions: SessionStore;
  keys: AuthKeys;
  outbox: Outbox;
  log: Logger;
}

export class ServiceMessages {
  private readonly disconnectTimers = new WeakMap<TransportConnection, NodeJS.Timeout>();

  constructor(private readonly d: ServiceMessageDeps) {}

  /** Answers `obj` (decoded from `msg`); answers go into `out`, sent with the rest of the packet's. */
  handle(
    session: Session,
    conn: TransportConnection,
    msg: InnerMessage,
    obj: TlObject,
    out: OutMessage[],
  ): void {
    const { outbox } = this.d;
    const key = session.authKey;
    switch (obj._) {
      case 'msgs_ack':
        session.acknowledge(obj.msg_ids as bigint[]);
        return;
      case 'ping':
        out.push(outbox.service(session, { _: 'pong', msg_id: msg.msgId, ping_id: obj.ping_id }, true));
        return;
      case 'ping_delay_disconnect':
        out.push(outbox.service(session, { _: 'pong', msg_id: msg.msgId, ping_id: obj.ping_id }, true));
        this.armDisconnect(conn, Number(obj.disconnect_delay));
        return;
      case 'get_future_salts':
        out.push(
          outbox.message(
            session,
            buildFutureSalts(
              msg.msgId,
              Math.floor(Date.now() / 1000),
              this.d.salts.future(key.id, Number(obj.num)),
            ),
            true,
          ),
        );
        return;
      case 'destroy_session': {
        // The session the request came in is not destroyed (the answer has to reach it).
        const sessionId = obj.session_id as bigint;
        const existed = sessionId !== session.id && this.d.sessions.destroySession(key, sessionId);
        const answer = this.d.tl.encodeService({
          _: existed ? 'destroy_session_ok' : 'destroy_session_none',
          session_id: sessionId,
        });
        out.push(outbox.message(session, buildRpcResult(msg.msgId, answer), true));
        return;
      }
      case 'msgs_state_req': {
        const ids = obj.msg_ids as bigint[];
        const info = Buffer.from(ids.map((id) => msgState(session, id)));
        out.push(outbox.service(session, { _: 'msgs_state_info', req_msg_id: msg.msgId, info }, true));
        return;
      }
      case 'msg_resend_req':
        out.push(...outbox.unacknowledged(session, obj.msg_ids as bigint[]));
        return;
      case 'rpc_drop_answer':
        // Answers are sent as soon as they exist; one not yet sent cannot be told apart from unknown.
        out.push(
          outbox.message(
            session,
            buildRpcResult(msg.msgId, this.d.tl.encodeService({ _: 'rpc_answer_unknown' })),
            true,
          ),
        );
        return;
      case 'destroy_auth_key':
        void this.destroyAuthKey(session);
        return;
      case 'msgs_all_info':
      case 'msg_detailed_info':
      case 'msg_new_detailed_info':
      case 'http_wait':
        return;
      default: {
        // Any other object of the service schema (a key-exchange request inside an encrypted
        // message, an object only servers send): not a request Tern serves here.
        const error = rpcErrorOf(this.d.tl, errors.badRequest('METHOD_INVALID'));
        out.push(outbox.message(session, buildRpcResult(msg.msgId, error.body), true));
      }
    }
  }

  /**
   * destroy_auth_key: the auth service deletes the key and its login. The answer is a plain
   * service message (not an rpc_result), sent under the key once the deletion is done; then this
   * process forgets the key, so its next packet is answered -404 (other gateways learn it from
   * the revocation the auth service publishes). When the deletion failed the key is kept and the
   * answer is destroy_auth_key_fail.
   */
  private async destroyAuthKey(session: Session): Promise<void> {
    const key = session.authKey;
    let answer: string;
    try {
      answer = (await this.d.keys.destroy(key.id)) ? 'destroy_auth_key_ok' : 'destroy_auth_key_none';
    } catch (err) {
      this.d.log.warn({ err }, 'destroy_auth_key failed');
      answer = 'destroy_auth_key_fail';
    }
    this.d.outbox.flush(session, [this.d.outbox.service(session, { _: answer }, false)]);
    if (answer !== 'destroy_auth_key_fail') this.d.keys.drop(key.id);
  }

  /** ping_delay_disconnect: close the connection unless another ping comes within the delay (1 s–1 h). */
  private armDisconnect(conn: TransportConnection, delaySeconds: number): void {
    clearTimeout(this.disconnectTimers.get(conn));
    const seconds = Math.min(Math.max(delaySeconds, 1), 3600);
    this.disconnectTimers.set(conn, setTimeout(() => conn.close(), seconds * 1000).unref());
  }
}

/** The msgs_state_info byte for one of the client's msg_ids. */
function msgState(session: Session, msgId: bigint): number {
  if (checkClientMsgId(msgId) === BadMsg.MSG_ID_TOO_HIGH) return 3;
  if (session.received.has(msgId)) return 4;
  if (session.received.tooOld(msgId)) return 1;
  return 2;
}
