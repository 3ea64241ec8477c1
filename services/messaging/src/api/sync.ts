/**
 * updates.getState and updates.getDifference, straight from the caller's update log.
 */
import type { AsyncService } from '../../../shared/src';
import type { MessagingServiceServer } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import { now, usersOfMessage, type BoxCore } from './core';
import type { Update } from '../../../shared/src/gen/tern/common/v1/update';

type Handlers = Pick<AsyncService<MessagingServiceServer>, 'getState' | 'getDifference'>;

/** Updates getDifference returns at once; more → differenceSlice. */
export const DIFFERENCE_LIMIT = 1000;
/** A client this far behind refetches its dialogs instead (differenceTooLong). */
export const TOO_LONG = 100_000;

/** User ids a non-message update mentions. */
function usersOfUpdate(u: Update): bigint[] {
  const k = u.kind;
  switch (k?.$case) {
    case 'editMessage':
      return k.value.message ? usersOfMessage(k.value.message) : [];
    case 'readHistoryInbox':
    case 'readHistoryOutbox':
      return k.value.peer?.kind?.$case === 'userId' ? [k.value.peer.kind.value] : [];
    default:
      return [];
  }
}

export function syncHandlers(core: BoxCore): Handlers {
  return {
    async getState(req) {
      const userId = await core.ownBox(req.context);
      const [pts, unread] = await Promise.all([core.pts(userId), core.dialogs.totalUnread(userId)]);
      return { state: { pts, qts: 0, date: now(), seq: 0, unreadCount: unread } };
    },

    async getDifference(req) {
      const userId = await core.ownBox(req.context);
      const head = await core.pts(userId);
      if (req.pts >= head) return { result: { $case: 'empty', value: { date: now(), seq: 0 } } };
      if (head - req.pts > TOO_LONG) return { result: { $case: 'tooLong', value: { pts: head } } };
      const limit = Math.min(req.ptsTotalLimit > 0 ? req.ptsTotalLimit : DIFFERENCE_LIMIT, DIFFERENCE_LIMIT);
      const page = await core.log.difference(userId, req.pts, limit);
      const { messages, others } = core.fromLog(page.updates);
      const mentioned = [...messages.flatMap(usersOfMessage), ...others.flatMap(usersOfUpdate)];
      const unread = await core.dialogs.totalUnread(userId);
      const value = {
        newMessages: messages,
        otherUpdates: others,
        users: await core.users(userId, [...mentioned, userId]),
        chats: [],
        channels: [],
        state: { pts: page.pts, qts: 0, date: now(), seq: 0, unreadCount: unread },
      };
      return { result: page.more ? { $case: 'slice', value } : { $case: 'difference', value } };
    },
  };
}
