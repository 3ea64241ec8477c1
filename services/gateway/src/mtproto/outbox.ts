/**
 * What the server sends in a session. Every message gets its msg_id and seqno here; content
 * messages (answers, pushed updates, pongs) are kept by the session until the client
 * acknowledges them, so they can be sent again when it asks (msg_resend_req) or comes back on
 * a new connection. Sending goes to whichever connection the session has at that moment, with
 * the client's messages still to acknowledge put in front (one msgs_ack), several messages in
 * one msg_container.
 */
import { encryptServerMessage } from './envelope';
import type { Salts } from './salts';
import type { Session } from './sessions';
import type { TlObject, TlRuntime } from './tl-types';
import { buildContainer } from './wire';

/** One message of the server, numbered in its session. */
export interface OutMessage {
  msgId: bigint;
  seqNo: number;
  body: Buffer;
}

/** Messages longer than this are sent in a packet of their own rather than in a container. */
const CONTAINER_BODY_MAX = 16 * 1024;

export class Outbox {
  constructor(
    private readonly tl: Pick<TlRuntime, 'encodeService'>,
    private readonly salts: Salts,
  ) {}

  /** Numbers `body` in `session`; a content-related one is remembered until acknowledged. */
  message(session: Session, body: Buffer, contentRelated: boolean): OutMessage {
    const msgId = session.msgIds.next(contentRelated ? 'answer' : 'server');
    const seqNo = session.nextSeqNo(contentRelated);
    if (contentRelated) session.remember(msgId, seqNo, body);
    return { msgId, seqNo, body };
  }

  /** A message of the MTProto service schema (pong, bad_msg_notification, …). */
  service(session: Session, obj: TlObject, contentRelated: boolean): OutMessage {
    return this.message(session, this.tl.encodeService(obj), contentRelated);
  }

  /** The remembered messages not acknowledged yet (all, or those of `msgIds`), to send again. */
  unacknowledged(session: Session, msgIds?: readonly bigint[]): OutMessage[] {
    return session.unacknowledged(msgIds);
  }

  /** Sends one content message on its own (an answer or a pushed update, whenever it is ready). */
  send(session: Session, body: Buffer): void {
    this.flush(session, [this.message(session, body, true)]);
  }

  /**
   * Sends `out` (with any pending msgs_ack in front) to the session's current connection, in one
   * container when there are several. Without a connection nothing is sent now; what was
   * remembered goes out when the session returns.
   */
  flush(session: Session, out: OutMessage[]): void {
    const conn = session.connection;
    if (!conn) return;
    if (session.toAck.length > 0)
      out.unshift(this.service(session, { _: 'msgs_ack', msg_ids: session.toAck.splice(0) }, false));
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
    // Large messages (file parts) travel alone: a container would copy them once more. They go
    // first, so msg_ids still rise packet by packet (the msgs_ack in front was numbered last).
    const alone = out.filter((m) => m.body.length > CONTAINER_BODY_MAX);
    const together = alone.length === 0 ? out : out.filter((m) => m.body.length <= CONTAINER_BODY_MAX);
    for (const m of alone) send(m);
    if (together.length === 1) send(together[0]!);
    else if (together.length > 1)
      send({
        msgId: session.msgIds.next('server'),
        seqNo: session.nextSeqNo(false),
        body: buildContainer(together),
      });
  }
}
