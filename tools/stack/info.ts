/**
 * The running stack's description (`.stack/info.json`, written by `npm run stack`), for
 * `npm run stack:info`, for tests and for outside clients.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { StackInfo } from './plan';
import { paths } from './paths';

export class StackNotRunningError extends Error {
  override readonly name = 'StackNotRunningError';
}

/** The running stack, or a StackNotRunningError that says how to start it. */
export function readStackInfo(): StackInfo {
  if (!existsSync(paths.info))
    throw new StackNotRunningError('the local stack is not running: start it with `npm run stack`');
  return JSON.parse(readFileSync(paths.info, 'utf8')) as StackInfo;
}
