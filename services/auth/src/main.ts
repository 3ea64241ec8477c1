/** Process entry of the auth service (started by services/main.ts). */
import { runService } from '../../shared/src';
import { authService } from './service';

export function main(): Promise<void> {
  return runService(authService);
}
