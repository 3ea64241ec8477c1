/**
 * A Map that holds at most `maxEntries`, dropping the least recently used entry beyond that: for
 * process-local caches of rows that never change once written (a file's content layout, a
 * document), where the only limit needed is memory.
 */
export class BoundedMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly maxEntries: number) {
    if (!(maxEntries >= 1)) throw new RangeError('a BoundedMap holds at least one entry');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value of `key`, which becomes the most recently used. */
  get(key: K): V | undefined {
    const v = this.entries.get(key);
    if (v === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, v);
    return v;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}

/**
 * `load(key)` remembered in `cache` once it found something. Misses are not remembered: a row not
 * there yet may be written a moment later.
 */
export async function cachedLoad<K, V>(
  cache: BoundedMap<K, V>,
  key: K,
  load: () => Promise<V | undefined>,
): Promise<V | undefined> {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const v = await load();
  if (v !== undefined) cache.set(key, v);
  return v;
}
