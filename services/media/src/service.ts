/**
 * The media service of one DC: chunked uploads into the DC's own bucket, file
 * metadata, downloads. See README.md for what it owns.
 *
 * Foundation stage: the process, its dependencies (incl. the DC's bucket) and its
 * contract are in place; the RPCs answer UNIMPLEMENTED (Telegram 501) until the media
 * issue fills them in.
 */
import type { ServiceModule } from '../../shared/src';
import { MediaServiceService } from '../../shared/src/gen/tern/media/v1/media';

export const mediaService: ServiceModule = {
  name: 'media',
  grpc: [{ fullName: 'tern.media.v1.MediaService', definition: MediaServiceService }],
  needs: { cassandra: true, nats: true, objects: true },
  start() {
    return Promise.resolve({ 'tern.media.v1.MediaService': {} });
  },
};
