import {
  identityOfSubjectAltName,
  identityUri,
  mayCall,
  parseIdentity,
  serviceOfPath,
  type Identity,
} from './access';
import { CALLERS } from '../gen/callers';

const svc = (service: 'gateway' | 'auth' | 'messaging' | 'media' | 'channel', dcId: number): Identity => ({
  kind: 'service',
  service,
  dcId,
});

describe('identities', () => {
  it('round-trips service and operator URIs', () => {
    for (const id of [svc('messaging', 2), svc('gateway', 1000), { kind: 'operator' } as const])
      expect(parseIdentity(identityUri(id))).toEqual(id);
  });

  it('refuses what is not a Tern identity', () => {
    for (const uri of [
      'spiffe://tern/dc/1/nats',
      'spiffe://other/dc/1/auth',
      'spiffe://tern/dc/0/auth',
      'spiffe://tern/dc/01/auth',
      'spiffe://tern/dc/1/auth/x',
      'https://tern/dc/1/auth',
    ])
      expect(parseIdentity(uri)).toBeUndefined();
  });

  it('reads exactly one identity from a subject-alternative-name list', () => {
    expect(identityOfSubjectAltName('DNS:x, URI:spiffe://tern/dc/3/media')).toEqual(svc('media', 3));
    expect(identityOfSubjectAltName('DNS:x')).toBeUndefined();
    expect(identityOfSubjectAltName(undefined)).toBeUndefined();
    // Two identities in one certificate is ambiguous: none.
    expect(
      identityOfSubjectAltName('URI:spiffe://tern/dc/1/auth, URI:spiffe://tern/dc/1/gateway'),
    ).toBeUndefined();
  });
});

describe('mayCall (the Callers: lines of proto/)', () => {
  const deliver = '/tern.messaging.v1.MessagingService/DeliverToBox';
  const sendCode = '/tern.auth.v1.AuthService/SendCode';
  const moveUser = '/tern.auth.v1.AuthService/MoveUser';
  const fileMetadata = '/tern.media.v1.MediaService/GetFileMetadata';
  const dc1 = (service: 'auth' | 'messaging' | 'media') => ({ service, dcId: 1 });

  it('lets a peer DC’s messaging deliver to boxes, and not a gateway', () => {
    expect(mayCall(svc('messaging', 2), deliver, dc1('messaging'))).toBe(true);
    expect(mayCall(svc('gateway', 1), deliver, dc1('messaging'))).toBe(false);
    expect(mayCall(svc('auth', 1), deliver, dc1('messaging'))).toBe(false);
  });

  it('lets only this DC’s gateway make a user’s calls', () => {
    expect(mayCall(svc('gateway', 1), sendCode, dc1('auth'))).toBe(true);
    expect(mayCall(svc('gateway', 2), sendCode, dc1('auth'))).toBe(false);
    expect(mayCall(svc('media', 1), sendCode, dc1('auth'))).toBe(false);
  });

  it('lets a service’s own kind call anything of it (replicas and DCs pass calls on)', () => {
    expect(mayCall(svc('auth', 3), sendCode, dc1('auth'))).toBe(true);
  });

  it('keeps operator RPCs to the operator, and the operator to them', () => {
    expect(mayCall({ kind: 'operator' }, moveUser, dc1('auth'))).toBe(true);
    expect(mayCall(svc('gateway', 1), moveUser, dc1('auth'))).toBe(false);
    expect(mayCall({ kind: 'operator' }, sendCode, dc1('auth'))).toBe(false);
  });

  it('keeps file metadata (access hashes, references) inside media', () => {
    expect(mayCall(svc('gateway', 1), fileMetadata, dc1('media'))).toBe(false);
    expect(mayCall(svc('media', 1), fileMetadata, dc1('media'))).toBe(true);
  });

  it('refuses an RPC that is not in proto/', () => {
    expect(mayCall(svc('gateway', 1), '/tern.auth.v1.AuthService/NoSuchMethod', dc1('auth'))).toBe(false);
  });

  it('has a caller list for every RPC, each naming a real caller', () => {
    expect(Object.keys(CALLERS).length).toBeGreaterThan(100);
    for (const [path, callers] of Object.entries(CALLERS)) {
      expect(serviceOfPath(path)).toBeDefined();
      expect(callers.length).toBeGreaterThan(0);
    }
  });
});
