/**
 * Auth keys and sessions held by one gateway process. A session (auth key + session_id) outlives
 * a TCP connection: a client that reconnects with the same session continues it, and server
 * messages it has not acknowledged are sent again. Everything here is bounded: keys and sessions
 * are evicted least-recently-used, unacknowledged messages by count and bytes.
 */
import { ReceivedWindow, ServerMsgIds } from './msg-id';
import type { TransportConnection } from './transport/connection';

/** What the gateway knows about an auth key (the key itself lives in the auth service's storage). */
export interface AuthKeyEntry {
  id: bigint;
  idBytes: Buffer;
  key: Buffer;
  temporary: boolean;
  expiresAt: number;
  /**
   * The salt the key exchange gave the client (new_nonce ⊕ server_nonce), accepted until `until`
   * (ms) besides the derived salts: clients use it for their first messages.
   */
  firstSalt?: { salt: bigint; until: number };
  /** The user this key is logged in as (0 = not logged in); undefined until asked. */
  userId?: bigint;
  /** When `userId` was read from the auth service (ms); it is re-read after a while. */
  userCheckedAt?: number;
  /** For a temporary key bound with auth.bindTempAuthKey: its permanent key's id. */
  permAuthKeyId?: bigint;
  /** The layer the client last announced with invokeWithLayer on any session of this key. */
  layer?: number;
}

/** Client facts from initConnection, per session. */
export interface ClientInfo {
  apiId: number;
  deviceModel: string;
  systemVersion: string;
  appVersion: string;
  langCode: string;
  systemLangCode: string;
  langPack: string;
}

/** A server message kept until the client acknowledges it. */
interface Unacked {
  body: Buffer;
  seqNo: number;
}

export interface SessionLimits {
  /** Unacknowledged server messages kept per session (older ones are dropped first). */
  maxUnackedMessages: number;
  maxUnackedBytes: number;
  /** RPCs a session may have running at once; more are answered with FLOOD_WAIT. */
  maxPendingRequests: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  maxUnackedMessages: 1024,
  maxUnackedBytes: 4 * 1024 * 1024,
  maxPendingRequests: 64,
};

export class Session {
  readonly msgIds = new ServerMsgIds();
  readonly received = new ReceivedWindow();
  /** Client content messages not yet acknowledged by us. */
  readonly toAck: bigint[] = [];
  private readonly unacked = new Map<bigint, Unacked>();
  private unackedBytes = 0;
  private contentSent = 0;
  pendingRequests = 0;
  /** Calls of this session still running, by msg_id (what invokeAfterMsg waits for). */
  readonly running = new Map<bigint, Promise<void>>();
  connection?: TransportConnection;
  layer?: number;
  client?: ClientInfo;
  /** The user this session is indexed under for live updates (SessionStore.indexUser). */
  user?: bigint;
  lastUsed = Date.now();

  constructor(
    readonly authKey: AuthKeyEntry,
    readonly id: bigint,
    readonly limits: SessionLimits,
  ) {}

  /** seqno for the next server message: content messages count (odd), others do not (even). */
  nextSeqNo(contentRelated: boolean): number {
    if (!contentRelated) return this.contentSent * 2;
    return this.contentSent++ * 2 + 1;
  }

  remember(msgId: bigint, seqNo: number, body: Buffer): void {
    this.unacked.set(msgId, { body, seqNo });
    this.unackedBytes += body.length;
    for (const [id, m] of this.unacked) {
      if (
        this.unacked.size <= this.limits.maxUnackedMessages &&
        this.unackedBytes <= this.limits.maxUnackedBytes
      )
        break;
      this.unacked.delete(id);
      this.unackedBytes -= m.body.length;
    }
  }

  acknowledge(msgIds: readonly bigint[]): void {
    for (const id of msgIds) {
      const m = this.unacked.get(id);
      if (!m) continue;
      this.unacked.delete(id);
      this.unackedBytes -= m.body.length;
    }
  }

  unacknowledged(ids?: readonly bigint[]): Array<{ msgId: bigint; seqNo: number; body: Buffer }> {
    const out: Array<{ msgId: bigint; seqNo: number; body: Buffer }> = [];
    for (const [msgId, m] of this.unacked) if (!ids || ids.includes(msgId)) out.push({ msgId, ...m });
    return out;
  }

  isUnacked(msgId: bigint): boolean {
    return this.unacked.has(msgId);
  }
}

/** LRU of auth keys and their sessions. */
export class SessionStore {
  private readonly keys = new Map<bigint, AuthKeyEntry>();
  private readonly sessions = new Map<string, Session>();
  /** Session map keys per auth key, in least-recently-created order (for the per-key cap). */
  private readonly byKey = new Map<bigint, Set<string>>();
  /** Sessions per logged-in user: where live updates for a user go. */
  private readonly byUser = new Map<bigint, Set<Session>>();

  constructor(
    private readonly maxKeys = 100_000,
    private readonly maxSessions = 200_000,
    private readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
    /** Sessions one auth key may hold; a client opening more loses its oldest. */
    private readonly maxSessionsPerKey = 64,
  ) {}

  getKey(id: bigint): AuthKeyEntry | undefined {
    const k = this.keys.get(id);
    if (k) {
      this.keys.delete(id);
      this.keys.set(id, k);
    }
    return k;
  }

  putKey(entry: AuthKeyEntry): void {
    this.keys.set(entry.id, entry);
    while (this.keys.size > this.maxKeys) this.keys.delete(this.keys.keys().next().value!);
  }

  /** Forgets a key and all its sessions (logged out, destroyed, or unknown to storage). */
  dropKey(id: bigint): void {
    this.keys.delete(id);
    for (const k of this.byKey.get(id) ?? []) {
      const s = this.sessions.get(k);
      if (s) this.unindexUser(s);
      this.sessions.delete(k);
    }
    this.byKey.delete(id);
  }

  /** Records that `session` acts for `userId` (0n: for nobody), so live updates reach it. */
  indexUser(session: Session, userId: bigint): void {
    if (session.user === userId) return;
    this.unindexUser(session);
    if (userId === 0n) return;
    session.user = userId;
    let set = this.byUser.get(userId);
    if (!set) this.byUser.set(userId, (set = new Set()));
    set.add(session);
  }

  private unindexUser(session: Session): void {
    if (session.user === undefined) return;
    const set = this.byUser.get(session.user);
    set?.delete(session);
    if (set?.size === 0) this.byUser.delete(session.user);
    session.user = undefined;
  }

  /** The sessions held here for `userId`. */
  sessionsOfUser(userId: bigint): Session[] {
    return [...(this.byUser.get(userId) ?? [])];
  }

  /** Forgets the cached login of a permanent key and of the temporary keys bound to it. */
  forgetLogin(permAuthKeyId: bigint): void {
    for (const k of this.keys.values())
      if (k.id === permAuthKeyId || k.permAuthKeyId === permAuthKeyId) {
        k.userId = undefined;
        k.userCheckedAt = undefined;
        for (const sk of this.byKey.get(k.id) ?? []) {
          const s = this.sessions.get(sk);
          if (s) this.unindexUser(s);
        }
      }
  }

  private forget(k: string): void {
    const s = this.sessions.get(k);
    if (!s) return;
    this.sessions.delete(k);
    this.byKey.get(s.authKey.id)?.delete(k);
    this.unindexUser(s);
  }

  /** The session, and whether it was just created (the client is then told new_session_created). */
  session(key: AuthKeyEntry, sessionId: bigint): { session: Session; created: boolean } {
    const k = `${key.id}:${sessionId}`;
    let s = this.sessions.get(k);
    const created = !s;
    if (s) this.sessions.delete(k);
    else {
      s = new Session(key, sessionId, this.limits);
      let own = this.byKey.get(key.id);
      if (!own) this.byKey.set(key.id, (own = new Set()));
      own.add(k);
      while (own.size > this.maxSessionsPerKey) this.forget(own.values().next().value!);
    }
    s.lastUsed = Date.now();
    this.sessions.set(k, s);
    while (this.sessions.size > this.maxSessions) this.forget(this.sessions.keys().next().value!);
    return { session: s, created };
  }

  destroySession(key: AuthKeyEntry, sessionId: bigint): boolean {
    const k = `${key.id}:${sessionId}`;
    const existed = this.sessions.has(k);
    this.forget(k);
    return existed;
  }

  get size(): { keys: number; sessions: number } {
    return { keys: this.keys.size, sessions: this.sessions.size };
  }
}
