/**
 * Changing what was sent: messages.editMessage, deleteMessages. Translation only; the messaging
 * service of the caller's home DC owns the box (and tells the other parties' boxes).
 */
import { errors, unary } from '../../../../shared/src';
import type { CallContext } from '../../mtproto/invocation';
import type { TlObject } from '../../mtproto/tl-types';
import { inputEntities } from '../../convert/entities';
import { inputPeer } from '../../convert/peers';
import { tlUpdates } from '../../convert/updates';
import { channelOfPeer } from '../../convert/channels';
import { editInChannel } from '../channels/messages';
import { requestContext, type ChannelDeps, type MessagingDeps } from '../context';

const num = (v: unknown): number => Number(v ?? 0);

export async function editMessage(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const channel = channelOfPeer(call.peer);
  if (channel) return editInChannel(call, ctx, d, channel);
  if (call.media) throw errors.badRequest('MEDIA_INVALID');
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.messaging.editMessage.bind(d.messaging), {
    context,
    peer: inputPeer(call.peer),
    id: num(call.id),
    ...(typeof call.message === 'string' ? { message: call.message } : {}),
    entities: inputEntities(call.entities, context.userId),
    noWebpage: call.no_webpage === true,
  });
  return tlUpdates(res.updates);
}

export async function deleteMessages(call: TlObject, ctx: CallContext, d: MessagingDeps): Promise<TlObject> {
  const res = await unary(d.messaging.deleteMessages.bind(d.messaging), {
    context: await requestContext(ctx, d.auth, d.dcId),
    ids: (call.id as number[]).map(num),
    revoke: call.revoke === true,
  });
  return {
    _: 'messages.affectedMessages',
    pts: res.affected?.pts ?? 0,
    pts_count: res.affected?.ptsCount ?? 0,
  };
}
