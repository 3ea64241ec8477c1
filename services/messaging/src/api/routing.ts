/**
 * Every call about a box runs on the box's owner (docs/decisions/0017-one-writer-per-box.md).
 *
 * A call may reach any messaging replica of the DC (the gateway and other DCs dial the service's
 * address, which balances over replicas). `routeToOwners` wraps the service's implementation: a
 * call whose box this replica owns runs here; one owned by another replica is passed on, as it
 * came, to that replica's direct address; while the box changes hands it waits briefly, then
 * answers UNAVAILABLE (retried by the caller's gRPC client). A passed-on call is marked, and a
 * replica never passes a marked call on again: if ownership moved in between, it answers
 * UNAVAILABLE and the caller's retry finds the new owner.
 *
 * Which box a call is about: the caller's own (its RequestContext) for every user call, the
 * owner's for DeliverToBox, the moved user's for ImportBox and DeleteBox. Service-to-service
 * calls about no box (contacts links, status announcements, exports) run where they arrive.
 */
import { Metadata, type Client, type ServerUnaryCall, type ServiceDefinition } from '@grpc/grpc-js';
import {
  createClient,
  forwardUnary,
  errors,
  parseHostPort,
  createRawClient,
  unary,
  type AsyncImplOf,
} from '../../../shared/src';
import {
  MessagingServiceClient,
  type DeliverToBoxRequest,
  type DeliverToBoxResponse,
} from '../../../shared/src/gen/tern/messaging/v1/messaging';
import type { Route } from '../../../shared/src';

/** Marks a call passed on by another replica. */
export const FORWARDED_HEADER = 'tern-box-forwarded';
/** How long a call waits for a box that is changing hands before answering UNAVAILABLE. */
const ROUTE_WAIT_MS = 3_000;

/** Where boxes are written (shared/src/ownership `ShardOwnership`). */
export interface BoxRoutes {
  waitForRoute(userId: bigint, timeoutMs: number): Promise<Route>;
}

/** The box a call is about, or undefined for calls that may run on any replica. */
export function boxOf(request: unknown): bigint | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  if ('ownerUserId' in request && typeof request.ownerUserId === 'bigint') return request.ownerUserId;
  if ('context' in request) {
    const ctx = request.context;
    if (typeof ctx === 'object' && ctx !== null && 'userId' in ctx && typeof ctx.userId === 'bigint')
      // Not an access check (the handler does that with requireUser): a call without a user
      // is about no box and runs where it arrived.
      return ctx.userId > 0n ? ctx.userId : undefined;
    return undefined;
  }
  return undefined;
}

/** Calls that name their box by `userId` (a user being moved). */
const BY_USER_ID = new Set(['importBox', 'deleteBox']);

function userIdOf(request: unknown): bigint | undefined {
  if (
    typeof request === 'object' &&
    request !== null &&
    'userId' in request &&
    typeof request.userId === 'bigint'
  )
    return request.userId;
  return undefined;
}

/** Direct clients of the other replicas, one per address, kept while the process lives. */
export class ReplicaClients {
  private readonly clients = new Map<string, Client>();
  private readonly messaging = new Map<string, MessagingServiceClient>();

  /** The typed messaging client of one replica (deliveries between replicas of a DC). */
  messagingAt(address: string): MessagingServiceClient {
    let c = this.messaging.get(address);
    if (!c) {
      c = createClient(MessagingServiceClient, parseHostPort(address));
      this.messaging.set(address, c);
    }
    return c;
  }

  get(address: string): Client {
    let c = this.clients.get(address);
    if (!c) {
      c = createRawClient(address, 'messaging');
      this.clients.set(address, c);
    }
    return c;
  }

  close(): void {
    for (const c of [...this.clients.values(), ...this.messaging.values()]) c.close();
    this.clients.clear();
    this.messaging.clear();
  }
}

/**
 * DeliverToBox to a box of this DC: undefined when this replica owns it (the caller applies it
 * here), else the owner's answer (core.ts `onOtherReplica`).
 */
export function deliveryRouter(routes: BoxRoutes, replicas: ReplicaClients) {
  return async (req: DeliverToBoxRequest): Promise<DeliverToBoxResponse | undefined> => {
    const route = await routes.waitForRoute(req.ownerUserId, ROUTE_WAIT_MS);
    if (route.kind === 'here') return undefined;
    if (route.kind === 'unavailable')
      throw errors.unavailable(`box of user ${req.ownerUserId} is changing owners`);
    const owner = replicas.messagingAt(route.address);
    const metadata = new Metadata();
    metadata.set(FORWARDED_HEADER, '1');
    return unary(owner.deliverToBox.bind(owner), req, { metadata });
  };
}

/**
 * Wraps every method of `impl` so that it runs on the owner of its box. With `routes` absent
 * (one replica, nothing to route), `impl` is returned as it is.
 */
export function routeToOwners<D extends ServiceDefinition>(
  definition: D,
  impl: AsyncImplOf<D>,
  routes: BoxRoutes,
  replicas: ReplicaClients,
): AsyncImplOf<D> {
  const routed: Partial<Record<keyof D, unknown>> = {};
  for (const name of Object.keys(definition) as (keyof D & string)[]) {
    const method = definition[name]!;
    const local = impl[name] as (req: unknown, call: ServerUnaryCall<unknown, unknown>) => Promise<unknown>;
    routed[name] = async (req: unknown, call: ServerUnaryCall<unknown, unknown>) => {
      const box = BY_USER_ID.has(name) ? userIdOf(req) : boxOf(req);
      if (box === undefined) return local(req, call);
      const route = await routes.waitForRoute(box, ROUTE_WAIT_MS);
      if (route.kind === 'here') return local(req, call);
      if (route.kind === 'unavailable' || call.metadata.get(FORWARDED_HEADER).length > 0)
        throw errors.unavailable(`box of user ${box} is changing owners`);
      const metadata = call.metadata.clone();
      metadata.set(FORWARDED_HEADER, '1');
      return forwardUnary(replicas.get(route.address), method, req, metadata, call.getDeadline());
    };
  }
  // Every key of the definition got a handler of its own method's types.
  return routed as AsyncImplOf<D>;
}
