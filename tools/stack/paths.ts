/**
 * Where the local stack keeps things. Two roots, kept apart on purpose:
 * - the cache (`$TERN_CACHE_DIR`, default ~/.cache/tern): installed programs, shared by every
 *   clone on the machine and never inside git;
 * - the state (`<repo>/.stack`, gitignored): this clone's data, logs, pids, keys and secrets.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const CACHE_DIR = process.env.TERN_CACHE_DIR ?? join(homedir(), '.cache', 'tern');
export const STATE_DIR = join(REPO_ROOT, '.stack');

export const paths = {
  cacheBin: join(CACHE_DIR, 'bin'),
  cacheSrc: join(CACHE_DIR, 'src'),
  data: join(STATE_DIR, 'data'),
  logs: join(STATE_DIR, 'logs'),
  run: join(STATE_DIR, 'run'),
  keys: join(STATE_DIR, 'keys'),
  config: join(STATE_DIR, 'config'),
  rsaKey: join(STATE_DIR, 'keys', 'rsa.pem'),
  fileReferenceKey: join(STATE_DIR, 'keys', 'file-reference.key'),
  topology: join(STATE_DIR, 'topology.json'),
  /** Certificates for mutual TLS between the services (tools/stack/certs.ts). */
  tls: join(STATE_DIR, 'tls'),
  secrets: join(STATE_DIR, 'secrets.json'),
  info: join(STATE_DIR, 'info.json'),
  mainJs: join(REPO_ROOT, 'dist', 'services', 'main.js'),
} as const;
