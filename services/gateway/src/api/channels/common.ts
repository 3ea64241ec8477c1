/**
 * What the channel handlers share: the deps they are given, the idempotency key of calls TL gives
 * none, telling the live subscriptions about the caller's own joins, and the answer shapes that
 * changed between layers.
 */
import { createHash } from 'node:crypto';
import type { RequestContext } from '../../../../shared/src/gen/tern/common/v1/context';
import type { Updates } from '../../../../shared/src/gen/tern/common/v1/update';
import type { CallContext } from '../../mtproto/invocation';
import type { TlObject, TlRuntime } from '../../mtproto/tl-types';
import type { ChannelDeps } from '../context';

/** Channel handlers whose answer's shape depends on the client's layer ask the TL runtime. */
export interface ChannelApiDeps extends ChannelDeps {
  tl: Pick<TlRuntime, 'resultType'>;
}

/**
 * TL createChannel has no random_id: the key is derived from the request itself, so a
 * transport-level resend of the same message (same key, session and msg_id) returns the same
 * channel, while a new call creates a new one (as messages.createChat does).
 */
export function requestRandomId(c: RequestContext): bigint {
  return createHash('sha256').update(`${c.authKeyId}:${c.sessionId}:${c.msgId}`).digest().readBigInt64LE(0);
}

/**
 * The caller's own call changed their membership: the live subscriptions follow at once, not
 * only when the updateChannel of their home DC comes round (which may be after the first post).
 */
export function followAnswer(d: ChannelDeps, userId: bigint, updates: Updates | undefined): void {
  if (!d.channelLive || !updates) return;
  for (const c of updates.channels) d.channelLive.follow(userId, c);
}

/**
 * joinChannel and importChatInvite answer messages.chatInviteJoinResultOk where the client's
 * layer has it (227 on) and the bare Updates before; asked of the schema the codec serves.
 */
export function joinResult(ctx: CallContext, d: ChannelApiDeps, method: string, updates: TlObject): TlObject {
  if (d.tl.resultType(ctx.layer, method) !== 'messages.ChatInviteJoinResult') return updates;
  return { _: 'messages.chatInviteJoinResultOk', updates };
}

/** TL int fields (absent optional ones read as 0). */
export const num = (v: unknown): number => Number(v ?? 0);
