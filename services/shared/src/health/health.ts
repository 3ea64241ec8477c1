/**
 * The standard grpc.health.v1 service. A process reports NOT_SERVING until all of its
 * dependencies are connected, SERVING while it is healthy, and NOT_SERVING again as
 * the first step of a graceful shutdown so load balancers stop sending calls.
 *
 * Status is kept for "" (the whole process) and for the fully qualified gRPC service
 * name(s) the process serves, as the health protocol describes.
 */
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Server } from '@grpc/grpc-js';

export { service as healthServiceDefinition, protoPath as healthProtoPath } from 'grpc-health-check';

/** Where a process is in its life; only a started process that is not stopping can serve. */
export type HealthPhase = 'starting' | 'started' | 'stopping';

export class Health {
  private readonly impl: HealthImplementation;
  private status: ServingStatus = 'NOT_SERVING';
  private phase: HealthPhase = 'starting';
  private readonly down = new Set<string>();

  constructor(private readonly serviceNames: readonly string[]) {
    this.impl = new HealthImplementation({
      '': 'NOT_SERVING',
      ...Object.fromEntries(serviceNames.map((n) => [n, 'NOT_SERVING'])),
    });
  }

  /** Registers the health service on `server`. */
  addTo(server: Server): void {
    this.impl.addToServer(server);
  }

  /** Moves the process to `phase` (starting → started → stopping; never back). */
  enter(phase: HealthPhase): void {
    if (this.phase === 'stopping') return;
    this.phase = phase;
    this.publish();
  }

  /**
   * Records whether dependency `name` (e.g. "nats") is reachable. The process serves only while
   * every dependency it reported is up, and only in the `started` phase: a reconnect while still
   * starting or already stopping does not make it SERVING.
   */
  dependency(name: string, up: boolean): void {
    if (up) this.down.delete(name);
    else this.down.add(name);
    this.publish();
  }

  get current(): ServingStatus {
    return this.status;
  }

  private publish(): void {
    const status: ServingStatus =
      this.phase === 'started' && this.down.size === 0 ? 'SERVING' : 'NOT_SERVING';
    if (status === this.status) return;
    this.status = status;
    this.impl.setStatus('', status);
    for (const n of this.serviceNames) this.impl.setStatus(n, status);
  }
}
