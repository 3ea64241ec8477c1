/**
 * channels.getParticipants, getParticipant, editAdmin, editBanned. Translation only; the
 * channel's home DC keeps the participant rows and decides rights.
 */
import { errors, unary } from '../../../../shared/src';
import type { CallContext } from '../../mtproto/invocation';
import type { TlObject } from '../../mtproto/tl-types';
import {
  adminRightsOf,
  bannedRightsOf,
  inputChannel,
  participantsFilterOf,
  tlChannelParticipant,
  tlChatsAndChannels,
} from '../../convert/channels';
import { inputPeer } from '../../convert/peers';
import { tlUpdates, tlUsers } from '../../convert/updates';
import { inputUser, text } from '../../convert/users';
import { requestContext, type ChannelDeps } from '../context';
import { num } from './common';

/** Telegram's largest page of participants. */
const MAX_PARTICIPANTS_PAGE = 200;

export async function getParticipants(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const channel = inputChannel(call.channel);
  const { filter, q, none } = participantsFilterOf(call.filter);
  if (none) return { _: 'channels.channelParticipants', count: 0, participants: [], chats: [], users: [] };
  const res = await unary(d.channel.getParticipants.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel,
    filter,
    q,
    offset: Math.max(0, num(call.offset)),
    limit: Math.min(Math.max(0, num(call.limit)), MAX_PARTICIPANTS_PAGE),
    // An int at layer 131, a long since 135: either way the number the service compares.
    hash: BigInt.asIntN(64, BigInt((call.hash as bigint | number | undefined) ?? 0)),
  });
  if (res.notModified) return { _: 'channels.channelParticipantsNotModified' };
  return {
    _: 'channels.channelParticipants',
    count: res.count,
    participants: res.participants.map(tlChannelParticipant),
    chats: [],
    users: tlUsers(res.users),
  };
}

export async function getParticipant(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const res = await unary(d.channel.getParticipant.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel: inputChannel(call.channel),
    participant: inputPeer(call.participant),
  });
  // USER_NOT_PARTICIPANT is the service's to say; an empty answer is its bug.
  if (!res.participant) throw errors.internal(new Error('GetParticipant without a participant'));
  return {
    _: 'channels.channelParticipant',
    participant: tlChannelParticipant(res.participant),
    chats: tlChatsAndChannels([], res.channels),
    users: tlUsers(res.users),
  };
}

export async function editAdmin(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const user = inputUser(call.user_id as TlObject | undefined);
  if (!user) throw errors.badRequest('USER_ID_INVALID');
  const res = await unary(d.channel.editAdmin.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel: inputChannel(call.channel),
    user,
    adminRights: adminRightsOf(call.admin_rights),
    rank: text(call.rank),
  });
  return tlUpdates(res.updates);
}

export async function editBanned(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const res = await unary(d.channel.editBanned.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel: inputChannel(call.channel),
    participant: inputPeer(call.participant),
    bannedRights: bannedRightsOf(call.banned_rights),
  });
  return tlUpdates(res.updates);
}
