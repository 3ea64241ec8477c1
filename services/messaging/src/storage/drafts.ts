/**
 * drafts (this DC's keyspace, migrations/dc/0009_drafts.cql): the text a user is writing in each
 * dialog, kept for their other devices (messages.saveDraft / getAllDrafts). One row per
 * (user, dialog); plain writes: the last save wins, as it does on Telegram.
 */
import type { Client } from 'cassandra-driver';
import { peerKey, peerOfKey, toLong } from '../../../shared/src';
import { DraftMessage, type PeerDraft } from '../../../shared/src/gen/tern/common/v1/message';
import type { Peer } from '../../../shared/src/gen/tern/common/v1/peer';

/** Drafts read at most for one user (getAllDrafts); more are left out. */
export const MAX_DRAFTS = 1000;

export class Drafts {
  constructor(private readonly db: Client) {}

  async save(userId: bigint, peer: Peer, draft: DraftMessage): Promise<void> {
    await this.db.execute(
      'INSERT INTO drafts (user_id, peer, draft) VALUES (?, ?, ?)',
      [toLong(userId), peerKey(peer), Buffer.from(DraftMessage.encode(draft).finish())],
      { prepare: true },
    );
  }

  async clear(userId: bigint, peer: Peer): Promise<void> {
    await this.db.execute(
      'DELETE FROM drafts WHERE user_id = ? AND peer = ?',
      [toLong(userId), peerKey(peer)],
      {
        prepare: true,
      },
    );
  }

  /** Every draft of `userId` (at most MAX_DRAFTS). */
  async all(userId: bigint): Promise<PeerDraft[]> {
    const rs = await this.db.execute(
      `SELECT peer, draft FROM drafts WHERE user_id = ? LIMIT ${MAX_DRAFTS}`,
      [toLong(userId)],
      { prepare: true },
    );
    return rs.rows.map((r) => ({
      peer: peerOfKey(r.get('peer') as string),
      draft: DraftMessage.decode(r.get('draft') as Buffer),
    }));
  }

  /** The drafts of `userId` in dialogs `peers` (getDialogs' page). */
  async of(userId: bigint, peers: Peer[]): Promise<PeerDraft[]> {
    const keys = [...new Set(peers.map(peerKey).filter((k) => k !== ''))];
    if (keys.length === 0) return [];
    const rs = await this.db.execute(
      'SELECT peer, draft FROM drafts WHERE user_id = ? AND peer IN ?',
      [toLong(userId), keys],
      { prepare: true },
    );
    return rs.rows.map((r) => ({
      peer: peerOfKey(r.get('peer') as string),
      draft: DraftMessage.decode(r.get('draft') as Buffer),
    }));
  }
}
