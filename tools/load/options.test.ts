import { DEFAULT_OPTIONS, parseLoadArgs, senderCount, UsageError } from './options';

describe('parseLoadArgs', () => {
  it('gives the defaults without arguments', () => {
    expect(parseLoadArgs([])).toEqual(DEFAULT_OPTIONS);
  });

  it('reads every option', () => {
    const o = parseLoadArgs(
      '--seconds 2.5 --sessions 3 --senders 4 --rate 10 --dcs 1,3 --in-flight 2 --login-concurrency 1 --drain 1 --one-address --layer 214 --json'.split(
        ' ',
      ),
    );
    expect(o).toEqual({
      seconds: 2.5,
      sessions: 3,
      senders: 4,
      rate: 10,
      dcs: [1, 3],
      maxInFlight: 2,
      loginConcurrency: 1,
      drainSeconds: 1,
      spreadAddresses: false,
      layer: 214,
      json: true,
    });
  });

  it.each([
    ['--sessions', '0'],
    ['--sessions', '1.5'],
    ['--rate', 'fast'],
    ['--senders', '2.5'],
    ['--dcs', '1,1'],
    ['--dcs', '1,x'],
    ['--unknown', '1'],
  ])('refuses %s %s', (flag, value) => {
    expect(() => parseLoadArgs([flag, value])).toThrow(UsageError);
  });
});

describe('senderCount', () => {
  it('reads a value up to 1 as a fraction and above as a count, within 1..total', () => {
    expect(senderCount(0.5, 60)).toBe(30);
    expect(senderCount(1, 60)).toBe(60);
    expect(senderCount(0.001, 60)).toBe(1);
    expect(senderCount(5, 60)).toBe(5);
    expect(senderCount(500, 60)).toBe(60);
  });
});
