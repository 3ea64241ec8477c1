/**
 * The MTProto edge gateway of one DC: client connections (TCP and WebSocket), auth
 * keys, sessions and the TL codec; every API call becomes a gRPC call to a backend
 * service (see README.md and api/methods.ts). It serves only the health service over gRPC.
 */
import { createClient, defineService, fileReferencesOf, unary } from '../../shared/src';
import { AuthServiceClient } from '../../shared/src/gen/tern/auth/v1/auth';
import { ChannelServiceClient } from '../../shared/src/gen/tern/channel/v1/channel';
import { MessagingServiceClient } from '../../shared/src/gen/tern/messaging/v1/messaging';
import { MediaServiceClient } from '../../shared/src/gen/tern/media/v1/media';
import { methodTable } from './api/methods';
import { grpcKeyStore } from './backend/key-store';
import { RateLimits } from './limits/rate-limits';
import { ChannelUpdates, natsChannelBus } from './backend/channel-updates';
import { followUserUpdates } from './backend/live-updates';
import { GatewayPresence } from './backend/presence';
import { followRevocations } from './backend/revocations';
import { issueFileReferencesWith } from './convert/file-references';
import { serverRsaKey } from './mtproto/crypto/rsa';
import { MtprotoEngine } from './mtproto/engine';
import { listen } from './mtproto/transport/listeners';
import { gatewaySpec, rateLimitsOf, verifyGatewaySettings } from './settings';
import { loadTlRuntime } from './tl-runtime';

export const gatewayService = defineService({
  name: 'gateway',
  grpc: null,
  needs: { nats: true },
  settings: gatewaySpec,
  verify: verifyGatewaySettings,
  async start(ctx) {
    const proxy = {
      mode: ctx.settings.TERN_GATEWAY_PROXY_PROTOCOL,
      trusted: ctx.settings.TERN_GATEWAY_PROXY_TRUSTED,
    };
    const auth = createClient(AuthServiceClient, ctx.dc.services.auth);
    ctx.lifecycle.onShutdown('auth-client', () => auth.close());
    const messaging = createClient(MessagingServiceClient, ctx.dc.services.messaging);
    ctx.lifecycle.onShutdown('messaging-client', () => messaging.close());
    const media = createClient(MediaServiceClient, ctx.dc.services.media);
    ctx.lifecycle.onShutdown('media-client', () => media.close());
    const channel = createClient(ChannelServiceClient, ctx.dc.services.channel);
    ctx.lifecycle.onShutdown('channel-client', () => channel.close());
    const rsa = serverRsaKey(ctx.settings.TERN_RSA_PRIVATE_KEY_FILE);
    issueFileReferencesWith(fileReferencesOf(ctx.settings));
    const tl = loadTlRuntime();
    ctx.log.info(
      { rsaFingerprint: BigInt.asUintN(64, rsa.fingerprint).toString(16), layers: tl.layers },
      'RSA key and TL schemas loaded',
    );

    const keys = grpcKeyStore(auth);
    const limits = new RateLimits(rateLimitsOf(ctx.settings), {
      maxKeys: ctx.settings.TERN_GATEWAY_LIMIT_MAX_KEYS,
    });
    const presence = await GatewayPresence.open(ctx.bus, ctx.dcId, ctx.log.child({ component: 'presence' }));
    ctx.lifecycle.onShutdown('presence', () => presence.close());
    // The engine is the sink of channel updates and needs the subscriptions' presence hook: the
    // sink is bound once the engine exists (nothing is delivered before a user is seen).
    const bound: { engine?: MtprotoEngine } = {};
    const channelUpdates = new ChannelUpdates({
      bus: natsChannelBus(ctx.bus, ctx.log.child({ component: 'channel-updates' })),
      sink: {
        pushToUser: (userId, exclude, encode) => bound.engine?.pushToUser(userId, exclude, encode) ?? 0,
      },
      userChannels: async (userId) =>
        (await unary(channel.getUserChannels.bind(channel), { userId })).channels,
      encodeObject: (layer, obj) => tl.encodeObject(layer, obj),
      log: ctx.log.child({ component: 'channel-updates' }),
    });
    ctx.lifecycle.onShutdown('channel-updates', () => channelUpdates.close());
    const engine = new MtprotoEngine({
      rsa,
      tl,
      keys,
      api: methodTable({
        dcId: ctx.dcId,
        topology: ctx.topology,
        auth,
        messaging,
        media,
        channel,
        channelLive: channelUpdates,
        keys,
        tl,
        limits,
      }),
      dcId: ctx.dcId,
      log: ctx.log.child({ component: 'mtproto' }),
      // Both follow who is online here: presence for the push worker, channel subscriptions for
      // live channel delivery.
      presence: {
        seen: (userId, connId) => {
          presence.seen(userId, connId);
          channelUpdates.seen(userId, connId);
        },
        closed: (connId) => {
          presence.closed(connId);
          channelUpdates.closed(connId);
        },
      },
    });
    bound.engine = engine;
    followRevocations(ctx.bus, ctx.dcId, engine, ctx.log.child({ component: 'revocations' }));
    followUserUpdates(
      ctx.bus,
      ctx.dcId,
      engine,
      (layer, obj) => tl.encodeObject(layer, obj),
      ctx.log.child({ component: 'live-updates' }),
      (event) => channelUpdates.onUserEvent(event),
    );
    const gw = ctx.dc.gateway;
    const tcp = ctx.settings.TERN_GATEWAY_TCP_LISTEN ?? [{ host: '0.0.0.0', port: gw.tcpPort }];
    const ws = ctx.settings.TERN_GATEWAY_WS_LISTEN ?? [{ host: '0.0.0.0', port: gw.wsPort }];
    const listeners = await listen(tcp, ws, engine, {
      proxy,
      limits: { maxConnectionsPerAddress: ctx.settings.TERN_GATEWAY_MAX_CONNECTIONS_PER_IP },
    });
    ctx.lifecycle.onShutdown('mtproto-listeners', () => listeners.close());
    ctx.log.info(
      {
        tcp,
        ws,
        proxyProtocol: proxy.mode,
        maxConnectionsPerIp: ctx.settings.TERN_GATEWAY_MAX_CONNECTIONS_PER_IP,
        rateLimits: rateLimitsOf(ctx.settings),
      },
      'MTProto listening',
    );
    return {};
  },
});
