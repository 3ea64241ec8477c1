/**
 * A session's connection that comes back: the chaos run's clients behave as an app does when its
 * connection drops. The same auth key dials again (a fresh MTProto session on a new connection,
 * still the same logged-in user), with a short backoff while the gateway is unreachable.
 */
import type { TlObject } from '../../services/gateway/src/mtproto/tl-types';
import { LightClient, type ClientTl } from '../load/client';

export interface RedialTarget {
  host: string;
  port: number;
  authKey: Buffer;
  tl: ClientTl;
  /** Live updates, from whichever connection is current. */
  onUpdate?: (update: TlObject) => void;
  /** How long one call may wait for its answer before the connection is given up. */
  callTimeoutMs: number;
}

/** Backoff between failed dials: an app's reconnect loop, short enough to measure recovery. */
const DIAL_BACKOFF_MS = [100, 200, 400, 800, 1000] as const;

export class RedialingConnection {
  private current: LightClient | undefined;
  private dialing: Promise<LightClient> | undefined;
  private stopped = false;
  /** Connections made after the first. */
  reconnects = 0;
  /** When the current connection was made (performance.now()), for "connected again" checks. */
  connectedAt = 0;

  constructor(private readonly t: RedialTarget) {}

  /** The open connection, dialing (again) if there is none. Rejects only once stopped. */
  get(): Promise<LightClient> {
    if (this.current && !this.current.isClosed) return Promise.resolve(this.current);
    this.dialing ??= this.dial().finally(() => (this.dialing = undefined));
    return this.dialing;
  }

  stop(): void {
    this.stopped = true;
    this.current?.close();
  }

  private async dial(): Promise<LightClient> {
    const first = this.current === undefined;
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw new Error('stopped');
      try {
        const client = await LightClient.connect({
          host: this.t.host,
          port: this.t.port,
          authKey: this.t.authKey,
          tl: this.t.tl,
          callTimeoutMs: this.t.callTimeoutMs,
          ...(this.t.onUpdate ? { onUpdate: this.t.onUpdate } : {}),
        });
        if (!first) this.reconnects++;
        this.current = client;
        this.connectedAt = performance.now();
        return client;
      } catch {
        await sleep(DIAL_BACKOFF_MS[Math.min(attempt, DIAL_BACKOFF_MS.length - 1)]!);
      }
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
