/**
 * The channel service of one DC: channels and supergroups, their own pts sequences
 * and lazy fan-out. See README.md for what it owns.
 *
 * Foundation stage: the process, its dependencies and its contract are in place; the
 * RPCs answer UNIMPLEMENTED (Telegram 501) until the channel issue fills them in.
 */
import type { ServiceModule } from '../../shared/src';
import { ChannelServiceService } from '../../shared/src/gen/tern/channel/v1/channel';

export const channelService: ServiceModule = {
  name: 'channel',
  grpc: [{ fullName: 'tern.channel.v1.ChannelService', definition: ChannelServiceService }],
  needs: { cassandra: true, nats: true },
  start() {
    return Promise.resolve({ 'tern.channel.v1.ChannelService': {} });
  },
};
