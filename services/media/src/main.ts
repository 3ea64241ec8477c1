/** Process entry of the media service (started by services/main.ts). */
import { runService } from '../../shared/src';
import { mediaService } from './service';

export function main(): Promise<void> {
  return runService(mediaService);
}
