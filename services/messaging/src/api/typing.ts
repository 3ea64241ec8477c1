/**
 * messages.setTyping: ephemeral, never stored. The other parties' home DCs announce
 * updateUserTyping (private) or updateChatUserTyping (group) to their online sessions; a
 * session that misses one loses nothing (clients expire typing after a few seconds).
 */
import { errors, type AsyncService } from '../../../shared/src';
import type { MessagingServiceServer } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import { userPeer, type BoxCore } from './core';

type Handlers = Pick<AsyncService<MessagingServiceServer>, 'setTyping'>;

export function typingHandlers(core: BoxCore): Handlers {
  core.onDeliver('typing', async (req) => {
    if (req.op?.$case !== 'typing') throw errors.badRequest('OPERATION_NOT_SUPPORTED');
    const { peer, action } = req.op.value;
    const typer = await core.users(req.ownerUserId, [req.actorUserId]);
    await core.announce(
      req.ownerUserId,
      peer?.kind?.$case === 'chatId'
        ? { $case: 'chatUserTyping', value: { chat: peer, from: userPeer(req.actorUserId), action } }
        : { $case: 'userTyping', value: { userId: req.actorUserId, action } },
      typer,
    );
    return { messageId: 0, pts: 0, ptsCount: 0, duplicate: false };
  });

  return {
    async setTyping(req) {
      const actor = await core.ownBox(req.context);
      const dialog = await core.resolvePeer(actor, req.peer);
      if (!req.action) throw errors.badRequest('TYPE_CONSTRUCTOR_INVALID');
      // The owner sees the dialog under the typer (private) or the group.
      const peer = dialog.peer.kind?.$case === 'chatId' ? dialog.peer : userPeer(actor);
      const parties = await core.otherParties(actor, dialog.peer);
      // Best effort: a DC that does not answer just misses a typing notice.
      await Promise.allSettled(
        [...parties].map(([owner, dc]) =>
          core.deliver(
            {
              ownerUserId: owner,
              actorUserId: actor,
              opId: 0n,
              originDcId: core.dcId,
              op: { $case: 'typing', value: { peer, action: req.action } },
            },
            dc,
          ),
        ),
      );
      return {};
    },
  };
}
