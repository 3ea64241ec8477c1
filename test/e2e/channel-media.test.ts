/**
 * Files posted in a private channel are granted to the channel, not to its members of the moment
 * (GrantAccess channel_ids, media asks the channel's home DC CanReadChannel at download time): a
 * user who joins by invite link after the post downloads it byte for byte from another DC, and a
 * user who is not a member gets FILE_ID_INVALID even with the document's id, access hash and a
 * current file reference in hand (as if a member had passed them on).
 */
import { createHash, createPublicKey, randomBytes, randomInt } from 'node:crypto';
import type { Api as GramApi } from 'telegram';
import { CustomFile } from 'telegram/client/uploads';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import {
  channelIn,
  createChannel,
  history,
  inputPeerChannel,
  inviteHash,
  refOf,
  rpcError,
  subscriber,
  type ChannelRef,
  type Obj,
  type Sub,
} from './support/channels';
import { unusedTestNumber } from './support/direct';
import { trustKey } from './support/gramjs';
import { close as closeWithSenders } from './support/media';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

const run = randomInt(0, 1e9).toString(36);

describe('files in a private channel: granted to the channel', () => {
  let owner: Sub; // DC 1: the channel and the file live there
  let joiner: Sub; // DC 2: joins after the post
  let outsider: Sub; // DC 3: never a member
  let channel: ChannelRef;
  const content = randomBytes(300 * 1024 + 17);
  const caption = `private file ${run}`;

  beforeAll(async () => {
    owner = await subscriber('telegram', s.dcs, 1, await unusedTestNumber(s, 1), 'Owner');
    joiner = await subscriber('telegram', s.dcs, 2, await unusedTestNumber(s, 2), 'Joiner');
    outsider = await subscriber('telegram', s.dcs, 3, await unusedTestNumber(s, 3), 'Outsider');
  }, 120_000);
  afterAll(async () => {
    for (const m of [owner, joiner, outsider]) await closeWithSenders(m?.g);
  });

  it('a member who joins after the post downloads the file from another DC', async () => {
    const created = await createChannel(owner.g, { title: `Private ${run}`, about: '', kind: 'broadcast' });
    channel = refOf(created.channel);
    const sent = await owner.g.client.sendFile(inputPeerChannel(owner.g, channel), {
      file: new CustomFile('private.bin', content.length, '', content),
      forceDocument: true,
      caption,
    });
    expect(sent.id).toBeGreaterThan(0);

    // Joins by invite link only now: no grant was written for them at posting time.
    const exported = (await owner.g.client.invoke(
      new owner.g.Api.messages.ExportChatInvite({ peer: inputPeerChannel(owner.g, channel) }),
    )) as unknown as Obj;
    const imported = (await joiner.g.client.invoke(
      new joiner.g.Api.messages.ImportChatInvite({ hash: inviteHash(exported.link as string) }),
    )) as unknown as Obj;
    const mine = refOf(channelIn(imported.chats as unknown[], channel.id.toString()));
    const h = await history(joiner.g, mine, 5);
    const msg = (h.messages as Obj[]).find((m) => m.message === caption) as unknown as GramApi.Message;
    expect(msg?.id).toBe(sent.id);
    const doc = (msg.media as GramApi.MessageMediaDocument).document as GramApi.Document;
    expect(doc.dcId).toBe(1);
    const got = (await joiner.g.client.downloadMedia(msg, {})) as Buffer;
    expect(createHash('sha256').update(got).digest('hex')).toBe(
      createHash('sha256').update(content).digest('hex'),
    );
  }, 120_000);

  it('someone who is not a member cannot download it, even with a current file reference', async () => {
    // The document as a member sees it (fresh reference), handed to the outsider.
    const h = await history(owner.g, channel, 5);
    const msg = (h.messages as Obj[]).find((m) => m.message === caption) as unknown as GramApi.Message;
    const doc = (msg.media as GramApi.MessageMediaDocument).document as GramApi.Document;
    const { Api } = outsider.g;
    const location = new Api.InputDocumentFileLocation({
      id: doc.id,
      accessHash: doc.accessHash,
      fileReference: doc.fileReference,
      thumbSize: '',
    });
    // The file lives on DC 1: GramJS follows FILE_MIGRATE_1 with an exported authorization.
    await expect(outsider.g.client.downloadFile(location, { dcId: 1, fileSize: doc.size })).rejects.toEqual(
      rpcError('FILE_ID_INVALID'),
    );
  }, 120_000);
});
