import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityOfCertificateFile } from '../../services/shared/src/grpc/tls';
import { loadSettings, transportSecurityFor } from '../../services/shared/src/service/runtime';
import { ensureCertificates } from './certs';
import { localTopology } from './plan';

describe('the stack’s certificates (mutual TLS)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tern-certs-'));
    ensureCertificates(dir, [1, 2]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cert = (name: string) => new X509Certificate(readFileSync(join(dir, name, 'tls.crt')));
  const ca = () => new X509Certificate(readFileSync(join(dir, 'ca', 'ca.crt')));

  it('gives every service of every DC, and the operator, a CA-signed certificate naming it', () => {
    for (const [name, uri] of [
      ['dc1-gateway', 'spiffe://tern/dc/1/gateway'],
      ['dc2-messaging', 'spiffe://tern/dc/2/messaging'],
      ['operator', 'spiffe://tern/operator'],
    ]) {
      expect(cert(name!).subjectAltName).toBe(`URI:${uri}`);
      expect(cert(name!).verify(ca().publicKey)).toBe(true);
      expect(cert(name!).ca).toBe(false);
      expect(identityOfCertificateFile(join(dir, name!, 'tls.crt'))).toBeDefined();
      expect(statSync(join(dir, name!, 'tls.key')).mode & 0o077).toBe(0);
    }
  });

  it('keeps what exists, and --rotate issues new keys and certificates from the same CA', () => {
    const before = cert('dc1-auth').serialNumber;
    ensureCertificates(dir, [1, 2]);
    expect(cert('dc1-auth').serialNumber).toBe(before);
    ensureCertificates(dir, [1, 2], true);
    expect(cert('dc1-auth').serialNumber).not.toBe(before);
    expect(cert('dc1-auth').verify(ca().publicKey)).toBe(true);
  });

  it('a process refuses a certificate of another service or DC at start, naming both', () => {
    expect(() =>
      transportSecurityFor(join(dir, 'dc1-gateway'), { kind: 'service', service: 'auth', dcId: 1 }),
    ).toThrow(/names spiffe:\/\/tern\/dc\/1\/gateway, but this process is spiffe:\/\/tern\/dc\/1\/auth/);
    expect(() =>
      transportSecurityFor(join(dir, 'dc2-auth'), { kind: 'service', service: 'auth', dcId: 1 }),
    ).toThrow(/this process is spiffe:\/\/tern\/dc\/1\/auth/);
    expect(
      transportSecurityFor(join(dir, 'dc1-auth'), { kind: 'service', service: 'auth', dcId: 1 }).identity,
    ).toEqual({ kind: 'service', service: 'auth', dcId: 1 });
    expect(() => transportSecurityFor(join(dir, 'nowhere'), { kind: 'operator' })).toThrow(/TERN_TLS_DIR/);
  });

  it('TERN_PRODUCTION refuses to start without TERN_TLS_DIR', () => {
    const topology = join(dir, 'topology.json');
    writeFileSync(topology, JSON.stringify({ ...localTopology(), testMode: false }));
    const env = { TERN_DC_ID: '1', TERN_TOPOLOGY_FILE: topology, TERN_PRODUCTION: 'true' };
    const mod = { name: 'gateway', needs: {} };
    expect(() => loadSettings(mod, env)).toThrow(/TERN_TLS_DIR is unset/);
    expect(() => loadSettings(mod, { ...env, TERN_TLS_DIR: join(dir, 'dc1-gateway') })).not.toThrow();
  });
});
