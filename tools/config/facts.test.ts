import { bool, int, json, oneOf, optionalStr, str } from '../../services/shared/src/config/env';
import { factsOf, isDefaultValue, parseProblem } from './facts';

describe('setting facts, read from how a setting parses an unset variable', () => {
  it('tells required settings from defaulted and optional ones', () => {
    expect(factsOf('A', str({ describe: 'a' }))).toEqual({
      name: 'A',
      describe: 'a',
      secret: false,
      required: true,
    });
    expect(factsOf('B', int({ default: 5, describe: 'b' }))).toMatchObject({
      required: false,
      default: 5,
      defaultText: '5',
    });
    expect(factsOf('C', optionalStr({ describe: 'c', secret: true }))).toEqual({
      name: 'C',
      describe: 'c',
      secret: true,
      required: false,
    });
    expect(factsOf('D', bool({ default: false, describe: 'd' })).defaultText).toBe('false');
    expect(factsOf('E', oneOf(['x', 'y'] as const, { describe: 'e' })).required).toBe(true);
    expect(factsOf('F', json({ default: { a: 1 }, describe: 'f', check: (v) => v })).defaultText).toBe(
      '{"a":1}',
    );
    // An empty list is no default: the feature is off.
    expect(factsOf('G', { describe: 'g', parse: () => [] }).defaultText).toBeUndefined();
  });

  it('compares values with the default by what they parse to', () => {
    const n = int({ default: 10_000, min: 100, describe: 'n' });
    expect(isDefaultValue(n, '10000')).toBe(true);
    expect(isDefaultValue(n, ' 10000 ')).toBe(true);
    expect(isDefaultValue(n, '8000')).toBe(false);
    expect(isDefaultValue(n, 'ten')).toBe(false);
    expect(isDefaultValue(json({ default: { a: 1 }, describe: 'j', check: (v) => v }), '{ "a": 1 }')).toBe(
      true,
    );
    expect(isDefaultValue(str({ describe: 'required' }), 'x')).toBe(false);
    expect(parseProblem(n, '50')).toMatch(/>= 100/);
    expect(parseProblem(n, '500')).toBeUndefined();
  });
});
