/**
 * One writer per key: which replica of a sharded service in this DC owns each shard right now, and
 * whether this replica may write it. Messaging shards users' boxes by user id, the channel service
 * shards channels by channel id; each names its own pair of buckets (nats/subjects.ts).
 *
 * Membership: every replica puts `<its id>` into the DC's replicas bucket every heartbeat and
 * watches the bucket; a replica not heard from for memberTtlMs (by the reader's clock) has left.
 * Leases: one KV entry per shard in the leases bucket, taken and renewed by compare-and-set on
 * the entry's revision; the revision that took the lease is the tenure's fencing epoch. A replica
 * takes a shard when it is the shard's rendezvous owner among the live replicas and the lease is
 * free (lease.ts), renews every renewEveryMs, and hands a shard over (stop admitting, drain, then
 * release) when a joining replica becomes its rendezvous owner or when it stops. It writes only
 * while its fence is valid; when the fence runs out (cut off from NATS, renewals failing) it drops
 * the shard, whatever it believes about the others. docs/decisions/0017-one-writer-per-box.md.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { JetStreamClient, KV, KvEntry, QueuedIterator } from 'nats';
import type { Logger } from '../log/logger';
import {
  DEFAULT_TIMINGS,
  decide,
  decodeLease,
  encodeLease,
  fenceDeadline,
  liveHolder,
  timingProblems,
  type LeaseValue,
  type ObservedLease,
  type OwnershipTimings,
} from './lease';
import { SHARD_COUNT, desiredOwners, shardOf } from './shards';

/** Permission to write one shard's boxes during one tenure of this replica. */
export interface Fence {
  readonly shard: number;
  /**
   * The tenure's fencing token: the KV revision of the write that took the lease. Strictly larger
   * for every later tenure of the shard (by any replica), so it orders tenures.
   */
  readonly epoch: bigint;
  /**
   * Still safe to write? False once the fence has run out, the shard was released or taken; never
   * true again for this object (a new tenure has a new Fence). Check right before each write.
   */
  valid(): boolean;
}

/** Where a write for a box goes. */
export type Route =
  /** This replica owns the shard: write here, under `fence`. */
  | { kind: 'here'; fence: Fence }
  /** Another replica holds the shard's lease: forward the call to its direct gRPC address. */
  | { kind: 'forward'; address: string; ownerId: string }
  /** No replica may write the shard right now (changing hands): answer UNAVAILABLE, retryable. */
  | { kind: 'unavailable' };

/** Why this replica stopped writing a shard. */
export type LossReason =
  /** Handed over (a joining replica's share, or stop()) after its writes drained. */
  | 'released'
  /** The fence ran out: renewals failed (cut off from NATS) or a drain did not finish in time. */
  | 'expired'
  /** Another replica wrote the lease: this replica's view was stale. */
  | 'taken';

/** What the write path provides. */
export interface OwnershipHooks {
  /**
   * Resolves once every write admitted for `shard` has finished. New writes are no longer routed
   * 'here' when it is called.
   */
  drain(shard: number): Promise<void>;
  /**
   * This replica no longer writes `shard`: drop every in-memory state of its boxes (pts, ids,
   * heads), which another replica may now change. Called once per tenure, synchronously.
   */
  onLost(shard: number, reason: LossReason): void;
  /** Optional: a new tenure of `shard` began (the write path re-reads box ends lazily anyway). */
  onAcquired?(shard: number, fence: Fence): void;
}

/** How to construct a {@link ShardOwnership}. */
export interface ShardOwnershipOptions {
  /** JetStream of the service's bus (`ctx.bus.js`). */
  js: JetStreamClient;
  /** The service's membership and lease buckets, e.g. `boxOwnershipBucketsFor(dc)`. */
  buckets: { replicas: string; leases: string };
  /** What is sharded, for bucket descriptions and log lines ("box", "channel"). */
  what: string;
  /** This replica's direct gRPC address (host:port) that other replicas forward writes to. */
  selfAddress: string;
  log: Logger;
  hooks: OwnershipHooks;
  /** Overrides of {@link DEFAULT_TIMINGS} (tests); checked by {@link timingProblems}. */
  timings?: Partial<OwnershipTimings>;
  /**
   * False while this replica is cut off from NATS (`EventBus.connected`). A call about a shard
   * with no writer then gets 'unavailable' at once instead of waiting for an owner that cannot
   * appear until NATS is back: the caller's retries and the client's answer stay within seconds.
   */
  natsConnected?: () => boolean;
  /**
   * JetStream replicas of the two buckets when this replica creates them, and the cluster of a
   * super-cluster that holds them (`EventBus.kvPlacement()`; default one replica, anywhere: the
   * local stack's single server; 3 on a production cluster: box writes stop when the leases
   * cannot be renewed).
   */
  bucketPlacement?: { replicas: number; placementCluster?: string };
}

const WRONG_LAST_SEQUENCE = 10071;

/** A compare-and-set that lost: the entry's revision was not the one expected. */
function isWrongRevision(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === WRONG_LAST_SEQUENCE || /wrong last sequence/i.test(e?.message ?? '');
}

const leaseKey = (shard: number) => `shard.${shard}`;
const LEASE_KEY = /^shard\.(\d+)$/;

/** One tenure: the lease state this replica holds for a shard, and the Fence the write path sees. */
class Tenure implements Fence {
  /** Once set, this tenure never writes again. */
  revoked = false;
  /** New writes are routed here (false from the start of a handover). */
  admitting = true;
  /** A drain did not finish: no more renewals, the lease ends by time. */
  abandoned = false;
  handingOver = false;
  renewing: Promise<void> | null = null;

  constructor(
    readonly shard: number,
    readonly epoch: bigint,
    /** The entry's current revision, for the next compare-and-set. */
    public revision: number,
    /** Monotonic ms until which writes are safe. */
    public deadline: number,
    public nextRenewAt: number,
    private readonly clock: () => number,
  ) {}

  valid(): boolean {
    return !this.revoked && this.clock() < this.deadline;
  }
}

type Phase = 'idle' | 'settling' | 'running' | 'stopping' | 'stopped';

/**
 * Shard ownership of this replica: see the module comment. Construct, `start()`, then ask
 * `route(key)` before every write of a key (a user's box, a channel); `stop()` on shutdown before the bus closes.
 */
export class ShardOwnership {
  /** This replica's id in the membership and in leases: random per process start. */
  readonly selfId: string = randomBytes(8).toString('hex');

  private readonly t: OwnershipTimings;
  private readonly clock = () => performance.now();
  private phase: Phase = 'idle';
  private membersKv: KV | null = null;
  private leasesKv: KV | null = null;
  /** Other live replicas, by id: last revision seen and when (monotonic ms). */
  private readonly members = new Map<string, { revision: number; lastSeen: number }>();
  /** Rendezvous owner of each shard among the live replicas (index = shard). */
  private desired: (string | undefined)[] = [];
  /** Last lease entry seen per shard. */
  private readonly leases = new Map<number, ObservedLease>();
  /** Tenures this replica holds. */
  private readonly held = new Map<number, Tenure>();
  private readonly acquiring = new Set<number>();
  /** Async operations under way (acquire, handover, heartbeat), awaited by stop(). */
  private readonly inflight = new Set<Promise<unknown>>();
  private heartbeatInFlight: Promise<void> | null = null;
  private nextHeartbeatAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly watchers = new Set<QueuedIterator<KvEntry>>();
  private readonly loops: Promise<void>[] = [];
  /** Wake-ups for waitForRoute and for cancellable sleeps; each removes itself when it fires. */
  private readonly waiters = new Set<() => void>();
  private stopped: Promise<void> | null = null;
  private readonly lastWarn = new Map<string, number>();

  constructor(private readonly opts: ShardOwnershipOptions) {
    this.t = { ...DEFAULT_TIMINGS, ...opts.timings };
    const problems = timingProblems(this.t);
    if (problems.length > 0) throw new Error(`${opts.what} ownership timings: ${problems.join('; ')}`);
  }

  /**
   * Opens (creating if absent) the DC's buckets, learns the live replicas and the leases, registers
   * this replica, waits settleMs for replicas starting at the same time, and takes the shards it
   * should whose leases are free. Shards held by a replica that died wait for their lease to end.
   */
  async start(): Promise<void> {
    if (this.phase !== 'idle') throw new Error('ShardOwnership.start: already started');
    this.phase = 'settling';
    const names = this.opts.buckets;
    const membersKv = await this.opts.js.views.kv(names.replicas, {
      history: 1,
      ...(this.opts.bucketPlacement ?? { replicas: 1 }),
      ttl: this.t.memberTtlMs,
      description: `Live replicas of the DC (${this.opts.what} ownership heartbeats).`,
    });
    const leasesKv = await this.opts.js.views.kv(names.leases, {
      history: 1,
      ...(this.opts.bucketPlacement ?? { replicas: 1 }),
      description: `${this.opts.what} shard leases: which replica writes each shard.`,
    });
    this.membersKv = membersKv;
    this.leasesKv = leasesKv;
    if (this.phase !== 'settling') return; // stop() was called meanwhile
    let membersReady!: () => void;
    let leasesReady!: () => void;
    const ready = Promise.all([
      new Promise<void>((r) => (membersReady = r)),
      new Promise<void>((r) => (leasesReady = r)),
    ]);
    this.loops.push(this.watchLoop(membersKv, (e) => this.onMember(e), membersReady));
    this.loops.push(this.watchLoop(leasesKv, (e) => this.onLease(e), leasesReady));
    // The client announces the end of a watch's initial values; in rare cases (the stream pruned
    // while the watch starts) it never does, and the entries that follow are enough.
    let readyTimer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      ready.then(() => false),
      new Promise<boolean>((r) => (readyTimer = setTimeout(() => r(true), 5_000))),
    ]);
    clearTimeout(readyTimer);
    if (late)
      this.opts.log.warn(
        `${this.opts.what} ownership: watches did not report their initial values; going on`,
      );
    this.recomputeDesired();
    await this.heartbeat();
    if (this.phase !== 'settling') return;
    this.timer = setInterval(() => this.tick(), this.t.tickMs);
    // The service's gRPC server keeps the process alive; ownership alone must not.
    this.timer.unref();
    await this.sleep(this.t.settleMs, () => this.phase !== 'settling');
    if (this.phase !== 'settling') return;
    this.phase = 'running';
    this.reconcile();
    await Promise.allSettled([...this.inflight]);
  }

  /**
   * Leaves gracefully: deregisters (so the others compute the new owners at once), stops
   * admitting, drains and releases every held shard, and ends every watch and timer. A shard whose
   * drain does not finish is not released but left to end by time. Idempotent.
   */
  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    const wasIdle = this.phase === 'idle';
    this.phase = 'stopping';
    this.notify();
    if (!wasIdle) {
      // A heartbeat landing after the delete would bring this replica back to life for memberTtlMs,
      // and nobody would take its released shards meanwhile.
      await this.heartbeatInFlight;
      await this.membersKv?.delete(this.selfId).catch((err: unknown) => this.warn('deregister', err));
      this.recomputeDesired();
      this.reconcile();
      // Renewals continue on the tick while handovers drain; abandoned tenures end at their deadline.
      while (this.held.size > 0 || this.inflight.size > 0) {
        await Promise.race([Promise.allSettled([...this.inflight]), this.changed(this.t.tickMs)]);
        this.reconcile();
      }
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.phase = 'stopped';
    for (const w of this.watchers) w.stop();
    this.notify();
    await Promise.allSettled(this.loops);
  }

  /** Where a write to `userId`'s box goes, from local state (no I/O). */
  route(userId: bigint): Route {
    return this.routeShard(shardOf(userId));
  }

  /**
   * Like {@link route}, but while the shard has no writer (changing hands) waits up to `timeoutMs`
   * for one, then answers 'unavailable'.
   */
  async waitForRoute(userId: bigint, timeoutMs: number): Promise<Route> {
    const shard = shardOf(userId);
    const deadline = this.clock() + timeoutMs;
    for (;;) {
      const r = this.routeShard(shard);
      const left = deadline - this.clock();
      if (r.kind !== 'unavailable' || this.phase === 'stopped' || left <= 0) return r;
      if (this.opts.natsConnected?.() === false) return r;
      await this.changed(Math.min(left, this.t.tickMs));
    }
  }

  /**
   * This replica's current tenure of `shard`, also while it hands the shard over (its admitted
   * writes still need it); null when it holds none. For diagnostics and tests.
   */
  fence(shard: number): Fence | null {
    return this.held.get(shard) ?? null;
  }

  private routeShard(shard: number): Route {
    if (this.phase === 'idle' || this.phase === 'stopped') return { kind: 'unavailable' };
    const tenure = this.held.get(shard);
    if (tenure)
      return tenure.admitting && tenure.valid() ? { kind: 'here', fence: tenure } : { kind: 'unavailable' };
    const holder = liveHolder(this.leases.get(shard), this.clock(), this.t);
    if (holder && holder.owner !== this.selfId)
      return { kind: 'forward', address: holder.address, ownerId: holder.owner };
    return { kind: 'unavailable' };
  }

  // ---- watches ----

  /** Watches `kv` until stop(), re-establishing the watch if it ends while running. */
  private async watchLoop(kv: KV, onEntry: (e: KvEntry) => void, onReady: () => void): Promise<void> {
    const stopped = () => this.phase === 'stopped';
    while (!stopped()) {
      try {
        const iter = await kv.watch({ key: '>', initializedFn: onReady });
        this.watchers.add(iter);
        try {
          for await (const e of iter) onEntry(e);
        } finally {
          this.watchers.delete(iter);
        }
      } catch (err) {
        this.warn(`watch ${kv === this.membersKv ? 'replicas' : 'leases'}`, err);
      }
      // The phase may have changed while the watch ran; a method call keeps TypeScript from
      // narrowing on the loop's condition.
      if (!stopped()) await this.sleep(1_000, stopped);
    }
  }

  private onMember(e: KvEntry): void {
    if (e.key === this.selfId) return;
    const known = this.members.get(e.key);
    if (e.operation !== 'PUT') {
      if (known && e.revision > known.revision) {
        this.members.delete(e.key);
        this.membershipChanged();
      }
      return;
    }
    // A re-established watch delivers entries again; only a newer revision is a new heartbeat.
    if (known && e.revision <= known.revision) return;
    this.members.set(e.key, { revision: e.revision, lastSeen: this.clock() });
    if (!known) this.membershipChanged();
  }

  private membershipChanged(): void {
    this.recomputeDesired();
    this.reconcile();
  }

  private onLease(e: KvEntry): void {
    const m = LEASE_KEY.exec(e.key);
    const shard = m ? Number(m[1]) : -1;
    if (shard < 0 || shard >= SHARD_COUNT) return;
    const value = e.operation === 'PUT' ? decodeLease(e.value) : null;
    if (!this.observe(shard, value, e.revision)) return;
    const tenure = this.held.get(shard);
    if (tenure && e.revision > tenure.revision && value?.owner !== this.selfId) {
      // Only possible if this replica's fence outlived what another replica waited: a bug, a
      // paused process or a clock running far too slow. Drop the shard at once.
      if (tenure.valid())
        this.opts.log.error(
          { shard, epoch: tenure.epoch, by: value?.owner },
          `${this.opts.what} shard lease taken while this replica still held a valid fence`,
        );
      this.lose(tenure, 'taken');
    }
    this.notify();
    this.reconcile();
  }

  /** Records a lease entry if newer than the one known; true if it was. */
  private observe(shard: number, value: LeaseValue | null, revision: number): boolean {
    const known = this.leases.get(shard);
    if (known && revision <= known.revision) return false;
    this.leases.set(shard, { value, revision, observedAt: this.clock() });
    return true;
  }

  // ---- the loop ----

  private recomputeDesired(): void {
    const live = [...this.members.keys()];
    if (this.phase === 'settling' || this.phase === 'running') live.push(this.selfId);
    this.desired = desiredOwners(live);
  }

  private tick(): void {
    const now = this.clock();
    if (
      (this.phase === 'settling' || this.phase === 'running') &&
      !this.heartbeatInFlight &&
      now >= this.nextHeartbeatAt
    )
      void this.heartbeat();
    let gone = false;
    for (const [id, m] of this.members)
      if (now - m.lastSeen > this.t.memberTtlMs) {
        this.members.delete(id);
        gone = true;
      }
    if (gone) this.recomputeDesired();
    this.reconcile();
  }

  /** Takes, for each shard, the action {@link decide} chooses. Synchronous; actions run in background. */
  private reconcile(): void {
    if (this.phase === 'idle' || this.phase === 'stopped') return;
    const now = this.clock();
    const canAcquire = this.phase === 'settling' || this.phase === 'running';
    for (let shard = 0; shard < SHARD_COUNT; shard++) {
      const tenure = this.held.get(shard);
      const observed = this.leases.get(shard);
      const action = decide({
        selfId: this.selfId,
        desired: canAcquire && this.desired[shard] === this.selfId,
        // While settling, take only what an owner released to us; see start().
        onlyReleased: this.phase === 'settling',
        held: tenure
          ? {
              deadline: tenure.deadline,
              nextRenewAt: tenure.abandoned ? Infinity : tenure.nextRenewAt,
              renewing: tenure.renewing !== null,
              handingOver: tenure.handingOver,
            }
          : null,
        observed,
        now,
        timings: this.t,
      });
      if (action === 'expire' && tenure) this.lose(tenure, 'expired');
      else if (action === 'renew' && tenure) this.renew(tenure);
      else if (action === 'handover' && tenure) this.track(this.handOver(tenure));
      else if (action === 'acquire' && !this.acquiring.has(shard)) this.track(this.acquire(shard));
    }
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  // ---- lease operations ----

  private async acquire(shard: number): Promise<void> {
    const kv = this.leasesKv;
    if (!kv) return;
    this.acquiring.add(shard);
    const observed = this.leases.get(shard);
    const value: LeaseValue = {
      owner: this.selfId,
      address: this.opts.selfAddress,
      until: Date.now() + this.t.leaseMs,
    };
    const sentAt = this.clock();
    try {
      const revision = observed
        ? await kv.update(leaseKey(shard), encodeLease(value), observed.revision)
        : await kv.create(leaseKey(shard), encodeLease(value));
      this.observe(shard, value, revision);
      if (this.phase !== 'settling' && this.phase !== 'running') {
        // Won a race while stopping: give it straight back.
        await kv.update(leaseKey(shard), encodeLease({ ...value, until: 0 }), revision);
        return;
      }
      const tenure = new Tenure(
        shard,
        BigInt(revision),
        revision,
        fenceDeadline(sentAt, this.t),
        sentAt + this.t.renewEveryMs,
        this.clock,
      );
      this.held.set(shard, tenure);
      this.opts.log.debug({ shard, epoch: revision }, `${this.opts.what} shard acquired`);
      try {
        this.opts.hooks.onAcquired?.(shard, tenure);
      } catch (err) {
        this.opts.log.error({ err, shard }, 'onAcquired hook failed');
      }
      this.notify();
    } catch (err) {
      // A lost compare-and-set means another replica moved first or our view was stale; the watch
      // brings the entry as it is.
      if (!isWrongRevision(err)) this.warn('acquire', err);
    } finally {
      this.acquiring.delete(shard);
    }
  }

  private renew(tenure: Tenure): void {
    const p = this.doRenew(tenure).finally(() => {
      tenure.renewing = null;
    });
    tenure.renewing = p;
    this.track(p);
  }

  private async doRenew(tenure: Tenure): Promise<void> {
    const kv = this.leasesKv;
    if (!kv) return;
    const key = leaseKey(tenure.shard);
    const value: LeaseValue = {
      owner: this.selfId,
      address: this.opts.selfAddress,
      until: Date.now() + this.t.leaseMs,
    };
    const sentAt = this.clock();
    try {
      const revision = await kv.update(key, encodeLease(value), tenure.revision);
      tenure.revision = revision;
      this.observe(tenure.shard, value, revision);
      // The compare-and-set proves nobody wrote the lease since our last write, so the fence may be
      // extended from the moment this renewal was sent, even if the answer came late.
      if (!tenure.revoked) tenure.deadline = Math.max(tenure.deadline, fenceDeadline(sentAt, this.t));
      tenure.nextRenewAt = sentAt + this.t.renewEveryMs;
    } catch (err) {
      if (!isWrongRevision(err)) {
        tenure.nextRenewAt = this.clock() + this.t.retryMs;
        this.warn('renew', err);
        return;
      }
      // Someone wrote the entry. Ours, if an earlier renewal was applied but its answer was lost:
      // adopt its revision (the fence stays as it was: that renewal's send time is not known here).
      const entry = await kv.get(key).catch(() => null);
      const current = entry?.operation === 'PUT' ? decodeLease(entry.value) : null;
      if (entry && current && current.owner === this.selfId && current.until !== 0) {
        tenure.revision = Math.max(tenure.revision, entry.revision);
        tenure.nextRenewAt = this.clock();
      } else {
        this.lose(tenure, 'taken');
      }
    }
  }

  /** Stops admitting, drains, then releases (or, if no longer needed, resumes admitting). */
  private async handOver(tenure: Tenure): Promise<void> {
    const shard = tenure.shard;
    tenure.handingOver = true;
    tenure.admitting = false;
    this.notify();
    let drained = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      drained = await Promise.race([
        this.opts.hooks.drain(shard).then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), this.t.drainTimeoutMs))),
      ]);
    } catch (err) {
      this.opts.log.error({ err, shard }, 'drain hook failed; the shard will end by time');
    } finally {
      clearTimeout(timer);
    }
    if (this.held.get(shard) !== tenure) return; // expired or taken meanwhile
    if (!drained) {
      // A write may still be under way: releasing would let another replica write beside it.
      tenure.abandoned = true;
      this.opts.log.warn(
        { shard },
        `${this.opts.what} shard writes did not drain; its lease will end by time`,
      );
      return;
    }
    if (this.phase === 'running' && this.desired[shard] === this.selfId) {
      // The replica that was to take it left again.
      tenure.handingOver = false;
      tenure.admitting = true;
      this.notify();
      return;
    }
    // From here this tenure never writes; the write path drops its state before anyone else can
    // take the shard.
    this.lose(tenure, 'released');
    await tenure.renewing; // the release's compare-and-set needs the latest revision
    try {
      await this.leasesKv?.update(
        leaseKey(shard),
        encodeLease({ owner: this.selfId, address: this.opts.selfAddress, until: 0 }),
        tenure.revision,
      );
    } catch (err) {
      this.warn('release', err);
    }
    this.opts.log.debug({ shard, epoch: tenure.epoch }, `${this.opts.what} shard released`);
  }

  /** Ends `tenure` (if still current): its fence is invalid from now on. */
  private lose(tenure: Tenure, reason: LossReason): void {
    if (this.held.get(tenure.shard) !== tenure) return;
    tenure.revoked = true;
    tenure.admitting = false;
    this.held.delete(tenure.shard);
    if (reason !== 'released')
      this.opts.log.warn(
        { shard: tenure.shard, epoch: tenure.epoch, reason },
        `${this.opts.what} shard lost`,
      );
    try {
      this.opts.hooks.onLost(tenure.shard, reason);
    } catch (err) {
      this.opts.log.error({ err, shard: tenure.shard }, 'onLost hook failed');
    }
    this.notify();
  }

  // ---- membership ----

  private heartbeat(): Promise<void> {
    const kv = this.membersKv;
    if (!kv) return Promise.resolve();
    this.nextHeartbeatAt = this.clock() + this.t.heartbeatMs;
    const body = Buffer.from(JSON.stringify({ address: this.opts.selfAddress }), 'utf8');
    const p = kv
      .put(this.selfId, body)
      .then(() => undefined)
      .catch((err: unknown) => this.warn('heartbeat', err))
      .finally(() => {
        this.heartbeatInFlight = null;
      });
    this.heartbeatInFlight = p;
    return p;
  }

  // ---- small helpers ----

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Resolves at the next change of ownership state or after `ms`, whichever is first. */
  private changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  /** Sleeps `ms`, cut short once `over()` holds (checked at every change, e.g. stop()). */
  private async sleep(ms: number, over: () => boolean): Promise<void> {
    const end = this.clock() + ms;
    while (!over() && this.clock() < end) await this.changed(end - this.clock());
  }

  /** A warning at most every 5 s per kind: a NATS outage would otherwise log every tick per shard. */
  private warn(kind: string, err: unknown): void {
    const now = this.clock();
    if (now - (this.lastWarn.get(kind) ?? -Infinity) < 5_000) return;
    this.lastWarn.set(kind, now);
    this.opts.log.warn({ err, kind }, `${this.opts.what} ownership: NATS operation failed`);
  }
}
