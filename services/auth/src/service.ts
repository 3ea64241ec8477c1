/**
 * The auth service of one DC: auth keys, phone codes, sign-up/sign-in, the global
 * user directory, authorization export/import. See README.md for what it owns.
 */
import type { ServiceModule } from '../../shared/src';
import { AuthServiceService } from '../../shared/src/gen/tern/auth/v1/auth';
import { AuthKeyStore } from './storage/auth-keys';
import { authKeyHandlers } from './api/auth-keys';

export const authService: ServiceModule = {
  name: 'auth',
  grpc: [{ fullName: 'tern.auth.v1.AuthService', definition: AuthServiceService }],
  needs: { cassandra: true, nats: true },
  start(ctx) {
    const db = ctx.cassandra!;
    const keys = new AuthKeyStore(db.dc);
    return Promise.resolve({
      'tern.auth.v1.AuthService': { ...authKeyHandlers(keys) },
    });
  },
};
