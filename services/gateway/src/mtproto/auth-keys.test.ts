import { randomBytes } from 'node:crypto';
import { AuthKeys, type KeyStore } from './auth-keys';
import { SessionStore } from './sessions';

/** One auth service's keys and layers, shared by every gateway process built on it. */
function sharedStore(id: bigint, key: Buffer): KeyStore & { layers: Map<bigint, number>; saves: number } {
  const layers = new Map<bigint, number>();
  const store = {
    layers,
    saves: 0,
    load: (k: bigint) =>
      Promise.resolve(k === id ? { key, temporary: false, expiresAt: 0, layer: layers.get(k) } : undefined),
    save: () => Promise.resolve('created' as const),
    saveLayer: (k: bigint, layer: number) => {
      store.saves++;
      layers.set(k, layer);
      return Promise.resolve();
    },
    destroy: () => Promise.resolve(true),
  };
  return store;
}

describe('the layer a client announced, kept with its key', () => {
  it('is known to a gateway process that never saw the announcement (restart, another replica)', async () => {
    const store = sharedStore(42n, randomBytes(256));
    const first = new AuthKeys(store, new SessionStore(10, 10));
    const entry = (await first.find(42n))!;
    expect(entry.layer).toBeUndefined();
    await first.announceLayer(entry, 198);
    await first.announceLayer(entry, 198); // the same layer again is not stored again
    expect(store.saves).toBe(1);

    const restarted = new AuthKeys(store, new SessionStore(10, 10));
    expect((await restarted.find(42n))?.layer).toBe(198);
  });
});
