/**
 * Writing to a peer: messages.sendMessage, sendMedia, uploadMedia, forwardMessages, setTyping.
 * Translation only; the messaging service of the caller's home DC stores and delivers (media
 * through this DC's media service), the channel service for channel peers.
 */
import { errors, unary } from '../../../../shared/src';
import type { CallContext } from '../../mtproto/invocation';
import type { TlObject } from '../../mtproto/tl-types';
import { inputMediaOf, tlMessageMedia } from '../../convert/media';
import { inputEntities, replyQuoteOf, replyToMsgIdOf } from '../../convert/entities';
import { inputPeer } from '../../convert/peers';
import { tlEntities, tlUpdates, typingActionOf } from '../../convert/updates';
import { text } from '../../convert/users';
import { channelOfPeer } from '../../convert/channels';
import { forwardFromChannel, forwardToChannel, sendToChannel } from '../channels/messages';
import { requestContext, type ChannelDeps, type MediaDeps, type MessagingDeps } from '../context';

const num = (v: unknown): number => Number(v ?? 0);

/**
 * Scheduled messages are not built: a send with schedule_date is refused with the error Telegram
 * gives for a date it cannot schedule, never sent at once as if the date were absent.
 */
function refuseScheduled(call: TlObject): void {
  if (call.schedule_date !== undefined) throw errors.badRequest('SCHEDULE_DATE_INVALID');
}

export async function sendMessage(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  refuseScheduled(call);
  const channel = channelOfPeer(call.peer);
  if (channel) return sendToChannel(call, ctx, d, channel);
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.messaging.sendMessage.bind(d.messaging), {
    context,
    peer: inputPeer(call.peer),
    message: text(call.message),
    randomId: call.random_id as bigint,
    entities: inputEntities(call.entities, context.userId),
    replyToMsgId: replyToMsgIdOf(call),
    replyQuote: replyQuoteOf(call, context.userId),
    silent: call.silent === true,
    noWebpage: call.no_webpage === true,
    clearDraft: call.clear_draft === true,
  });
  const m = res.message!;
  const stored = res.updates?.updates.find((u) => u.kind?.$case === 'newMessage');
  // What Telegram answers for a private text message: the client already has the text.
  return {
    _: 'updateShortSentMessage',
    out: true,
    id: m.id,
    pts: stored?.pts ?? 0,
    pts_count: stored?.ptsCount ?? 0,
    date: m.date,
    entities: tlEntities(m.entities),
  };
}

/** messages.sendMedia: the messaging service completes the upload through this DC's media service. */
export async function sendMedia(
  call: TlObject,
  ctx: CallContext,
  d: MediaDeps & ChannelDeps,
): Promise<TlObject> {
  refuseScheduled(call);
  const channel = channelOfPeer(call.peer);
  if (channel) return sendToChannel(call, ctx, d, channel, call.media);
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(
    d.messaging.sendMessage.bind(d.messaging),
    {
      context,
      peer: inputPeer(call.peer),
      message: text(call.message),
      randomId: call.random_id as bigint,
      entities: inputEntities(call.entities, context.userId),
      replyToMsgId: replyToMsgIdOf(call),
      replyQuote: replyQuoteOf(call, context.userId),
      silent: call.silent === true,
      noWebpage: true,
      clearDraft: call.clear_draft === true,
      media: inputMediaOf(call.media),
    },
    // Completing a large upload reads and copies it inside the DC.
    { deadlineMs: 150_000 },
  );
  return tlUpdates(res.updates);
}

/**
 * messages.uploadMedia: stores an upload (or checks a stored file) without sending it, so a client
 * can send it later by reference (inputMediaDocument / inputMediaPhoto), perhaps many times. Only
 * the uploader may use it until a message grants it to others; `peer` is where the client means to
 * send it, which Tern does not need to know yet.
 */
export async function uploadMedia(call: TlObject, ctx: CallContext, d: MediaDeps): Promise<TlObject> {
  const res = await unary(
    d.media.uploadMedia.bind(d.media),
    { context: await requestContext(ctx, d.auth, d.dcId), media: inputMediaOf(call.media), grantUserIds: [] },
    { deadlineMs: 150_000 },
  );
  const media = tlMessageMedia(res.media);
  if (!media) throw errors.badRequest('MEDIA_INVALID');
  return media;
}

/**
 * Between boxes messaging forwards by itself; into a channel, or out of one, the copies are made
 * here from the messages read where they live (api/channels/messages.ts).
 */
export async function forwardMessages(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  refuseScheduled(call);
  const to = channelOfPeer(call.to_peer);
  const from = channelOfPeer(call.from_peer);
  if (to) return forwardToChannel(call, ctx, d, to, from);
  if (from) return forwardFromChannel(call, ctx, d, from, inputPeer(call.to_peer));
  const res = await unary(d.messaging.forwardMessages.bind(d.messaging), {
    context: await requestContext(ctx, d.auth, d.dcId),
    fromPeer: inputPeer(call.from_peer),
    ids: (call.id as number[]).map(num),
    randomIds: call.random_id as bigint[],
    toPeer: inputPeer(call.to_peer),
    silent: call.silent === true,
    dropAuthor: call.drop_author === true,
  });
  return tlUpdates(res.updates);
}

export async function setTyping(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<boolean> {
  // Typing in channels and supergroups is not relayed (no per-member fan-out of ephemera yet);
  // Telegram answers true whatever it does with it, and so does Tern.
  if (channelOfPeer(call.peer)) return true;
  await unary(d.messaging.setTyping.bind(d.messaging), {
    context: await requestContext(ctx, d.auth, d.dcId),
    peer: inputPeer(call.peer),
    action: typingActionOf(call.action as TlObject | undefined),
  });
  return true;
}
