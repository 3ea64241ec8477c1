/**
 * channels.*: channels and supergroups themselves (create, read, join, leave, invite, edit,
 * usernames, signatures, slow mode, delete). Translation only; the channel service of this DC
 * answers, passing calls about channels homed elsewhere on to their DC
 * (docs/decisions/0018-channels.md).
 */
import { errors, unary } from '../../../../shared/src';
import type { InputUser } from '../../../../shared/src/gen/tern/common/v1/peer';
import type { CallContext } from '../../mtproto/invocation';
import type { TlObject } from '../../mtproto/tl-types';
import { inputChannel, tlChannelFull, tlChannels, tlChatsAndChannels } from '../../convert/channels';
import { inputFileOf } from '../../convert/media';
import { tlUpdates, tlUsers } from '../../convert/updates';
import { inputUser, text } from '../../convert/users';
import { requestContext, type ChannelDeps } from '../context';
import { followAnswer, joinResult, num, requestRandomId, type ChannelApiDeps } from './common';

function requiredUser(v: unknown): InputUser {
  const u = inputUser(v as TlObject | undefined);
  if (!u) throw errors.badRequest('USER_ID_INVALID');
  return u;
}

export async function createChannel(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const megagroup = call.megagroup === true;
  const res = await unary(d.channel.createChannel.bind(d.channel), {
    context,
    title: text(call.title),
    about: text(call.about),
    // Neither flag is a broadcast channel, as Telegram reads it.
    broadcast: !megagroup,
    megagroup,
    randomId: requestRandomId(context),
  });
  followAnswer(d, context.userId, res.updates);
  if (res.channel && d.channelLive) d.channelLive.follow(context.userId, res.channel);
  return tlUpdates(res.updates);
}

export async function getChannels(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const res = await unary(d.channel.getChannels.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channels: ((call.id as unknown[] | undefined) ?? []).map(inputChannel),
  });
  return { _: 'messages.chats', chats: tlChannels(res.channels) };
}

export async function getFullChannel(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const channel = inputChannel(call.channel);
  const res = await unary(d.channel.getFullChannel.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel,
  });
  if (!res.fullChat) throw errors.badRequest('CHANNEL_INVALID');
  const self = res.channels.find((c) => c.id === res.fullChat!.id);
  return {
    _: 'messages.chatFull',
    full_chat: tlChannelFull(res.fullChat, self),
    chats: tlChannels(res.channels),
    users: tlUsers(res.users),
  };
}

export async function joinChannel(call: TlObject, ctx: CallContext, d: ChannelApiDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.channel.joinChannel.bind(d.channel), {
    context,
    channel: inputChannel(call.channel),
  });
  followAnswer(d, context.userId, res.updates);
  return joinResult(ctx, d, 'channels.joinChannel', tlUpdates(res.updates));
}

export async function leaveChannel(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.channel.leaveChannel.bind(d.channel), {
    context,
    channel: inputChannel(call.channel),
  });
  followAnswer(d, context.userId, res.updates);
  return tlUpdates(res.updates);
}

/** messages.invitedUsers where the client's layer answers it (177 on), the bare Updates before. */
export async function inviteToChannel(
  call: TlObject,
  ctx: CallContext,
  d: ChannelApiDeps,
): Promise<TlObject> {
  const res = await unary(d.channel.inviteToChannel.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel: inputChannel(call.channel),
    users: ((call.users as unknown[] | undefined) ?? []).map(requiredUser),
    migration: false,
  });
  const updates = tlUpdates(res.updates);
  if (d.tl.resultType(ctx.layer, 'channels.inviteToChannel') !== 'messages.InvitedUsers') return updates;
  return {
    _: 'messages.invitedUsers',
    updates,
    missing_invitees: res.missingInvitees.map((id) => ({ _: 'missingInvitee', user_id: id })),
  };
}

export async function editTitle(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const res = await unary(d.channel.editChannelTitle.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel: inputChannel(call.channel),
    title: text(call.title),
  });
  return tlUpdates(res.updates);
}

/**
 * channels.editPhoto. inputChatUploadedPhoto makes the photo in this DC (where the client uploaded
 * it) and inputChatPhotoEmpty removes it. Tern makes photos only: a video (`video`, emoji markup)
 * is VIDEO_FILE_INVALID; choosing an earlier photo again (inputChatPhoto) is PHOTO_INVALID, since
 * a channel keeps no list of its past photos.
 */
export async function editPhoto(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const photo = call.photo as TlObject | undefined;
  const remove = photo?._ === 'inputChatPhotoEmpty';
  if (!remove) {
    if (photo?._ !== 'inputChatUploadedPhoto') throw errors.badRequest('PHOTO_INVALID');
    if (photo.file === undefined)
      throw errors.badRequest(
        photo.video !== undefined || photo.video_emoji_markup !== undefined
          ? 'VIDEO_FILE_INVALID'
          : 'PHOTO_FILE_MISSING',
      );
  }
  const res = await unary(
    d.channel.editChannelPhoto.bind(d.channel),
    {
      context: await requestContext(ctx, d.auth, d.dcId),
      channel: inputChannel(call.channel),
      ...(remove ? {} : { file: inputFileOf(photo.file) }),
      remove,
    },
    // Decoding a large picture and storing its sizes takes a while (as for profile photos).
    { deadlineMs: 150_000 },
  );
  return tlUpdates(res.updates);
}

/** inputChannelEmpty asks about a channel not created yet. */
export async function checkUsername(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<boolean> {
  const c = call.channel as TlObject | undefined;
  const res = await unary(d.channel.checkChannelUsername.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    ...(c && c._ !== 'inputChannelEmpty' ? { channel: inputChannel(c) } : {}),
    username: text(call.username),
  });
  return res.available;
}

export async function updateUsername(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<boolean> {
  await unary(d.channel.updateChannelUsername.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel: inputChannel(call.channel),
    username: text(call.username),
  });
  return true;
}

export async function deleteChannel(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const context = await requestContext(ctx, d.auth, d.dcId);
  const res = await unary(d.channel.deleteChannel.bind(d.channel), {
    context,
    channel: inputChannel(call.channel),
  });
  followAnswer(d, context.userId, res.updates);
  return tlUpdates(res.updates);
}

/** `enabled` (Bool) in layers before 189 (held: up to 185); the `signatures_enabled` flag since. */
export async function toggleSignatures(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const res = await unary(d.channel.toggleSignatures.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel: inputChannel(call.channel),
    enabled: call.enabled === true || call.signatures_enabled === true,
  });
  return tlUpdates(res.updates);
}

export async function toggleSlowMode(call: TlObject, ctx: CallContext, d: ChannelDeps): Promise<TlObject> {
  const res = await unary(d.channel.toggleSlowMode.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    channel: inputChannel(call.channel),
    seconds: num(call.seconds),
  });
  return tlUpdates(res.updates);
}

/** messages.chats of the channels named, for contacts.resolveUsername and friends. */
export async function channelsById(
  ctx: CallContext,
  d: ChannelDeps,
  ids: readonly bigint[],
): Promise<TlObject[]> {
  if (ids.length === 0) return [];
  const res = await unary(d.channel.getChannels.bind(d.channel), {
    context: await requestContext(ctx, d.auth, d.dcId),
    // The service checks membership or publicity itself when no access hash is known.
    channels: ids.map((channelId) => ({ channelId, accessHash: 0n })),
  });
  return tlChatsAndChannels([], res.channels);
}
