/**
 * The chaos run's verdict, from the clients' own records and the stores: after the faults, every
 * session reads its whole update log since the run began with updates.getDifference (the store's
 * answer, not what happened to arrive live), and every acknowledged message must be in its
 * receiver's log and its sender's log exactly once, each lane's messages in the order they were
 * sent, and each log's pts must have moved by exactly the events it holds (no hole, no overlap).
 */
import type { TlObject } from '../../services/gateway/src/mtproto/tl-types';
import type { LightClient } from '../load/client';
import type { Lane } from './traffic';

/** A session's update log since the run began, as getDifference gave it. */
export interface BoxRecord {
  session: number;
  startPts: number;
  endPts: number;
  messages: Array<{ id: number; text: string; out: boolean }>;
  /** pts moved by the other updates of the difference (edits, reads, deletes). */
  otherPts: number;
  /** The server said the gap was too long to list (differenceTooLong). */
  tooLong: boolean;
  /** Where a difference ended short of the log's head: the pts after which the log has a hole. */
  holesAt: number[];
}

export interface Verdict {
  acknowledged: number;
  /** Acknowledged messages missing from the receiver's log, or from the sender's own. */
  lost: number;
  /** Extra copies of acknowledged messages in either log. */
  duplicated: number;
  /** Messages of one lane that a receiver's log holds out of the order they were sent in. */
  reordered: number;
  /** Messages still unacknowledged when their lane gave up. */
  unacknowledged: number;
  /** Sends the server refused for good (400-class), by error. */
  refused: Record<string, number>;
  /** pts steps with no event (holes) and events beyond the pts moved (overlaps), over all logs. */
  ptsHoles: number;
  ptsOverlaps: number;
  /** Logs the server would not list (differenceTooLong): unchecked, so a failure. */
  unreadLogs: number;
  /** The first few lost messages, as `<text> (missing from the receiver's|sender's log)`. */
  lostSamples: string[];
  /** Where the logs have holes: `session <i>: after pts <n>`. */
  holeSamples: string[];
  /** The first few reordered messages: `<text> (before <earlier text>)`. */
  reorderSamples: string[];
}

const LOST_SAMPLES = 10;

/**
 * True when the run kept its promises: nothing lost, doubled, unanswered, refused or unread, no
 * pts hole. Reordering is reported but does not fail the run: a message queued for a DC that was
 * away may be numbered after one sent later and delivered directly (docs/decisions/0011, "Order";
 * issue 14 asks for order, so it stays in the table until the outbox orders per box).
 */
export function passed(v: Verdict): boolean {
  return (
    v.lost === 0 &&
    v.duplicated === 0 &&
    v.unacknowledged === 0 &&
    Object.keys(v.refused).length === 0 &&
    v.ptsHoles === 0 &&
    v.ptsOverlaps === 0 &&
    v.unreadLogs === 0
  );
}

/** Checks the lanes' records against the logs (`boxes` by session index). */
export function audit(lanes: readonly Lane[], boxes: ReadonlyMap<number, BoxRecord>): Verdict {
  const v: Verdict = {
    acknowledged: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    unacknowledged: 0,
    refused: {},
    ptsHoles: 0,
    ptsOverlaps: 0,
    unreadLogs: 0,
    lostSamples: [],
    holeSamples: [],
    reorderSamples: [],
  };
  const lose = (text: string, where: string) => {
    v.lost++;
    if (v.lostSamples.length < LOST_SAMPLES) v.lostSamples.push(`${text} (missing from the ${where} log)`);
  };
  const texts = new Map<number, { incoming: Map<string, number[]>; outgoing: Map<string, number> }>();
  for (const box of boxes.values()) {
    const incoming = new Map<string, number[]>();
    const outgoing = new Map<string, number>();
    for (const m of box.messages) {
      if (m.out) outgoing.set(m.text, (outgoing.get(m.text) ?? 0) + 1);
      else incoming.set(m.text, [...(incoming.get(m.text) ?? []), m.id]);
    }
    texts.set(box.session, { incoming, outgoing });
    for (const at of box.holesAt) v.holeSamples.push(`session ${box.session}: after pts ${at}`);
    if (box.tooLong) {
      v.unreadLogs++;
      continue;
    }
    const moved = box.endPts - box.startPts;
    const events = box.messages.length + box.otherPts;
    if (moved > events) v.ptsHoles += moved - events;
    if (events > moved) v.ptsOverlaps += events - moved;
  }
  for (const lane of lanes) {
    const to = texts.get(lane.to.session.index);
    const from = texts.get(lane.from.session.index);
    let lastId = 0;
    let lastText = '';
    for (const m of lane.messages) {
      if (m.refused !== undefined) {
        v.refused[m.refused] = (v.refused[m.refused] ?? 0) + 1;
        continue;
      }
      if (m.ackedAt === undefined) {
        v.unacknowledged++;
        continue;
      }
      v.acknowledged++;
      const received = to?.incoming.get(m.text) ?? [];
      const kept = from?.outgoing.get(m.text) ?? 0;
      if (received.length === 0) lose(m.text, "receiver's");
      if (kept === 0) lose(m.text, "sender's");
      v.duplicated += Math.max(0, received.length - 1) + Math.max(0, kept - 1);
      // Sent one after another (each only once the one before was acknowledged): their ids in
      // the receiver's log must rise in the same order.
      const id = received[0];
      if (id !== undefined) {
        if (id < lastId) {
          v.reordered++;
          if (v.reorderSamples.length < LOST_SAMPLES) v.reorderSamples.push(`${m.text} (before ${lastText})`);
        } else {
          lastId = id;
          lastText = m.text;
        }
      }
    }
  }
  return v;
}

/** The most a difference lists at once, as the messaging service caps it anyway. */
const PTS_TOTAL_LIMIT = 1000;

/**
 * Reads a session's log from `startState` to its end with updates.getDifference, slices followed.
 * A difference that ends before the log's head (updates.getState) means the server stopped at a
 * hole in the log: the reading goes on after it, and the hole shows in the pts arithmetic and in
 * `holesAt`.
 */
export async function readLog(
  client: LightClient,
  session: number,
  startState: TlObject,
): Promise<BoxRecord> {
  const box: BoxRecord = {
    session,
    startPts: startState.pts as number,
    endPts: startState.pts as number,
    messages: [],
    otherPts: 0,
    tooLong: false,
    holesAt: [],
  };
  const head = (await client.call({ _: 'updates.getState' })).pts as number;
  let state = startState;
  while (box.endPts < head) {
    const d = await client.call({
      _: 'updates.getDifference',
      pts: state.pts,
      date: state.date,
      qts: state.qts,
      pts_total_limit: PTS_TOTAL_LIMIT,
    });
    if (d._ === 'updates.differenceEmpty') break;
    if (d._ === 'updates.differenceTooLong') {
      box.tooLong = true;
      box.endPts = d.pts as number;
      break;
    }
    const messages = d.new_messages as TlObject[];
    for (const m of messages)
      box.messages.push({
        id: m.id as number,
        text: (m.message as string | undefined) ?? '',
        out: m.out === true,
      });
    for (const u of d.other_updates as TlObject[])
      if (typeof u.pts === 'number' && typeof u.pts_count === 'number') box.otherPts += u.pts_count;
    const next = (d._ === 'updates.differenceSlice' ? d.intermediate_state : d.state) as TlObject;
    if (d._ === 'updates.difference' && (next.pts as number) < head) box.holesAt.push(next.pts as number);
    if ((next.pts as number) <= (state.pts as number)) break; // no progress: the rest is unreadable
    state = next;
    box.endPts = state.pts as number;
  }
  return box;
}
