import { randomBytes } from 'node:crypto';
import { SessionStore, type AuthKeyEntry } from './sessions';

const key = (id: bigint): AuthKeyEntry => ({
  id,
  idBytes: Buffer.alloc(8),
  key: randomBytes(256),
  temporary: false,
  expiresAt: 0,
});

describe('session store', () => {
  it('keeps a session across lookups and caps sessions per key and in total', () => {
    const store = new SessionStore(10, 6, undefined, 3);
    const a = key(1n);
    const first = store.session(a, 100n);
    expect(first.created).toBe(true);
    expect(store.session(a, 100n)).toEqual({ session: first.session, created: false });
    for (const sid of [101n, 102n, 103n]) store.session(a, sid);
    expect(store.size.sessions).toBe(3); // 100 was the oldest of four
    expect(store.session(a, 100n).created).toBe(true);
    const b = key(2n);
    for (const sid of [1n, 2n, 3n, 4n]) store.session(b, sid);
    expect(store.size.sessions).toBeLessThanOrEqual(6);
    store.dropKey(1n);
    expect(store.size.sessions).toBe(3);
  });

  it('keeps unacknowledged answers within their byte budget', () => {
    const store = new SessionStore(10, 10, {
      maxUnackedMessages: 100,
      maxUnackedBytes: 1000,
      maxPendingRequests: 4,
    });
    const { session } = store.session(key(3n), 1n);
    for (let i = 0; i < 10; i++) session.remember(BigInt(i), 1, Buffer.alloc(300));
    expect(session.unacknowledged().map((u) => u.msgId)).toEqual([7n, 8n, 9n]);
    session.acknowledge([8n]);
    expect(session.unacknowledged().map((u) => u.msgId)).toEqual([7n, 9n]);
  });
});
