/**
 * Which users have a live connection to this gateway process, published to the DC's presence
 * bucket (NATS KV, subjects.ts presenceBucketFor) for the push worker: a user with a connection
 * gets new messages live and is not sent a push notification.
 *
 * "Online" means an open transport connection that carried a message of a session logged in as
 * the user. Sessions outlive connections (../mtproto/sessions.ts), so sessions alone would call a user who
 * closed the app online for as long as the session is cached; connections close for sure.
 *
 * Each process writes only its own keys `<user id>.<instance>`: put when a user's first connection
 * here is seen, deleted when the last one closes (so "went offline" is visible at once), and put
 * again every heartbeat so the bucket's TTL removes the keys of a process that died without
 * deleting them. Memory is one small entry per open connection and per user with one.
 */
import { randomBytes } from 'node:crypto';
import type { KV } from 'nats';
import { presenceBucketFor, type EventBus, type Logger } from '../../../shared/src';

/** What the MTProto engine tells presence (EngineDeps.presence). */
export interface PresenceHook {
  /** A message of a session logged in as `userId` arrived on connection `connId`. */
  seen(userId: bigint, connId: number): void;
  /** Connection `connId` is gone. */
  closed(connId: number): void;
}

/** Puts of one heartbeat in flight at once: bounded work however many users are online here. */
const HEARTBEAT_BATCH = 256;

export class GatewayPresence implements PresenceHook {
  /** Users per open connection (usually one) and open connections per user. */
  private readonly byConn = new Map<number, Set<bigint>>();
  private readonly byUser = new Map<bigint, Set<number>>();
  private timer?: NodeJS.Timeout;
  private beating = false;

  private constructor(
    private readonly kv: KV,
    /** This process's key suffix: unique per process lifetime. */
    readonly instance: string,
    private readonly heartbeatMs: number,
    private readonly log: Logger,
  ) {}

  static async open(bus: EventBus, dcId: number, log: Logger): Promise<GatewayPresence> {
    const b = presenceBucketFor(dcId);
    const kv = await bus.js.views.kv(b.name, { ttl: b.ttlMs, history: 1, ...bus.kvPlacement() });
    const p = new GatewayPresence(kv, randomBytes(6).toString('hex'), b.heartbeatMs, log);
    p.timer = setInterval(() => void p.heartbeat(), b.heartbeatMs).unref();
    return p;
  }

  private key(userId: bigint): string {
    return `${userId}.${this.instance}`;
  }

  seen(userId: bigint, connId: number): void {
    if (userId === 0n) return;
    let users = this.byConn.get(connId);
    if (users?.has(userId)) return;
    if (!users) this.byConn.set(connId, (users = new Set()));
    users.add(userId);
    let conns = this.byUser.get(userId);
    const first = !conns;
    if (!conns) this.byUser.set(userId, (conns = new Set()));
    conns.add(connId);
    if (first) this.write(userId, true);
  }

  closed(connId: number): void {
    const users = this.byConn.get(connId);
    if (!users) return;
    this.byConn.delete(connId);
    for (const u of users) {
      const conns = this.byUser.get(u);
      conns?.delete(connId);
      if (conns?.size === 0) {
        this.byUser.delete(u);
        this.write(u, false);
      }
    }
  }

  /** Users with a connection here (for tests and metrics). */
  get onlineUsers(): number {
    return this.byUser.size;
  }

  private write(userId: bigint, online: boolean): void {
    const op = online ? this.kv.put(this.key(userId), String(Date.now())) : this.kv.delete(this.key(userId));
    op.catch((err: unknown) =>
      this.log.warn(
        { err, userId: userId.toString(), online },
        'presence not written (the TTL or next heartbeat settles it)',
      ),
    );
  }

  /** Re-puts every online user's key so that it outlives the bucket's TTL while the user stays. */
  private async heartbeat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      const users = [...this.byUser.keys()];
      const now = String(Date.now());
      for (let i = 0; i < users.length; i += HEARTBEAT_BATCH)
        await Promise.all(users.slice(i, i + HEARTBEAT_BATCH).map((u) => this.kv.put(this.key(u), now)));
    } catch (err) {
      this.log.warn({ err }, 'presence heartbeat failed');
    } finally {
      this.beating = false;
    }
  }

  /** Graceful shutdown: this process's users are offline here now, not after the TTL. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    const users = [...this.byUser.keys()];
    this.byUser.clear();
    this.byConn.clear();
    for (let i = 0; i < users.length; i += HEARTBEAT_BATCH)
      await Promise.allSettled(users.slice(i, i + HEARTBEAT_BATCH).map((u) => this.kv.delete(this.key(u))));
  }
}
