import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withLock } from './lock';

const lockIn = () => join(mkdtempSync(join(tmpdir(), 'tern-lock-')), 'run', 'stack.lock');

describe('stack lock', () => {
  it('runs a second holder only after the first is done', async () => {
    const path = lockIn();
    const order: string[] = [];
    let release!: () => void;
    const first = withLock(path, async () => {
      order.push('first in');
      await new Promise<void>((r) => (release = r));
      order.push('first out');
    });
    await new Promise((r) => setImmediate(r));
    const waits: string[] = [];
    const second = withLock(
      path,
      async () => {
        order.push('second in');
        return Promise.resolve();
      },
      { pollMs: 10, onWait: (holder) => waits.push(holder) },
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['first in']);
    expect(waits).toEqual([String(process.pid)]);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
  });

  it('takes over the lock of a process that is gone, and frees it after a failure', async () => {
    const path = lockIn();
    await withLock(path, () => Promise.resolve()); // makes the directory
    writeFileSync(path, '999999999'); // no such pid
    await expect(withLock(path, () => Promise.reject(new Error('boom')), { pollMs: 10 })).rejects.toThrow(
      'boom',
    );
    await withLock(path, () => Promise.resolve(readFileSync(path, 'utf8')), { pollMs: 10 }).then((held) =>
      expect(held).toBe(String(process.pid)),
    );
  });
});
