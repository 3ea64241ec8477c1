/**
 * The newest published client layer (teleproto 1.229, layer 229) against Tern: it signs up on its
 * home DC and chats live with a GramJS (layer 198) user on another DC. Before the gateway held
 * layer 229's schema, every answer carrying a user was written with layer 227's user#31774388,
 * which a layer-229 client cannot decode, so sign-up itself failed.
 */
import { createPublicKey } from 'node:crypto';
import type { Api as GramApi } from 'telegram';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import { stack } from '../support/stack';
import { unusedTestNumber } from './support/direct';
import { gramClient, loggedInClient, loggedInFresh, testNumber, trustKey } from './support/gramjs';

const s = stack();
const fingerprint = rsaFingerprint(createPublicKey(s.rsaPublicKey));
trustKey('telegram', s.rsaPublicKey, fingerprint);
trustKey('teleproto-layer-229', s.rsaPublicKey, fingerprint);

type Gram = ReturnType<typeof gramClient>;

describe('a layer-229 client (teleproto 1.229)', () => {
  let newest: Gram | undefined; // homed on DC 3
  let other: Gram | undefined; // GramJS, homed on DC 1
  afterAll(async () => {
    await newest?.client.destroy();
    await other?.client.destroy();
  });

  it('signs up on its home DC and reads its own user', async () => {
    newest = await loggedInFresh(
      () => gramClient({ lib: 'teleproto-layer-229', dc: s.dcs[2]! }),
      3,
      await unusedTestNumber(s, 3),
      'Newest',
    );
    const me = await newest.client.getMe();
    expect(me.firstName).toBe('Newest');
    expect(me.self).toBe(true);
  });

  it('sends to and receives from a GramJS user on another DC, every answer decoded', async () => {
    other = await loggedInClient(s.dcs, 1, testNumber(1), 'Older');
    const name = `n229_${Date.now().toString(36)}`;
    await newest!.client.invoke(new newest!.Api.account.UpdateUsername({ username: name }));
    const found = await other.client.invoke(new other.Api.contacts.ResolveUsername({ username: name }));
    const newestUser = found.users[0] as GramApi.User;
    await other.client.sendMessage(
      new other.Api.InputPeerUser({ userId: newestUser.id, accessHash: newestUser.accessHash! }),
      { message: 'hello, layer 229' },
    );
    const otherName = `o198_${Date.now().toString(36)}`;
    await other.client.invoke(new other.Api.account.UpdateUsername({ username: otherName }));
    const back = await newest!.client.invoke(
      new newest!.Api.contacts.ResolveUsername({ username: otherName }),
    );
    const olderUser = back.users[0] as GramApi.User;
    const peer = new newest!.Api.InputPeerUser({ userId: olderUser.id, accessHash: olderUser.accessHash! });
    const history = await newest!.client.getMessages(peer, { limit: 5 });
    expect(history.map((m) => m.message)).toContain('hello, layer 229');
    const sent = await newest!.client.sendMessage(peer, { message: 'hello back, from 229' });
    expect(sent.id).toBeGreaterThan(0);
    const seen = await other.client.getMessages(
      new other.Api.InputPeerUser({ userId: newestUser.id, accessHash: newestUser.accessHash! }),
      { limit: 5 },
    );
    expect(seen.map((m) => m.message)).toContain('hello back, from 229');
  });
});
