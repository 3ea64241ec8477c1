import { createLogger } from '../log/logger';
import { Lifecycle } from './lifecycle';

describe('graceful shutdown order', () => {
  it('runs steps last-registered-first, with the hand-over steps where the runtime places them', async () => {
    const done: string[] = [];
    const lifecycle = new Lifecycle(createLogger({ level: 'silent', base: {} }), 5_000);
    const step = (name: string) => () => {
      done.push(name);
    };
    lifecycle.onShutdown('nats', step('nats'));
    // A service registers its hand-over inside start(); the runtime places it after the drain step.
    lifecycle.onHandOver('box ownership', step('box ownership'));
    lifecycle.onShutdown('grpc', step('grpc drain'));
    lifecycle.onShutdown('hand over', () => lifecycle.handOver());
    lifecycle.onShutdown('health', step('health'));
    await lifecycle.shutdown();
    expect(done).toEqual(['health', 'box ownership', 'grpc drain', 'nats']);
  });

  it('goes on after a failed hand-over step', async () => {
    const done: string[] = [];
    const lifecycle = new Lifecycle(createLogger({ level: 'silent', base: {} }), 5_000);
    lifecycle.onHandOver('broken', () => {
      throw new Error('no');
    });
    lifecycle.onHandOver('next', () => {
      done.push('next');
    });
    lifecycle.onShutdown('hand over', () => lifecycle.handOver());
    await lifecycle.shutdown();
    expect(done).toEqual(['next']);
  });
});
