/**
 * Ceilings for the media benchmark: what the DC's MinIO does for the `minio` client on its own,
 * measured in the same run as the gateway figures. Objects go into the DC's own files bucket (the
 * one the media service uses, same settings) under `bench/<run>/`, and are all removed at the end.
 *
 *  - PUT: putObject of a buffer of the given size, `inFlight` at a time, fresh keys;
 *  - GET: getObject of objects of that size put before, the stream read to its end.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Client as MinioClient } from 'minio';
import { createObjectStore, filesBucketFor } from '../../services/shared/src';
import type { StackInfo } from '../stack/plan';
import { closedLoop, type LoadResult } from './handshake';

export interface RawMinio {
  readonly bucket: string;
  put(
    size: number,
    inFlight: number,
    ms: number,
    pids: Record<string, number | undefined>,
  ): Promise<LoadResult>;
  get(
    size: number,
    inFlight: number,
    ms: number,
    pids: Record<string, number | undefined>,
  ): Promise<LoadResult>;
  /** Removes every object this run put; returns how many. */
  cleanup(): Promise<number>;
}

export async function rawMinio(info: StackInfo, dc: number): Promise<RawMinio> {
  const objects: MinioClient = createObjectStore(info.minio);
  const bucket = filesBucketFor(info.minio.bucketPrefix, dc);
  const exists = await objects.bucketExists(bucket).catch((err: unknown) => {
    throw new Error(
      `MinIO at ${info.minio.endpoint} does not answer (\`npm run stack\`): ${(err as Error).message}`,
    );
  });
  if (!exists) throw new Error(`MinIO has no bucket ${bucket}: start the stack with \`npm run stack\``);
  const prefix = `bench/${randomUUID()}/`;
  const put = new Map<number, string[]>();
  let n = 0;
  return {
    bucket,
    put(size, inFlight, ms, pids) {
      const body = randomBytes(size);
      const keys = put.get(size) ?? [];
      put.set(size, keys);
      return closedLoop(
        async () => {
          const key = `${prefix}${size}/${n++}`;
          await objects.putObject(bucket, key, body, size);
          keys.push(key);
        },
        inFlight,
        ms,
        pids,
      );
    },
    get(size, inFlight, ms, pids) {
      const keys = put.get(size);
      if (!keys?.length) throw new Error(`no objects of ${size} bytes to read: put some first`);
      let i = 0;
      return closedLoop(
        async () => {
          const stream = await objects.getObject(bucket, keys[i++ % keys.length]!);
          let got = 0;
          for await (const chunk of stream as AsyncIterable<Buffer>) got += chunk.length;
          if (got !== size) throw new Error(`read ${got} of ${size} bytes`);
        },
        inFlight,
        ms,
        pids,
      );
    },
    async cleanup() {
      // Listed rather than remembered: a put that failed half-way may still have left its object.
      const names: string[] = [];
      for await (const o of objects.listObjectsV2(bucket, prefix, true) as AsyncIterable<{ name: string }>)
        names.push(o.name);
      for (let i = 0; i < names.length; i += 1000)
        await objects.removeObjects(bucket, names.slice(i, i + 1000));
      return names.length;
    },
  };
}
