/**
 * updates.getChannelDifference from a pts too far behind is answered with
 * updates.channelDifferenceTooLong: the dialog with the channel's latest pts and top message, and
 * the latest messages (not those after the pts asked from), as Telegram does for "updates older than
 * latestPts − 100000" (core.telegram.org, updates.channelDifferenceTooLong). The local stack's
 * channel services use a window of LOCAL_CHANNEL_DIFFERENCE_WINDOW (tools/stack/plan.ts) instead of
 * Telegram's 100,000, so one more post than that is enough. A GramJS subscriber on DC 3 goes offline;
 * the posts are made straight through DC 1's channel service over gRPC (as the admin's gateway would
 * call it), then the subscriber reconnects and asks.
 */
import { createPublicKey, randomInt } from 'node:crypto';
import { rsaFingerprint } from '../../services/gateway/src/mtproto/crypto/rsa';
import {
  SendChannelMessageRequest,
  type SendChannelMessageResponse,
} from '../../services/shared/src/gen/tern/channel/v1/channel';
import { LOCAL_CHANNEL_DIFFERENCE_WINDOW } from '../../tools/stack/plan';
import { stack } from '../support/stack';
import { pool, randomLong } from './support/direct';
import {
  channelDifference,
  channelIn,
  cls,
  createChannel,
  DirectChannels,
  inputPeerChannel,
  inviteHash,
  newChannelMessage,
  post,
  refOf,
  str,
  subscriber,
  waitFor,
  watch,
  type ChannelRef,
  type Obj,
  type Sub,
} from './support/channels';
import { testNumber, trustKey } from './support/gramjs';
import { reconnect } from './support/users';

const s = stack();
trustKey('telegram', s.rsaPublicKey, rsaFingerprint(createPublicKey(s.rsaPublicKey)));
const GAP = LOCAL_CHANNEL_DIFFERENCE_WINDOW + 1;

describe(`a subscriber ${GAP} channel updates behind`, () => {
  const direct = new DirectChannels(s);
  let admin: Sub; // DC 1
  let reader: Sub; // DC 3
  afterAll(async () => {
    direct.close();
    for (const m of [admin, reader]) await m?.g.client.destroy();
  });

  it(
    'gets channelDifferenceTooLong with the dialog and the latest messages',
    async () => {
      [admin, reader] = await Promise.all([
        subscriber('telegram', s.dcs, 1, testNumber(1), 'Admin'),
        subscriber('telegram', s.dcs, 3, testNumber(3), 'Reader'),
      ]);
      const { channel: created } = await createChannel(admin.g, { title: 'Busy', kind: 'broadcast' });
      const channel: ChannelRef = refOf(created);
      const chan = channel.id.toString();
      const exported = (await admin.g.client.invoke(
        new admin.g.Api.messages.ExportChatInvite({ peer: inputPeerChannel(admin.g, channel) }),
      )) as unknown as Obj;
      const imported = (await reader.g.client.invoke(
        new reader.g.Api.messages.ImportChatInvite({ hash: inviteHash(exported.link as string) }),
      )) as unknown as Obj;
      const mine = refOf(channelIn(imported.chats as unknown[], chan));

      const before = await post(admin.g, channel, `before the flood ${randomInt(0, 1e9)}`);
      await waitFor(reader, newChannelMessage(chan, before.message.message as string), 'last post seen');
      const session = reader.g.session.save();
      await reader.g.client.destroy();

      const author = { userId: admin.id, homeDc: 1 };
      const answers = await pool(GAP, 64, (i) =>
        direct.call<SendChannelMessageRequest, SendChannelMessageResponse>(
          author,
          'sendChannelMessage',
          SendChannelMessageRequest,
          {
            channel: { channelId: channel.id, accessHash: channel.accessHash },
            message: `flood ${i}`,
            randomId: randomLong(),
            noWebpage: true,
          },
        ),
      );
      const lastId = Math.max(...answers.map((a) => a.message?.id ?? 0));
      const last = answers.find((a) => a.message?.id === lastId)!;

      reader = await watch(await reconnect('telegram', s.dcs, 3, session), 'telegram', 3, reader.phone);
      const d = await channelDifference(reader.g, mine, before.pts, 100);
      expect(cls(d)).toBe('updates.ChannelDifferenceTooLong');
      const dialog = d.dialog as Obj;
      expect(str((dialog.peer as Obj).channelId)).toBe(chan);
      expect(dialog.topMessage).toBe(lastId);
      expect(dialog.pts).toBe(before.pts + GAP);
      const latest = d.messages as Obj[];
      expect(latest.length).toBeGreaterThan(0);
      expect(latest.length).toBeLessThanOrEqual(100);
      expect(latest.map((m) => m.id)).toContain(lastId);
      expect(latest.find((m) => m.id === lastId)?.message).toBe(last.message!.message);
      // The latest, not the ones right after the pts asked from.
      expect(latest.map((m) => m.message)).not.toContain('flood 0');
      // From the dialog's pts the client is up to date.
      const empty = await channelDifference(reader.g, mine, dialog.pts as number, 100);
      expect(cls(empty)).toBe('updates.ChannelDifferenceEmpty');
    },
    30 * 60_000,
  );
});
