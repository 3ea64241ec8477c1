/**
 * The minimal reproduction of the "stalled login" of issue 14, which lies in GramJS, not in Tern.
 *
 * MTProto's auth key is g_ab mod p written as exactly 256 big-endian bytes (leading zeros kept).
 * GramJS (`telegram` 2.26, network/Authenticator.js step 3) writes it with `getByteArray(gab)`,
 * which drops leading zero bytes. In about one handshake in 256 g_ab has a zero first byte: GramJS
 * then holds a 255-byte key whose auth_key_aux_hash differs from the server's, its own check of the
 * server's new_nonce_hash1 fails ("Step 3 invalid new nonce hash"), and — with connectionRetries
 * exhausted — `TelegramClient.connect()` returns false instead of throwing, after which every
 * request waits forever. No server can make GramJS's key right (g_ab is fixed once the client has
 * chosen b); a retried handshake is what helps, which GramJS does with its default retries.
 * docs/clients.md, "GramJS", tells users; test/e2e/support/gramjs.ts lets GramJS retry.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DH_G, DH_PRIME, bigintFromBytes, bigintToBytes, dhSharedKey, modPow, newDhSecret } from './dh';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the client library under test is CommonJS
const gramHelpers = require('telegram/Helpers') as {
  /** GramJS's bigint → big-integer conversion, and its big-integer → bytes writer. */
  returnBigInt(n: bigint): unknown;
  getByteArray(n: unknown): Buffer;
};

const auxHash = (key: Buffer) => createHash('sha1').update(key).digest().subarray(0, 8);

describe('GramJS auth key bytes (client-side defect behind issue 14’s stalled logins)', () => {
  it('drops the leading zero byte of g_ab, so its key and aux hash differ from the server’s', () => {
    const { a, gA } = newDhSecret();
    // Walk b upwards from a random start; g_ab(b + 1) = g_ab(b) · g_a, one multiplication per try.
    let b = bigintFromBytes(randomBytes(256)) % (DH_PRIME - 3n);
    let gab = modPow(gA, b, DH_PRIME);
    let tries = 0;
    while (gab >> 2040n !== 0n) {
      gab = (gab * gA) % DH_PRIME;
      b += 1n;
      tries++;
      if (tries > 20_000) throw new Error('no g_ab with a zero first byte found');
    }
    const gB = modPow(BigInt(DH_G), b, DH_PRIME);

    const serverKey = dhSharedKey(gB, a);
    expect(serverKey).toHaveLength(256);
    expect(serverKey[0]).toBe(0);
    expect(serverKey).toEqual(bigintToBytes(gab, 256));

    const gramKey = gramHelpers.getByteArray(gramHelpers.returnBigInt(gab));
    expect(gramKey.length).toBeLessThan(256);
    expect(auxHash(gramKey)).not.toEqual(auxHash(serverKey));
  });
});
