/**
 * Asks for the push notifications of a new channel post: ONE ChannelPushEvent on
 * tern.dc<N>.channel.push (work queue DC<N>_CHANNEL_PUSH) per post, whatever the number of
 * members, published after the post is written. Who is notified, and at what pace, is the fan-out
 * worker's business (consumers/push-fanout.ts); whether each one gets a notification (devices,
 * presence, muting) is the push worker's at the member's home DC (messaging consumers/push.ts).
 */
import { subjectsFor, type EventBus, type Logger } from '../../../shared/src';
import { MessageEntity_Type, type Message } from '../../../shared/src/gen/tern/common/v1/message';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import { ChannelPushEvent } from '../../../shared/src/gen/tern/events/v1/events';

/**
 * Characters of message text carried in a push request (as messaging's MAX_PREVIEW_CHARS): enough
 * for a preview, and it keeps the queues' entries small whatever the message size.
 */
export const MAX_PREVIEW_CHARS = 256;

/** `text` cut to a preview. */
export const preview = (text: string): string =>
  text.length > MAX_PREVIEW_CHARS ? `${text.slice(0, MAX_PREVIEW_CHARS - 1)}…` : text;

/** A user's display name, as a notification shows it. */
export function displayName(u: User | undefined): string {
  if (!u) return '';
  return [u.firstName, u.lastName].filter((s) => s).join(' ') || (u.username ? `@${u.username}` : '');
}

/** Users a message names with mention entities (messageEntityMentionName). */
export const mentionedUsers = (m: Message): bigint[] => [
  ...new Set(
    m.entities
      .filter((e) => e.type === MessageEntity_Type.MENTION_NAME && e.userId > 0n)
      .map((e) => e.userId),
  ),
];

/** The Nats-Msg-Id of a fan-out work item: one per (channel, message, cursor). */
export const fanoutMsgId = (e: Pick<ChannelPushEvent, 'channelId' | 'messageId' | 'beforeRecentKey'>) =>
  `channel-push:${e.channelId}:${e.messageId}:${e.beforeRecentKey}`;

/** What the post path calls; `undefined` in CoreDeps turns channel pushes off. */
export interface ChannelPushes {
  posted(channelId: bigint, m: Message, senderId: bigint, users: User[]): Promise<void>;
}

/** The event of a new post `m` by `senderId`, cursor at the start. */
export function pushEventOf(
  dcId: number,
  channelId: bigint,
  m: Message,
  senderId: bigint,
  users: User[],
): ChannelPushEvent {
  const k = m.media?.kind;
  return {
    meta: { originDcId: dcId, emittedAtMs: BigInt(Date.now()) },
    channelId,
    messageId: m.id,
    senderId,
    senderName: displayName(users.find((u) => u.id === senderId)),
    text: preview(m.message),
    media: k?.$case === 'photo' ? 'photo' : k?.$case === 'document' ? 'document' : '',
    silent: m.silent,
    replyToMsgId: m.replyToMsgId,
    mentionedUserIds: mentionedUsers(m),
    beforeRecentKey: 0n,
  };
}

export class ChannelPushPublisher implements ChannelPushes {
  constructor(
    private readonly dcId: number,
    private readonly bus: EventBus,
    private readonly log: Logger,
  ) {}

  /**
   * A new message `m` (not a service message) was stored in channel `channelId`. `users` holds
   * the sender's profile when the post path rendered it. Never throws: the post is stored and
   * delivered live or by getChannelDifference whatever happens to its notifications.
   */
  async posted(channelId: bigint, m: Message, senderId: bigint, users: User[]): Promise<void> {
    if (m.action) return;
    const event = pushEventOf(this.dcId, channelId, m, senderId, users);
    try {
      await this.bus.publishLive(
        subjectsFor(this.dcId).channelPush,
        ChannelPushEvent.encode(event).finish(),
        {
          msgId: fanoutMsgId(event),
          what: 'channel push request',
          context: { channelId: channelId.toString(), messageId: m.id },
        },
      );
    } catch (err) {
      this.log.warn({ err, channelId: channelId.toString() }, 'channel push request not published');
    }
  }
}
