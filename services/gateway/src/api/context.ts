/**
 * The RequestContext every backend call carries: who is calling (auth key, session, user), from
 * where (client address, layer, app). The user comes from the auth service, once per auth key
 * (a temporary key acts for the permanent key it is bound to), and is cached on the key.
 */
import { unary } from '../../../shared/src';
import type { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import type { CallContext } from '../mtproto/engine';

export async function requestContext(
  ctx: CallContext,
  auth: AuthServiceClient,
  dcId: number,
): Promise<RequestContext> {
  const key = ctx.authKey;
  if (key.userId === undefined) {
    const loginKey = key.permAuthKeyId ?? key.id;
    key.userId = (await unary(auth.getAuthKeyUser.bind(auth), { authKeyId: loginKey })).userId;
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
