/**
 * Basic groups: messages.createChat, addChatUser, deleteChatUser, editChatTitle, getChats,
 * getFullChat, and messages.sendMessage to a group. Not built yet: every call answers
 * CHAT_ID_INVALID or UNIMPLEMENTED.
 */
import { errors, type AsyncService } from '../../../shared/src';
import type {
  MessagingServiceServer,
  SendMessageRequest,
  SendMessageResponse,
} from '../../../shared/src/gen/tern/messaging/v1/messaging';
import type { BoxCore } from './core';

type Handlers = Partial<AsyncService<MessagingServiceServer>>;

export interface ChatModule {
  handlers: Handlers;
  /** messages.sendMessage with a chat peer (the sender's box is this DC's). */
  send(req: SendMessageRequest, sender: bigint): Promise<SendMessageResponse>;
}

export function chatModule(_core: BoxCore): ChatModule {
  return {
    handlers: {},
    send: () => Promise.reject(errors.badRequest('CHAT_ID_INVALID')),
  };
}
