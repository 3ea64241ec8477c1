/** Process entry of the messaging service (started by services/main.ts). */
import { runService } from '../../shared/src';
import { messagingService } from './service';

export function main(): Promise<void> {
  return runService(messagingService);
}
