/**
 * Drafts: messages.saveDraft, getAllDrafts, clearAllDrafts, and the draft a send with clear_draft
 * removes. A draft is the caller's own, kept in their home DC (storage/drafts.ts), and every change
 * is told to their sessions as updateDraftMessage (no pts: a device that misses one finds the draft
 * in getAllDrafts or getDialogs, as on Telegram).
 */
import { type AsyncService } from '../../../shared/src';
import type { DraftMessage, PeerDraft } from '../../../shared/src/gen/tern/common/v1/message';
import type { InputPeer, Peer } from '../../../shared/src/gen/tern/common/v1/peer';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import type {
  GetDialogsResponse,
  MessagingServiceServer,
} from '../../../shared/src/gen/tern/messaging/v1/messaging';
import { checkedEntities } from '../internal/entities';
import type { Drafts } from '../storage/drafts';
import { now, peerKey, type BoxCore } from './core';
import { checkText } from './private-messages';

type Handlers = Pick<AsyncService<MessagingServiceServer>, 'saveDraft' | 'getAllDrafts' | 'clearAllDrafts'>;

export interface DraftModule {
  handlers: Handlers;
  /** After a send with clear_draft: the draft of that dialog goes, and the sessions are told. */
  clearAfterSend(owner: bigint, peer: Peer | undefined): Promise<void>;
  /** getDialogs with the caller's drafts of the page's dialogs. */
  withDrafts(context: RequestContext | undefined, page: GetDialogsResponse): Promise<GetDialogsResponse>;
}

export function draftModule(core: BoxCore, store: Drafts): DraftModule {
  const tell = (owner: bigint, peer: Peer, draft?: DraftMessage) =>
    core.announce(owner, { $case: 'draftMessage', value: { peer, ...(draft ? { draft } : {}) } }, []);

  /**
   * The dialog a draft belongs to: users and basic groups as a send checks them (access hash,
   * membership); a channel by its id alone, since a draft shows nothing of the channel to anyone.
   */
  async function dialogOf(owner: bigint, input: InputPeer | undefined): Promise<Peer> {
    if (input?.kind?.$case === 'channel')
      return { kind: { $case: 'channelId', value: input.kind.value.channelId } };
    return (await core.resolvePeer(owner, input)).peer;
  }

  async function usersAndChats(owner: bigint, drafts: PeerDraft[]) {
    const userIds: bigint[] = [];
    const chatIds: bigint[] = [];
    for (const d of drafts) {
      const k = d.peer?.kind;
      if (k?.$case === 'userId') userIds.push(k.value);
      if (k?.$case === 'chatId') chatIds.push(k.value);
      for (const e of d.draft?.entities ?? []) if (e.userId > 0n) userIds.push(e.userId);
    }
    const [users, chats] = await Promise.all([
      core.users(owner, [...new Set(userIds)]),
      core.chatDirectory.chats(owner, [...new Set(chatIds)]),
    ]);
    return { users, chats };
  }

  return {
    handlers: {
      async saveDraft(req) {
        const owner = await core.ownBox(req.context);
        const peer = await dialogOf(owner, req.peer);
        if (req.message === '') {
          await store.clear(owner, peer);
          await tell(owner, peer);
          return {};
        }
        checkText(req.message);
        const entities = await checkedEntities(owner, req.message, req.entities, (v, ids) =>
          core.users(v, ids),
        );
        const draft: DraftMessage = {
          message: req.message,
          entities,
          replyToMsgId: Math.max(0, req.replyToMsgId),
          noWebpage: req.noWebpage,
          date: now(),
        };
        await store.save(owner, peer, draft);
        await tell(owner, peer, draft);
        return {};
      },

      async getAllDrafts(req) {
        const owner = await core.ownBox(req.context);
        const drafts = await store.all(owner);
        return { drafts, ...(await usersAndChats(owner, drafts)) };
      },

      async clearAllDrafts(req) {
        const owner = await core.ownBox(req.context);
        for (const d of await store.all(owner)) {
          await store.clear(owner, d.peer!);
          await tell(owner, d.peer!);
        }
        return {};
      },
    },

    async clearAfterSend(owner, peer) {
      if (!peer) return;
      const [had] = await store.of(owner, [peer]);
      if (!had) return;
      await store.clear(owner, peer);
      await tell(owner, peer);
    },

    async withDrafts(context, page) {
      const owner = await core.ownBox(context);
      // The page's dialogs, and every channel's: the gateway merges the caller's channel dialogs
      // (from the channel service) into the page and finds their drafts here. One partition read.
      const onPage = new Set(page.dialogs.flatMap((d) => (d.peer ? [peerKey(d.peer)] : [])));
      const drafts = (await store.all(owner)).filter(
        (d) => d.peer?.kind?.$case === 'channelId' || onPage.has(peerKey(d.peer)),
      );
      return { ...page, drafts };
    },
  };
}
