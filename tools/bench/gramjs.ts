/**
 * GramJS (`telegram`, layer 198) as the benchmark's real client: its key exchange on a bare
 * connection, and whole clients for RPCs. The stack's RSA public key is added to GramJS's table of
 * trusted server keys, as a client that ships a deployment's key would have it.
 */
import { createPublicKey } from 'node:crypto';
import bigInt from 'big-integer';
import { TelegramClient } from 'telegram';
import { PromisedNetSockets } from 'telegram/extensions';
import { Logger, LogLevel } from 'telegram/extensions/Logger';
import { ConnectionTCPAbridged, doAuthentication, MTProtoPlainSender } from 'telegram/network';
import { _serverKeys } from 'telegram/crypto/RSA';
import { StringSession } from 'telegram/sessions';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';

export interface Target {
  dcId: number;
  host: string;
  port: number;
}

/** Makes GramJS trust `pem` (a PKCS#1 RSA public key), under its MTProto fingerprint. */
export function trustServerKey(pem: string): void {
  const key = createPublicKey(pem);
  const n = Buffer.from(key.export({ format: 'jwk' }).n!, 'base64url');
  const fingerprint = rsaFingerprint(key);
  _serverKeys.set(fingerprint.toString(), { n: bigInt(n.toString('hex'), 16), e: 65537 });
}

const silent = () => new Logger(LogLevel.NONE);

/** One complete auth-key exchange by GramJS's Authenticator on a fresh TCP connection. */
export async function gramHandshake(t: Target): Promise<void> {
  const log = silent();
  const conn = new ConnectionTCPAbridged({
    ip: t.host,
    port: t.port,
    dcId: t.dcId,
    loggers: log,
    socket: PromisedNetSockets,
    testServers: false,
  });
  await conn.connect();
  try {
    await doAuthentication(new MTProtoPlainSender(conn, log), log);
  } finally {
    await conn.disconnect();
  }
}

/**
 * A connected GramJS client (auth key made, initConnection sent), not signed in. In Node GramJS
 * dials port 443 over TCP when useWSS is set, whatever port the session names: `t.port` must be 443.
 */
export async function gramClient(t: Target): Promise<TelegramClient> {
  if (t.port !== 443) throw new Error('GramJS clients only dial port 443');
  const session = new StringSession('');
  session.setDC(t.dcId, t.host, t.port);
  const client = new TelegramClient(session, 12345, '0123456789abcdef0123456789abcdef', {
    connection: ConnectionTCPAbridged,
    useWSS: true,
    // GramJS's default: about 1 handshake in 256 fails on the client's side (docs/clients.md).
    connectionRetries: 5,
    autoReconnect: false,
    baseLogger: silent(),
    deviceModel: 'tern-bench',
    appVersion: '1.0',
  });
  // GramJS's connect() answers false (it does not throw) when every attempt failed.
  if (!(await client.connect())) throw new Error(`GramJS could not connect to DC ${t.dcId}`);
  return client;
}
