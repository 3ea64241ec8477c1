/**
 * Asks for a push notification of each new incoming message: a PushRequestEvent on
 * tern.dc<N>.push.requests (work queue DC<N>_PUSH), published by the owner's home DC when the
 * message is stored in the owner's box. Whether anyone is notified (devices, presence, muting) is
 * the push worker's decision (consumers/push.ts), taken when it sends, not here: the box write
 * must not wait for it.
 */
import { subjectsFor, type EventBus, type Logger } from '../../../shared/src';
import type { Message } from '../../../shared/src/gen/tern/common/v1/message';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import { PushRequestEvent } from '../../../shared/src/gen/tern/events/v1/events';

/**
 * Characters of message text carried in a push request: enough for a notification preview, and it
 * keeps the work queue's entries (and what reaches the provider) small whatever the message size.
 */
export const MAX_PREVIEW_CHARS = 256;

/** The sender's display name, as a notification shows it. */
export function displayName(u: User | undefined): string {
  if (!u) return '';
  return [u.firstName, u.lastName].filter((s) => s).join(' ') || (u.username ? `@${u.username}` : '');
}

export class PushPublisher {
  constructor(
    private readonly dcId: number,
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  /**
   * A new message `m` (id already allocated) in `owner`'s box, from someone else. `mentioned`
   * holds the sender's profile. Failures are logged, not thrown: the message is stored and
   * delivered live or by getDifference whatever happens to its notification.
   */
  async incoming(owner: bigint, m: Message, mentioned: User[]): Promise<void> {
    if (m.out) return;
    const fromId = m.from?.kind?.$case === 'userId' ? m.from.kind.value : undefined;
    const sender = displayName(mentioned.find((u) => u.id === fromId));
    const text =
      m.message.length > MAX_PREVIEW_CHARS ? `${m.message.slice(0, MAX_PREVIEW_CHARS - 1)}…` : m.message;
    const inChat = m.peer?.kind?.$case === 'chatId';
    const event = PushRequestEvent.encode({
      meta: { originDcId: this.dcId, emittedAtMs: BigInt(Date.now()) },
      userId: owner,
      // Telegram's loc_keys: the worker drops the text argument when previews are off.
      locKey: inChat ? 'CHAT_MESSAGE_TEXT' : 'MESSAGE_TEXT',
      locArgs: [sender, text],
      peer: m.peer,
      messageId: m.id,
      silent: m.silent,
      badge: 0,
    }).finish();
    await this.bus.publishLive(subjectsFor(this.dcId).pushRequests, event, {
      msgId: `push:${owner}:${m.id}`,
      what: 'push request',
      context: { userId: owner.toString(), messageId: m.id },
    });
  }
}
