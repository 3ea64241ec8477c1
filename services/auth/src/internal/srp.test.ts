/**
 * The server's SRP against the client libraries' own SRP code, which is what has to interoperate:
 * GramJS (telegram/Password: computeDigest makes the verifier, computeCheck the proof) and mtcute
 * (computeNewPasswordHash, computeSrpParams). Each sets a password with the library's code, then
 * logs in with it through newServerValue / verifyProof, as account.getPassword and
 * auth.checkPassword do.
 */
import { createHash, pbkdf2Sync, randomBytes, randomFillSync } from 'node:crypto';
import { Api } from 'telegram';
import { computeCheck, computeDigest } from 'telegram/Password';
import {
  CLIENT_SALT1_SIZE,
  isValidVerifier,
  newAlgo,
  newServerValue,
  SRP_G,
  SRP_PRIME,
  toBigint,
  toBytes,
  verifyProof,
} from './srp';

/** The part of mtcute's ICryptoProvider its password functions use, on node:crypto. */
const mtCrypto = {
  sha256: (d: Uint8Array) => createHash('sha256').update(d).digest(),
  pbkdf2: (pw: Uint8Array, salt: Uint8Array, iterations: number, keylen = 64, algo = 'sha512') =>
    Promise.resolve(pbkdf2Sync(pw, salt, iterations, keylen, algo)),
  randomFill: (b: Uint8Array) => void randomFillSync(b),
  randomBytes: (n: number) => randomBytes(n),
};
type MtcuteCrypto = typeof mtCrypto;
type MtcuteAlgo = { _: string; salt1: Uint8Array; salt2: Uint8Array; g: number; p: Uint8Array };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mtcute = require('@mtcute/core/utils.js') as {
  computeNewPasswordHash(c: MtcuteCrypto, algo: MtcuteAlgo, password: string): Promise<Uint8Array>;
  computeSrpParams(
    c: MtcuteCrypto,
    request: { currentAlgo: MtcuteAlgo; srpB: Uint8Array; srpId: bigint },
    password: string,
  ): Promise<{ srpId: bigint; A: Uint8Array; M1: Uint8Array }>;
};

/** What the server keeps after a client set a password with new_algo (salt1 extended by it). */
interface Stored {
  salt1: Buffer;
  salt2: Buffer;
  verifier: Buffer;
}

async function gramjsSet(password: string): Promise<Stored> {
  const algo = newAlgo();
  // updateTwoFaSettings does this before computeDigest: the spec's 32 random client bytes.
  const salt1 = Buffer.concat([algo.salt1, randomBytes(CLIENT_SALT1_SIZE)]);
  const kdf = new Api.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow({
    salt1,
    salt2: algo.salt2,
    g: algo.g,
    p: algo.p,
  });
  return { salt1, salt2: algo.salt2, verifier: Buffer.from(await computeDigest(kdf, password)) };
}

async function gramjsProve(stored: Stored, B: Buffer, password: string) {
  const request = new Api.account.Password({
    hasPassword: true,
    currentAlgo: new Api.PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow({
      salt1: stored.salt1,
      salt2: stored.salt2,
      g: SRP_G,
      p: SRP_PRIME,
    }),
    srp_B: B,
    srpId: bigInt(42),
    newAlgo: new Api.PasswordKdfAlgoUnknown(),
    newSecureAlgo: new Api.SecurePasswordKdfAlgoUnknown(),
    secureRandom: randomBytes(32),
  });
  const check = await computeCheck(request, password);
  return { A: Buffer.from(check.A), M1: Buffer.from(check.M1) };
}

// GramJS's long type is big-integer's; its srpId is only echoed back.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const bigInt = require('big-integer') as (n: number) => Api.long;

async function mtcuteSet(password: string): Promise<Stored> {
  const algo = newAlgo();
  const tlAlgo: MtcuteAlgo = {
    _: 'passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow',
    ...algo,
  };
  // mtcute extends salt1 in place with its 32 random bytes, as the spec says.
  const verifier = Buffer.from(await mtcute.computeNewPasswordHash(mtCrypto, tlAlgo, password));
  expect(tlAlgo.salt1.length).toBe(algo.salt1.length + CLIENT_SALT1_SIZE);
  return { salt1: Buffer.from(tlAlgo.salt1), salt2: algo.salt2, verifier };
}

async function mtcuteProve(stored: Stored, B: Buffer, password: string) {
  const res = await mtcute.computeSrpParams(
    mtCrypto,
    {
      currentAlgo: {
        _: 'passwordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow',
        salt1: stored.salt1,
        salt2: stored.salt2,
        g: SRP_G,
        p: SRP_PRIME,
      },
      srpB: B,
      srpId: 42n,
    },
    password,
  );
  return { A: Buffer.from(res.A), M1: Buffer.from(res.M1) };
}

function check(stored: Stored, server: { b: Buffer; B: Buffer }, proof: { A: Buffer; M1: Buffer }) {
  return verifyProof({ ...stored, b: server.b, B: server.B, ...proof });
}

describe('SRP 2FA against the client libraries', () => {
  it.each([
    ['GramJS', gramjsSet, gramjsProve],
    ['mtcute', mtcuteSet, mtcuteProve],
  ] as const)('%s: a password set by the client logs in; a wrong one does not', async (_name, set, prove) => {
    const stored = await set('correct horse');
    expect(isValidVerifier(stored.verifier)).toBe(true);
    const server = newServerValue(stored.verifier);
    expect(check(stored, server, await prove(stored, server.B, 'correct horse'))).toBe(true);
    const again = newServerValue(stored.verifier);
    expect(check(stored, again, await prove(stored, again.B, 'correct hors'))).toBe(false);
  });

  it('accepts the verifier of one library and the proof of the other', async () => {
    const stored = await gramjsSet('pässwörd ✓');
    const server = newServerValue(stored.verifier);
    expect(check(stored, server, await mtcuteProve(stored, server.B, 'pässwörd ✓'))).toBe(true);
  });

  it('binds a proof to its exchange: a replay against a fresh B, or a tampered M1 or A, fails', async () => {
    const stored = await mtcuteSet('pw');
    const server = newServerValue(stored.verifier);
    const proof = await mtcuteProve(stored, server.B, 'pw');
    expect(check(stored, newServerValue(stored.verifier), proof)).toBe(false);
    const m1 = Buffer.from(proof.M1);
    m1[0]! ^= 1;
    expect(check(stored, server, { ...proof, M1: m1 })).toBe(false);
    expect(check(stored, server, { A: toBytes(toBigint(proof.A) + 1n), M1: proof.M1 })).toBe(false);
  });

  it('refuses degenerate A values that would force the shared secret', () => {
    const stored = { salt1: randomBytes(40), salt2: randomBytes(16), verifier: toBytes(12345n) };
    const server = newServerValue(stored.verifier);
    const p = toBigint(SRP_PRIME);
    for (const A of [0n, 1n, p - 1n, p, 2n * p - 1n])
      expect(
        check(stored, server, { A: A < 1n << 2048n ? toBytes(A) : randomBytes(257), M1: randomBytes(32) }),
      ).toBe(false);
    expect(check(stored, server, { A: Buffer.alloc(0), M1: randomBytes(32) })).toBe(false);
  });

  it('hands out B with g^b inside the range the clients accept', () => {
    const v = toBytes(7n);
    const p = toBigint(SRP_PRIME);
    for (let i = 0; i < 5; i++) {
      const { B } = newServerValue(v);
      expect(B.length).toBe(256);
      expect(toBigint(B) > 0n && toBigint(B) < p).toBe(true);
    }
  });

  it('knows which verifiers are numbers of the group', () => {
    const p = toBigint(SRP_PRIME);
    expect(isValidVerifier(toBytes(2n))).toBe(true);
    expect(isValidVerifier(toBytes(1n))).toBe(false);
    expect(isValidVerifier(toBytes(p - 1n))).toBe(false);
    expect(isValidVerifier(Buffer.alloc(255, 1))).toBe(false);
  });
});
