/**
 * The one "is the caller logged in?" check of the services. A RequestContext comes from the
 * gateway that accepted the client's request; `user_id` is 0 until the auth key is bound to a
 * user (auth.signIn / signUp / importAuthorization), and Telegram answers any call that needs a
 * user on such a key with 401 AUTH_KEY_UNREGISTERED.
 */
import type { RequestContext } from '../gen/tern/common/v1/context';
import { errors } from '../errors/errors';

/** The caller's user id; throws 401 AUTH_KEY_UNREGISTERED when the key is not logged in. */
export function requireUser(ctx: Pick<RequestContext, 'userId'> | undefined): bigint {
  const userId = ctx?.userId ?? 0n;
  if (userId === 0n) throw errors.unauthorized('AUTH_KEY_UNREGISTERED');
  return userId;
}
