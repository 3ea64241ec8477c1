/**
 * Durable cross-DC delivery: while the recipient's DC has no messaging service, a GramJS user on
 * another DC keeps sending; the sends succeed, and once `npm run stack` brings the service back
 * the queued copies arrive in the recipient's box in order, each exactly once, with contiguous pts.
 *
 * This suite stops and restarts a service of the local stack, so it runs in the `stack` project
 * (tools/test.sh runs it after the other suites).
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import bigInt from 'big-integer';
import type { Api as GramApi } from 'telegram';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { gramClient, loggedInClient, testNumber, trustKey } from './support/gramjs';

const ROOT = join(__dirname, '..', '..');
const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

type Gram = ReturnType<typeof gramClient>;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Stops every messaging replica of DC `dc` (the stack's own pid files) and waits for them to exit. */
async function stopMessaging(dc: number): Promise<void> {
  await Promise.all(
    s.dcs[dc - 1]!.messagingReplicas.map(async (replica) => {
      const pid = Number(readFileSync(join(ROOT, '.stack', 'run', `${replica.name}.pid`), 'utf8').trim());
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + 30_000;
      while (alive(pid)) {
        if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 100));
      }
    }),
  );
}

describe('cross-DC delivery while the recipient DC is away', () => {
  let alice: Gram; // DC 2
  let bob: Gram; // DC 1
  afterAll(async () => {
    for (const g of [alice, bob]) await g?.client.destroy();
  });

  it('queues the copies and delivers them in order, exactly once, when the DC returns', async () => {
    alice = await loggedInClient(s.dcs, 2, testNumber(2), 'Alice');
    bob = await loggedInClient(s.dcs, 1, testNumber(1), 'Bob');
    const bobUser = await bob.client.getMe();
    const name = `ob_${randomBytes(5).toString('hex')}`;
    await bob.client.invoke(new bob.Api.account.UpdateUsername({ username: name }));
    const found = await alice.client.invoke(new alice.Api.contacts.ResolveUsername({ username: name }));
    const toBob = new alice.Api.InputPeerUser({
      userId: bobUser.id,
      accessHash: (found.users[0] as GramApi.User).accessHash!,
    });
    const before = await bob.client.invoke(new bob.Api.updates.GetState());

    await stopMessaging(1);
    const texts = [0, 1, 2, 3, 4].map((i) => `while DC 1 was away ${i}`);
    try {
      for (const message of texts) {
        const sent = (await alice.client.invoke(
          new alice.Api.messages.SendMessage({
            peer: toBob,
            message,
            randomId: bigInt(randomBytes(7).toString('hex'), 16),
          }),
        )) as GramApi.UpdateShortSentMessage;
        expect(sent.id).toBeGreaterThan(0);
      }
    } finally {
      // Brings the stopped service back (everything else is reused).
      execFileSync('npm', ['run', '--silent', 'stack'], { cwd: ROOT, stdio: 'ignore', timeout: 10 * 60_000 });
    }

    // The outbox backs off while the DC is away (at most 60 s between tries).
    const deadline = Date.now() + 150_000;
    let diff: GramApi.updates.Difference | undefined;
    while (Date.now() < deadline) {
      const d = await bob.client.invoke(
        new bob.Api.updates.GetDifference({ pts: before.pts, date: before.date, qts: 0 }),
      );
      if (d instanceof bob.Api.updates.Difference && d.newMessages.length >= texts.length) {
        diff = d;
        break;
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(diff).toBeDefined();
    expect(diff!.newMessages.map((m) => (m as GramApi.Message).message)).toEqual(texts);
    expect(diff!.state.pts).toBe(before.pts + texts.length);
    const aliceAtBob = diff!.users.find((u) => u.id.toString() !== bobUser.id.toString()) as GramApi.User;
    const history = await bob.client.getMessages(
      new bob.Api.InputPeerUser({ userId: aliceAtBob.id, accessHash: aliceAtBob.accessHash! }),
      { limit: 20 },
    );
    for (const t of texts) expect(history.filter((m) => m.message === t)).toHaveLength(1);
  }, 400_000);
});
