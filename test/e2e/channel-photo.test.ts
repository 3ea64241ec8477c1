/**
 * Chat photos of channels across DCs with GramJS (channels.editPhoto): the owner, homed on DC 2,
 * sets a photo on a public supergroup of DC 2 (the media service of DC 2 makes the square sizes);
 * a member homed on DC 1 gets the messageActionChatEditPhoto service message live, sees chatPhoto
 * (dc_id 2) on the channel and channelFull.chat_photo, and downloads it with downloadProfilePhoto
 * (inputPeerPhotoFileLocation naming the channel: GramJS goes to DC 2 itself). A member without
 * the right to change the channel's info gets CHAT_ADMIN_REQUIRED; a private channel's photo is
 * CHANNEL_PRIVATE to a user who is not a member; removing the photo is messageActionChatDeletePhoto.
 */
import { createPublicKey, randomInt } from 'node:crypto';
import sharp from 'sharp';
import type { Api as GramApi } from 'telegram';
import { CustomFile } from 'telegram/client/uploads';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import {
  channelIn,
  channelUsername,
  cls,
  createChannel,
  inputChannel,
  refOf,
  resolveChannel,
  rpcError,
  str,
  subscriber,
  waitFor,
  type ChannelRef,
  type Obj,
  type Sub,
} from './support/channels';
import { unusedTestNumber } from './support/direct';
import { trustKey } from './support/gramjs';
import { close } from './support/media';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

const run = randomInt(0, 1e9).toString(36);

/** A `w`×`h` JPEG in one colour. */
const pictureJpeg = (w: number, h: number, rgb: [number, number, number]): Promise<Buffer> =>
  sharp({ create: { width: w, height: h, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .jpeg({ quality: 90 })
    .toBuffer();

describe('channel chat photos across DCs (GramJS)', () => {
  let owner: Sub; // DC 2: the channel and the photo live there
  let member: Sub; // DC 1: joins by username
  let outsider: Sub; // DC 3: never a member of the private channel
  let channel: ChannelRef;

  /** Uploads `bytes` as `sub` and makes them the photo of `c`; the answer's Updates. */
  async function setPhoto(sub: Sub, c: ChannelRef, bytes: Buffer): Promise<Obj> {
    const file = await sub.g.client.uploadFile({
      file: new CustomFile(`chat-${run}.jpg`, bytes.length, '', bytes),
      workers: 1,
    });
    return (await sub.g.client.invoke(
      new sub.g.Api.channels.EditPhoto({
        channel: inputChannel(sub.g, c),
        photo: new sub.g.Api.InputChatUploadedPhoto({ file }),
      }),
    )) as unknown as Obj;
  }

  /** The channel as `sub` fetches it now (channels.getChannels). */
  async function fetched(sub: Sub, c: ChannelRef): Promise<GramApi.Channel> {
    const res = (await sub.g.client.invoke(
      new sub.g.Api.channels.GetChannels({ id: [inputChannel(sub.g, c)] }),
    )) as unknown as Obj;
    return channelIn(res.chats as unknown[], c.id) as unknown as GramApi.Channel;
  }

  beforeAll(async () => {
    owner = await subscriber('telegram', s.dcs, 2, await unusedTestNumber(s, 2), 'Owner');
    member = await subscriber('telegram', s.dcs, 1, await unusedTestNumber(s, 1), 'Member');
    outsider = await subscriber('telegram', s.dcs, 3, await unusedTestNumber(s, 3), 'Outsider');
    const created = await createChannel(owner.g, { title: `Photos ${run}`, kind: 'megagroup' });
    channel = refOf(created.channel);
    const username = channelUsername('photo');
    await owner.g.client.invoke(
      new owner.g.Api.channels.UpdateUsername({ channel: inputChannel(owner.g, channel), username }),
    );
    const { channel: found } = await resolveChannel(member.g, username);
    await member.g.client.invoke(
      new member.g.Api.channels.JoinChannel({ channel: inputChannel(member.g, refOf(found)) }),
    );
  }, 120_000);
  afterAll(async () => {
    for (const u of [owner, member, outsider]) await close(u?.g);
  });

  it('sets a photo: the service message reaches a member of DC 1 live, who downloads it from DC 2', async () => {
    const answer = await setPhoto(owner, channel, await pictureJpeg(800, 600, [30, 120, 200]));
    const mine = channelIn(answer.chats as unknown[], channel.id) as unknown as GramApi.Channel;
    const photo = mine.photo as GramApi.ChatPhoto;
    expect(photo.className).toBe('ChatPhoto');
    expect(photo.dcId).toBe(2);
    expect(photo.strippedThumb?.length).toBeGreaterThan(3);

    const action = await waitFor(
      member,
      (u) => {
        const m = (cls(u) === 'UpdateNewChannelMessage' ? u.message : undefined) as Obj | undefined;
        const a = m?.action as Obj | undefined;
        return cls(a) === 'MessageActionChatEditPhoto'
          ? (a as unknown as GramApi.MessageActionChatEditPhoto)
          : undefined;
      },
      'messageActionChatEditPhoto',
    );
    expect(str((action.photo as GramApi.Photo).id)).toBe(str(photo.photoId));

    const seen = await fetched(member, channel);
    expect(str((seen.photo as GramApi.ChatPhoto).photoId)).toBe(str(photo.photoId));
    const full = await member.g.client.invoke(
      new member.g.Api.channels.GetFullChannel({ channel: inputChannel(member.g, channel) }),
    );
    const chatPhoto = (full.fullChat as GramApi.ChannelFull).chatPhoto as GramApi.Photo;
    expect(str(chatPhoto.id)).toBe(str(photo.photoId));
    expect(chatPhoto.sizes.map((z) => z.type)).toEqual(['i', 'a', 'b', 'c']);

    // GramJS asks DC 2 (the photo's dc_id) with inputPeerPhotoFileLocation naming the channel.
    const bigOne = (await member.g.client.downloadProfilePhoto(seen, { isBig: true })) as Buffer;
    const meta = await sharp(bigOne).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 600, 600]);
    const small = (await member.g.client.downloadProfilePhoto(seen, { isBig: false })) as Buffer;
    expect((await sharp(small).metadata()).width).toBe(160);
  }, 120_000);

  it('refuses a member without the right to change the channel (CHAT_ADMIN_REQUIRED)', async () => {
    await expect(setPhoto(member, channel, await pictureJpeg(300, 300, [0, 0, 0]))).rejects.toEqual(
      rpcError('CHAT_ADMIN_REQUIRED'),
    );
  }, 60_000);

  it("does not show a private channel's photo to a user who is not a member (CHANNEL_PRIVATE)", async () => {
    const created = await createChannel(owner.g, { title: `Private photos ${run}`, kind: 'broadcast' });
    const hidden = refOf(created.channel);
    const answer = await setPhoto(owner, hidden, await pictureJpeg(400, 400, [200, 30, 30]));
    const photo = (channelIn(answer.chats as unknown[], hidden.id) as unknown as GramApi.Channel)
      .photo as GramApi.ChatPhoto;
    // Asked at DC 2, which holds the photo (GramJS exports the authorization there).
    await expect(
      outsider.g.client.invoke(
        new outsider.g.Api.upload.GetFile({
          location: new outsider.g.Api.InputPeerPhotoFileLocation({
            peer: new outsider.g.Api.InputPeerChannel({
              channelId: created.channel.id as GramApi.Channel['id'],
              accessHash: created.channel.accessHash as GramApi.Channel['id'], // passed on by a member
            }),
            photoId: photo.photoId,
            big: true,
          }),
          offset: 0 as never,
          limit: 64 * 1024,
        }),
        2,
      ),
    ).rejects.toEqual(rpcError('CHANNEL_PRIVATE'));
  }, 120_000);

  it('removes the photo: messageActionChatDeletePhoto, and chatPhotoEmpty on the channel', async () => {
    const answer = (await owner.g.client.invoke(
      new owner.g.Api.channels.EditPhoto({
        channel: inputChannel(owner.g, channel),
        photo: new owner.g.Api.InputChatPhotoEmpty(),
      }),
    )) as unknown as Obj;
    expect(cls(channelIn(answer.chats as unknown[], channel.id).photo)).toBe('ChatPhotoEmpty');
    await waitFor(
      member,
      (u) =>
        cls(u) === 'UpdateNewChannelMessage' &&
        cls((u.message as Obj).action) === 'MessageActionChatDeletePhoto'
          ? true
          : undefined,
      'messageActionChatDeletePhoto',
    );
    expect(cls((await fetched(member, channel)).photo)).toBe('ChatPhotoEmpty');
    await expect(
      owner.g.client.invoke(
        new owner.g.Api.channels.EditPhoto({
          channel: inputChannel(owner.g, channel),
          photo: new owner.g.Api.InputChatPhotoEmpty(),
        }),
      ),
    ).rejects.toEqual(rpcError('CHAT_NOT_MODIFIED'));
  }, 60_000);
});
