/**
 * Invite links: messages.exportChatInvite (channel peers), checkChatInvite, importChatInvite.
 * Translation only; an invite hash names its channel's home DC, to which this DC's channel
 * service passes the call on.
 */
import { errors, unary } from '../../../../shared/src';
import type { CallContext } from '../../mtproto/invocation';
import type { TlObject } from '../../mtproto/tl-types';
import { channelOfPeer, tlChannel } from '../../convert/channels';
import { tlUpdates, tlUsers } from '../../convert/updates';
import { text } from '../../convert/users';
import { requestContext } from '../context';
import { followAnswer, joinResult, num, type ChannelApiDeps } from './common';

/** Basic groups have no invite links in Tern: only channel peers are exported. */
export async function exportChatInvite(
  call: TlObject,
  ctx: CallContext,
  d: ChannelApiDeps,
): Promise<TlObject> {
  const channel = channelOfPeer(call.peer);
  if (!channel) throw errors.badRequest('PEER_ID_INVALID');
  const res = await unary(d.channel.exportChannelInvite.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel,
    expireDate: num(call.expire_date),
    usageLimit: num(call.usage_limit),
    legacyRevokePermanent: call.legacy_revoke_permanent === true,
    title: text(call.title),
  });
  return {
    _: 'chatInviteExported',
    revoked: res.revoked,
    permanent: res.permanent,
    link: res.link,
    admin_id: res.adminId,
    date: res.date,
    expire_date: res.expireDate || undefined,
    usage_limit: res.usageLimit || undefined,
    usage: res.usage || undefined,
    title: res.title || undefined,
  };
}

/** The hash as clients send it: the part after t.me/+ or t.me/joinchat/. */
const inviteHash = (v: unknown): string => {
  const h = text(v);
  if (!h) throw errors.badRequest('INVITE_HASH_EMPTY');
  return h;
};

export async function checkChatInvite(
  call: TlObject,
  ctx: CallContext,
  d: ChannelApiDeps,
): Promise<TlObject> {
  const res = await unary(d.channel.checkChannelInvite.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    hash: inviteHash(call.hash),
  });
  if (res.already) return { _: 'chatInviteAlready', chat: tlChannel(res.already) };
  return {
    _: 'chatInvite',
    channel: true,
    broadcast: res.broadcast,
    public: res.public,
    megagroup: res.megagroup,
    title: res.title,
    about: res.about || undefined,
    photo: { _: 'photoEmpty', id: 0n },
    participants_count: res.participantsCount,
    participants: res.participants.length > 0 ? tlUsers(res.participants) : undefined,
    color: 0,
  };
}

export async function importChatInvite(
  call: TlObject,
  ctx: CallContext,
  d: ChannelApiDeps,
): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.channel.importChannelInvite.bind(d.channel), {
    context,
    hash: inviteHash(call.hash),
  });
  followAnswer(d, context.userId, res.updates);
  return joinResult(ctx, d, 'messages.importChatInvite', tlUpdates(res.updates));
}
