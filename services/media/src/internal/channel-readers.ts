/**
 * Who may read a channel, as the media service needs it for files posted in channels: the channel
 * service of the channel's home DC answers (CanReadChannel), and the answers are kept for a short
 * while, because a client downloading a video asks for hundreds of parts in a row and each part is
 * checked. The price is that a member who leaves (or is banned) may go on downloading the
 * channel's files for up to `ttlMs`, which is what they could have downloaded a moment before.
 */
import type { ChannelCheck } from './access';

export interface ChannelReadersOptions {
  /** The channel service's answer (CanReadChannel at the channel's home DC). */
  ask: (channelId: bigint, userId: bigint) => Promise<boolean>;
  /** How long an answer is kept. */
  ttlMs?: number;
  /** Answers kept at most (the oldest go first): memory stays bounded whatever the traffic. */
  maxEntries?: number;
  /** Milliseconds now (tests move time). */
  now?: () => number;
}

export class ChannelReaders implements ChannelCheck {
  private readonly answers = new Map<string, { readable: boolean; until: number }>();
  private readonly pending = new Map<string, Promise<boolean>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly o: ChannelReadersOptions) {
    this.ttlMs = o.ttlMs ?? 30_000;
    this.maxEntries = o.maxEntries ?? 100_000;
    this.now = o.now ?? Date.now;
  }

  async readable(channelId: bigint, userId: bigint): Promise<boolean> {
    const key = `${channelId}:${userId}`;
    const kept = this.answers.get(key);
    if (kept && kept.until > this.now()) return kept.readable;
    // Parallel part requests of one download share one question.
    let asking = this.pending.get(key);
    if (!asking) {
      asking = this.o.ask(channelId, userId).finally(() => this.pending.delete(key));
      this.pending.set(key, asking);
    }
    const readable = await asking;
    this.answers.delete(key); // re-inserted last: the Map's order is the eviction order
    this.answers.set(key, { readable, until: this.now() + this.ttlMs });
    while (this.answers.size > this.maxEntries) this.answers.delete(this.answers.keys().next().value!);
    return readable;
  }
}
