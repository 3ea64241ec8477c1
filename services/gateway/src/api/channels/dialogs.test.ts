import type { Dialog } from '../../../../shared/src/gen/tern/common/v1/chat';
import type { Message } from '../../../../shared/src/gen/tern/common/v1/message';
import type { Peer } from '../../../../shared/src/gen/tern/common/v1/peer';
import { peerKey } from '../../../../shared/src';
import { mergeDialogs, type DialogsPart } from './dialogs';

const user = (id: bigint): Peer => ({ kind: { $case: 'userId', value: id } });
const chan = (id: bigint): Peer => ({ kind: { $case: 'channelId', value: id } });

function dialog(peer: Peer, top: number, pinned = false): Dialog {
  return {
    peer,
    topMessage: top,
    readInboxMaxId: 0,
    readOutboxMaxId: 0,
    unreadCount: 0,
    unreadMentionsCount: 0,
    pts: 0,
    pinned,
    folderId: 0,
  };
}

function msg(peer: Peer, id: number, date: number): Message {
  return {
    id,
    peer,
    out: false,
    date,
    message: '',
    entities: [],
    replyToMsgId: 0,
    editDate: 0,
    mentioned: false,
    mediaUnread: false,
    silent: false,
    post: false,
    views: 0,
    postAuthor: '',
    pinned: false,
  };
}

/** A part whose dialogs are [peer, top id, date, pinned?]. */
function part(rows: [Peer, number, number, boolean?][], count = rows.length): DialogsPart {
  return {
    dialogs: rows.map(([p, id, , pinned]) => dialog(p, id, pinned)),
    messages: rows.map(([p, id, date]) => msg(p, id, date)),
    users: [],
    chats: [],
    channels: [],
    count,
  };
}

const keys = (p: DialogsPart) => p.dialogs.map((d) => peerKey(d.peer));

describe('merging the box dialogs with the channel dialogs', () => {
  it('orders by top message date, newest first, pinned first, and keeps only the messages shown', () => {
    const box = part([
      [user(1n), 10, 500, true],
      [user(2n), 11, 300],
      [user(3n), 12, 100],
    ]);
    const channels = part([
      [chan(9n), 10, 400],
      [chan(8n), 3, 200],
    ]);
    const merged = mergeDialogs(box, channels, 10);
    expect(keys(merged)).toEqual(['u1', 'h9', 'u2', 'h8', 'u3']);
    expect(merged.count).toBe(5);
    // Same id 10 in a box and in a channel are different messages.
    expect(merged.messages.map((m) => `${peerKey(m.peer)}:${m.id}`).sort()).toEqual(
      ['u1:10', 'h9:10', 'u2:11', 'h8:3', 'u3:12'].sort(),
    );
  });

  it('cuts at the limit, drops the cut dialogs messages and counts both sources totals', () => {
    const merged = mergeDialogs(
      part(
        [
          [user(2n), 11, 300],
          [user(3n), 12, 100],
        ],
        40,
      ),
      part(
        [
          [chan(9n), 10, 400],
          [chan(8n), 3, 200],
        ],
        7,
      ),
      2,
    );
    expect(keys(merged)).toEqual(['h9', 'u2']);
    expect(merged.messages.map((m) => m.id).sort()).toEqual([10, 11]);
    expect(merged.count).toBe(47);
  });

  it('takes a dialog both sources name once, and an empty side changes nothing', () => {
    const box = part([
      [chan(9n), 10, 400],
      [user(2n), 11, 300],
    ]);
    const merged = mergeDialogs(box, part([[chan(9n), 10, 400]]), 10);
    expect(keys(merged)).toEqual(['h9', 'u2']);
    expect(merged.count).toBe(2);
    expect(keys(mergeDialogs(box, part([]), 10))).toEqual(['h9', 'u2']);
    expect(keys(mergeDialogs(part([]), part([]), 10))).toEqual([]);
  });
});
