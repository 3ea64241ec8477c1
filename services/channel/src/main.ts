/** Process entry of the channel service (started by services/main.ts). */
import { runService } from '../../shared/src';
import { channelService } from './service';

export function main(): Promise<void> {
  return runService(channelService);
}
