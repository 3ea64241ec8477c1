import { ChannelReaders } from './channel-readers';

describe('ChannelReaders (who may read a channel, cached)', () => {
  it('asks once per user and channel while the answer is fresh, then asks again', async () => {
    let t = 0;
    const asked: string[] = [];
    const readers = new ChannelReaders({
      ask: (c, u) => {
        asked.push(`${c}:${u}`);
        return Promise.resolve(u === 1n);
      },
      ttlMs: 1000,
      now: () => t,
    });
    expect(await readers.readable(10n, 1n)).toBe(true);
    expect(await readers.readable(10n, 2n)).toBe(false);
    expect(await readers.readable(10n, 1n)).toBe(true);
    expect(await readers.readable(10n, 2n)).toBe(false);
    expect(asked).toEqual(['10:1', '10:2']);
    t = 1001;
    expect(await readers.readable(10n, 1n)).toBe(true);
    expect(asked).toEqual(['10:1', '10:2', '10:1']);
  });

  it('keeps at most maxEntries answers, dropping the oldest', async () => {
    const asked: bigint[] = [];
    const readers = new ChannelReaders({
      ask: (_c, u) => {
        asked.push(u);
        return Promise.resolve(true);
      },
      maxEntries: 2,
    });
    for (const u of [1n, 2n, 3n]) await readers.readable(5n, u);
    await readers.readable(5n, 3n); // kept
    await readers.readable(5n, 1n); // dropped when 3 came
    expect(asked).toEqual([1n, 2n, 3n, 1n]);
  });

  it('asks once for parallel checks of the same user and channel', async () => {
    let asked = 0;
    const readers = new ChannelReaders({
      ask: () => {
        asked++;
        return new Promise((r) => setTimeout(() => r(true), 10));
      },
    });
    expect(await Promise.all([1, 2, 3, 4].map(() => readers.readable(7n, 8n)))).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(asked).toBe(1);
  });

  it('does not keep a failed question', async () => {
    let fail = true;
    const readers = new ChannelReaders({
      ask: () => (fail ? Promise.reject(new Error('unavailable')) : Promise.resolve(true)),
    });
    await expect(readers.readable(1n, 1n)).rejects.toThrow('unavailable');
    fail = false;
    expect(await readers.readable(1n, 1n)).toBe(true);
  });
});
