import { CallFailed, RpcError } from '../load/client';
import { audit, passed, type BoxRecord } from './audit';
import { isRetried, retryDelayMs, type ChaosSession, type Lane, type SentMessage } from './traffic';

const session = (index: number, dc: number) =>
  ({ session: { index, dc }, role: index % 2 === 0 ? 'sender' : 'receiver' }) as unknown as ChaosSession;

/** A lane from session 0 to session 1 holding `texts` as acknowledged messages (unless told). */
function lane(messages: Array<Partial<SentMessage> & { text: string }>): Lane {
  const l: Lane = { from: session(0, 1), to: session(1, 2), name: 'dc1→dc2', messages: [] };
  messages.forEach((m, seq) =>
    l.messages.push({
      lane: l,
      seq,
      randomId: BigInt(seq),
      firstAttemptAt: 0,
      attempts: 1,
      ackedAt: 1,
      ...m,
    }),
  );
  return l;
}

function box(
  session: number,
  startPts: number,
  endPts: number,
  msgs: Array<[number, string, boolean]>,
): BoxRecord {
  return {
    session,
    startPts,
    endPts,
    messages: msgs.map(([id, text, out]) => ({ id, text, out })),
    otherPts: 0,
    tooLong: false,
    holesAt: [],
  };
}

const boxes = (...b: BoxRecord[]) => new Map(b.map((x) => [x.session, x]));

describe('chaos audit', () => {
  it('passes when every acknowledged message is in both logs once, in order, pts exact', () => {
    const v = audit(
      [lane([{ text: 'a' }, { text: 'b' }])],
      boxes(
        box(0, 10, 12, [
          [5, 'a', true],
          [6, 'b', true],
        ]),
        box(1, 3, 5, [
          [7, 'a', false],
          [8, 'b', false],
        ]),
      ),
    );
    expect(v).toMatchObject({ acknowledged: 2, lost: 0, duplicated: 0, reordered: 0, ptsHoles: 0 });
    expect(passed(v)).toBe(true);
  });

  it('finds a lost, a doubled and a reordered message, and pts holes and overlaps', () => {
    const v = audit(
      [lane([{ text: 'a' }, { text: 'b' }, { text: 'c' }, { text: 'd' }])],
      boxes(
        // The sender's log: 'd' missing, pts moved 5 for 3 events (2 holes).
        box(0, 0, 5, [
          [1, 'a', true],
          [2, 'b', true],
          [3, 'c', true],
        ]),
        // The receiver's: 'a' twice, 'c' before 'b', 'd' missing; pts moved 3 for 5 events.
        box(1, 0, 3, [
          [10, 'a', false],
          [11, 'a', false],
          [13, 'b', false],
          [12, 'c', false],
          [9, 'x', false],
        ]),
      ),
    );
    expect(v).toMatchObject({ lost: 2, duplicated: 1, reordered: 1, ptsHoles: 2, ptsOverlaps: 2 });
    expect(passed(v)).toBe(false);
    // Reordering alone is reported, not failed (docs/decisions/0011, "Order").
    expect(passed({ ...v, lost: 0, duplicated: 0, ptsHoles: 0, ptsOverlaps: 0 })).toBe(true);
  });

  it('counts sends never acknowledged and refused, and logs it could not read', () => {
    const tooLong = { ...box(1, 0, 9, []), tooLong: true };
    const v = audit(
      [
        lane([
          { text: 'a', ackedAt: undefined },
          { text: 'b', ackedAt: undefined, refused: 'PEER_ID_INVALID' },
        ]),
      ],
      boxes(box(0, 0, 0, []), tooLong),
    );
    expect(v).toMatchObject({
      acknowledged: 0,
      unacknowledged: 1,
      refused: { PEER_ID_INVALID: 1 },
      unreadLogs: 1,
    });
    expect(passed(v)).toBe(false);
  });
});

describe('chaos client retries', () => {
  it('retries what an app retries and nothing else', () => {
    expect(isRetried(new CallFailed('TIMEOUT'))).toBe(true);
    expect(isRetried(new RpcError(500, 'INTERNAL'))).toBe(true);
    expect(isRetried(new RpcError(-503, 'Timeout'))).toBe(true);
    expect(isRetried(new RpcError(420, 'FLOOD_WAIT_3'))).toBe(true);
    expect(isRetried(new RpcError(400, 'PEER_ID_INVALID'))).toBe(false);
  });

  it("waits FLOOD_WAIT_X's seconds (capped) and backs off otherwise", () => {
    expect(retryDelayMs(new RpcError(420, 'FLOOD_WAIT_3'), 1)).toBe(3000);
    expect(retryDelayMs(new RpcError(420, 'FLOOD_WAIT_600'), 1)).toBe(10_000);
    expect(retryDelayMs(new CallFailed('TIMEOUT'), 1)).toBeLessThanOrEqual(1000);
  });
});
