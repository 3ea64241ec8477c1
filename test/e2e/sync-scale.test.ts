/**
 * Sync at scale: GramJS clients that were offline while hundreds or thousands of messages arrived
 * from users homed on other DCs catch up with updates.getDifference, and concurrent retries of
 * the same sends (same random_id) never add a message twice.
 *
 * Messages are sent straight to the sender's messaging service over gRPC, with the RequestContext
 * a gateway builds (support/direct.ts): the same store, cross-DC delivery and update log as
 * messages.sendMessage, without a client's MTProto round trip per message. The receiving side is
 * always a real GramJS client. What the tests check is the update log as a client sees it:
 *  - pts: each getDifference step advances the state by exactly the updates it carries (one per
 *    new message), and the recipient's message ids (allocated by the same log claim) are
 *    consecutive, so a gap or a repeat anywhere shows up;
 *  - content: the texts received are exactly the texts sent, each once.
 *
 * The send rate of the local stack bounds the sizes: on the 2-core development machine one
 * private message costs the two DCs 35 dependent Cassandra statements (counted in its traces, see
 * docs/benchmarks.md "Messaging"), and the stack stores 5–15 messages/s (measured 5.3–11.5 here
 * with 8 in flight while other tests ran). 10,000 messages would take 11–30 minutes, so in CI the
 * far-behind client is the two-sender test's recipient, 2,000 behind (one full 1,000-update
 * slice, then the rest). TERN_E2E_SYNC_BEHIND=<n> adds a test with one client n behind (10000 to
 * try the figure).
 */
import { createPublicKey, randomInt } from 'node:crypto';
import type { Api as GramApi } from 'telegram';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { eventually, stack } from '../support/stack';
import { directSender, pool, randomLong, type DirectSender } from './support/direct';
import { testNumber, trustKey } from './support/gramjs';
import {
  inputPeer,
  loggedInWith,
  reconnect,
  resolveUser,
  setUsername,
  userIdOf,
  type Gram,
} from './support/users';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

/** Updates the server returns per getDifference (services/messaging/src/api/sync.ts). */
const SERVER_SLICE = 1000;
const BEHIND = Number(process.env.TERN_E2E_SYNC_BEHIND ?? 0);
/** Sends in flight at once (the two cores are saturated well before this many). */
const CONCURRENCY = 8;
const MINUTES = 60_000;

const say = (line: string) => process.stdout.write(`sync-scale: ${line}\n`);

interface User {
  g: Gram;
  dc: number;
  id: bigint;
  username: string;
}

async function user(dc: number, name: string): Promise<User> {
  const g = await loggedInWith('telegram', s.dcs, dc, testNumber(dc), name);
  return { g, dc, id: await userIdOf(g), username: await setUsername(g, name.toLowerCase()) };
}

/** `from` sends to `to` directly (gRPC); transient failures are retried with the same random_id. */
async function sendOne(
  sender: DirectSender,
  to: { userId: bigint; accessHash: bigint },
  text: string,
  randomId: bigint,
): Promise<{ id: number; pts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await sender.send(to, text, randomId);
      const update = res.updates!.updates.find((u) => u.kind?.$case === 'newMessage')!;
      return { id: res.message!.id, pts: update.pts };
    } catch (err) {
      // DEADLINE_EXCEEDED / UNAVAILABLE under load: what a client does, the same random_id again.
      const code = (err as { code?: number }).code;
      if (attempt >= 8 || (code !== 4 && code !== 14)) throw err;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
}

/** Sends every text of `texts` from `from` to `to`, CONCURRENCY at a time; returns messages/s. */
async function sendAll(from: User, to: User, texts: string[]): Promise<number> {
  const sender = directSender(s, from.dc, from.id);
  const peer = await resolveUser(from.g, to.username);
  const started = performance.now();
  try {
    await pool(texts.length, CONCURRENCY, (i) => sendOne(sender, peer, texts[i]!, randomLong()));
  } finally {
    sender.close();
  }
  return texts.length / ((performance.now() - started) / 1000);
}

interface Step {
  kind: 'slice' | 'difference' | 'tooLong';
  /** State pts after the step. */
  pts: number;
  messages: GramApi.Message[];
}

/**
 * updates.getDifference from `from` until differenceEmpty, as a client catching up does it:
 * a slice continues from its intermediate state, a difference from its state. Checks on the way
 * that each step advances pts by exactly what it carries.
 */
async function catchUp(
  g: Gram,
  from: { pts: number; date: number },
  ptsTotalLimit?: number,
): Promise<Step[]> {
  const steps: Step[] = [];
  let state = from;
  for (let i = 0; ; i++) {
    if (i > 1000) throw new Error('getDifference does not end');
    const d = await g.client.invoke(
      new g.Api.updates.GetDifference({ pts: state.pts, date: state.date, qts: 0, ptsTotalLimit }),
    );
    if (d instanceof g.Api.updates.DifferenceEmpty) return steps;
    if (d instanceof g.Api.updates.DifferenceTooLong) {
      steps.push({ kind: 'tooLong', pts: d.pts, messages: [] });
      state = { pts: d.pts, date: state.date };
      continue;
    }
    const next = d instanceof g.Api.updates.DifferenceSlice ? d.intermediateState : d.state;
    const messages = d.newMessages as GramApi.Message[];
    const others = d.otherUpdates.reduce((n, u) => n + ((u as { ptsCount?: number }).ptsCount ?? 0), 0);
    // No gap and no repeat inside the log: the state moves by exactly the pts the step carries.
    expect(next.pts - state.pts).toBe(messages.length + others);
    steps.push({
      kind: d instanceof g.Api.updates.DifferenceSlice ? 'slice' : 'difference',
      pts: next.pts,
      messages,
    });
    state = next;
  }
}

/** Every message of one dialog through messages.getHistory pages of 100, newest first. */
async function wholeHistory(g: Gram, peer: GramApi.InputPeerUser): Promise<GramApi.Message[]> {
  const all: GramApi.Message[] = [];
  for (let offsetId = 0; ;) {
    const page = (await g.client.invoke(
      new g.Api.messages.GetHistory({ peer, offsetId, limit: 100, addOffset: 0, maxId: 0, minId: 0 }),
    )) as GramApi.messages.Messages;
    const msgs = page.messages as GramApi.Message[];
    if (msgs.length === 0) return all;
    all.push(...msgs);
    offsetId = msgs.at(-1)!.id;
  }
}

/** Ids increase by exactly one from message to message (box ids come from the log claim). */
function expectConsecutive(ids: number[]): void {
  const gaps = ids.slice(1).flatMap((id, i) => (id === ids[i]! + 1 ? [] : [`${ids[i]}→${id}`]));
  expect(gaps).toEqual([]);
}

function expectEachOnce(received: string[], sent: string[]): void {
  const counts = new Map<string, number>();
  for (const t of received) counts.set(t, (counts.get(t) ?? 0) + 1);
  const repeated = [...counts].filter(([, n]) => n > 1).map(([t]) => t);
  const missing = sent.filter((t) => !counts.has(t));
  expect({ repeated, missing, extra: received.length - sent.length + missing.length }).toEqual({
    repeated: [],
    missing: [],
    extra: 0,
  });
}

/**
 * Waits until `g`'s log holds `pts`. A recipient's copy normally lands before the send returns; a
 * delivery the recipient's DC did not answer in time waits in the sender's durable outbox and
 * lands a little later (services/messaging/src/consumers/outbox.ts).
 */
async function arrived(g: Gram, pts: number): Promise<void> {
  await eventually(
    async () => {
      const st = await g.client.invoke(new g.Api.updates.GetState());
      return st.pts >= pts ? st : undefined;
    },
    120_000,
    500,
  );
}

/** Goes offline: the state a client keeps (getState) and its saved session. */
async function goOffline(u: User): Promise<{ state: GramApi.updates.State; session: string }> {
  const state = await u.g.client.invoke(new u.g.Api.updates.GetState());
  const session = u.g.session.save();
  await u.g.client.disconnect();
  return { state, session };
}

describe('sync at scale (GramJS)', () => {
  const clients: Gram[] = [];
  const keep = <T extends { g: Gram }>(u: T) => (clients.push(u.g), u);
  afterAll(async () => {
    for (const g of clients) await g.client.destroy().catch(() => undefined);
  });

  it(
    'a client offline while 500 messages arrive from another DC catches up with getDifference: no gap, no duplicate',
    async () => {
      const alice = keep(await user(2, 'Alice'));
      const bob = keep(await user(1, 'Bob'));
      const { state, session } = await goOffline(bob);

      const run = randomInt(0, 1e9).toString(36);
      const texts = Array.from({ length: 500 }, (_, i) => `offline ${run} #${i}`);
      const rate = await sendAll(alice, bob, texts);
      say(`500 messages DC 2 → DC 1 at ${rate.toFixed(1)} messages/s (${CONCURRENCY} in flight)`);

      const back = keep({ g: await reconnect('telegram', s.dcs, 1, session) }).g;
      await arrived(back, state.pts + 500);
      const steps = await catchUp(back, state);
      expect(steps.map((st) => st.kind)).toEqual(['difference']);
      const messages = steps.flatMap((st) => st.messages);
      expect(messages.every((m) => m.out === false)).toBe(true);
      expectEachOnce(
        messages.map((m) => m.message),
        texts,
      );
      expectConsecutive(messages.map((m) => m.id));
      expect(steps.at(-1)!.pts).toBe(state.pts + 500);
      const now = await back.client.invoke(new back.Api.updates.GetState());
      expect(now.pts).toBe(state.pts + 500);
    },
    8 * MINUTES,
  );

  // Far more behind than CI can afford to generate (see the top of this file): run with
  // TERN_E2E_SYNC_BEHIND=10000 to try it.
  (BEHIND > 0 ? it : it.skip)(
    `a client ${BEHIND > 0 ? BEHIND.toLocaleString('en-US') : 'TERN_E2E_SYNC_BEHIND'} behind catches up through differenceSlice (${SERVER_SLICE} at a time) and ends consistent`,
    async () => {
      const alice = keep(await user(3, 'Alice'));
      const bob = keep(await user(1, 'Bob'));
      const { state, session } = await goOffline(bob);

      const run = randomInt(0, 1e9).toString(36);
      const texts = Array.from({ length: BEHIND }, (_, i) => `behind ${run} #${i}`);
      const rate = await sendAll(alice, bob, texts);
      say(`${BEHIND} messages DC 3 → DC 1 at ${rate.toFixed(1)} messages/s (${CONCURRENCY} in flight)`);

      const back = keep({ g: await reconnect('telegram', s.dcs, 1, session) }).g;
      await arrived(back, state.pts + BEHIND);
      const steps = await catchUp(back, state);
      const final = steps.at(-1)!;
      const messages = steps.flatMap((st) => st.messages);
      if (steps.some((st) => st.kind === 'tooLong')) {
        // Too far behind for a difference: the client refetches; the state still ends at the head.
        expect(final.pts).toBe(state.pts + BEHIND);
      } else {
        // Full slices of the server's size, then the rest as one difference.
        const full = Math.floor((BEHIND - 1) / SERVER_SLICE);
        expect(steps.map((st) => st.kind)).toEqual([...Array<string>(full).fill('slice'), 'difference']);
        expect(steps.slice(0, -1).every((st) => st.messages.length === SERVER_SLICE)).toBe(true);
        expectEachOnce(
          messages.map((m) => m.message),
          texts,
        );
        expectConsecutive(messages.map((m) => m.id));
      }
      expect(final.pts).toBe(state.pts + BEHIND);
      const now = await back.client.invoke(new back.Api.updates.GetState());
      expect(now.pts).toBe(final.pts);

      // A client asking for smaller slices (pts_total_limit) gets the same updates in more steps.
      const small = await catchUp(back, state, 400);
      expect(small.length).toBe(Math.ceil(BEHIND / 400));
      expect(small.flatMap((st) => st.messages).map((m) => m.id)).toEqual(messages.map((m) => m.id));

      // And the dialog's history holds every message once.
      const history = await wholeHistory(back, inputPeer(back, await resolveUser(back, alice.username)));
      expectEachOnce(
        history.map((m) => m.message),
        texts,
      );
    },
    // At the 3–10 messages/s this stack stores, plus time to catch up and read the history.
    Math.max(12 * MINUTES, (BEHIND / 3) * 1000 + 2 * MINUTES),
  );

  describe('two senders on other DCs × 1,000 messages each, with concurrent retries, to one offline recipient', () => {
    const PER_SENDER = 1000;
    const TOTAL = 2 * PER_SENDER;
    let bob: User;
    let senders: User[];
    let offline: { state: GramApi.updates.State; session: string };
    let sent: string[];
    /** Per sender, per message: the answers of its attempts (two for a retried send). */
    let answers: Array<Array<Array<{ id: number; pts: number }>>>;

    beforeAll(async () => {
      bob = keep(await user(1, 'Bob'));
      senders = [keep(await user(2, 'Alice')), keep(await user(3, 'Carol'))];
      offline = await goOffline(bob);
      const run = randomInt(0, 1e9).toString(36);
      const textOf = (from: User, i: number) => `${from.username} ${run} #${i}`;
      sent = senders.flatMap((from) => Array.from({ length: PER_SENDER }, (_, i) => textOf(from, i)));

      const started = performance.now();
      let retried = 0;
      answers = await Promise.all(
        senders.map(async (from) => {
          const sender = directSender(s, from.dc, from.id);
          const peer = await resolveUser(from.g, bob.username);
          try {
            return await pool(PER_SENDER, CONCURRENCY / 2, async (i) => {
              const randomId = randomLong();
              const once = () => sendOne(sender, peer, textOf(from, i), randomId);
              // About one send in eight is retried while the first attempt is still in flight.
              if (randomInt(0, 8) !== 0) return [await once()];
              retried++;
              return Promise.all([once(), once()]);
            });
          } finally {
            sender.close();
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      say(
        `2 × ${PER_SENDER} messages (DC 2, DC 3 → DC 1) and ${retried} concurrent retries in ${seconds.toFixed(0)} s: ` +
          `${(TOTAL / seconds).toFixed(1)} messages/s`,
      );
    }, 15 * MINUTES);

    it('each retry answers the same message as its first attempt, and each sender used one pts per message', () => {
      for (const perMessage of answers) {
        for (const attempts of perMessage)
          expect(new Set(attempts.map((a) => `${a.id}/${a.pts}`)).size).toBe(1);
        const pts = perMessage.map((attempts) => attempts[0]!.pts).sort((a, b) => a - b);
        expect(new Set(pts).size).toBe(PER_SENDER);
        expect(pts.at(-1)! - pts[0]!).toBe(PER_SENDER - 1);
      }
    });

    it(`the recipient, ${TOTAL.toLocaleString('en-US')} behind, catches up through differenceSlice (${SERVER_SLICE} at a time): every message once, pts contiguous`, async () => {
      const back = keep({ g: await reconnect('telegram', s.dcs, 1, offline.session) }).g;
      bob.g = back;
      const { state } = offline;
      await arrived(back, state.pts + TOTAL);
      const steps = await catchUp(back, state);
      expect(steps.map((st) => [st.kind, st.messages.length])).toEqual([
        ['slice', SERVER_SLICE],
        ['difference', TOTAL - SERVER_SLICE],
      ]);
      const messages = steps.flatMap((st) => st.messages);
      expect(messages.every((m) => m.out === false)).toBe(true);
      expectEachOnce(
        messages.map((m) => m.message),
        sent,
      );
      expectConsecutive(messages.map((m) => m.id));
      expect(steps.at(-1)!.pts).toBe(state.pts + TOTAL);
      // getState ends where the last step left the client.
      const now = await back.client.invoke(new back.Api.updates.GetState());
      expect(now.pts).toBe(steps.at(-1)!.pts);

      // From the very start of the log (a new device), with smaller slices (pts_total_limit): the
      // same updates in more steps.
      const fromZero = await catchUp(back, { pts: 0, date: state.date }, 500);
      const tail = fromZero.flatMap((st) => st.messages).slice(-TOTAL);
      expect(tail.map((m) => m.id)).toEqual(messages.map((m) => m.id));
      expect(fromZero.at(-1)!.pts).toBe(now.pts);
    });

    it("each dialog's history (getHistory pages) holds its sender's 1,000 messages once each", async () => {
      for (const from of senders) {
        const history = await wholeHistory(bob.g, inputPeer(bob.g, await resolveUser(bob.g, from.username)));
        expectEachOnce(
          history.map((m) => m.message),
          sent.filter((t) => t.startsWith(`${from.username} `)),
        );
        // Newest first, each id once.
        const ids = history.map((m) => m.id);
        expect(ids.slice(1).every((id, i) => id < ids[i]!)).toBe(true);
      }
    });
  });
});
