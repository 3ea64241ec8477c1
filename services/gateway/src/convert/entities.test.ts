import { MessageEntity_Type } from '../../../shared/src/gen/tern/common/v1/message';
import { inputEntities, replyToMsgIdOf } from './entities';
import { tlEntities } from './updates';

const SELF = 77n;
const span = { offset: 1, length: 2 };
const blank = { url: '', userId: 0n, language: '' };

describe('inputEntities (TL → proto)', () => {
  it.each([
    ['messageEntityMention', MessageEntity_Type.MENTION],
    ['messageEntityHashtag', MessageEntity_Type.HASHTAG],
    ['messageEntityBotCommand', MessageEntity_Type.BOT_COMMAND],
    ['messageEntityUrl', MessageEntity_Type.URL],
    ['messageEntityEmail', MessageEntity_Type.EMAIL],
    ['messageEntityBold', MessageEntity_Type.BOLD],
    ['messageEntityItalic', MessageEntity_Type.ITALIC],
    ['messageEntityCode', MessageEntity_Type.CODE],
    ['messageEntityPhone', MessageEntity_Type.PHONE],
    ['messageEntityCashtag', MessageEntity_Type.CASHTAG],
    ['messageEntityUnderline', MessageEntity_Type.UNDERLINE],
    ['messageEntityStrike', MessageEntity_Type.STRIKE],
    ['messageEntityBlockquote', MessageEntity_Type.BLOCKQUOTE],
    ['messageEntitySpoiler', MessageEntity_Type.SPOILER],
  ])('%s', (name, type) => {
    const got = inputEntities([{ _: name, ...span }], SELF);
    expect(got).toEqual([{ type, ...span, ...blank }]);
    // Rendered back as the same constructor.
    expect(tlEntities(got)).toEqual([expect.objectContaining({ _: name, ...span })]);
  });

  it('messageEntityPre keeps its language', () => {
    const got = inputEntities([{ _: 'messageEntityPre', ...span, language: 'ts' }], SELF);
    expect(got).toEqual([{ type: MessageEntity_Type.PRE, ...span, ...blank, language: 'ts' }]);
    expect(tlEntities(got)![0]).toMatchObject({ _: 'messageEntityPre', language: 'ts' });
  });

  it('messageEntityTextUrl keeps its url', () => {
    const got = inputEntities([{ _: 'messageEntityTextUrl', ...span, url: 'https://a.example' }], SELF);
    expect(got).toEqual([{ type: MessageEntity_Type.TEXT_URL, ...span, ...blank, url: 'https://a.example' }]);
    expect(tlEntities(got)![0]).toMatchObject({ _: 'messageEntityTextUrl', url: 'https://a.example' });
  });

  it('mention names resolve the user: inputUser, inputUserSelf, inputUserFromMessage, a plain id', () => {
    const got = inputEntities(
      [
        {
          _: 'inputMessageEntityMentionName',
          ...span,
          user_id: { _: 'inputUser', user_id: 5n, access_hash: 9n },
        },
        { _: 'inputMessageEntityMentionName', ...span, user_id: { _: 'inputUserSelf' } },
        {
          _: 'inputMessageEntityMentionName',
          ...span,
          user_id: { _: 'inputUserFromMessage', peer: { _: 'inputPeerSelf' }, msg_id: 1, user_id: 6n },
        },
        { _: 'messageEntityMentionName', ...span, user_id: 8n },
        // Layer 131's inputUser has an int user_id.
        {
          _: 'inputMessageEntityMentionName',
          ...span,
          user_id: { _: 'inputUser', user_id: 4, access_hash: 1n },
        },
      ],
      SELF,
    );
    expect(got.map((e) => [e.type, e.userId])).toEqual([
      [MessageEntity_Type.MENTION_NAME, 5n],
      [MessageEntity_Type.MENTION_NAME, SELF],
      [MessageEntity_Type.MENTION_NAME, 6n],
      [MessageEntity_Type.MENTION_NAME, 8n],
      [MessageEntity_Type.MENTION_NAME, 4n],
    ]);
    expect(tlEntities(got)![0]).toMatchObject({ _: 'messageEntityMentionName', user_id: 5n });
  });

  it('an unresolvable mention gets user 0 (messaging refuses it)', () => {
    const [e] = inputEntities(
      [{ _: 'inputMessageEntityMentionName', ...span, user_id: { _: 'inputUserEmpty' } }],
      SELF,
    );
    expect(e).toMatchObject({ type: MessageEntity_Type.MENTION_NAME, userId: 0n });
  });

  it('drops what the proto cannot store, marks what it does not know', () => {
    const got = inputEntities(
      [
        { _: 'messageEntityCustomEmoji', ...span, document_id: 1n },
        { _: 'messageEntityBankCard', ...span },
        { _: 'messageEntityUnknown', ...span },
        { _: 'messageEntitySomethingNew', ...span },
      ],
      SELF,
    );
    expect(got).toEqual([{ type: MessageEntity_Type.UNSPECIFIED, ...span, ...blank }]);
  });

  it('no entities', () => {
    expect(inputEntities(undefined, SELF)).toEqual([]);
  });
});

describe('replyToMsgIdOf', () => {
  const peer = { _: 'inputPeerUser', user_id: 5n, access_hash: 1n };

  it('reads the layer’s reply_to and older layers’ reply_to_msg_id', () => {
    expect(replyToMsgIdOf({ _: 'messages.sendMessage', peer })).toBe(0);
    expect(replyToMsgIdOf({ _: 'messages.sendMessage', peer, reply_to_msg_id: 12 })).toBe(12);
    expect(
      replyToMsgIdOf({
        _: 'messages.sendMessage',
        peer,
        reply_to: { _: 'inputReplyToMessage', reply_to_msg_id: 13, quote_text: 'q', quote_offset: 0 },
      }),
    ).toBe(13);
    expect(
      replyToMsgIdOf({
        _: 'messages.sendMessage',
        peer,
        reply_to: { _: 'inputReplyToMessage', reply_to_msg_id: 14, reply_to_peer_id: { ...peer } },
      }),
    ).toBe(14);
  });

  it('refuses replies Tern cannot store', () => {
    const refused = (reply_to: object) => () => replyToMsgIdOf({ _: 'messages.sendMessage', peer, reply_to });
    expect(refused({ _: 'inputReplyToStory', peer, story_id: 1 })).toThrow('REPLY_MESSAGE_ID_INVALID');
    expect(refused({ _: 'inputReplyToMessage', reply_to_msg_id: 0 })).toThrow('REPLY_MESSAGE_ID_INVALID');
    expect(
      refused({
        _: 'inputReplyToMessage',
        reply_to_msg_id: 3,
        reply_to_peer_id: { _: 'inputPeerChat', chat_id: 9n },
      }),
    ).toThrow('REPLY_MESSAGE_ID_INVALID');
  });
});
