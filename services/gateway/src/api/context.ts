/**
 * What handlers work with besides the call: the backend clients they may use, and the
 * RequestContext every backend call carries — who is calling (auth key, session, user), from where
 * (client address, layer, app). The user comes from the auth service, once per auth key (a
 * temporary key acts for the permanent key it is bound to), and is cached on the key for
 * LOGIN_CACHE_MS.
 */
import { unary } from '../../../shared/src';
import type { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { ChannelServiceClient } from '../../../shared/src/gen/tern/channel/v1/channel';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import type { MediaServiceClient } from '../../../shared/src/gen/tern/media/v1/media';
import type { MessagingServiceClient } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import type { ChannelFollower } from '../backend/channel-updates';
import type { CallContext } from '../mtproto/invocation';

/** Handlers that call the auth service of this DC (and every handler, for requestContext). */
export interface AuthDeps {
  auth: AuthServiceClient;
  dcId: number;
}

/** Handlers that call the messaging service of this DC. */
export interface MessagingDeps extends AuthDeps {
  messaging: MessagingServiceClient;
}

/**
 * Handlers that call the channel service of this DC (which passes calls about channels homed
 * elsewhere on to their DC), and tell the live channel subscriptions when their caller's own
 * call made them a member (absent in tests and tools that deliver nothing live).
 */
export interface ChannelDeps extends MessagingDeps {
  channel: ChannelServiceClient;
  channelLive?: ChannelFollower;
}

/** Handlers that call the media service of this DC. */
export interface MediaDeps extends MessagingDeps {
  media: MediaServiceClient;
}

/**
 * How long a key's login is trusted from the cache. Revocations also arrive at once over NATS
 * (AuthKeyRevokedEvent); this bounds how long a gateway that missed one keeps a stale login.
 */
export const LOGIN_CACHE_MS = 60_000;

/**
 * Built once per call: the method table's login check and the handler share it, so a call asks
 * the auth service at most once who its key belongs to.
 */
const perCall = new WeakMap<CallContext, Promise<RequestContext>>();

export function requestContext(
  ctx: CallContext,
  auth: AuthServiceClient,
  dcId: number,
): Promise<RequestContext> {
  let context = perCall.get(ctx);
  if (!context) {
    context = build(ctx, auth, dcId);
    perCall.set(ctx, context);
  }
  return context;
}

async function build(ctx: CallContext, auth: AuthServiceClient, dcId: number): Promise<RequestContext> {
  const key = ctx.authKey;
  if (key.userId === undefined || Date.now() - (key.userCheckedAt ?? 0) > LOGIN_CACHE_MS) {
    const loginKey = key.permAuthKeyId ?? key.id;
    key.userId = (await unary(auth.getAuthKeyUser.bind(auth), { authKeyId: loginKey })).userId;
    key.userCheckedAt = Date.now();
  }
  const c = ctx.session.client;
  return {
    authKeyId: key.permAuthKeyId ?? key.id,
    sessionId: ctx.session.id,
    userId: key.userId,
    dcId,
    layer: ctx.layer,
    clientIp: ctx.remoteAddress,
    client: c && {
      apiId: c.apiId,
      deviceModel: c.deviceModel,
      systemVersion: c.systemVersion,
      appVersion: c.appVersion,
      systemLangCode: c.systemLangCode,
      langPack: c.langPack,
      langCode: c.langCode,
    },
    msgId: ctx.msgId,
  };
}
