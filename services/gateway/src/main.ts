/** Process entry of the gateway (started by services/main.ts). */
import { runService } from '../../shared/src';
import { gatewayService } from './service';

export function main(): Promise<void> {
  return runService(gatewayService);
}
