/**
 * Section 2: TL encode/decode speed of the gateway's schema-driven codec beside GramJS's generated
 * serializer, on the same layer-198 objects.
 *
 * Each object is built once as a GramJS `Api` instance; its bytes are decoded with our codec to
 * get our plain-object form, and our encoding of that form must give the same bytes back before
 * anything is timed. So both sides encode and decode exactly the same thing.
 */
import bigInt from 'big-integer';
import { Api } from 'telegram';
import { BinaryReader } from 'telegram/extensions';
import type { TlCodec, TlObject } from '../../services/gateway/src/tl/codec';
import { loadTlRegistry } from '../../services/gateway/src/tl/registry';
import { fmt, opsPerSecond, ratio, table } from './measure';

export const TL_LAYER = 198;

const long = (n: number | string) => bigInt(String(n));

function config(): Api.Config {
  const dcOptions: Api.DcOption[] = [];
  for (let id = 1; id <= 5; id++) {
    dcOptions.push(new Api.DcOption({ id, ipAddress: `127.0.0.${id}`, port: 443 }));
    dcOptions.push(new Api.DcOption({ id, ipv6: true, ipAddress: `2001:db8::${id}`, port: 443 }));
    dcOptions.push(new Api.DcOption({ id, mediaOnly: true, ipAddress: `127.0.1.${id}`, port: 443 }));
  }
  return new Api.Config({
    date: 1_700_000_000,
    expires: 1_700_003_600,
    testMode: false,
    thisDc: 1,
    dcOptions,
    dcTxtDomainName: 'apv3.stel.com',
    chatSizeMax: 200,
    megagroupSizeMax: 200_000,
    forwardedCountMax: 100,
    onlineUpdatePeriodMs: 210_000,
    offlineBlurTimeoutMs: 5_000,
    offlineIdleTimeoutMs: 30_000,
    onlineCloudTimeoutMs: 300_000,
    notifyCloudDelayMs: 30_000,
    notifyDefaultDelayMs: 1_500,
    pushChatPeriodMs: 60_000,
    pushChatLimit: 2,
    editTimeLimit: 172_800,
    revokeTimeLimit: 2_147_483_647,
    revokePmTimeLimit: 2_147_483_647,
    ratingEDecay: 2_419_200,
    stickersRecentLimit: 200,
    channelsReadMediaPeriod: 604_800,
    callReceiveTimeoutMs: 20_000,
    callRingTimeoutMs: 90_000,
    callConnectTimeoutMs: 30_000,
    callPacketTimeoutMs: 10_000,
    meUrlPrefix: 'https://t.me/',
    captionLengthMax: 1024,
    messageLengthMax: 4096,
    webfileDcId: 4,
    suggestedLangCode: 'en',
    langPackVersion: 1,
    baseLangPackVersion: 1,
    reactionsDefault: new Api.ReactionEmoji({ emoticon: '👍' }),
    revokePmInbox: true,
    blockedMode: true,
  });
}

function user(i: number): Api.User {
  return new Api.User({
    id: long(1_000_000 + i),
    accessHash: long('-7766554433221100').add(i),
    firstName: `First${i}`,
    lastName: `Last name ${i}`,
    username: `user_${i}`,
    phone: `99966${String(10000 + i)}`,
    photo: new Api.UserProfilePhoto({
      photoId: long('5500000000000000000').add(i),
      strippedThumb: Buffer.alloc(40, i),
      dcId: 1,
    }),
    status: new Api.UserStatusOnline({ expires: 1_700_000_300 }),
    langCode: 'en',
    contact: true,
    mutualContact: i % 2 === 0,
    premium: i % 3 === 0,
    emojiStatus: new Api.EmojiStatus({ documentId: long('5300000000000000001') }),
  });
}

const TEXT =
  'Tern speaks MTProto 2.0: this message has **bold**, _italic_, a link and a mention @someone, ' +
  'and enough text to look like a real chat message with some entities in it. ';

function message(i: number): Api.Message {
  return new Api.Message({
    id: 10_000 + i,
    out: i % 2 === 0,
    fromId: new Api.PeerUser({ userId: long(1_000_000 + (i % 3)) }),
    peerId: new Api.PeerChat({ chatId: long(777) }),
    date: 1_700_000_000 + i,
    message: TEXT,
    entities: [
      new Api.MessageEntityBold({ offset: 40, length: 8 }),
      new Api.MessageEntityItalic({ offset: 50, length: 8 }),
      new Api.MessageEntityTextUrl({ offset: 60, length: 6, url: 'https://example.org/tern' }),
      new Api.MessageEntityMention({ offset: 80, length: 8 }),
    ],
    replyTo: i % 4 === 0 ? new Api.MessageReplyHeader({ replyToMsgId: 10_000 + i - 1 }) : undefined,
    reactions: new Api.MessageReactions({
      results: [new Api.ReactionCount({ reaction: new Api.ReactionEmoji({ emoticon: '❤' }), count: 3 })],
    }),
    editDate: i % 5 === 0 ? 1_700_000_100 + i : undefined,
  });
}

function messagesMessages(): Api.messages.Messages {
  return new Api.messages.Messages({
    messages: Array.from({ length: 20 }, (_, i) => message(i)),
    chats: [
      new Api.Chat({
        id: long(777),
        title: 'Benchmark group',
        photo: new Api.ChatPhotoEmpty(),
        participantsCount: 3,
        date: 1_699_000_000,
        version: 1,
      }),
    ],
    users: [user(0), user(1), user(2)],
  });
}

interface GramObject {
  getBytes(): Buffer;
}

export interface TlCase {
  name: string;
  bytes: number;
  oursEncode: number;
  gramEncode: number;
  oursDecode: number;
  gramDecode: number;
}

/** ops/s of each side for each object. */
export function benchTl(msPerFigure: number): TlCase[] {
  const codec: TlCodec = loadTlRegistry().forLayer(TL_LAYER);
  const cases: Array<[string, GramObject]> = [
    ['config', config()],
    ['user', user(1)],
    ['message + 4 entities', message(1)],
    ['messages.messages (20 msgs)', messagesMessages()],
  ];
  const results: TlCase[] = [];
  for (const [name, gram] of cases) {
    const bytes = gram.getBytes();
    const ours: TlObject = codec.decode(bytes);
    const again = codec.encode(ours);
    if (!again.equals(bytes)) throw new Error(`${name}: our encoding differs from GramJS's`);
    const gramBack = (new BinaryReader(bytes).tgReadObject() as GramObject).getBytes();
    if (!gramBack.equals(bytes)) throw new Error(`${name}: GramJS does not read its own bytes back`);
    results.push({
      name,
      bytes: bytes.length,
      oursEncode: opsPerSecond(() => codec.encode(ours), msPerFigure),
      gramEncode: opsPerSecond(() => gram.getBytes(), msPerFigure),
      oursDecode: opsPerSecond(() => codec.decode(bytes), msPerFigure),
      gramDecode: opsPerSecond(() => new BinaryReader(bytes).tgReadObject() as unknown, msPerFigure),
    });
  }
  return results;
}

export function formatTl(results: readonly TlCase[]): string {
  const rows = [
    [
      'object (layer 198)',
      'bytes',
      'encode ours/s',
      'GramJS/s',
      'ours/GramJS',
      'decode ours/s',
      'GramJS/s',
      'ours/GramJS',
    ],
  ];
  for (const r of results) {
    rows.push([
      r.name,
      String(r.bytes),
      fmt(r.oursEncode),
      fmt(r.gramEncode),
      ratio(r.oursEncode, r.gramEncode),
      fmt(r.oursDecode),
      fmt(r.gramDecode),
      ratio(r.oursDecode, r.gramDecode),
    ]);
  }
  return `${table(rows)}
(ceiling: GramJS's generated serializer on the same objects; both sides' bytes checked identical)`;
}
