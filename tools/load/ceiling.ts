/**
 * The client's own ceiling, measured in the run: the CPU work the load client does per message
 * (the sender encodes and encrypts sendMessage and decrypts its answer; the receiver decrypts
 * the live update and encrypts an ack), repeated on one core for a short while. Socket and
 * promise overheads are not in it, so it is an upper bound of the client's rate; when the
 * measured rate is far below it, the client did not limit the figure.
 */
import { randomBytes } from 'node:crypto';
import { encryptServerMessage } from '../../services/gateway/src/mtproto/envelope';
import { authKeyId } from '../../services/gateway/src/mtproto/crypto/message-keys';
import { createFraming } from '../../services/gateway/src/mtproto/transport/framing';
import type { ClientTl } from './client';
import { ClientMsgIds, decryptServerMessage, encryptClientMessage } from './wire';

/** Messages per CPU second (one core) the client's per-message work allows. */
export function clientCeiling(tl: ClientTl, ms = 500): number {
  const authKey = randomBytes(256);
  const keyId = authKeyId(authKey);
  const ids = new ClientMsgIds();
  const framing = createFraming('intermediate');
  const header = { salt: 1n, sessionId: 2n, seqNo: 1 };
  const serverPacket = (obj: Parameters<typeof tl.api.encode>[0]) =>
    encryptServerMessage(authKey, keyId, { ...header, msgId: ids.next(), body: tl.api.encode(obj) });
  // What the server sends per message, made once: the sender's answer and the receiver's update.
  const answer = serverPacket({
    _: 'updateShortSentMessage',
    out: true,
    id: 1,
    pts: 10,
    pts_count: 1,
    date: 1,
  });
  const update = serverPacket({
    _: 'updateShortMessage',
    id: 1,
    user_id: 1000n,
    message: 'load 0123abcd:12345',
    pts: 10,
    pts_count: 1,
    date: 1,
  });
  const oneMessage = () => {
    const request = tl.api.encode({
      _: 'messages.sendMessage',
      peer: { _: 'inputPeerUser', user_id: 1000n, access_hash: 7n },
      message: 'load 0123abcd:12345',
      random_id: 3n,
      no_webpage: true,
    });
    framing.encode(encryptClientMessage(authKey, keyId, { ...header, msgId: ids.next(), body: request }));
    tl.api.decode(decryptServerMessage(answer, authKey, keyId)!.body);
    tl.api.decode(decryptServerMessage(update, authKey, keyId)!.body);
    const ack = tl.mtproto.encode({ _: 'msgs_ack', msg_ids: [ids.next()] });
    framing.encode(encryptClientMessage(authKey, keyId, { ...header, msgId: ids.next(), body: ack }));
  };
  for (let i = 0; i < 200; i++) oneMessage(); // warm up the JIT
  // Counted per CPU second of this process, not per wall second: the machine is shared with the
  // servers, and time the client is not scheduled is not the client's cost.
  let n = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  while (performance.now() - start < ms) {
    for (let i = 0; i < 50; i++) oneMessage();
    n += 50;
  }
  const cpu = process.cpuUsage(cpuStart);
  return n / ((cpu.user + cpu.system) / 1e6);
}
