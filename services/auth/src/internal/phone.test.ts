import { TernError } from '../../../shared/src';
import { normalizePhone, testNumberCode, testNumberDc } from './phone';

describe('phone numbers', () => {
  it('normalises formatting away', () => {
    expect(normalizePhone('+999 66 2-1234')).toBe('9996621234');
    expect(normalizePhone('(999) 662.1234')).toBe('9996621234');
  });

  it.each(['', '12345', '+1234567890123456', 'abc1234567', '0123456789', '9'.repeat(40)])(
    'rejects %p',
    (bad) => {
      expect(() => normalizePhone(bad)).toThrow(TernError);
      expect(() => normalizePhone(bad)).toThrow('PHONE_NUMBER_INVALID');
    },
  );

  it('knows the test numbers 99966XYYYY', () => {
    expect(testNumberDc('9996621234')).toBe(2);
    expect(testNumberDc('9996601234')).toBeUndefined();
    expect(testNumberDc('99966212345')).toBeUndefined();
    expect(testNumberCode(3)).toBe('33333');
  });
});
