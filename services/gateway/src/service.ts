/**
 * The MTProto edge gateway of one DC: client connections (TCP and WebSocket), auth
 * keys, sessions and the TL codec; every API call becomes a gRPC call to a backend
 * service (see README.md). It serves only the health service over gRPC.
 */
import { createPublicKey } from 'node:crypto';
import { createClient, type ServiceModule } from '../../shared/src';
import { AuthServiceClient } from '../../shared/src/gen/tern/auth/v1/auth';
import { gatewaySpec, type GatewaySettings } from './settings';

export const gatewayService: ServiceModule<GatewaySettings> = {
  name: 'gateway',
  grpc: [],
  needs: { nats: true },
  settings: gatewaySpec,
  start(ctx) {
    const auth = createClient(AuthServiceClient, ctx.dc.services.auth);
    ctx.lifecycle.onShutdown('auth-client', () => auth.close());
    const publicKey = createPublicKey(ctx.settings.TERN_RSA_PRIVATE_KEY_FILE).export({
      type: 'pkcs1',
      format: 'pem',
    });
    ctx.log.info({ rsaPublicKeyBytes: publicKey.length }, 'RSA key loaded');
    return Promise.resolve({});
  },
};
