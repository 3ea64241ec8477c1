import { UserStatus_Kind } from '../../../shared/src/gen/tern/common/v1/user';
import { contactsHash, normalizePhone, ONLINE_SECONDS, statusFor } from './contacts';

const NOW = 1_700_000_000;
const DAY = 86_400;

describe('statusFor', () => {
  it('shows contacts the exact status and strangers only how long ago', () => {
    const online = { onlineUntil: NOW + ONLINE_SECONDS, wasOnline: NOW };
    expect(statusFor(online, true, NOW)).toMatchObject({ kind: UserStatus_Kind.ONLINE, expires: NOW + 300 });
    expect(statusFor(online, false, NOW)).toMatchObject({ kind: UserStatus_Kind.RECENTLY, expires: 0 });

    const offline = { onlineUntil: 0, wasOnline: NOW - 60 };
    expect(statusFor(offline, true, NOW)).toMatchObject({
      kind: UserStatus_Kind.OFFLINE,
      wasOnline: NOW - 60,
    });
    expect(statusFor(offline, false, NOW)).toMatchObject({ kind: UserStatus_Kind.RECENTLY, wasOnline: 0 });
  });

  it('treats an online status past its expiry as offline', () => {
    const expired = { onlineUntil: NOW - 1, wasOnline: NOW - ONLINE_SECONDS - 1 };
    expect(statusFor(expired, true, NOW).kind).toBe(UserStatus_Kind.OFFLINE);
  });

  it('steps strangers down to last week, last month, and empty', () => {
    const seen = (ago: number) => statusFor({ onlineUntil: 0, wasOnline: NOW - ago }, false, NOW).kind;
    expect(seen(3 * DAY)).toBe(UserStatus_Kind.RECENTLY);
    expect(seen(3 * DAY + 1)).toBe(UserStatus_Kind.LAST_WEEK);
    expect(seen(8 * DAY)).toBe(UserStatus_Kind.LAST_MONTH);
    expect(seen(31 * DAY)).toBe(UserStatus_Kind.EMPTY);
  });

  it('shows "recently" for a user who never reported a status', () => {
    expect(statusFor(undefined, true, NOW).kind).toBe(UserStatus_Kind.RECENTLY);
    expect(statusFor(undefined, false, NOW).kind).toBe(UserStatus_Kind.RECENTLY);
  });
});

describe('contactsHash', () => {
  it('is 0 for no contacts and does not depend on order', () => {
    expect(contactsHash([])).toBe(0n);
    expect(contactsHash([5n, 3n, 9n])).toBe(contactsHash([9n, 5n, 3n]));
    expect(contactsHash([3n, 5n])).not.toBe(contactsHash([3n, 6n]));
  });

  it('follows the documented steps (two ids worked by hand) and stays a signed 64-bit value', () => {
    // h = 0 → +3 = 3; then 3 ^ (3 >> 21) = 3, 3 ^ (3 << 35) = 3 + 3·2^35, that ^ (it >> 4), + 5.
    let h = 3n;
    h ^= h >> 21n;
    h ^= h << 35n;
    h ^= h >> 4n;
    h += 5n;
    expect(contactsHash([5n, 3n])).toBe(h);
    const big = contactsHash([2n ** 62n, 2n ** 62n + 1n, 2n ** 62n + 2n]);
    expect(big >= -(2n ** 63n) && big < 2n ** 63n).toBe(true);
  });
});

describe('normalizePhone', () => {
  it('keeps the digits of a plausible number and refuses the rest', () => {
    expect(normalizePhone('+1 (555) 010-2030')).toBe('15550102030');
    expect(normalizePhone('12')).toBe('');
    expect(normalizePhone('1'.repeat(16))).toBe('');
  });
});
