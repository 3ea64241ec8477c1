/**
 * Logins ended by the auth service (auth.logOut, resets, destroy_auth_key), possibly through
 * another gateway process: each gateway of the DC forgets what it cached about the key.
 */
import { subjectsFor, type EventBus, type Logger } from '../../../shared/src';
import { AuthKeyRevokedEvent } from '../../../shared/src/gen/tern/events/v1/events';

export interface RevocationSink {
  authKeyRevoked(authKeyId: bigint, destroyed: boolean): void;
}

export function followRevocations(bus: EventBus, dcId: number, sink: RevocationSink, log: Logger): void {
  bus.listen(subjectsFor(dcId).authKeyRevoked, (data) => {
    const e = AuthKeyRevokedEvent.decode(data);
    log.debug({ authKeyId: e.authKeyId.toString(), reason: e.reason }, 'auth key revoked');
    sink.authKeyRevoked(e.authKeyId, e.reason === 'destroy_auth_key');
  });
}
