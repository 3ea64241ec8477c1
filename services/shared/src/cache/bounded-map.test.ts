import { BoundedMap, cachedLoad } from './bounded-map';

describe('BoundedMap', () => {
  it('drops the least recently used entry beyond its size', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    expect(m.get('a')).toBe(1); // a is now the most recent
    m.set('c', 3);
    expect(m.get('b')).toBeUndefined();
    expect(m.get('a')).toBe(1);
    expect(m.get('c')).toBe(3);
    expect(m.size).toBe(2);
  });

  it('remembers what a load found, not what it did not', async () => {
    const m = new BoundedMap<string, number>(4);
    let loads = 0;
    const load = (v: number | undefined) => () => (loads++, Promise.resolve(v));
    expect(await cachedLoad(m, 'x', load(undefined))).toBeUndefined();
    expect(await cachedLoad(m, 'x', load(5))).toBe(5);
    expect(await cachedLoad(m, 'x', load(6))).toBe(5);
    expect(loads).toBe(2);
  });
});
