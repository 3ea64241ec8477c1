/**
 * Ending an authorization: auth.logOut, account.resetAuthorization, auth.resetAuthorizations and
 * destroy_auth_key all come here. The key's login is removed, this DC's gateways are told (they
 * cache logins), and every DC the login was exported to is asked to revoke the keys it authorized
 * with it, which in turn tell theirs.
 */
import { subjectsFor, unary, type DcClients, type EventBus, type Logger } from '../../../shared/src';
import type { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import { AuthKeyRevokedEvent } from '../../../shared/src/gen/tern/events/v1/events';
import type { AuthorizationStore, Binding } from '../storage/authorizations';

export type RevokeReason =
  'log_out' | 'reset_authorization' | 'reset_all' | 'destroy_auth_key' | 'source_revoked';

export interface RevokerDeps {
  dcId: number;
  store: AuthorizationStore;
  bus: EventBus | undefined;
  authOf: DcClients<AuthServiceClient>;
  log: Logger;
}

export class Revoker {
  constructor(private readonly d: RevokerDeps) {}

  /** Ends `authKeyId`'s login here and on every DC it was exported to. Returns the binding it had. */
  async revoke(authKeyId: bigint, reason: RevokeReason): Promise<Binding | undefined> {
    const binding = await this.d.store.unbind(authKeyId);
    this.notifyGateways(authKeyId, binding?.userId ?? 0n, reason);
    await this.revokeExports(authKeyId, binding?.userId ?? 0n);
    return binding;
  }

  /** Tells this DC's gateways to forget the key's cached login at once. */
  notifyGateways(authKeyId: bigint, userId: bigint, reason: RevokeReason): void {
    if (!this.d.bus) return;
    const event = AuthKeyRevokedEvent.encode({
      meta: { originDcId: this.d.dcId, emittedAtMs: BigInt(Date.now()) },
      authKeyId,
      userId,
      reason,
    }).finish();
    this.d.bus.notify(subjectsFor(this.d.dcId).authKeyRevoked, event);
  }

  /**
   * Asks every DC that imported this key's login to revoke it (each call is retried by the gRPC
   * client). The local revocation stands even when a DC cannot be reached; the records are then
   * kept and the failure is logged for the operator (README "Authorizations").
   */
  private async revokeExports(authKeyId: bigint, userId: bigint): Promise<void> {
    const targets = await this.d.store.exportTargets(authKeyId);
    if (targets.length === 0) return;
    const failed: number[] = [];
    await Promise.all(
      targets.map(async (dc) => {
        try {
          const auth = this.d.authOf.forDc(dc);
          await unary(
            auth.revokeImportedAuthorizations.bind(auth),
            { sourceDcId: this.d.dcId, sourceAuthKeyId: authKeyId, userId },
            { deadlineMs: 10_000 },
          );
        } catch (err) {
          failed.push(dc);
          this.d.log.error(
            { err, dc, authKeyId: authKeyId.toString() },
            'could not revoke imported authorizations',
          );
        }
      }),
    );
    if (failed.length === 0) await this.d.store.forgetExports(authKeyId);
  }
}
