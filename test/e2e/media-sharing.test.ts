/**
 * Files passed around, with GramJS: messages.uploadMedia then sends by reference, a document in a
 * basic group whose members live on three DCs, forwards of media (to a user on another DC and into
 * the group), and file references that expire (FILE_REFERENCE_EXPIRED, then the client fetches the
 * message again for a fresh reference, as Telegram clients do). The file always stays in the DC it
 * was uploaded to (DC 2 here); everyone else downloads it there.
 */
import { createPublicKey, randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import bigInt from 'big-integer';
import type { Api as GramApi } from 'telegram';
import { CustomFile } from 'telegram/client/uploads';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { FileReferences, parseFileReferenceKey } from '../../services/shared/src';
import { stack } from '../support/stack';
import { loggedInClient, testNumber, trustKey } from './support/gramjs';
import { close, documentOf, errorOf } from './support/media';
import { inputPeer, resolveUser, setUsername, type Gram } from './support/users';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));

const rid = () => bigInt(randomBytes(7).toString('hex'), 16);

/** The newest message of `viewer`'s dialog with `peer`. */
async function newest(viewer: Gram, peer: GramApi.TypeInputPeer): Promise<GramApi.Message> {
  const [m] = await viewer.client.getMessages(peer, { limit: 1 });
  return m!;
}

describe('media shared: uploadMedia, groups, forwards and expiring references (GramJS)', () => {
  let alice: Gram; // DC 2: uploads, so every file here lives in DC 2
  let bob: Gram; // DC 1
  let carol: Gram; // DC 3
  let dave: Gram; // DC 1: never sent anything
  const peers: Record<string, GramApi.InputPeerUser> = {};
  let chat: GramApi.InputPeerChat;
  const content = randomBytes(700 * 1024 + 321);
  let uploaded: GramApi.Document;

  beforeAll(async () => {
    [alice, bob, carol, dave] = await Promise.all([
      loggedInClient(s.dcs, 2, testNumber(2), 'Alice'),
      loggedInClient(s.dcs, 1, testNumber(1), 'Bob'),
      loggedInClient(s.dcs, 3, testNumber(3), 'Carol'),
      loggedInClient(s.dcs, 1, testNumber(1), 'Dave'),
    ]);
    const names = {
      alice: await setUsername(alice, 'ms'),
      bob: await setUsername(bob, 'ms'),
      carol: await setUsername(carol, 'ms'),
    };
    peers.aliceToBob = inputPeer(alice, await resolveUser(alice, names.bob));
    peers.bobToAlice = inputPeer(bob, await resolveUser(bob, names.alice));
    peers.bobToCarol = inputPeer(bob, await resolveUser(bob, names.carol));
    peers.carolToBob = inputPeer(carol, await resolveUser(carol, names.bob));
    const users = [peers.aliceToBob, inputPeer(alice, await resolveUser(alice, names.carol))].map(
      (p) => new alice.Api.InputUser({ userId: p.userId, accessHash: p.accessHash }),
    );
    const res = (await alice.client.invoke(
      new alice.Api.messages.CreateChat({ users, title: `files ${randomInt(1e6)}` }),
    )) as unknown as { updates: { chats: { id: bigInt.BigInteger }[] } };
    chat = new alice.Api.InputPeerChat({ chatId: res.updates.chats[0]!.id });
  });
  afterAll(async () => {
    for (const g of [alice, bob, carol, dave]) await close(g);
  });

  it('messages.uploadMedia stores a file that only its uploader can use until it is sent by reference', async () => {
    const file = await alice.client.uploadFile({
      file: new CustomFile('report.pdf', content.length, '', content),
      workers: 2,
    });
    const media = (await alice.client.invoke(
      new alice.Api.messages.UploadMedia({
        peer: peers.aliceToBob!,
        media: new alice.Api.InputMediaUploadedDocument({
          file,
          mimeType: 'application/pdf',
          attributes: [new alice.Api.DocumentAttributeFilename({ fileName: 'report.pdf' })],
        }),
      }),
    )) as GramApi.MessageMediaDocument;
    expect(media.className).toBe('MessageMediaDocument');
    uploaded = media.document as GramApi.Document;
    expect(uploaded.dcId).toBe(2);
    expect(Number(uploaded.size)).toBe(content.length);

    // Nobody else may fetch it yet, even knowing its id and hashes.
    const location = new bob.Api.InputDocumentFileLocation({
      id: uploaded.id,
      accessHash: uploaded.accessHash,
      fileReference: uploaded.fileReference,
      thumbSize: '',
    });
    const onDc2 = await bob.client.getSender(2);
    expect(
      await errorOf(
        Promise.resolve(onDc2.send(new bob.Api.upload.GetFile({ location, offset: bigInt(0), limit: 4096 }))),
      ),
    ).toBe('FILE_ID_INVALID');

    // Sent twice by reference: two messages, one file, which the recipient may now download.
    for (const caption of ['first copy', 'second copy'])
      await alice.client.invoke(
        new alice.Api.messages.SendMedia({
          peer: peers.aliceToBob!,
          message: caption,
          randomId: rid(),
          media: new alice.Api.InputMediaDocument({
            id: new alice.Api.InputDocument({
              id: uploaded.id,
              accessHash: uploaded.accessHash,
              fileReference: uploaded.fileReference,
            }),
          }),
        }),
      );
    const received = await bob.client.getMessages(peers.bobToAlice, { limit: 2 });
    expect([...received].map((m) => m.message)).toEqual(['second copy', 'first copy']);
    for (const m of received) expect(documentOf(m).id.toString()).toBe(uploaded.id.toString());
    expect(((await bob.client.downloadMedia(received[0]!)) as Buffer).equals(content)).toBe(true);
  });

  it('a document sent to a basic group reaches members on three DCs, and each downloads it from DC 2', async () => {
    const groupFile = randomBytes(300 * 1024 + 7);
    await alice.client.sendFile(chat, {
      file: new CustomFile('minutes.bin', groupFile.length, '', groupFile),
      forceDocument: true,
      caption: 'for the group',
    });
    for (const member of [bob, carol]) {
      const chatId = chat.chatId;
      const m = await newest(member, new member.Api.InputPeerChat({ chatId }));
      expect(m.message).toBe('for the group');
      expect(documentOf(m).dcId).toBe(2);
      expect(((await member.client.downloadMedia(m)) as Buffer).equals(groupFile)).toBe(true);
    }
    // Dave is in no chat with it.
    const doc = documentOf(await newest(bob, new bob.Api.InputPeerChat({ chatId: chat.chatId })));
    const onDc2 = await dave.client.getSender(2);
    const get = new dave.Api.upload.GetFile({
      location: new dave.Api.InputDocumentFileLocation({
        id: doc.id,
        accessHash: doc.accessHash,
        fileReference: doc.fileReference,
        thumbSize: '',
      }),
      offset: bigInt(0),
      limit: 4096,
    });
    expect(await errorOf(Promise.resolve(onDc2.send(get)))).toBe('FILE_ID_INVALID');
  });

  it('forwards media: to a user on another DC and into the group, the same file reaching new holders', async () => {
    const original = await newest(bob, peers.bobToAlice!);
    // Bob (DC 1) forwards Alice's file (DC 2) to Carol (DC 3), who had no right to it before.
    await bob.client.invoke(
      new bob.Api.messages.ForwardMessages({
        fromPeer: peers.bobToAlice!,
        id: [original.id],
        randomId: [rid()],
        toPeer: peers.bobToCarol!,
      }),
    );
    const atCarol = await newest(carol, peers.carolToBob!);
    expect(atCarol.fwdFrom).toBeTruthy();
    expect(documentOf(atCarol).id.toString()).toBe(uploaded.id.toString());
    expect(((await carol.client.downloadMedia(atCarol)) as Buffer).equals(content)).toBe(true);

    // Sent again by reference by someone who received it: the grant goes to DC 2, where it lives.
    const received = documentOf(original);
    await bob.client.invoke(
      new bob.Api.messages.SendMedia({
        peer: peers.bobToCarol!,
        message: 'again, by reference',
        randomId: rid(),
        media: new bob.Api.InputMediaDocument({
          id: new bob.Api.InputDocument({
            id: received.id,
            accessHash: received.accessHash,
            fileReference: received.fileReference,
          }),
        }),
      }),
    );
    const resent = await newest(carol, peers.carolToBob!);
    expect(resent.message).toBe('again, by reference');
    expect(documentOf(resent).id.toString()).toBe(uploaded.id.toString());

    // And into the group: every member's copy carries it.
    await bob.client.invoke(
      new bob.Api.messages.ForwardMessages({
        fromPeer: peers.bobToAlice!,
        id: [original.id],
        randomId: [rid()],
        toPeer: new bob.Api.InputPeerChat({ chatId: chat.chatId }),
      }),
    );
    const inGroup = await newest(carol, new carol.Api.InputPeerChat({ chatId: chat.chatId }));
    expect(inGroup.fwdFrom).toBeTruthy();
    expect(documentOf(inGroup).id.toString()).toBe(uploaded.id.toString());
  });

  it('answers FILE_REFERENCE_EXPIRED for an expired reference; fetching the message again gives a working one', async () => {
    const m = await newest(bob, peers.bobToAlice!);
    const doc = documentOf(m);
    // A reference the deployment issued long ago (the stack's key; the lifetime the services use).
    const key = parseFileReferenceKey(readFileSync(s.fileReferenceKeyFile));
    const ttl = 86_400;
    const aged = new FileReferences(key, ttl).issue(
      BigInt(doc.id.toString()),
      Date.now() - (ttl + 60) * 1000,
    );
    doc.fileReference = aged;
    expect(await errorOf(bob.client.downloadMedia(m))).toBe('FILE_REFERENCE_EXPIRED');
    // A forged one is refused the same way, so clients refetch rather than give up.
    doc.fileReference = randomBytes(aged.length);
    expect(await errorOf(bob.client.downloadMedia(m))).toBe('FILE_REFERENCE_EXPIRED');

    // Signed with the deployment's key and recent: accepted, so the check above was the age.
    doc.fileReference = new FileReferences(key, ttl).issue(BigInt(doc.id.toString()));
    expect(((await bob.client.downloadMedia(m)) as Buffer).equals(content)).toBe(true);

    // The client's refetch path: the same message again, with a reference issued now.
    const [again] = await bob.client.getMessages(peers.bobToAlice, { ids: [m.id] });
    const fresh = documentOf(again);
    expect(Buffer.from(fresh.fileReference).equals(aged)).toBe(false);
    expect(((await bob.client.downloadMedia(again!)) as Buffer).equals(content)).toBe(true);
  });
});
