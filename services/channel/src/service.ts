/**
 * The channel service of one DC: channels and supergroups, their own pts sequences and lazy
 * fan-out. See README.md for what it owns.
 *
 * Foundation stage: the process, its dependencies and its contract are in place; every RPC of
 * tern.channel.v1.ChannelService answers UNIMPLEMENTED (Telegram 501) until channels are built.
 */
import { defineService, notImplemented } from '../../shared/src';
import { ChannelServiceService } from '../../shared/src/gen/tern/channel/v1/channel';

export const channelService = defineService({
  name: 'channel',
  grpc: { fullName: 'tern.channel.v1.ChannelService', definition: ChannelServiceService },
  needs: { cassandra: true, nats: true },
  start: () => Promise.resolve(notImplemented(ChannelServiceService)),
});
