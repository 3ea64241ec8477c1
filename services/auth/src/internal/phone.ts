/**
 * Phone numbers as the auth service sees them: E.164 digits without "+".
 */
import { errors } from '../../../shared/src';

/** Normalises user input ("+999 66 2-1234") to digits; throws PHONE_NUMBER_INVALID. */
export function normalizePhone(input: string): string {
  if (input.length > 32) throw errors.badRequest('PHONE_NUMBER_INVALID');
  if (!/^\+?[\d\s().-]+$/.test(input.trim())) throw errors.badRequest('PHONE_NUMBER_INVALID');
  const digits = input.replace(/\D/g, '');
  // E.164: at most 15 digits; shorter than 7 is no dialable number.
  if (digits.length < 7 || digits.length > 15 || digits.startsWith('0'))
    throw errors.badRequest('PHONE_NUMBER_INVALID');
  return digits;
}

/**
 * Telegram's reserved test numbers 99966XYYYY (seed 000): the user belongs to DC X and
 * the code is X repeated five times. Only honoured when the deployment's test mode is on.
 */
export function testNumberDc(phone: string): number | undefined {
  const m = /^99966(\d)\d{4}$/.exec(phone);
  if (!m) return undefined;
  const dc = Number(m[1]);
  return dc >= 1 ? dc : undefined;
}

/** The fixed code of a test number of DC `dc`. */
export function testNumberCode(dc: number): string {
  return String(dc).repeat(5);
}
