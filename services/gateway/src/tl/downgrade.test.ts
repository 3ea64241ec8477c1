import fc from 'fast-check';
import { Api } from 'telegram';
import { BinaryReader } from 'telegram/extensions';
import { BinaryReader as TeleprotoReader } from 'teleproto/extensions';
// GramJS 1.x, the client of the oldest held layer (131)
import { BinaryReader as BinaryReader131 } from 'telegram-layer-131/extensions';
import type { TlObject } from './codec';
import {
  CONSTRUCTOR_FALLBACKS,
  downgradeObject,
  encodeForLayer,
  encodeResultForLayer,
  TYPE_FALLBACKS,
} from './downgrade';
import { TlDowngradeError, UnsupportedLayerError } from './errors';
import { loadTlRegistry } from './registry';
import { SchemaArbitrary } from './testing';

const registry = loadTlRegistry();
const newest = registry.forLayer(registry.newestLayer);
const l198 = registry.forLayer(198);

/** A user shaped like the newest layer, with flags2 fields that layer 198 does not have. */
const user227 = {
  _: 'user',
  bot: true,
  bot_info_version: 3,
  bot_forum_view: true, // added after 198
  id: 777n,
  access_hash: -5n,
  first_name: 'Ada',
  username: 'ada',
  send_paid_messages_stars: 10n, // added after 198
  bot_active_users: 5,
};

describe('downgrade to older layers', () => {
  it('the newest layer really differs from 198 for user (else this suite proves nothing)', () => {
    expect(newest.byName('user')!.id).not.toBe(l198.byName('user')!.id);
    expect(newest.byName('user')!.params.some((p) => p.name === 'send_paid_messages_stars')).toBe(true);
    expect(l198.byName('user')!.params.some((p) => p.name === 'send_paid_messages_stars')).toBe(false);
  });

  it('encodes a user with post-198 fields for 198 so that GramJS reads it', () => {
    const bytes = encodeForLayer(user227, 198);
    expect(bytes.readUInt32LE(0)).toBe(l198.byName('user')!.id);
    const theirs = new BinaryReader(bytes).tgReadObject() as Api.User;
    expect(theirs).toBeInstanceOf(Api.User);
    expect(theirs.id.toString()).toBe('777');
    expect(theirs.accessHash!.toString()).toBe('-5');
    expect(theirs.firstName).toBe('Ada');
    expect(theirs.bot).toBe(true);
    expect(theirs.botInfoVersion).toBe(3);
    expect(theirs.botActiveUsers).toBe(5);
    expect(Buffer.from(theirs.getBytes()).equals(bytes)).toBe(true);
    const ours = l198.decode(bytes);
    expect(ours).not.toHaveProperty('send_paid_messages_stars');
    expect(ours).toMatchObject({ _: 'user', id: 777n, bot: true, username: 'ada' });
  });

  it('converts a field whose type changed (user.stories_max_id: RecentStory → int)', () => {
    const withStory = { ...user227, stories_max_id: { _: 'recentStory', live: true, max_id: 9 } };
    expect(l198.decode(encodeForLayer(withStory, 198)).stories_max_id).toBe(9);
    const noMax = { ...user227, stories_max_id: { _: 'recentStory', live: true } };
    expect(l198.decode(encodeForLayer(noMax, 198))).not.toHaveProperty('stories_max_id');
  });

  it('encodes the same user for 214 so that teleproto (a layer-214 client) reads it', () => {
    const bytes = encodeForLayer(user227, 214);
    const theirs = new TeleprotoReader(bytes).tgReadObject() as { className: string; getBytes(): Buffer };
    expect(theirs.className).toBe('User');
    expect(Buffer.from(theirs.getBytes()).equals(bytes)).toBe(true);
  });

  it('leaves out an optional field whose constructor the target lacks and has no fallback for', () => {
    expect(l198.byName('peerColorCollectible')).toBeUndefined();
    const collectible = {
      ...user227,
      color: {
        _: 'peerColorCollectible',
        collectible_id: 1n,
        gift_emoji_id: 2n,
        background_emoji_id: 3n,
        accent_color: 4,
        colors: [5],
      },
    };
    expect(newest.encode(collectible).length).toBeGreaterThan(0); // valid in the newest layer
    expect(l198.decode(encodeForLayer(collectible, 198))).not.toHaveProperty('color');
  });

  it('encodes the same object unchanged for the newest layer', () => {
    expect(encodeForLayer(user227, registry.newestLayer).equals(newest.encode(user227))).toBe(true);
  });

  it('replaces or drops constructors the target lacks, following the fallback tables', () => {
    expect(l198.byName('messageEntityFormattedDate')).toBeUndefined();
    expect(l198.byName('messageMediaToDo')).toBeUndefined();
    const msg = {
      _: 'message',
      id: 1,
      peer_id: { _: 'peerUser', user_id: 1n },
      date: 1,
      message: 'hello',
      from_rank: 'admin', // added after 198: dropped
      media: {
        _: 'messageMediaToDo',
        todo: { _: 'todoList', title: { _: 'textWithEntities', text: 't', entities: [] }, list: [] },
      },
      entities: [
        { _: 'messageEntityBold', offset: 0, length: 1 },
        { _: 'messageEntityFormattedDate', offset: 1, length: 1, date: 5 },
      ],
    };
    const bytes = encodeForLayer(msg, 198);
    const back = l198.decode(bytes);
    expect(back.media).toEqual({ _: 'messageMediaUnsupported' });
    expect(back.entities).toEqual([{ _: 'messageEntityBold', offset: 0, length: 1 }]);
    expect(back).not.toHaveProperty('from_rank');
    const theirs = new BinaryReader(bytes).tgReadObject() as Api.Message;
    expect(theirs.media).toBeInstanceOf(Api.MessageMediaUnsupported);
    expect(theirs.entities).toHaveLength(1);
  });

  it('unwraps newer rich text into text the older layer has', () => {
    const text = {
      _: 'textConcat',
      texts: [
        { _: 'textSpoiler', text: { _: 'textMath', source: 'x²' } },
        { _: 'textPlain', text: '!' },
      ],
    };
    const out = downgradeObject({ _: 'pageBlockParagraph', text }, l198, newest);
    expect(out).toEqual({
      _: 'pageBlockParagraph',
      text: {
        _: 'textConcat',
        texts: [
          { _: 'textPlain', text: 'x²' },
          { _: 'textPlain', text: '!' },
        ],
      },
    });
  });

  it('throws TlDowngradeError when there is no way, UnsupportedLayerError for unknown layers', () => {
    expect(() => encodeForLayer({ _: 'inputMediaTodo', todo: { _: 'todoList' } }, 198)).toThrow(
      TlDowngradeError,
    );
    // required object field missing
    expect(() => encodeForLayer({ _: 'messages.sendMessage', message: '', random_id: 1n }, 198)).toThrow(
      TlDowngradeError,
    );
    expect(() => encodeForLayer(user227, registry.layers[0]! - 1)).toThrow(UnsupportedLayerError);
    try {
      encodeForLayer({ _: 'inputMediaTodo', todo: { _: 'todoList' } }, 198);
    } catch (e) {
      expect(e).toMatchObject({ at: 'inputMediaTodo', layer: 198 });
    }
  });

  it('never truncates an id: a 40-bit id has no form where ids are int (before layer 133)', () => {
    const oldest = registry.layers[0]!;
    expect(
      registry
        .forLayer(oldest)
        .byName('user')!
        .params.find((p) => p.name === 'id')!.type,
    ).toBe('int');
    expect(() => encodeForLayer({ ...user227, id: 1n << 40n }, oldest)).toThrow(TlDowngradeError);
    try {
      encodeForLayer({ _: 'peerUser', user_id: 1n << 40n }, oldest);
    } catch (e) {
      expect(e).toMatchObject({ at: 'peerUser.user_id', layer: oldest });
    }
    expect(registry.forLayer(oldest).decode(encodeForLayer(user227, oldest))).toMatchObject({ id: 777 });
    // any other number too large for the old int (a 3 GB document's size) is capped, not wrapped
    const doc = {
      _: 'document',
      id: 1n,
      access_hash: 2n,
      file_reference: Buffer.alloc(0),
      date: 0,
      mime_type: 'video/mp4',
      size: 3_000_000_000n,
      dc_id: 1,
      attributes: [],
    };
    expect(
      registry
        .forLayer(oldest)
        .byName('document')!
        .params.find((p) => p.name === 'size')!.type,
    ).toBe('int');
    expect(registry.forLayer(oldest).decode(encodeForLayer(doc, oldest))).toMatchObject({ size: 0x7fffffff });
  });

  it('answers users.getFullUser with the userFull itself where users.UserFull does not exist yet', () => {
    const oldest = registry.layers[0]!;
    const old = registry.forLayer(oldest);
    expect(old.methodResultType('users.getFullUser')).toBe('UserFull');
    const answer = {
      _: 'users.userFull',
      full_user: {
        _: 'userFull',
        id: 777n,
        about: 'hi',
        settings: { _: 'peerSettings' },
        notify_settings: { _: 'peerNotifySettings' },
        common_chats_count: 2,
      },
      chats: [],
      users: [{ _: 'user', id: 1n }, user227],
    };
    const bytes = encodeResultForLayer('users.getFullUser', answer, oldest);
    expect(old.decodeResult('users.getFullUser', bytes)).toMatchObject({
      _: 'userFull',
      about: 'hi',
      common_chats_count: 2,
      user: { _: 'user', id: 777, first_name: 'Ada' },
    });
    // and GramJS 1.x (that layer's client) reads it
    const theirs = new BinaryReader131(bytes).tgReadObject() as { user: { id: unknown }; getBytes(): Buffer };
    expect(String(theirs.user.id)).toBe('777');
    expect(Buffer.from(theirs.getBytes()).equals(bytes)).toBe(true);
  });

  it('answers help.getAppConfig with the JSON value alone where help.AppConfig does not exist yet', () => {
    const layer = registry.layers.filter((l) => !registry.forLayer(l).byName('help.appConfig')).pop()!;
    const answer = { _: 'help.appConfig', hash: 0, config: { _: 'jsonObject', value: [] } };
    const bytes = encodeResultForLayer('help.getAppConfig', answer, layer);
    expect(registry.forLayer(layer).decodeResult('help.getAppConfig', bytes)).toEqual({
      _: 'jsonObject',
      value: [],
    });
  });

  it('tells a between-layer client whose draftMessage is not proven that there is no draft', () => {
    // GramJS 2.22.2 announces layers up to 183; held are 181 and 184, whose draftMessage differ.
    const layer = 183;
    const draft = { _: 'draftMessage', message: 'half-written', date: 1_700_000_000 };
    const update = { _: 'updateDraftMessage', peer: { _: 'peerUser', user_id: 5n }, draft };
    expect(registry.unproven(layer)).toContain('draftMessage');
    const bytes = encodeForLayer(update, layer);
    expect(registry.forClientLayer(layer).decode(bytes)).toMatchObject({
      _: 'updateDraftMessage',
      draft: { _: 'draftMessageEmpty', date: 1_700_000_000 },
    });
  });

  it('keeps the table small and documented', () => {
    expect(Object.keys(CONSTRUCTOR_FALLBACKS).length + Object.keys(TYPE_FALLBACKS).length).toBeLessThan(25);
    // every replacement a fallback names exists in the oldest served layer
    const oldest = registry.forLayer(registry.layers[0]!);
    for (const fb of Object.values(TYPE_FALLBACKS)) {
      const r = fb({ _: 'x' });
      if (typeof r === 'object') expect(oldest.byName(r._)).toBeDefined();
    }
  });

  it('accepts the older (codec, obj) argument order', () => {
    expect(encodeForLayer(l198, user227).equals(encodeForLayer(user227, 198))).toBe(true);
    expect(encodeForLayer(true, 198)).toEqual(l198.encodeBool(true));
  });

  it('encodes method results typed by the target layer (Vector<User>)', () => {
    const bytes = encodeResultForLayer('users.getUsers', [user227, { _: 'userEmpty', id: 1n }], 198);
    expect(l198.decodeResult('users.getUsers', bytes)).toMatchObject([
      { _: 'user', id: 777n },
      { _: 'userEmpty', id: 1n },
    ]);
    const theirs = new BinaryReader(bytes).tgReadObject() as unknown as Api.TypeUser[];
    expect(theirs).toHaveLength(2);
  });

  // Property: random newest-layer objects become valid 198 objects that GramJS reads and writes
  // back to the same bytes, and valid 214 objects teleproto does the same with.
  it.each(['user', 'config', 'dcOption', 'chatFull'])(
    'random newest-layer %s objects downgrade for GramJS (198) and teleproto (214)',
    (name) => {
      const gen = new SchemaArbitrary(newest, { maxDepth: 1 });
      fc.assert(
        fc.property(gen.object(name), (obj: TlObject) => {
          let bytes: Buffer;
          try {
            bytes = encodeForLayer(obj, 198);
          } catch (e) {
            // constructors with no 198 form and no fallback are allowed to refuse, typed
            expect(e).toBeInstanceOf(TlDowngradeError);
            return;
          }
          const theirs = new BinaryReader(bytes).tgReadObject() as { getBytes(): Buffer };
          expect(Buffer.from(theirs.getBytes()).equals(bytes)).toBe(true);
          expect(l198.decode(bytes)._).toBe(name);
          // and for teleproto's layer 214
          const b214 = encodeForLayer(obj, 214);
          const t214 = new TeleprotoReader(b214).tgReadObject() as { getBytes(): Buffer };
          expect(Buffer.from(t214.getBytes()).equals(b214)).toBe(true);
        }),
        { numRuns: 40 },
      );
    },
  );
});
