/**
 * End-to-end private messages between real GramJS clients: pairs of a sender homed on DC 2 and a
 * receiver homed on DC 1, each a logged-in client on its home DC's gateway. Every sender keeps
 * one messages.sendMessage in flight (send, await the answer, send the next); its receiver is
 * online and gets each message live as updateShortMessage (NATS → DC 1 gateway). Latency is from
 * just before the sender's call to the receiver's client handing the update to its handler.
 *
 * The path of one message: DC 2 gateway → DC 2 messaging (sender's copy: random_id claim, log
 * claim, box rows, dialog, counters, NATS) → DC 1 messaging over gRPC (recipient's copy, the same
 * writes) → NATS → DC 1 gateway → the receiver's connection.
 */
import { randomInt } from 'node:crypto';
import bigInt from 'big-integer';
import { Api, type TelegramClient } from 'telegram';
import { Raw } from 'telegram/events';
import { gramClient, type Target } from './gramjs';
import { cpuWindow } from './measure';

export interface Pair {
  sender: TelegramClient;
  receiver: TelegramClient;
  /** The receiver as the sender addresses it. */
  peer: Api.InputPeerUser;
}

const API = { apiId: 12345, apiHash: '0123456789abcdef0123456789abcdef' };

/** A client logged in as a new test number of `t`'s DC (99966XYYYY, code: the DC digit × 5), with an empty box. */
export async function loggedIn(t: Target, name: string): Promise<TelegramClient> {
  const client = await gramClient(t);
  client.floodSleepThreshold = 0;
  for (;;) {
    const phone = `99966${t.dcId}${String(randomInt(0, 10_000)).padStart(4, '0')}`;
    const sent = (await client.invoke(
      new Api.auth.SendCode({ phoneNumber: phone, ...API, settings: new Api.CodeSettings({}) }),
    )) as Api.auth.SentCode;
    const res = await client
      .invoke(
        new Api.auth.SignIn({
          phoneNumber: phone,
          phoneCodeHash: sent.phoneCodeHash,
          phoneCode: String(t.dcId).repeat(5),
        }),
      )
      .catch((err: unknown) => {
        // A number a test gave a cloud password (2FA): in use, like the case below.
        if ((err as { errorMessage?: string }).errorMessage === 'SESSION_PASSWORD_NEEDED') return undefined;
        throw err;
      });
    if (res === undefined) continue;
    // A number some earlier run signed up: take another, so every pair starts with empty boxes.
    if (res.className !== 'auth.AuthorizationSignUpRequired') {
      await client.invoke(new Api.auth.LogOut());
      continue;
    }
    await client.invoke(
      new Api.auth.SignUp({
        phoneNumber: phone,
        phoneCodeHash: sent.phoneCodeHash,
        firstName: name,
        lastName: '',
      }),
    );
    return client;
  }
}

/** `count` sender/receiver pairs; receivers are online with update handling started. */
export async function makePairs(from: Target, to: Target, count: number): Promise<Pair[]> {
  const pairs: Pair[] = [];
  for (let i = 0; i < count; i++) {
    const [sender, receiver] = await Promise.all([
      loggedIn(from, `Sender${i}`),
      loggedIn(to, `Receiver${i}`),
    ]);
    const username = `bench_${randomInt(0, 1e9).toString(36)}${i}x`;
    await receiver.invoke(new Api.account.UpdateUsername({ username }));
    await receiver.invoke(new Api.updates.GetState()); // starts GramJS's update handling
    const resolved = await sender.invoke(new Api.contacts.ResolveUsername({ username }));
    const u = resolved.users[0] as Api.User;
    pairs.push({
      sender,
      receiver,
      peer: new Api.InputPeerUser({ userId: u.id, accessHash: u.accessHash! }),
    });
  }
  return pairs;
}

export interface E2eResult {
  clients: number;
  seconds: number;
  /** sendMessage calls answered inside the window. */
  sent: number;
  /** Messages sent inside the window that reached their receiver inside it. */
  receivedInWindow: number;
  /** Messages sent inside the window never seen live within the drain time after it. */
  lost: number;
  /** Send → receive, ms, sorted, for every message sent in the window and received at all. */
  latencies: number[];
  errors: number;
  firstError?: string;
  cpu: Record<string, number>;
  /** Paced levels: the rate offered, and the sends made after their turn (the sender was behind). */
  offeredPerSecond?: number;
  late?: number;
}

/** A paced level: the senders together offer this many messages/s instead of sending flat out. */
export interface Pace {
  ratePerSecond?: number;
}

/**
 * The first `clients` pairs send for `ms`; then waits up to `drainMs` for messages still on their
 * way. CPU of `pids` is taken over the sending window.
 *
 * Flat out (no pace), each sender sends its next message as soon as the last one is answered.
 * Paced, sender i of n sends its messages at start + (i/n + k) × n/rate (the senders take turns
 * evenly), still one in flight each: a sender whose last send is not answered by its next turn
 * sends late, and that message's latency counts from when it was due, so a backlog shows in the
 * latencies instead of quietly lowering the rate offered.
 */
export async function runPairs(
  pairs: Pair[],
  clients: number,
  ms: number,
  drainMs: number,
  pids: Record<string, number | undefined>,
  pace: Pace = {},
): Promise<E2eResult> {
  const active = pairs.slice(0, clients);
  const tag = randomInt(0, 1e9).toString(36);
  const pending = new Map<string, number>();
  const latencies: number[] = [];
  let receivedInWindow = 0;
  let end = Infinity;
  const handler = (u: Api.TypeUpdate | Api.TypeUpdates) => {
    if (!(u instanceof Api.UpdateShortMessage)) return;
    const started = pending.get(u.message);
    if (started === undefined) return;
    const now = performance.now();
    pending.delete(u.message);
    latencies.push(now - started);
    if (now <= end) receivedInWindow++;
  };
  const event = new Raw({ types: [Api.UpdateShortMessage] });
  for (const p of active) p.receiver.addEventHandler(handler, event);

  let sent = 0;
  let errors = 0;
  let firstError: string | undefined;
  const stopCpu = cpuWindow(pids);
  const start = performance.now();
  end = start + ms;
  const interval = pace.ratePerSecond ? (active.length / pace.ratePerSecond) * 1000 : 0;
  let late = 0;
  await Promise.all(
    active.map(async (p, i) => {
      for (let seq = 0; performance.now() < end; seq++) {
        let due = performance.now();
        if (interval > 0) {
          due = start + (i / active.length + seq) * interval;
          if (due >= end) break;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          else late++;
        }
        const text = `bench ${tag} ${i} ${seq}`;
        pending.set(text, due);
        try {
          await p.sender.invoke(
            new Api.messages.SendMessage({
              peer: p.peer,
              message: text,
              randomId: bigInt(randomInt(1, 2 ** 47))
                .shiftLeft(16)
                .add(seq & 0xffff),
            }),
          );
          if (performance.now() <= end) sent++;
        } catch (err) {
          errors++;
          pending.delete(text);
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const cpu = stopCpu();
  const drainUntil = performance.now() + drainMs;
  while (pending.size > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 50));
  for (const p of active) p.receiver.removeEventHandler(handler, event);
  latencies.sort((a, b) => a - b);
  return {
    clients,
    seconds,
    sent,
    receivedInWindow,
    lost: pending.size,
    latencies,
    errors,
    firstError,
    cpu,
    ...(pace.ratePerSecond ? { offeredPerSecond: pace.ratePerSecond, late } : {}),
  };
}

/** The q-quantile (0..1) of sorted values. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
