/**
 * What the push provider tests need to play Google's and Apple's servers on loopback: a
 * self-signed certificate for 127.0.0.1 made with the openssl CLI for this run (nothing committed),
 * and the JSON inside a JWT segment.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A P-256 key and a self-signed certificate for 127.0.0.1, valid one day, written under `dir`. */
export function selfSignedLoopback(dir: string): { key: string; cert: string } {
  const keyFile = join(dir, 'tls.key');
  const certFile = join(dir, 'tls.crt');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
      ...['-keyout', keyFile, '-out', certFile, '-days', '1'],
      ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
}

/** The JSON object in one base64url segment of a JWT. */
export const jwtSegment = (s: string) =>
  JSON.parse(Buffer.from(s, 'base64url').toString()) as Record<string, unknown>;
