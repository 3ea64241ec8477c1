/**
 * Every call about a channel runs on the channel's writer (docs/decisions/0018-channels.md).
 *
 * Two hops, decided from the call alone:
 *
 * 1. Home DC. A channel id names its DC (ids.ts `channelDc`), an invite hash too (`inviteDc`).
 *    A call about a channel homed in another DC is passed on, as it came (the client's context
 *    unchanged), to that DC's channel service: clients never see a redirect for channels. A call
 *    passed on from another DC is marked and never passed on again.
 * 2. Owner replica. Inside the home DC, a call whose channel's shard this replica does not own is
 *    passed on to the owner's direct address (as messaging's routing.ts does for boxes); while the
 *    shard changes hands it waits briefly, then answers UNAVAILABLE (callers retry).
 *
 * Calls about no single channel (createChannel, getChannels, the member-side calls at the user's
 * home DC) run where they arrive; their handlers reach other DCs themselves.
 */
import type { Client, ServerUnaryCall, ServiceDefinition } from '@grpc/grpc-js';
import { createRawClient, forwardUnary, errors, type AsyncImplOf, type Route } from '../../../shared/src';
import { bareInviteHash, channelDc, inviteDc } from '../storage/ids';

/** Marks a call passed on by the channel service of another DC. */
export const DC_FORWARDED_HEADER = 'tern-channel-dc-forwarded';
/** Marks a call passed on by another replica of this DC. */
export const REPLICA_FORWARDED_HEADER = 'tern-channel-forwarded';
const ROUTE_WAIT_MS = 3_000;

/** Where channels are written (shared/src/ownership `ShardOwnership`). */
export interface ChannelRoutes {
  waitForRoute(channelId: bigint, timeoutMs: number): Promise<Route>;
}

/** What a call is about, for routing. */
export type CallKey =
  /** One channel: its DC, then its owner replica. */
  | { kind: 'channel'; channelId: bigint }
  /** An invite hash: its DC; then `resolve` finds the channel for the owner hop (undefined: none). */
  | { kind: 'invite'; dcId: number }
  /** Runs where it arrives. */
  | { kind: 'here' };

/** Calls that run where they arrive even though they name channels. */
const LOCAL_CALLS = new Set([
  'createChannel',
  'getChannels',
  'getChannelDialogs',
  'getUserChannels',
  'recordMembership',
  'getChannelTops',
  // A read of the participant store, which any replica of the channel's DC may answer.
  'canReadChannel',
  // Read state lives at the member's home DC (the DC that received the call).
  'readChannelHistory',
  'migrateChat',
]);

/** Calls named by an invite hash. */
const INVITE_CALLS = new Set(['checkChannelInvite', 'importChannelInvite']);

/** What `request` of method `name` is about. */
export function keyOf(name: string, request: unknown): CallKey {
  if (LOCAL_CALLS.has(name) || typeof request !== 'object' || request === null) return { kind: 'here' };
  if (INVITE_CALLS.has(name) && 'hash' in request && typeof request.hash === 'string') {
    const dc = inviteDc(bareInviteHash(request.hash));
    if (dc === undefined) throw errors.badRequest('INVITE_HASH_INVALID');
    return { kind: 'invite', dcId: dc };
  }
  if ('channel' in request) {
    const ch = request.channel as { channelId?: unknown } | undefined;
    if (ch && typeof ch.channelId === 'bigint' && ch.channelId > 0n)
      return { kind: 'channel', channelId: ch.channelId };
  }
  return { kind: 'here' };
}

/** Raw gRPC clients by address (other DCs' channel services, other replicas). */
export class RawClients {
  private readonly clients = new Map<string, Client>();

  get(address: string): Client {
    let c = this.clients.get(address);
    if (!c) {
      c = createRawClient(address, 'channel');
      this.clients.set(address, c);
    }
    return c;
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

export interface RoutingOptions {
  dcId: number;
  /** The channel service address of DC `dc`, or undefined when the DC is not in the topology. */
  dcAddress(dc: number): string | undefined;
  routes: ChannelRoutes;
  clients: RawClients;
  /** The channel an invite hash of this DC names (for the owner hop), if any. */
  inviteChannel(hash: string): Promise<bigint | undefined>;
}

/** Wraps every method of `impl` so that it runs at its channel's home DC, on its owner. */
export function routeChannels<D extends ServiceDefinition>(
  definition: D,
  impl: AsyncImplOf<D>,
  o: RoutingOptions,
): AsyncImplOf<D> {
  const routed: Partial<Record<keyof D, unknown>> = {};
  for (const name of Object.keys(definition) as (keyof D & string)[]) {
    const method = definition[name]!;
    const local = impl[name] as (req: unknown, call: ServerUnaryCall<unknown, unknown>) => Promise<unknown>;
    routed[name] = async (req: unknown, call: ServerUnaryCall<unknown, unknown>) => {
      const key = keyOf(name, req);
      if (key.kind === 'here') return local(req, call);
      const dc = key.kind === 'channel' ? channelDc(key.channelId) : key.dcId;
      if (dc !== o.dcId) {
        const address = o.dcAddress(dc);
        if (!address || call.metadata.get(DC_FORWARDED_HEADER).length > 0)
          throw errors.badRequest(key.kind === 'invite' ? 'INVITE_HASH_INVALID' : 'CHANNEL_INVALID');
        const md = call.metadata.clone();
        md.set(DC_FORWARDED_HEADER, '1');
        return forwardUnary(o.clients.get(address), method, req, md, call.getDeadline());
      }
      let channelId: bigint | undefined;
      if (key.kind === 'channel') channelId = key.channelId;
      else {
        const hash = bareInviteHash((req as { hash: string }).hash);
        channelId = await o.inviteChannel(hash);
        // Unknown hash: the handler answers INVITE_HASH_INVALID; a read needs no owner.
        if (channelId === undefined || name === 'checkChannelInvite') return local(req, call);
      }
      const route = await o.routes.waitForRoute(channelId, ROUTE_WAIT_MS);
      if (route.kind === 'here') return local(req, call);
      if (route.kind === 'unavailable' || call.metadata.get(REPLICA_FORWARDED_HEADER).length > 0)
        throw errors.unavailable(`channel ${channelId} is changing owners`);
      const md = call.metadata.clone();
      md.set(REPLICA_FORWARDED_HEADER, '1');
      return forwardUnary(o.clients.get(route.address), method, req, md, call.getDeadline());
    };
  }
  return routed as AsyncImplOf<D>;
}
