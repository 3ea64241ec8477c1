/**
 * Message identifiers: the server's own (time-based, strictly increasing per session, ≡ 1 mod 4
 * for answers and ≡ 3 mod 4 for messages the server starts) and the checks on the client's, each
 * failure named by its bad_msg_notification code.
 */

/** bad_msg_notification error codes (MTProto "Service Messages about Messages"). */
export const BadMsg = {
  MSG_ID_TOO_LOW: 16,
  MSG_ID_TOO_HIGH: 17,
  MSG_ID_BAD_LOW_BITS: 18,
  CONTAINER_MSG_ID_REUSED: 19,
  MSG_TOO_OLD: 20,
  SEQNO_TOO_LOW: 32,
  SEQNO_TOO_HIGH: 33,
  SEQNO_EXPECTED_EVEN: 34,
  SEQNO_EXPECTED_ODD: 35,
  BAD_SERVER_SALT: 48,
  BAD_CONTAINER: 64,
} as const;

/** A client msg_id may be this far in the past … */
const MAX_PAST_SECONDS = 300n;
/** … or this far in the future (clock skew), and no more. */
const MAX_FUTURE_SECONDS = 30n;

export function msgIdTime(msgId: bigint): number {
  return Number(msgId >> 32n);
}

/** Checks a client msg_id's form and time window; returns a bad_msg code or undefined. */
export function checkClientMsgId(msgId: bigint, nowMs: number = Date.now()): number | undefined {
  if (msgId % 4n !== 0n) return BadMsg.MSG_ID_BAD_LOW_BITS;
  const now = BigInt(Math.floor(nowMs / 1000));
  const t = msgId >> 32n;
  if (t < now - MAX_PAST_SECONDS) return BadMsg.MSG_ID_TOO_LOW;
  if (t > now + MAX_FUTURE_SECONDS) return BadMsg.MSG_ID_TOO_HIGH;
  return undefined;
}

/** Strictly increasing server msg_ids for one session. */
export class ServerMsgIds {
  private last = 0n;
  next(kind: 'answer' | 'server', nowMs: number = Date.now()): bigint {
    const sec = BigInt(Math.floor(nowMs / 1000));
    const frac = BigInt(nowMs % 1000) * 4294967n; // 2^32 / 1000, fraction of the second
    let id = (sec << 32n) | (frac & 0xfffffffcn);
    if (id <= this.last) id = this.last + 4n;
    id = (id & ~3n) | (kind === 'answer' ? 1n : 3n);
    this.last = id;
    return id;
  }
}

/**
 * The msg_ids a session has received recently, to drop replays and to check seqno order.
 * Bounded: it keeps the newest `capacity` ids; an id older than all of them is "too old" (20).
 */
export class ReceivedWindow {
  private readonly seqNos = new Map<bigint, number>();
  private readonly order: bigint[] = [];
  constructor(private readonly capacity = 512) {}

  has(msgId: bigint): boolean {
    return this.seqNos.has(msgId);
  }

  /** Too old to tell whether it is a replay. */
  tooOld(msgId: bigint): boolean {
    return this.order.length >= this.capacity && msgId < this.order[0]!;
  }

  /**
   * seqno must grow with msg_id: a message is wrong if an older msg_id carried a higher seqno
   * (32, too low) or a newer msg_id a lower one (33, too high). Only content messages count.
   */
  checkSeqNo(msgId: bigint, seqNo: number): number | undefined {
    for (const [id, seq] of this.seqNos) {
      if (seq % 2 === 0 || seqNo % 2 === 0) continue;
      if (id < msgId && seq > seqNo) return BadMsg.SEQNO_TOO_LOW;
      if (id > msgId && seq < seqNo) return BadMsg.SEQNO_TOO_HIGH;
    }
    return undefined;
  }

  add(msgId: bigint, seqNo: number): void {
    this.seqNos.set(msgId, seqNo);
    // Insert keeping order; ids mostly arrive increasing, so search from the end.
    let i = this.order.length;
    while (i > 0 && this.order[i - 1]! > msgId) i--;
    this.order.splice(i, 0, msgId);
    while (this.order.length > this.capacity) this.seqNos.delete(this.order.shift()!);
  }
}
