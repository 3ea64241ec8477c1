import { TernError } from '../../../shared/src';
import { checkUsername } from './username';

describe('checkUsername', () => {
  it.each(['alice', 'Alice_99', '@bob_smith', 'a2345', 'x'.repeat(32)])('accepts %s', (name) => {
    expect(checkUsername(name)).toBe(name.replace(/^@/, ''));
  });

  it.each(['', 'abcd', '1alice', '_alice', 'alice_', 'ali__ce', 'al ice', 'алиса', 'x'.repeat(33)])(
    'refuses %j with USERNAME_INVALID',
    (name) => {
      expect(() => checkUsername(name)).toThrow(TernError);
      expect(() => checkUsername(name)).toThrow('USERNAME_INVALID');
    },
  );
});
