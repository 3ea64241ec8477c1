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
import {
  authorOf,
  channelCore,
  type Attach,
  type Grant,
  type MakeChatPhoto,
  type SetChannelUsername,
} from './api/core';
import { memberHandlers } from './api/members';
import { messageHandlers, TOO_LONG_GAP } from './api/messages';
import { RawClients, routeChannels } from './api/routing';
import { MembershipDelivery } from './consumers/memberships';
import { RecentMemberPages } from './consumers/member-pages';
import { PAGE_SIZE, startPushFanout } from './consumers/push-fanout';
import { RateLimits } from './consumers/token-bucket';
import { authProfiles } from './internal/profiles';
import { ChannelPushPublisher } from './producers/push';
import { UpdatePublisher } from './producers/updates';
import { ChannelWriter } from './storage/channel-writer';
import { bareInviteHash } from './storage/ids';
import { MEMBER_ROLES, ChannelStore } from './storage/store';

interface ChannelSettings {
  TERN_CHANNEL_REPLICA_ADDRESS: HostPort | undefined;
  TERN_CHANNEL_DIFFERENCE_WINDOW: number;
  TERN_CHANNEL_PUSH_RATE: number;
  TERN_CHANNEL_PUSH_LARGE_GROUP: number;
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
  TERN_CHANNEL_PUSH_RATE: int({
    default: 1000,
    min: 0,
    max: 1_000_000,
    describe:
      "push requests per second one channel replica publishes into each DC's push queue when it fans a post out to members (a token bucket per DC); 0 turns push notifications of channel posts off (set it so where no DC has TERN_PUSH_PROVIDERS)",
  }),
  TERN_CHANNEL_PUSH_LARGE_GROUP: int({
    default: 10_000,
    min: 1,
    describe:
      "supergroups with more members than this notify only the replied-to message's author and mentioned users of a new message, as Telegram does for large groups",
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

    // The upload is at the DC whose gateway took the call; the photo stays there, like any file.
    const chatPhoto: MakeChatPhoto = async (context, file, channelId) => {
      const media = mediaOf.forDc(context.dcId || ctx.dcId);
      const res = await unary(
        media.uploadChatPhoto.bind(media),
        { context, file, channelId },
        { deadlineMs: UPLOAD_MEDIA_DEADLINE_MS },
      );
      if (!res.photo) throw errors.badRequest('PHOTO_INVALID');
      return res.photo;
    };

    const profiles = authProfiles(auth, authOf);
    // Membership notices: tried at once, queued durably when the member's DC does not answer.
    const memberships = new MembershipDelivery({
      dcId: ctx.dcId,
      dcIds,
      bus: ctx.bus,
      apply: (req, dc) => core.applyMembership(req, dc),
      homeOf: async (userId) => (await profiles.homes([userId])).get(userId),
      log: ctx.log.child({ component: 'memberships' }),
    });
    const pushRate = ctx.settings.TERN_CHANNEL_PUSH_RATE;
    const core = channelCore({
      dcId: ctx.dcId,
      store,
      writer,
      profiles,
      memberships,
      ...(pushRate > 0
        ? { push: new ChannelPushPublisher(ctx.dcId, ctx.bus, ctx.log.child({ component: 'push' })) }
        : {}),
      publisher: new UpdatePublisher(ctx.dcId, ctx.bus, ctx.log.child({ component: 'updates' })),
      channelOf,
      dcIds,
      setChannelUsername,
      attach,
      grant,
      chatPhoto,
    });
    const channels = channelHandlers(core);
    const messages = messageHandlers(core, ctx.settings.TERN_CHANNEL_DIFFERENCE_WINDOW);
    const members = memberHandlers(core);

    await memberships.start();
    ctx.lifecycle.onShutdown('membership notices', () => memberships.stop());
    if (pushRate > 0)
      await startPushFanout({
        dcId: ctx.dcId,
        bus: ctx.bus,
        channel: (id) => store.channel(id),
        members: new RecentMemberPages(store.db),
        membersAmong: async (channelId, ids) =>
          [...(await store.participants(channelId, ids)).values()]
            .filter((p) => MEMBER_ROLES.has(p.p.role))
            .map((p) => p.userId),
        authorOf: async (channelId, messageId) => {
          const [m] = await store.messages(channelId, [messageId]);
          return m ? authorOf(m) : 0n;
        },
        homes: (ids) => profiles.homes(ids),
        limits: new RateLimits(pushRate),
        log: ctx.log.child({ component: 'push-fanout' }),
        pageSize: PAGE_SIZE,
        largeGroup: ctx.settings.TERN_CHANNEL_PUSH_LARGE_GROUP,
        concurrency: 4,
        lifecycle: ctx.lifecycle,
      });

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
