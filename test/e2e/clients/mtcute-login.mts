/**
 * Logging an mtcute client in with a test number, as an app built on mtcute does it: auth.sendCode,
 * auth.signIn, and auth.signUp when the number is new. Shared by the mtcute probe scripts.
 */
import type { TelegramClient } from '@mtcute/node';

export interface LoginOptions {
  phone: string;
  code: string;
  firstName: string;
}

/** Signs `client` in (up, for a new number); `signedUp` says which happened. */
export async function signInOrUp(client: TelegramClient, o: LoginOptions): Promise<{ signedUp: boolean }> {
  const sent = await client.sendCode({ phone: o.phone });
  if (!('phoneCodeHash' in sent)) throw new Error('already logged in');
  const signIn = await client.call({
    _: 'auth.signIn',
    phoneNumber: o.phone,
    phoneCodeHash: sent.phoneCodeHash,
    phoneCode: o.code,
  });
  const authorization =
    signIn._ === 'auth.authorizationSignUpRequired'
      ? await client.call({
          _: 'auth.signUp',
          phoneNumber: o.phone,
          phoneCodeHash: sent.phoneCodeHash,
          firstName: o.firstName,
          lastName: '',
        })
      : signIn;
  if (authorization._ !== 'auth.authorization') throw new Error(`unexpected ${authorization._}`);
  await client.notifyLoggedIn(authorization);
  return { signedUp: signIn._ !== 'auth.authorization' };
}
