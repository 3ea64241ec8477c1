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

export class Health {
  private readonly impl: HealthImplementation;
  private status: ServingStatus = 'NOT_SERVING';

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

  /** Sets the status of the process and of every service it serves. */
  set(status: ServingStatus): void {
    this.status = status;
    this.impl.setStatus('', status);
    for (const n of this.serviceNames) this.impl.setStatus(n, status);
  }

  get current(): ServingStatus {
    return this.status;
  }
}
