/**
 * Object storage against the real MinIO of the local stack.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createObjectStore, filesBucketFor } from '../../services/shared/src';
import { stack } from '../support/stack';

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks);
}

describe('MinIO (real)', () => {
  const s = stack();
  const client = createObjectStore({ ...s.minio });

  it('puts and gets an object in a DC bucket', async () => {
    const bucket = filesBucketFor(s.minio.bucketPrefix, 2);
    const name = `test/${randomUUID()}`;
    const body = randomBytes(300_000);
    await client.putObject(bucket, name, body, body.length);
    const back = await readAll(await client.getObject(bucket, name));
    expect(back.equals(body)).toBe(true);
    const partial = await readAll(await client.getPartialObject(bucket, name, 1000, 24));
    expect(partial.equals(body.subarray(1000, 1024))).toBe(true);
    await client.removeObject(bucket, name);
  });

  it('has one bucket per DC', async () => {
    for (const dc of [1, 2, 3])
      expect(await client.bucketExists(filesBucketFor(s.minio.bucketPrefix, dc))).toBe(true);
  });
});
