/**
 * Username rules, as Telegram's clients expect them: 5–32 characters of Latin letters, digits and
 * underscores, starting with a letter, not ending with an underscore, no two underscores in a row.
 * Uniqueness ignores case.
 */
import { errors } from '../../../shared/src';

const USERNAME = /^[A-Za-z](?:[A-Za-z0-9]|_(?!_)){3,30}[A-Za-z0-9]$/;

/**
 * A claim younger than this is never treated as stale: its owner may be between claiming the name
 * and showing it on the profile.
 */
export const USERNAME_CLAIM_GRACE_MS = 60_000;

/** The name without a leading "@", or USERNAME_INVALID. */
export function checkUsername(raw: string): string {
  const name = raw.trim().replace(/^@/, '');
  if (!USERNAME.test(name)) throw errors.badRequest('USERNAME_INVALID');
  return name;
}
