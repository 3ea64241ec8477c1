/**
 * Users of GramJS-family clients (GramJS and teleproto) for messaging tests: signing in with any of
 * the libraries, the user's own id, and the input peer one user has for another (found by username,
 * as a client finds someone it has never talked to).
 */
import { randomInt } from 'node:crypto';
import bigInt from 'big-integer';
import type { Api as GramApi } from 'telegram';
import { gramClient, loggedInFresh, type GramClientOptions, type Lib } from './gramjs';

export type Gram = ReturnType<typeof gramClient>;

/**
 * A client of library `lib` logged in on DC `dc` (1-based) as test number `phone` (code: the DC's
 * digit five times), signing the number up when it is new. FLOOD_WAIT is thrown, not slept.
 */
export async function loggedInWith(
  lib: Lib,
  dcs: GramClientOptions['dc'][],
  dc: number,
  phone: string,
  firstName = 'Test',
): Promise<Gram> {
  return loggedInFresh(() => gramClient({ lib, dc: dcs[dc - 1]! }), dc, phone, firstName);
}

/** Reconnects a saved session (GramClientOptions.session) of library `lib` on DC `dc`. */
export async function reconnect(
  lib: Lib,
  dcs: GramClientOptions['dc'][],
  dc: number,
  session: string,
): Promise<Gram> {
  const g = gramClient({ lib, dc: dcs[dc - 1]!, session });
  await g.client.connect();
  return g;
}

/** The logged-in user's id. */
export async function userIdOf(g: Gram): Promise<bigint> {
  const me = await g.client.getMe();
  return BigInt(me.id.toString());
}

/** Gives `g` a fresh random username and returns it. */
export async function setUsername(g: Gram, prefix = 'u'): Promise<string> {
  const name = `${prefix}_${randomInt(0, 1e9).toString(36)}${randomInt(0, 1e6).toString(36)}x`;
  await g.client.invoke(new g.Api.account.UpdateUsername({ username: name }));
  return name;
}

/** The user `viewer` finds under `username`: its id and the access hash `viewer` was given. */
export async function resolveUser(
  viewer: Gram,
  username: string,
): Promise<{ userId: bigint; accessHash: bigint }> {
  const resolved = await viewer.client.invoke(new viewer.Api.contacts.ResolveUsername({ username }));
  const u = resolved.users[0] as GramApi.User;
  return { userId: BigInt(u.id.toString()), accessHash: BigInt(u.accessHash!.toString()) };
}

/** The GramJS input peer `viewer` uses for `user` (from resolveUser). */
export function inputPeer(viewer: Gram, user: { userId: bigint; accessHash: bigint }): GramApi.InputPeerUser {
  return new viewer.Api.InputPeerUser({
    userId: bigInt(user.userId.toString()),
    accessHash: bigInt(user.accessHash.toString()),
  });
}
