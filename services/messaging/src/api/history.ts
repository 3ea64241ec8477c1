/**
 * Reading the caller's box: messages.getHistory (one dialog, user or basic group).
 */
import type { AsyncService } from '../../../shared/src';
import type { MessagingServiceServer } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import { messageOf, usersOfMessage, type BoxCore } from './core';

type Handlers = Pick<AsyncService<MessagingServiceServer>, 'getHistory'>;

export const HISTORY_MAX = 100;

export function historyHandlers(core: BoxCore): Handlers {
  return {
    async getHistory(req) {
      const userId = await core.ownBox(req.context);
      const dialog = await core.resolvePeer(userId, req.peer);
      const w = req.window;
      const limit = Math.min(Math.max(w?.limit ?? 20, 1), HISTORY_MAX);
      const ids = await core.boxes.dialogIds(userId, dialog.key, w?.offsetId ?? 0, limit);
      const messages = (
        await core.boxes.get(
          userId,
          ids.map((i) => i.id),
        )
      ).map(messageOf);
      const known = new Set(dialog.users.map((u) => u.id));
      const more = [userId, ...messages.flatMap(usersOfMessage)].filter((id) => !known.has(id));
      return {
        page: {
          messages,
          count: messages.length,
          users: [...dialog.users, ...(await core.users(userId, more))],
          chats: dialog.chats,
          channels: [],
          pts: 0,
          notModified: false,
        },
      };
    },
  };
}
