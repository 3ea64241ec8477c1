/**
 * Section 3: auth-key exchanges per second against a running gateway, each done by GramJS's
 * Authenticator on its own TCP connection, several at once for a fixed time.
 *
 * Ceilings from the same run:
 *  - the gateway's own handshake crypto (newPq, RSA decrypt of the inner data, newDhSecret and the
 *    final modPow — the very functions the gateway calls), timed here on one core;
 *  - CPU seconds each process (this client, the gateway, the DC's auth service) used in the
 *    window, so the rate can be read against a core fully spent on the gateway or on the client.
 */
import {
  constants,
  createDiffieHellman,
  generateKeyPairSync,
  privateDecrypt,
  randomBytes,
} from 'node:crypto';
import {
  bigintFromBytes,
  bigintToBytes,
  DH_G,
  DH_PRIME,
  modPow,
  newDhSecret,
  newPq,
} from '../../services/gateway/src/mtproto/crypto/dh';
import { gramHandshake, type Target } from './gramjs';
import { cpuWindow, opsPerSecond } from './measure';

export interface LoadResult {
  ops: number;
  errors: number;
  seconds: number;
  /** CPU seconds used in the window, by process name ('bench' is this process). */
  cpu: Record<string, number>;
  firstError?: string;
}

/** Runs `concurrency` loops of `op` for `ms`; counts completions and failures. */
export async function closedLoop(
  op: () => Promise<unknown>,
  concurrency: number,
  ms: number,
  pids: Record<string, number | undefined>,
): Promise<LoadResult> {
  let ops = 0;
  let errors = 0;
  let firstError: string | undefined;
  const stopCpu = cpuWindow(pids);
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        try {
          await op();
          ops++;
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return { ops, errors, seconds, cpu: stopCpu(), firstError };
}

export function benchHandshakes(
  target: Target,
  concurrency: number,
  ms: number,
  pids: Record<string, number | undefined>,
): Promise<LoadResult> {
  return closedLoop(() => gramHandshake(target), concurrency, ms, pids);
}

export interface CryptoCeiling {
  /** The gateway's functions (BigInt modPow for both DH exponentiations). */
  gateway: number;
  /** The same steps with OpenSSL doing the two DH exponentiations, for reference. */
  openssl: number;
}

/** Handshakes/s one core could do if it did nothing but the server side's handshake crypto. */
export function serverCryptoCeiling(ms: number): CryptoCeiling {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const block = Buffer.concat([Buffer.alloc(1), randomBytes(255)]);
  const rsa = () => privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, block);
  const gB = bigintFromBytes(randomBytes(256)) % DH_PRIME;
  const gateway = opsPerSecond(
    () => {
      newPq();
      rsa();
      const { a } = newDhSecret();
      modPow(gB, a, DH_PRIME);
    },
    ms,
    0,
  );
  // Made once: createDiffieHellman checks the prime, which costs far more than a handshake.
  const dh = createDiffieHellman(bigintToBytes(DH_PRIME), Buffer.from([DH_G]));
  const gBBytes = bigintToBytes(gB, 256);
  const openssl = opsPerSecond(
    () => {
      newPq();
      rsa();
      dh.setPrivateKey(randomBytes(256));
      dh.generateKeys();
      dh.computeSecret(gBBytes);
    },
    ms,
    0,
  );
  return { gateway, openssl };
}
