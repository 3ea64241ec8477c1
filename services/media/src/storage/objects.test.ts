import type { Client as MinioClient } from 'minio';
import { contentKey, FileObjects, uploadKey } from './objects';

/** A bucket whose copyObject calls wait until released, recording what was in flight. */
function copyingBucket() {
  const pending: Array<{ target: string; done: (err?: Error) => void }> = [];
  let inFlight = 0;
  let most = 0;
  const client = {
    copyObject: (_bucket: string, target: string) =>
      new Promise<void>((resolve, reject) => {
        inFlight++;
        most = Math.max(most, inFlight);
        pending.push({
          target,
          done: (err) => {
            inFlight--;
            if (err) reject(err);
            else resolve();
          },
        });
      }),
  };
  return { client: client as unknown as MinioClient, pending, most: () => most };
}

const tick = () => new Promise((r) => setImmediate(r));
const sha = Buffer.alloc(32, 0xab);

describe('bucket keys', () => {
  it('names upload parts by owner, unsigned hex file id and part, content by SHA-256 and part', () => {
    expect(uploadKey(7n, -1n, 3)).toBe('uploads/7/ffffffffffffffff/3');
    expect(contentKey(sha, 0)).toBe(`files/${'ab'.repeat(32)}/0`);
  });
});

describe('copying an upload to its content', () => {
  it('copies every part, at most four at a time', async () => {
    const b = copyingBucket();
    const copied = new FileObjects(b.client, 'bucket').copyUploadToContent(7n, 1n, 10, sha);
    for (let i = 0; i < 10; i++) {
      await tick();
      b.pending[i]!.done();
    }
    await copied;
    expect(b.pending.map((p) => p.target)).toEqual(Array.from({ length: 10 }, (_, i) => contentKey(sha, i)));
    expect(b.most()).toBe(4);
  });

  it('fails at the first failed copy without waiting for the copies in flight', async () => {
    const b = copyingBucket();
    const copied = new FileObjects(b.client, 'bucket').copyUploadToContent(7n, 1n, 10, sha);
    await tick();
    b.pending[1]!.done(new Error('copy failed'));
    await expect(copied).rejects.toThrow('copy failed');
    // Copies in flight and queued run on, unawaited, as they did before (harmless: no content row).
    for (let i = 0; i < b.pending.length; i++) {
      if (i !== 1) b.pending[i]!.done();
      await tick();
    }
    expect(b.pending).toHaveLength(10);
  });
});
