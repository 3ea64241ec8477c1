import { Health } from './health';

describe('Health', () => {
  it('serves only once started, and a dependency coming back does not serve a process still starting', () => {
    const h = new Health(['tern.test.v1.Test']);
    expect(h.current).toBe('NOT_SERVING');
    h.dependency('nats', false);
    h.dependency('nats', true); // a reconnect during start-up
    expect(h.current).toBe('NOT_SERVING');
    h.enter('started');
    expect(h.current).toBe('SERVING');
  });

  it('goes NOT_SERVING while any dependency is down, SERVING when all are back', () => {
    const h = new Health([]);
    h.enter('started');
    h.dependency('nats', false);
    h.dependency('cassandra', false);
    expect(h.current).toBe('NOT_SERVING');
    h.dependency('nats', true);
    expect(h.current).toBe('NOT_SERVING');
    h.dependency('cassandra', true);
    expect(h.current).toBe('SERVING');
  });

  it('never serves again once stopping, whatever reconnects', () => {
    const h = new Health([]);
    h.enter('started');
    h.enter('stopping');
    h.dependency('nats', false);
    h.dependency('nats', true);
    h.enter('started');
    expect(h.current).toBe('NOT_SERVING');
  });
});
