/**
 * Pages through a channel's current members for the push fan-out: the newest-first member index
 * `channel_recent` (one row per current member, written with the participant row in the same
 * batch, removed when they leave or are kicked), read by its clustering key, so each page is one
 * bounded read of one partition whatever the channel's size, and a page costs the same at the
 * start and at the end of a million members (no offset scan).
 */
import type { Client } from 'cassandra-driver';
import { fromLong, toLong } from '../../../shared/src';

/** One current member and their key in the index. */
export interface MemberKey {
  userId: bigint;
  recentKey: bigint;
}

/** Members below a key, newest first. */
export interface MemberPages {
  /** Up to `limit` current members with a key below `before` (0: from the newest). */
  page(channelId: bigint, before: bigint, limit: number): Promise<MemberKey[]>;
}

/** MemberPages over the DC keyspace's channel_recent. */
export class RecentMemberPages implements MemberPages {
  constructor(private readonly db: Client) {}

  async page(channelId: bigint, before: bigint, limit: number): Promise<MemberKey[]> {
    const rs =
      before > 0n
        ? await this.db.execute(
            'SELECT recent_key, user_id FROM channel_recent WHERE channel_id = ? AND recent_key < ? LIMIT ?',
            [toLong(channelId), toLong(before), limit],
            { prepare: true },
          )
        : await this.db.execute(
            'SELECT recent_key, user_id FROM channel_recent WHERE channel_id = ? LIMIT ?',
            [toLong(channelId), limit],
            { prepare: true },
          );
    return rs.rows.map((r) => ({
      userId: fromLong(r.get('user_id')),
      recentKey: fromLong(r.get('recent_key')),
    }));
  }
}
