/**
 * Transport security of every gRPC connection between Tern processes: mutual TLS with
 * certificates from one directory per process (`TERN_TLS_DIR`: `ca.crt`, `tls.crt`, `tls.key`,
 * the layout of a Kubernetes TLS Secret as cert-manager writes it). The files are read again every
 * minute, so a rotated certificate is used by new connections without a restart.
 *
 * One process has one identity, so the choice is process-wide: runService (and each command)
 * calls {@link useTransportSecurity} once at start, and every server and client made afterwards
 * (grpc/server.ts, grpc/client.ts) takes its credentials from here. Without a directory the
 * process talks plaintext, which only a development setup may do (TERN_PRODUCTION refuses it).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { credentials, experimental, ServerCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import type { ServiceName } from '../config/topology';
import { describeIdentity, identityOfPeer, identityOfSubjectAltName, type Identity } from './access';

/** File names inside a TLS directory (a kubernetes.io/tls Secret plus cert-manager's ca.crt). */
export const TLS_FILES = { ca: 'ca.crt', cert: 'tls.crt', key: 'tls.key' } as const;

/** How often the certificate files are read again (rotation takes effect within this). */
const REFRESH_MS = 60_000;

/** The credentials of this process's servers and clients. */
export interface TransportSecurity {
  /** This process's identity as its certificate names it; undefined when plaintext. */
  readonly identity: Identity | undefined;
  server(): ServerCredentials;
  /** Credentials to call a server that must present `expect`'s identity (any Tern service if unset). */
  client(expect?: ServiceName): ChannelCredentials;
  /**
   * Resolves once the certificate files have been read: a server bound before that drops the
   * first connections' handshakes (grpc-js reads the files asynchronously).
   */
  ready(): Promise<void>;
}

/** Plaintext: development only. Servers see every caller as unauthenticated and let it through. */
export const PLAINTEXT: TransportSecurity = {
  identity: undefined,
  server: () => ServerCredentials.createInsecure(),
  client: () => credentials.createInsecure(),
  ready: () => Promise.resolve(),
};

/** Reads the identity a certificate file names; throws, naming the file, when it names none. */
export function identityOfCertificateFile(path: string): Identity {
  const cert = new X509Certificate(readFileSync(path));
  const id = identityOfSubjectAltName(cert.subjectAltName);
  if (!id)
    throw new Error(
      `${path} names no Tern identity (a URI subject-alternative name spiffe://tern/dc/<id>/<service> or spiffe://tern/operator); it has: ${cert.subjectAltName ?? 'none'}`,
    );
  return id;
}

/**
 * Mutual TLS from `dir`: servers require a client certificate signed by the directory's CA, and
 * clients check that the server's certificate, signed by the same CA, names a Tern service (the
 * expected one when given) instead of checking a host name: addresses are topology data, and the
 * identity is what matters.
 */
export function mutualTls(dir: string, refreshMs = REFRESH_MS): TransportSecurity {
  const files = {
    caCertificateFile: join(dir, TLS_FILES.ca),
    certificateFile: join(dir, TLS_FILES.cert),
    privateKeyFile: join(dir, TLS_FILES.key),
  };
  const identity = identityOfCertificateFile(files.certificateFile);
  readFileSync(files.caCertificateFile); // fail at start, naming the file, rather than at the first call
  readFileSync(files.privateKeyFile);
  const provider = new experimental.FileWatcherCertificateProvider({
    ...files,
    refreshIntervalMs: refreshMs,
  });
  const server = experimental.createCertificateProviderServerCredentials(provider, provider, true);
  // The provider reads the files while anything listens (a bound server, an open channel). These
  // listeners only wait for the first read and go again, so a process that never serves or dials
  // (a test, a command's check) is not kept alive by the provider's timer.
  let loaded: Promise<void> | undefined;
  const firstRead = (): Promise<void> =>
    (loaded ??= new Promise<void>((resolve) => {
      let ca = false;
      let identity = false;
      const onCa = (u: unknown) => {
        ca ||= u !== null;
        done();
      };
      const onIdentity = (u: unknown) => {
        identity ||= u !== null;
        done();
      };
      function done(): void {
        if (!ca || !identity) return;
        provider.removeCaCertificateListener(onCa);
        provider.removeIdentityCertificateListener(onIdentity);
        resolve();
      }
      provider.addCaCertificateListener(onCa);
      provider.addIdentityCertificateListener(onIdentity);
    }));
  const clients = new Map<string, ChannelCredentials>();
  return {
    identity,
    ready: firstRead,
    server: () => server,
    client(expect) {
      let c = clients.get(expect ?? '');
      if (!c) {
        c = experimental.createCertificateProviderChannelCredentials(provider, provider, {
          checkServerIdentity: serverCheck(expect),
        });
        clients.set(expect ?? '', c);
      }
      return c;
    },
  };
}

/** Accepts a server certificate that names `expect` (any Tern service when unset). */
function serverCheck(expect: ServiceName | undefined) {
  return (_host: string, cert: PeerCertificate): Error | undefined => {
    const peer = identityOfPeer(cert);
    if (peer?.kind === 'service' && (!expect || peer.service === expect)) return undefined;
    return new Error(
      `the server presented ${describeIdentity(peer)}, not ${expect ? `the ${expect} service` : 'a Tern service'}`,
    );
  };
}

/**
 * Client credentials read once from a certificate directory (no file watching): for tools and
 * tests that call services as one identity for a short while.
 */
export function clientCredentialsFromDir(dir: string, expect?: ServiceName): ChannelCredentials {
  return credentials.createSsl(
    readFileSync(join(dir, TLS_FILES.ca)),
    readFileSync(join(dir, TLS_FILES.key)),
    readFileSync(join(dir, TLS_FILES.cert)),
    { checkServerIdentity: serverCheck(expect) },
  );
}

let current: TransportSecurity = PLAINTEXT;

/** Sets this process's transport security; servers and clients made afterwards use it. */
export function useTransportSecurity(security: TransportSecurity): void {
  current = security;
}

/** This process's transport security (plaintext until {@link useTransportSecurity}). */
export function transportSecurity(): TransportSecurity {
  return current;
}
