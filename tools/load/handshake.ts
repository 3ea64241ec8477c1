/**
 * Auth keys for load sessions, made by GramJS's Authenticator on its own short connection (the
 * way tools/bench drives it). The key exchange is the one part of a session that is expensive
 * for the client too (pq factorisation and RSA in pure JS), so callers bound how many run at once.
 */
import { Logger, LogLevel } from 'telegram/extensions/Logger';
import { PromisedNetSockets } from 'telegram/extensions';
import { ConnectionTCPAbridged, doAuthentication, MTProtoPlainSender } from 'telegram/network';
import { trustServerKey } from '../bench/gramjs';

export { trustServerKey };

/** Key exchanges a session may try: one failing now and then on a loaded machine is no finding. */
const ATTEMPTS = 3;

/**
 * A new permanent auth key made with the gateway of DC `dcId`, retried on a fresh connection
 * when an exchange fails; `onRetry` hears of each failure that was retried.
 */
export async function makeAuthKey(
  target: { dcId: number; host: string; port: number },
  onRetry: (err: unknown) => void = () => undefined,
): Promise<Buffer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await exchangeKey(target);
    } catch (err) {
      if (attempt >= ATTEMPTS) throw err;
      onRetry(err);
    }
  }
}

async function exchangeKey(target: { dcId: number; host: string; port: number }): Promise<Buffer> {
  const log = new Logger(LogLevel.NONE);
  const conn = new ConnectionTCPAbridged({
    ip: target.host,
    port: target.port,
    dcId: target.dcId,
    loggers: log,
    socket: PromisedNetSockets,
    testServers: false,
  });
  await conn.connect();
  try {
    const { authKey } = await doAuthentication(new MTProtoPlainSender(conn, log), log);
    const key = authKey.getKey();
    if (!key) throw new Error('GramJS finished the key exchange without a key');
    return Buffer.from(key);
  } finally {
    await conn.disconnect();
  }
}
