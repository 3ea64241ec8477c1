/**
 * The media service of one DC: chunked uploads into the DC's own bucket, file metadata and
 * deduplicated content, download grants and ranged downloads. See README.md for what it owns and
 * src/storage/objects.ts and src/storage/files.ts for the storage layout.
 */
import {
  DcClients,
  fileReferenceSpec,
  fileReferencesOf,
  defineService,
  groupHomeDc,
  unary,
} from '../../shared/src';
import { ChannelServiceClient } from '../../shared/src/gen/tern/channel/v1/channel';
import { AuthServiceClient } from '../../shared/src/gen/tern/auth/v1/auth';
import { MediaServiceService } from '../../shared/src/gen/tern/media/v1/media';
import { mediaHandlers, type PeerCheck } from './api/media';
import { ChannelReaders } from './internal/channel-readers';
import { FileStore } from './storage/files';

/**
 * Days an unfinished upload's part objects are kept (their rows expire after one day; the
 * lifecycle rule's granularity is days, so one more keeps every row's object alive).
 */
const UPLOAD_EXPIRY_DAYS = 2;

export const mediaService = defineService({
  name: 'media',
  grpc: { fullName: 'tern.media.v1.MediaService', definition: MediaServiceService },
  // No NATS: media publishes and consumes no events, so a bus outage must not make it unready.
  needs: { cassandra: true, objects: true },
  settings: fileReferenceSpec,
  async start(ctx) {
    const { client, bucket } = ctx.objects;
    const log = ctx.log.child({ component: 'media' });
    try {
      // Abandoned uploads are removed by the object store itself, not by a sweeper of ours.
      await client.setBucketLifecycle(bucket, {
        Rule: [
          {
            ID: 'tern-expire-uploads',
            Status: 'Enabled',
            Filter: { Prefix: 'uploads/' },
            Expiration: { Days: UPLOAD_EXPIRY_DAYS },
          },
        ],
      });
    } catch (err) {
      log.warn({ err, bucket }, 'could not set the upload expiry rule; abandoned parts will stay');
    }
    // Users named by inputPeerPhotoFileLocation are checked by this DC's auth service, which finds
    // them wherever they live (users.getUsers' rules: a wrong access hash is an unknown user).
    const authOf = new DcClients(AuthServiceClient, ctx.topology, 'auth');
    ctx.lifecycle.onShutdown('auth-clients', () => authOf.close());
    const auth = authOf.forDc(ctx.dcId);
    const peers: PeerCheck = {
      async userAddressable(context, userId, accessHash) {
        const res = await unary(auth.getUsers.bind(auth), {
          context,
          users: [{ kind: { $case: 'user', value: { userId, accessHash } } }],
        });
        return res.users.some((u) => u.id === userId);
      },
    };
    // Files posted in channels: the channel's home DC says who may read it (CanReadChannel).
    const channelOf = new DcClients(ChannelServiceClient, ctx.topology, 'channel');
    ctx.lifecycle.onShutdown('channel-clients', () => channelOf.close());
    const channels = new ChannelReaders({
      async ask(channelId, userId) {
        const c = channelOf.forDc(groupHomeDc(channelId));
        return (await unary(c.canReadChannel.bind(c), { channelId, userId })).readable;
      },
    });
    return mediaHandlers({
      dcId: ctx.dcId,
      dcIds: ctx.topology.dcs.map((dc) => dc.id),
      store: new FileStore(ctx.cassandra.dc),
      objects: client,
      bucket,
      references: fileReferencesOf(ctx.settings),
      peers,
      channels,
      log,
    });
  },
});
