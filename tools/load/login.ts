/**
 * A load session: an auth key from GramJS's key exchange, then the light client on a fresh
 * connection signing a test number in (or up, when new) exactly as an app does —
 * initConnection inside invokeWithLayer around the first call, auth.sendCode, auth.signIn,
 * auth.signUp — and reading its starting pts with updates.getState.
 */
import type { TlObject } from '../../services/gateway/src/mtproto/tl-types';
import { LightClient, type ClientTl } from './client';
import { makeAuthKey } from './handshake';

/** A signed-in session of the load run. */
export interface LoadSession {
  /** Index in the run (stable; used in message tags and as the checker's receiver id). */
  index: number;
  dc: number;
  phone: string;
  userId: bigint;
  accessHash: bigint;
  /** pts when the session was ready (updates.getState). */
  startPts: number;
  /** The whole updates.getState answer at that moment (pts, qts, date, seq): where getDifference starts. */
  startState: TlObject;
  /** The session's auth key: a new connection with it is the same logged-in user. */
  authKey: Buffer;
  client: LightClient;
}

export interface SessionTarget {
  index: number;
  dc: number;
  host: string;
  port: number;
  phone: string;
  localAddress?: string;
  tl: ClientTl;
  /** Receives live updates of the session (from the moment it connects). */
  onUpdate: (session: number, update: TlObject) => void;
  /** A failed key exchange that is being tried again. */
  onHandshakeRetry?: (err: unknown) => void;
  /** When the session's connection ends, with why. */
  onClose: (session: number, reason: string) => void;
}

const API_ID = 12345;
const API_HASH = '0123456789abcdef0123456789abcdef';

/** A test number 99966XYYYY's login code: the DC digit X five times (the auth service's rule). */
export const testLoginCode = (phone: string): string => phone.charAt(5).repeat(5);

/** Makes a key, connects and signs `t.phone` in or up; the client is left connected. */
export async function openSession(t: SessionTarget): Promise<LoadSession> {
  const authKey = await makeAuthKey({ dcId: t.dc, host: t.host, port: t.port }, t.onHandshakeRetry);
  const client = await LightClient.connect({
    host: t.host,
    port: t.port,
    localAddress: t.localAddress,
    authKey,
    tl: t.tl,
    onUpdate: (u) => t.onUpdate(t.index, u),
    onClose: (reason) => t.onClose(t.index, reason),
  });
  try {
    const sendCode = {
      _: 'auth.sendCode',
      phone_number: t.phone,
      api_id: API_ID,
      api_hash: API_HASH,
      settings: { _: 'codeSettings' },
    };
    const sent = await client.call({
      _: 'invokeWithLayer',
      layer: t.tl.layer,
      query: {
        _: 'initConnection',
        api_id: API_ID,
        device_model: 'tern-load',
        system_version: process.version,
        app_version: '1.0',
        system_lang_code: 'en',
        lang_pack: '',
        lang_code: 'en',
        query: sendCode,
      },
    });
    const hash = sent.phone_code_hash as string;
    let auth = await client.call({
      _: 'auth.signIn',
      phone_number: t.phone,
      phone_code_hash: hash,
      phone_code: testLoginCode(t.phone),
    });
    if (auth._ === 'auth.authorizationSignUpRequired')
      auth = await client.call({
        _: 'auth.signUp',
        phone_number: t.phone,
        phone_code_hash: hash,
        first_name: `Load ${t.index}`,
        last_name: '',
      });
    const user = auth.user as TlObject;
    const state = await client.call({ _: 'updates.getState' });
    return {
      index: t.index,
      dc: t.dc,
      phone: t.phone,
      userId: user.id as bigint,
      accessHash: user.access_hash as bigint,
      startPts: state.pts as number,
      startState: state,
      authKey,
      client,
    };
  } catch (err) {
    client.close();
    throw err;
  }
}
