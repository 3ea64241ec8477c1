/**
 * The channel service of one DC: channels and supergroups homed here (one copy, one writer per
 * channel), and the member side of this DC's users (their channels, read state, dialogs).
 * docs/decisions/0018-channels.md; README.md says what it owns.
 *
 * `start` wires the store and the one writer under shard ownership, the clients of other services,
 * then the handler modules, and answers with one implementation naming every RPC of
 * tern.channel.v1.ChannelService (checked against the generated definition), wrapped so that each
 * call runs at its channel's home DC, on the channel's owner replica (api/routing.ts).
 */
import {
  addressOf,
  channelOwnershipBucketsFor,
  createClient,
  dcOf,
  dcOfFileId,
  DcClients,
  defineService,
  errors,
  int,
  optionalHostPort,
  ShardOwnership,
  shardOf,
  unary,
  type AsyncImplOf,
  type HostPort,
  type SpecOf,
} from '../../shared/src';
import { AuthServiceClient } from '../../shared/src/gen/tern/auth/v1/auth';
import { ChannelServiceClient, ChannelServiceService } from '../../shared/src/gen/tern/channel/v1/channel';
import { MediaServiceClient } from '../../shared/src/gen/tern/media/v1/media';
import { channelHandlers } from './api/channels';
import { channelCore, type Attach, type Grant, type SetChannelUsername } from './api/core';
import { memberHandlers } from './api/members';
import { messageHandlers, TOO_LONG_GAP } from './api/messages';
import { RawClients, routeChannels } from './api/routing';
import { authProfiles } from './internal/profiles';
import { UpdatePublisher } from './producers/updates';
import { ChannelWriter } from './storage/channel-writer';
import { bareInviteHash } from './storage/ids';
import { ChannelStore } from './storage/store';

interface ChannelSettings {
  TERN_CHANNEL_REPLICA_ADDRESS: HostPort | undefined;
  TERN_CHANNEL_DIFFERENCE_WINDOW: number;
}

const channelSpec: SpecOf<ChannelSettings> = {
  TERN_CHANNEL_REPLICA_ADDRESS: optionalHostPort({
    describe:
      "this replica's own gRPC address (host:port) that the DC's other channel replicas pass calls on to; default the DC's channel address (one replica)",
  }),
  TERN_CHANNEL_DIFFERENCE_WINDOW: int({
    default: TOO_LONG_GAP,
    min: 100,
    describe:
      'updates.getChannelDifference answers channelDifferenceTooLong when the client is more than this many pts behind (Telegram: about 100000)',
  }),
};

/** Completing an upload copies it inside the object store: allow big files. */
const UPLOAD_MEDIA_DEADLINE_MS = 120_000;

export const channelService = defineService({
  name: 'channel',
  grpc: { fullName: 'tern.channel.v1.ChannelService', definition: ChannelServiceService },
  needs: { cassandra: true, nats: true },
  settings: channelSpec,
  async start(ctx) {
    const store = new ChannelStore(ctx.cassandra.dc);
    // One writer per channel: this replica writes the channels whose shard lease it holds and
    // passes calls about the others on to their owners (decision 0018, as 0017 for boxes).
    const ownership: ShardOwnership = new ShardOwnership({
      js: ctx.bus.js,
      natsConnected: () => ctx.bus.connected,
      bucketPlacement: ctx.bus.kvPlacement(),
      buckets: channelOwnershipBucketsFor(ctx.dcId),
      what: 'channel',
      selfAddress: addressOf(ctx.settings.TERN_CHANNEL_REPLICA_ADDRESS ?? ctx.dc.services.channel),
      log: ctx.log.child({ component: 'ownership' }),
      hooks: {
        drain: (shard) => writer.drain((id) => shardOf(id) === shard),
        onLost: (shard) => writer.dropWhere((id) => shardOf(id) === shard),
      },
    });
    const writer = new ChannelWriter(store, (id) => {
      const route = ownership.route(id);
      return route.kind === 'here' ? route.fence : undefined;
    });

    const auth = createClient(AuthServiceClient, ctx.dc.services.auth);
    const authOf = new DcClients(AuthServiceClient, ctx.topology, 'auth');
    const channelOf = new DcClients(ChannelServiceClient, ctx.topology, 'channel');
    const mediaOf = new DcClients(MediaServiceClient, ctx.topology, 'media');
    const raw = new RawClients();
    ctx.lifecycle.onShutdown('clients', () => {
      auth.close();
      authOf.close();
      channelOf.close();
      mediaOf.close();
      raw.close();
    });
    const dcIds = ctx.topology.dcs.map((dc) => dc.id);

    // The global username space is auth's; the username's owner is this DC's auth, which passes
    // the call on to the DC that holds the username space if it is not that DC itself.
    const setChannelUsername: SetChannelUsername = async (req) => {
      await unary(auth.setChannelUsername.bind(auth), req);
    };
    // A new upload lives at the uploader's home DC (the DC whose gateway took the call); a file
    // sent again by reference at the DC its id names. Grants are per user today: see README.
    const attach: Attach = async (context, input) => {
      const k = input.kind;
      let dc = context.dcId || ctx.dcId;
      if (k?.$case === 'document' || k?.$case === 'photo') {
        dc = dcOfFileId(k.value.id);
        if (!dcIds.includes(dc))
          throw errors.badRequest(k.$case === 'photo' ? 'PHOTO_INVALID' : 'MEDIA_INVALID');
      }
      const media = mediaOf.forDc(dc);
      const res = await unary(
        media.uploadMedia.bind(media),
        { context, media: input, grantUserIds: [] },
        { deadlineMs: UPLOAD_MEDIA_DEADLINE_MS },
      );
      if (!res.media) throw errors.badRequest('MEDIA_INVALID');
      return res.media;
    };

    const grant: Grant = async (context, media, channelId) => {
      const k = media.kind;
      if (k?.$case !== 'document' && k?.$case !== 'photo') return;
      const holder = mediaOf.forDc(k.value.dcId);
      await unary(holder.grantAccess.bind(holder), {
        context,
        fileId: k.value.id,
        userIds: [],
        channelIds: [channelId],
      });
    };

    const core = channelCore({
      dcId: ctx.dcId,
      store,
      writer,
      profiles: authProfiles(auth, authOf),
      publisher: new UpdatePublisher(ctx.dcId, ctx.bus, ctx.log.child({ component: 'updates' })),
      channelOf,
      dcIds,
      setChannelUsername,
      attach,
      grant,
    });
    const channels = channelHandlers(core);
    const messages = messageHandlers(core, ctx.settings.TERN_CHANNEL_DIFFERENCE_WINDOW);
    const members = memberHandlers(core);

    // Last: leases are taken once everything that writes is built; handed over before draining.
    await ownership.start();
    ctx.lifecycle.onHandOver('channel ownership', () => ownership.stop());

    const impl = {
      ...channels,
      ...messages,
      ...members,
    } satisfies AsyncImplOf<typeof ChannelServiceService>;
    return routeChannels(ChannelServiceService, impl, {
      dcId: ctx.dcId,
      dcAddress: (dc) =>
        dcIds.includes(dc) ? addressOf(dcOf(ctx.topology, dc).services.channel) : undefined,
      routes: ownership,
      clients: raw,
      inviteChannel: async (hash) => (await store.invite(bareInviteHash(hash)))?.channelId,
    });
  },
});
