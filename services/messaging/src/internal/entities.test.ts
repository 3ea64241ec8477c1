import { MessageEntity_Type, type MessageEntity } from '../../../shared/src/gen/tern/common/v1/message';
import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import type { BoxMessage } from '../storage/boxes';
import {
  MAX_ENTITIES,
  checkEntities,
  checkedEntities,
  normalizeUrl,
  replyTarget,
  sameEntities,
} from './entities';

const entity = (e: Partial<MessageEntity>): MessageEntity => ({
  type: MessageEntity_Type.BOLD,
  offset: 0,
  length: 1,
  url: '',
  userId: 0n,
  language: '',
  ...e,
});

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
};

describe('checkEntities', () => {
  it('keeps valid entities of every type', () => {
    const types = Object.values(MessageEntity_Type).filter(
      (t): t is MessageEntity_Type =>
        typeof t === 'number' &&
        t !== MessageEntity_Type.UNSPECIFIED &&
        t !== MessageEntity_Type.UNRECOGNIZED,
    );
    const list = types.map((type) =>
      entity({
        type,
        length: 5,
        ...(type === MessageEntity_Type.TEXT_URL ? { url: 'https://example.com' } : {}),
        ...(type === MessageEntity_Type.MENTION_NAME ? { userId: 5n } : {}),
        ...(type === MessageEntity_Type.PRE ? { language: 'ts' } : {}),
      }),
    );
    expect(checkEntities('hello', list)).toEqual(list);
  });

  it('counts UTF-16 code units', () => {
    // '😀' is two UTF-16 code units: 'a😀b' is 4 long.
    expect(checkEntities('a😀b', [entity({ offset: 1, length: 3 })])).toHaveLength(1);
    expect(code(() => checkEntities('a😀b', [entity({ offset: 1, length: 4 })]))).toMatch(
      'ENTITY_BOUNDS_INVALID',
    );
  });

  it.each([
    ['negative offset', { offset: -1 }],
    ['negative length', { length: -1 }],
    ['past the end', { offset: 3, length: 3 }],
    ['starting after the end', { offset: 6, length: 0 }],
  ])('ENTITY_BOUNDS_INVALID: %s', (_, e) => {
    expect(code(() => checkEntities('hello', [entity(e)]))).toMatch('ENTITY_BOUNDS_INVALID');
  });

  it('drops empty spans and clears fields of other types', () => {
    expect(checkEntities('hello', [entity({ length: 0 })])).toEqual([]);
    expect(checkEntities('hello', [entity({ url: 'x', userId: 3n, language: 'c' })])).toEqual([entity({})]);
  });

  it.each([
    ['an unspecified type', entity({ type: MessageEntity_Type.UNSPECIFIED })],
    ['an unrecognized type', entity({ type: 99 as MessageEntity_Type })],
    ['a text URL without a URL', entity({ type: MessageEntity_Type.TEXT_URL })],
    ['a javascript: URL', entity({ type: MessageEntity_Type.TEXT_URL, url: 'javascript:alert(1)' })],
    ['a mention of user 0', entity({ type: MessageEntity_Type.MENTION_NAME })],
    ['a long pre language', entity({ type: MessageEntity_Type.PRE, language: 'x'.repeat(65) })],
  ])('MESSAGE_ENTITY_INVALID: %s', (_, e) => {
    expect(code(() => checkEntities('hello', [e]))).toMatch('MESSAGE_ENTITY_INVALID');
  });

  it('caps the number of entities', () => {
    expect(
      checkEntities(
        'hello',
        Array.from({ length: MAX_ENTITIES }, () => entity({})),
      ),
    ).toHaveLength(MAX_ENTITIES);
    expect(
      code(() =>
        checkEntities(
          'hello',
          Array.from({ length: MAX_ENTITIES + 1 }, () => entity({})),
        ),
      ),
    ).toMatch('ENTITIES_TOO_LONG');
  });
});

describe('normalizeUrl', () => {
  it.each([
    ['https://example.com/a?b=c', 'https://example.com/a?b=c'],
    ['http://example.com', 'http://example.com'],
    ['example.com/x', 'http://example.com/x'],
    ['tg://resolve?domain=x', 'tg://resolve?domain=x'],
  ])('%s', (raw, url) => expect(normalizeUrl(raw)).toBe(url));

  it.each([
    '',
    'javascript:alert(1)',
    'ftp://example.com',
    'file:///etc/passwd',
    'http://',
    'not a url',
    'localhost',
  ])('refuses %j', (raw) => expect(normalizeUrl(raw)).toBeUndefined());
});

describe('checkedEntities', () => {
  const user = (id: bigint, deleted = false) => ({ id, deleted }) as User;
  const users = async (_viewer: bigint, ids: bigint[]) =>
    [user(5n), user(6n, true)].filter((u) => ids.includes(u.id));

  it('accepts mentions of users the sender sees', async () => {
    const e = [entity({ type: MessageEntity_Type.MENTION_NAME, userId: 5n })];
    await expect(checkedEntities(1n, 'hello', e, users)).resolves.toEqual(e);
  });

  it.each([
    ['unknown', 7n],
    ['deleted', 6n],
  ])('refuses a mention of a %s user', async (_, userId) => {
    const e = [entity({ type: MessageEntity_Type.MENTION_NAME, userId })];
    await expect(checkedEntities(1n, 'hello', e, users)).rejects.toThrow('MESSAGE_ENTITY_INVALID');
  });
});

describe('replyTarget', () => {
  const box = (id: number, peer: string) => ({ id, peer }) as BoxMessage;
  const get = async (_owner: bigint, ids: number[]) =>
    [box(3, 'u5'), box(4, 'c9')].filter((m) => ids.includes(m.id));

  it('finds the message in the dialog', async () => {
    await expect(replyTarget(1n, 'u5', 3, get)).resolves.toMatchObject({ id: 3 });
    await expect(replyTarget(1n, 'c9', 4, get)).resolves.toMatchObject({ id: 4 });
  });

  it.each([
    ['missing', 'u5', 8],
    ['in another dialog', 'u5', 4],
    ['negative', 'u5', -3],
  ])('REPLY_MESSAGE_ID_INVALID: %s', async (_, peer, id) => {
    await expect(replyTarget(1n, peer, id, get)).rejects.toThrow('REPLY_MESSAGE_ID_INVALID');
  });
});

describe('sameEntities', () => {
  it('compares every field, user ids included', () => {
    const a = [entity({ type: MessageEntity_Type.MENTION_NAME, userId: 5n })];
    expect(sameEntities(a, [entity({ type: MessageEntity_Type.MENTION_NAME, userId: 5n })])).toBe(true);
    expect(sameEntities(a, [entity({ type: MessageEntity_Type.MENTION_NAME, userId: 6n })])).toBe(false);
    expect(sameEntities(a, [])).toBe(false);
  });
});
