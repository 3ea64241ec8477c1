/**
 * Logging an mtcute client in with a test number, as an app built on mtcute does it: auth.sendCode,
 * auth.signIn, and auth.signUp when the number is new, and when the account has a cloud password,
 * mtcute's own checkPassword (its SRP code). Shared by the mtcute probe scripts.
 */
import type { TelegramClient } from '@mtcute/node';

export interface LoginOptions {
  phone: string;
  code: string;
  firstName: string;
  /** The two-step verification password, for an account that has one. */
  password?: string;
  /** Tried first when the account has a password; its refusal is reported, then `password` is used. */
  wrongPassword?: string;
}

/** How a login went: signed up, or signed in with or without the password. */
export interface LoginOutcome {
  signedUp: boolean;
  usedPassword: boolean;
  /** The error a `wrongPassword` got. */
  wrongPasswordError?: string;
}

const rpcText = (err: unknown): string => (err as { text?: string }).text ?? String(err);

/** Signs `client` in (up, for a new number); `signedUp` says which happened. */
export async function signInOrUp(client: TelegramClient, o: LoginOptions): Promise<LoginOutcome> {
  const sent = await client.sendCode({ phone: o.phone });
  if (!('phoneCodeHash' in sent)) throw new Error('already logged in');
  let signIn;
  try {
    signIn = await client.call({
      _: 'auth.signIn',
      phoneNumber: o.phone,
      phoneCodeHash: sent.phoneCodeHash,
      phoneCode: o.code,
    });
  } catch (err) {
    if (rpcText(err) !== 'SESSION_PASSWORD_NEEDED' || o.password === undefined) throw err;
    let wrongPasswordError: string | undefined;
    if (o.wrongPassword !== undefined)
      wrongPasswordError = await client.checkPassword(o.wrongPassword).then(
        () => 'accepted',
        (e: unknown) => rpcText(e),
      );
    // mtcute's checkPassword runs its SRP against account.getPassword and finishes the login.
    await client.checkPassword(o.password);
    return { signedUp: false, usedPassword: true, wrongPasswordError };
  }
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
  return { signedUp: signIn._ !== 'auth.authorization', usedPassword: false };
}
