/**
 * Who may call which RPC: the caller's identity comes from its TLS client certificate (a URI
 * subject-alternative name `spiffe://tern/dc/<id>/<service>`, or `spiffe://tern/operator`), and the
 * allowed callers of each RPC from the `Callers:` line of proto/ (gen/callers.ts). Decision
 * docs/decisions/0020-internal-mtls.md.
 */
import type { PeerCertificate } from 'node:tls';
import { CALLERS } from '../gen/callers';
import { SERVICE_NAMES, type ServiceName } from '../config/topology';

/** The trust domain of every Tern identity (the URI's authority). */
export const TRUST_DOMAIN = 'tern';

/** A Tern process as its certificate names it: a service of one DC, or the operator. */
export type Identity = { kind: 'service'; service: ServiceName; dcId: number } | { kind: 'operator' };

/** The URI a certificate carries for `id` (the stack and the chart issue certificates with it). */
export function identityUri(id: Identity): string {
  return id.kind === 'operator'
    ? `spiffe://${TRUST_DOMAIN}/operator`
    : `spiffe://${TRUST_DOMAIN}/dc/${id.dcId}/${id.service}`;
}

/** Reads an identity URI; undefined for anything that is not one of Tern's. */
export function parseIdentity(uri: string): Identity | undefined {
  if (uri === `spiffe://${TRUST_DOMAIN}/operator`) return { kind: 'operator' };
  const m = new RegExp(`^spiffe://${TRUST_DOMAIN}/dc/([1-9][0-9]{0,3})/([a-z]+)$`).exec(uri);
  if (!m || !(SERVICE_NAMES as readonly string[]).includes(m[2]!)) return undefined;
  return { kind: 'service', service: m[2] as ServiceName, dcId: Number(m[1]) };
}

/**
 * The Tern identity in a certificate's subject-alternative names (Node's `subjectaltname`
 * string, "URI:spiffe://…, DNS:…"); undefined when it has none or more than one.
 */
export function identityOfSubjectAltName(subjectAltName: string | undefined): Identity | undefined {
  const found = (subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('URI:'))
    .map((s) => parseIdentity(s.slice(4)))
    .filter((x): x is Identity => x !== undefined);
  return found.length === 1 ? found[0] : undefined;
}

/** The identity of a TLS peer (the caller, seen by a server; the server, seen by a client). */
export function identityOfPeer(cert: PeerCertificate | undefined): Identity | undefined {
  return identityOfSubjectAltName(cert?.subjectaltname);
}

/** A readable name for logs and refusals. */
export function describeIdentity(id: Identity | undefined): string {
  return id ? identityUri(id) : 'a caller without a Tern certificate';
}

/**
 * Whether `caller` may call the RPC at `path` on `server`: its own kind may always (replicas and
 * DCs pass calls on to the owner); others as the RPC's `Callers:` line says. An RPC with no line
 * (not in proto/) is nobody's.
 */
export function mayCall(
  caller: Identity,
  path: string,
  server: { service: ServiceName; dcId: number },
): boolean {
  const allowed = CALLERS[path];
  if (!allowed) return false;
  if (caller.kind === 'operator') return allowed.some((c) => c.service === 'operator');
  if (caller.service === server.service) return true;
  return allowed.some(
    (c) => c.service === caller.service && (c.scope === 'any' || caller.dcId === server.dcId),
  );
}

/** The Tern service a gRPC method path belongs to (`/tern.auth.v1.AuthService/X` → auth). */
export function serviceOfPath(path: string): ServiceName | undefined {
  const m = /^\/tern\.([a-z]+)\.v1\./.exec(path);
  return m && (SERVICE_NAMES as readonly string[]).includes(m[1]!) ? (m[1] as ServiceName) : undefined;
}
