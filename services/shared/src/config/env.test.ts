import { ConfigError, int, readEnv, str, bool, hostPorts, oneOf } from './env';

describe('readEnv', () => {
  const spec = {
    A_ID: int({ min: 1, describe: 'an id' }),
    B_NAME: str({ describe: 'a name' }),
    C_FLAG: bool({ default: false, describe: 'a flag' }),
    D_ADDR: hostPorts({ describe: 'addresses' }),
    E_LEVEL: oneOf(['x', 'y'] as const, { default: 'x', describe: 'a level' }),
  };

  it('returns typed values', () => {
    const v = readEnv(spec, { A_ID: '3', B_NAME: 'n', C_FLAG: 'yes', D_ADDR: '127.0.0.1:1,[::1]:2' });
    expect(v).toEqual({
      A_ID: 3,
      B_NAME: 'n',
      C_FLAG: true,
      D_ADDR: [
        { host: '127.0.0.1', port: 1 },
        { host: '::1', port: 2 },
      ],
      E_LEVEL: 'x',
    });
  });

  it('names every missing or wrong setting in one error', () => {
    let caught: unknown;
    try {
      readEnv(spec, { A_ID: 'zero', C_FLAG: 'maybe', D_ADDR: 'nohost', E_LEVEL: 'z' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems.join('\n');
    for (const name of ['A_ID', 'B_NAME', 'C_FLAG', 'D_ADDR', 'E_LEVEL']) expect(problems).toContain(name);
    expect((caught as ConfigError).problems).toHaveLength(5);
  });

  it('checks integer ranges', () => {
    expect(() => readEnv({ A_ID: int({ min: 1, max: 3, describe: 'x' }) }, { A_ID: '4' })).toThrow(/<= 3/);
  });
});
