/**
 * Object storage (MinIO / S3). Each DC has its own bucket(s), named from the DC id;
 * a DC never reads another DC's bucket: a file lives in exactly one DC and clients
 * are sent there with FILE_MIGRATE_X.
 */
import { Client as MinioClient } from 'minio';

export interface ObjectStoreSettings {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucketPrefix: string;
}

/** The bucket that holds DC `dc`'s files. */
export function filesBucketFor(prefix: string, dc: number): string {
  return `${prefix}-dc${dc}-files`;
}

/** Creates a MinIO client from an http(s) endpoint URL. */
export function createObjectStore(s: ObjectStoreSettings): MinioClient {
  const u = new URL(s.endpoint);
  const useSSL = u.protocol === 'https:';
  return new MinioClient({
    endPoint: u.hostname,
    port: u.port ? Number(u.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: s.accessKey,
    secretKey: s.secretKey,
    region: 'us-east-1',
  });
}

/** Creates `bucket` if it does not exist (idempotent). */
export async function ensureBucket(client: MinioClient, bucket: string): Promise<void> {
  if (!(await client.bucketExists(bucket))) {
    try {
      await client.makeBucket(bucket, 'us-east-1');
    } catch (err) {
      // Another DC's migrate run may have won the race.
      if ((err as { code?: string }).code !== 'BucketAlreadyOwnedByYou') throw err;
    }
  }
}
