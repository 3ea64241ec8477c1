/**
 * The channel service's handlers against the real Cassandra and NATS of the local stack.
 *
 * A throwaway keyspace gets the channel migrations (services/channel/migrations/dc); the service's
 * modules are wired in-process for a test-only DC (900..998) whose live-update streams are created
 * here and deleted at the end. The writer runs under an always-valid fence (ownership itself is
 * covered by box-ownership.test.ts); auth (profiles, usernames) and media are replaced by small
 * fakes, so the test exercises the channel store, the one-writer write path, rights and events.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Client } from 'cassandra-driver';
import { Metadata, type Server, type ServiceError } from '@grpc/grpc-js';
import type { Subscription } from 'nats';
import {
  adaptService,
  applyMigrations,
  channelOwnershipBucketsFor,
  Lifecycle,
  parseHostPort,
  type DcTopology,
  bindServer,
  createClient,
  createServer,
  errorDetailFrom,
  unary,
  type UnaryMethod,
  connectWithRetry,
  createCassandraClient,
  createLogger,
  ensureKeyspace,
  EventBus,
  loadMigrations,
  servicesDir,
  streamsFor,
  subjectsFor,
  TernError,
  mutualTls,
  PLAINTEXT,
  useTransportSecurity,
} from '../../services/shared/src';
import {
  ChannelParticipant_Role,
  ChannelServiceClient,
  ChannelServiceService,
  GetParticipantsRequest_Filter,
  type CreateChannelResponse,
  type ExportChannelInviteResponse,
  type GetChannelDialogsResponse,
  type GetChannelHistoryResponse,
  type GetFullChannelResponse,
  type GetUserChannelsResponse,
  type InputChannel,
  type SendChannelMessageResponse,
} from '../../services/shared/src/gen/tern/channel/v1/channel';
import { Channel } from '../../services/shared/src/gen/tern/common/v1/chat';
import {
  Document,
  InputDocument,
  InputFile,
  MessageMedia,
  Photo,
} from '../../services/shared/src/gen/tern/common/v1/media';
import type { RequestContext } from '../../services/shared/src/gen/tern/common/v1/context';
import type { User } from '../../services/shared/src/gen/tern/common/v1/user';
import { ChannelUpdateEvent, UserUpdateEvent } from '../../services/shared/src/gen/tern/events/v1/events';
import { channelHandlers } from '../../services/channel/src/api/channels';
import { channelCore, nextVersion } from '../../services/channel/src/api/core';
import { memberHandlers } from '../../services/channel/src/api/members';
import { messageHandlers } from '../../services/channel/src/api/messages';
import type { Profiles } from '../../services/channel/src/internal/profiles';
import { NO_BANS } from '../../services/channel/src/internal/rights';
import { UpdatePublisher } from '../../services/channel/src/producers/updates';
import { RawClients, routeChannels } from '../../services/channel/src/api/routing';
import { channelService } from '../../services/channel/src/service';
import { ChannelWriter } from '../../services/channel/src/storage/channel-writer';
import { channelDc } from '../../services/channel/src/storage/ids';
import { ChannelStore, type Stmt } from '../../services/channel/src/storage/store';
import { cassandraSettings, eventually, stack } from '../support/stack';

const log = createLogger({ level: 'error', base: { test: 'channel-service' } });
const DC = 900 + Math.floor(Math.random() * 99);

/** Random user ids homed in the test DC. */
const newUser = (): bigint => BigInt(randomBytes(5).readUIntBE(0, 5)) | 1n;

const ctxOf = (userId: bigint, authKeyId = 7n): RequestContext => ({
  authKeyId,
  sessionId: 1n,
  userId,
  dcId: DC,
  layer: 0,
  clientIp: '127.0.0.1',
  msgId: 0n,
});

/** Profiles of the test's users: every user known, homed in the test DC. */
const profiles: Profiles = {
  homes: (ids) => Promise.resolve(new Map(ids.map((id) => [id, DC]))),
  users: (viewer, ids) =>
    Promise.resolve(
      [...new Set(ids)].map((id): User => ({
        id,
        accessHash: 1n,
        firstName: `user${id % 1000n}`,
        lastName: '',
        username: '',
        phone: '',
        dcId: DC,
        isSelf: id === viewer,
        contact: false,
        mutualContact: false,
        deleted: false,
        bot: false,
      })),
    ),
};

/**
 * A request object with every scalar a test leaves out set to its proto default, so the generated
 * encoders (which expect complete messages) accept it. Only the fields the tests use are listed.
 */
function complete(req: object): object {
  const defaults: Record<string, unknown> = {
    title: '',
    about: '',
    broadcast: false,
    megagroup: false,
    randomId: 0n,
    message: '',
    entities: [],
    replyToMsgId: 0,
    silent: false,
    noWebpage: false,
    postAuthor: '',
    hash: 0n,
    maxId: 0,
    username: '',
    offsetDate: 0,
    limit: 0,
    only: [],
    expireDate: 0,
    usageLimit: 0,
    legacyRevokePermanent: false,
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(req)) out[k] = v;
  for (const [k, v] of Object.entries(defaults)) if (!(k in out)) out[k] = v;
  return out;
}

/** The Telegram error name a promise fails with. */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof TernError) return err.telegramName;
    throw err;
  }
  throw new Error('expected a failure');
}

describe('channel service (real Cassandra and NATS)', () => {
  const s = stack();
  const settings = cassandraSettings(s);
  const keyspace = `tern_test_ch_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  let ddl: Client;
  let db: Client;
  let bus: EventBus;
  let store: ChannelStore;
  let writer: ChannelWriter;
  const batches: { channelId: bigint; stmts: readonly Stmt[] }[] = [];
  const usernames = new Map<string, bigint>();
  const grants: { media: bigint; channelId: bigint }[] = [];
  let api: ReturnType<typeof channelHandlers> &
    ReturnType<typeof messageHandlers> &
    ReturnType<typeof memberHandlers>;
  /** The message handlers of a replica that has just started (nothing in memory yet). */
  let restarted: ReturnType<typeof messageHandlers>;
  const channelEvents: ChannelUpdateEvent[] = [];
  const userEvents: UserUpdateEvent[] = [];
  const subs: Subscription[] = [];
  const call = {} as never;

  beforeAll(async () => {
    ddl = createCassandraClient(settings);
    await connectWithRetry(ddl, 5);
    await ensureKeyspace(ddl, keyspace, { class: 'SimpleStrategy', replication_factor: 1 });
    db = createCassandraClient(settings, keyspace);
    await connectWithRetry(db, 5);
    const migrations = loadMigrations(servicesDir(), 'dc').filter((m) => m.service === 'channel');
    await applyMigrations(db, keyspace, migrations, log);

    bus = await EventBus.connect({ servers: s.natsUrl.split(','), name: 'test-channel-service', log });
    await bus.ensureStreams(streamsFor(DC).filter((x) => /_(USER|CHANNEL)_UPDATES$/.test(x.name)));
    const subjects = subjectsFor(DC);
    const chSub = bus.nc.subscribe(subjects.channelUpdatesAll);
    const userSub = bus.nc.subscribe(subjects.userUpdatesAll);
    subs.push(chSub, userSub);
    void (async () => {
      for await (const m of chSub) channelEvents.push(ChannelUpdateEvent.decode(m.data));
    })();
    void (async () => {
      for await (const m of userSub) userEvents.push(UserUpdateEvent.decode(m.data));
    })();

    store = new ChannelStore(db);
    writer = new ChannelWriter(store, () => ({ epoch: 1n, valid: () => true }));
    writer.onBatch = (channelId, stmts) => batches.push({ channelId, stmts });
    const core = channelCore({
      dcId: DC,
      store,
      writer,
      profiles,
      publisher: new UpdatePublisher(DC, bus, log),
      channelOf: {
        forDc: () => {
          throw new Error('single-DC test: no other DC');
        },
      },
      dcIds: [DC],
      setChannelUsername: (req) => {
        const holder = usernames.get(req.username.toLowerCase());
        if (req.username && holder !== undefined && holder !== req.channelId)
          return Promise.reject(new TernError('USERNAME_OCCUPIED'));
        if (!req.checkOnly) {
          if (req.previous) usernames.delete(req.previous.toLowerCase());
          if (req.username) usernames.set(req.username.toLowerCase(), req.channelId);
        }
        return Promise.resolve();
      },
      attach: (_ctx, input) =>
        input.kind?.$case === 'document'
          ? Promise.resolve(
              MessageMedia.create({
                kind: { $case: 'document', value: Document.create({ id: input.kind.value.id, dcId: DC }) },
              }),
            )
          : Promise.reject(new TernError('MEDIA_INVALID')),
      grant: (_ctx, media, channelId) => {
        grants.push({ media: media.kind?.value?.id ?? 0n, channelId });
        return Promise.resolve();
      },
      // Media's part (a photo per upload, granted to the channel) is tested in media's own suites.
      chatPhoto: (_ctx, file, channelId) => {
        grants.push({ media: file.id, channelId });
        return Promise.resolve(Photo.create({ id: file.id, accessHash: 5n, dcId: DC, date: 1 }));
      },
    });
    const handlers = { ...channelHandlers(core), ...messageHandlers(core), ...memberHandlers(core) };
    restarted = messageHandlers(core);
    // Every answer goes through the wire encoder, as over gRPC: a half-filled message fails here.
    api = Object.fromEntries(
      Object.entries(handlers).map(([name, fn]) => [
        name,
        async (req: unknown, c: never) => {
          const res = await (fn as (r: unknown, c: never) => Promise<unknown>)(req, c);
          (
            ChannelServiceService[name as keyof typeof ChannelServiceService].responseSerialize as (
              v: unknown,
            ) => Buffer
          )(res);
          return res;
        },
      ]),
    ) as typeof handlers;
  }, 60_000);

  afterAll(async () => {
    for (const sub of subs) sub.unsubscribe();
    for (const x of streamsFor(DC).filter((y) => /_(USER|CHANNEL)_UPDATES$/.test(y.name)))
      await bus?.jsm.streams.delete(x.name).catch(() => false);
    await bus?.close();
    await db?.shutdown();
    await ddl?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await ddl?.shutdown();
  });

  async function create(owner: bigint, megagroup: boolean, title = 'Test channel') {
    const res = await api.createChannel(
      {
        context: ctxOf(owner),
        title,
        about: 'about',
        broadcast: !megagroup,
        megagroup,
        randomId: randomBytes(8).readBigInt64LE(),
      },
      call,
    );
    const ch = res.channel!;
    return { id: ch.id, input: { channelId: ch.id, accessHash: ch.accessHash } satisfies InputChannel, res };
  }

  /** Makes a channel public so that anyone may join it. */
  async function makePublic(owner: bigint, input: InputChannel) {
    const name = `t${randomBytes(6).toString('hex')}`;
    await api.updateChannelUsername({ context: ctxOf(owner), channel: input, username: name }, call);
    return name;
  }

  const sendRequest = (
    user: bigint,
    input: InputChannel,
    text: string,
    randomId = randomBytes(8).readBigInt64LE(),
  ) => ({
    context: ctxOf(user),
    channel: input,
    message: text,
    randomId,
    entities: [],
    replyToMsgId: 0,
    silent: false,
    noWebpage: false,
    postAuthor: 'Author',
  });
  const send = (user: bigint, input: InputChannel, text: string, randomId?: bigint) =>
    api.sendChannelMessage(sendRequest(user, input, text, randomId), call);

  const ptsOf = (r: Awaited<ReturnType<typeof send>>) =>
    r.updates!.updates.find((u) => u.kind?.$case === 'newChannelMessage')!.pts;

  it('creates a supergroup: an id of this DC below 2^39, the creator, message 1 at pts 1', async () => {
    const owner = newUser();
    const { id, res, input } = await create(owner, true);
    expect(channelDc(id)).toBe(DC);
    expect(id < 1n << 39n).toBe(true);
    expect(id.toString().startsWith('100')).toBe(false);
    expect(res.channel).toMatchObject({ megagroup: true, creator: true, left: false, participantsCount: 1 });
    const created = res.updates!.updates.find((u) => u.kind?.$case === 'newChannelMessage')!;
    expect(created.pts).toBe(1);
    const history = await api.getChannelHistory({ context: ctxOf(owner), channel: input, hash: 0n }, call);
    expect(history.page!.messages.map((m) => m.action?.kind?.$case)).toEqual(['channelCreate']);
    expect(history.page!.pts).toBe(1);
    const mine = await api.getUserChannels({ userId: owner }, call);
    expect(mine.channels).toEqual([{ channelId: id, dcId: DC }]);
  });

  it('joins several users, posts with contiguous pts, idempotent random_id, history and difference', async () => {
    const owner = newUser();
    const members = [newUser(), newUser(), newUser()];
    const { id, input } = await create(owner, true);
    // A private channel is joined by invite link only.
    expect(await failure(api.joinChannel({ context: ctxOf(members[0]!), channel: input }, call))).toBe(
      'CHANNEL_PRIVATE',
    );
    await makePublic(owner, input);
    for (const m of members) await api.joinChannel({ context: ctxOf(m, 99n), channel: input }, call);
    const full = await api.getFullChannel({ context: ctxOf(owner), channel: input }, call);
    expect(full.fullChat!.participantsCount).toBe(4);
    // The member's home DC learnt the membership and told the user's other sessions.
    await eventually(async () =>
      userEvents.some((e) => e.userId === members[0] && e.update?.kind?.$case === 'channel')
        ? true
        : undefined,
    );
    expect(userEvents.find((e) => e.userId === members[0])!.excludeAuthKeyId).toBe(99n);

    const posts = [];
    for (let i = 0; i < 12; i++) posts.push(await send(members[i % 3]!, input, `hello ${i}`));
    expect(posts.map(ptsOf)).toEqual(Array.from({ length: 12 }, (_, i) => i + 2));
    expect(posts.map((p) => p.message!.id)).toEqual(Array.from({ length: 12 }, (_, i) => i + 2));
    expect(posts[0]!.message!.out).toBe(true);

    // A retry with the same random_id returns the first post and writes nothing.
    const rid = 4242n;
    const first = await send(members[0]!, input, 'once', rid);
    const again = await send(members[0]!, input, 'once', rid);
    expect(again.message!.id).toBe(first.message!.id);
    expect(ptsOf(again)).toBe(ptsOf(first));
    // The same random_id of another sender is another message.
    const other = await send(members[1]!, input, 'once', rid);
    expect(other.message!.id).toBe(first.message!.id + 1);
    const head = ptsOf(other);

    // Live events: one per post, on the channel's subject, with the author's profile.
    await eventually(async () =>
      channelEvents.some((e) => e.channelId === id && e.update?.pts === head) ? true : undefined,
    );
    const events = channelEvents.filter(
      (e) => e.channelId === id && e.update?.kind?.$case === 'newChannelMessage',
    );
    expect(new Set(events.map((e) => e.update!.pts)).size).toBe(events.length);
    expect(events[0]!.users.length).toBeGreaterThan(0);
    expect(events[0]!.channels[0]!.id).toBe(id);

    // History windows.
    const newest = await api.getChannelHistory(
      {
        context: ctxOf(members[2]!),
        channel: input,
        window: { offsetId: 0, offsetDate: 0, addOffset: 0, limit: 5, maxId: 0, minId: 0 },
        hash: 0n,
      },
      call,
    );
    expect(newest.page!.messages.map((m) => m.id)).toEqual([15, 14, 13, 12, 11]);
    expect(newest.page!.pts).toBe(head);
    const older = await api.getChannelHistory(
      {
        context: ctxOf(members[2]!),
        channel: input,
        window: { offsetId: 5, offsetDate: 0, addOffset: 0, limit: 10, maxId: 0, minId: 0 },
        hash: 0n,
      },
      call,
    );
    expect(older.page!.messages.map((m) => m.id)).toEqual([4, 3, 2, 1]);
    const around = await api.getChannelHistory(
      {
        context: ctxOf(members[2]!),
        channel: input,
        window: { offsetId: 8, offsetDate: 0, addOffset: -2, limit: 4, maxId: 0, minId: 0 },
        hash: 0n,
      },
      call,
    );
    expect(around.page!.messages.map((m) => m.id)).toEqual([9, 8, 7, 6]);

    // Difference: empty at the head, the events after a pts, paged by limit.
    const empty = await api.getChannelDifference(
      { context: ctxOf(members[0]!), channel: input, pts: head, limit: 100, force: false },
      call,
    );
    expect(empty.result?.$case).toBe('empty');
    const diff = await api.getChannelDifference(
      { context: ctxOf(members[0]!), channel: input, pts: 5, limit: 100, force: false },
      call,
    );
    expect(diff.result?.$case).toBe('difference');
    if (diff.result?.$case !== 'difference') throw new Error('unreachable');
    expect(diff.result.value.newMessages.map((m) => m.id)).toEqual(
      Array.from({ length: head - 5 }, (_, i) => i + 6),
    );
    expect(diff.result.value.pts).toBe(head);
    expect(diff.result.value.final).toBe(true);
    const paged = await api.getChannelDifference(
      { context: ctxOf(members[0]!), channel: input, pts: 1, limit: 3, force: false },
      call,
    );
    if (paged.result?.$case !== 'difference') throw new Error('expected a difference');
    expect(paged.result.value.pts).toBe(4);
    expect(paged.result.value.final).toBe(false);

    // An edit and a deletion come back as other updates with their pts.
    await api.editChannelMessage(
      {
        context: ctxOf(members[0]!),
        channel: input,
        id: 2,
        message: 'edited',
        hasMessage: true,
        entities: [],
        noWebpage: false,
      },
      call,
    );
    const del = await api.deleteChannelMessages(
      { context: ctxOf(members[1]!), channel: input, ids: [3] },
      call,
    );
    expect(del.affected).toEqual({ pts: head + 2, ptsCount: 1 });
    const after = await api.getChannelDifference(
      { context: ctxOf(members[0]!), channel: input, pts: head, limit: 100, force: false },
      call,
    );
    if (after.result?.$case !== 'difference') throw new Error('expected a difference');
    expect(after.result.value.otherUpdates.map((u) => [u.kind?.$case, u.pts])).toEqual([
      ['editChannelMessage', head + 1],
      ['deleteChannelMessages', head + 2],
    ]);

    // Too long: the log before the client's pts is gone.
    await db.execute('UPDATE channels SET log_floor = ? WHERE channel_id = ?', [10, id.toString()], {
      prepare: true,
    });
    const tooLong = await api.getChannelDifference(
      { context: ctxOf(members[0]!), channel: input, pts: 3, limit: 10, force: false },
      call,
    );
    expect(tooLong.result?.$case).toBe('tooLong');
    if (tooLong.result?.$case !== 'tooLong') throw new Error('unreachable');
    expect(tooLong.result.value.messages[0]!.id).toBe(other.message!.id);
    expect(tooLong.result.value.dialog!.topMessage).toBe(other.message!.id);
  }, 60_000);

  it('keeps dialogs and read state at the member home DC with O(1) unread counts', async () => {
    const owner = newUser();
    const reader = newUser();
    const { id, input } = await create(owner, false, 'Broadcast');
    await makePublic(owner, input);
    await api.joinChannel({ context: ctxOf(reader), channel: input }, call);
    for (let i = 0; i < 5; i++) await send(owner, input, `post ${i}`);
    const before = await api.getChannelDialogs(
      { context: ctxOf(reader), offsetDate: 0, limit: 10, only: [] },
      call,
    );
    expect(before.dialogs).toHaveLength(1);
    expect(before.dialogs[0]).toMatchObject({ topMessage: 6, unreadCount: 6, readInboxMaxId: 0 });
    expect(before.messages[0]!.post).toBe(true);
    await api.readChannelHistory({ context: ctxOf(reader, 55n), channel: input, maxId: 4 }, call);
    const after = await api.getChannelDialogs(
      { context: ctxOf(reader), offsetDate: 0, limit: 10, only: [] },
      call,
    );
    expect(after.dialogs[0]).toMatchObject({ readInboxMaxId: 4, unreadCount: 2 });
    await eventually(async () =>
      userEvents.some(
        (e) =>
          e.userId === reader &&
          e.update?.kind?.$case === 'readChannelInbox' &&
          e.update.kind.value.maxId === 4 &&
          e.excludeAuthKeyId === 55n,
      )
        ? true
        : undefined,
    );
    // Leaving drops the channel from the list and from the gateway's subscriptions.
    await api.leaveChannel({ context: ctxOf(reader), channel: input }, call);
    expect(
      (await api.getChannelDialogs({ context: ctxOf(reader), offsetDate: 0, limit: 10, only: [] }, call))
        .dialogs,
    ).toHaveLength(0);
    expect(
      (await api.getUserChannels({ userId: reader }, call)).channels.map((c) => c.channelId),
    ).not.toContain(id);
  });

  it("raises a supergroup's read_outbox_max_id when any member reads, and tells the members", async () => {
    const owner = newUser();
    const writer = newUser();
    const reader = newUser();
    const { id, input } = await create(owner, true, 'Read receipts');
    await makePublic(owner, input);
    for (const u of [writer, reader]) await api.joinChannel({ context: ctxOf(u), channel: input }, call);
    const posted: number[] = [];
    for (let i = 0; i < 3; i++) posted.push((await send(writer, input, `m ${i}`)).message!.id);
    const full = async (u: bigint) =>
      (await api.getFullChannel({ context: ctxOf(u), channel: input }, call)).fullChat!.readOutboxMaxId;
    expect(await full(writer)).toBe(0);

    await api.readChannelHistory({ context: ctxOf(reader), channel: input, maxId: posted[1]! }, call);
    expect(await full(writer)).toBe(posted[1]);
    const dialogs = await api.getChannelDialogs(
      { context: ctxOf(writer), offsetDate: 0, limit: 10, only: [] },
      call,
    );
    expect(dialogs.dialogs.find((x) => x.peer?.kind?.value === id)?.readOutboxMaxId).toBe(posted[1]);
    await eventually(async () =>
      channelEvents.some(
        (e) =>
          e.channelId === id &&
          e.update?.kind?.$case === 'readChannelOutbox' &&
          e.update.kind.value.maxId === posted[1],
      )
        ? true
        : undefined,
    );
    // A lower read (another member behind) never lowers it, and announces nothing.
    await api.readChannelHistory({ context: ctxOf(owner), channel: input, maxId: posted[0]! }, call);
    expect(await full(writer)).toBe(posted[1]);
    expect(
      channelEvents.filter((e) => e.channelId === id && e.update?.kind?.$case === 'readChannelOutbox'),
    ).toHaveLength(1);
  });

  it('enforces admin rights and bans with Telegram errors', async () => {
    const owner = newUser();
    const [admin, member, other] = [newUser(), newUser(), newUser()];
    const broadcast = await create(owner, false, 'News');
    await makePublic(owner, broadcast.input);
    await api.joinChannel({ context: ctxOf(member), channel: broadcast.input }, call);
    expect(await failure(send(member, broadcast.input, 'hi'))).toBe('CHAT_ADMIN_REQUIRED');

    const group = await create(owner, true, 'Group');
    const g = group.input;
    await makePublic(owner, g);
    for (const u of [admin, member]) await api.joinChannel({ context: ctxOf(u), channel: g }, call);
    const rights = (
      r: Partial<Record<'banUsers' | 'addAdmins' | 'deleteMessages' | 'changeInfo', boolean>>,
    ) => ({
      changeInfo: false,
      postMessages: false,
      editMessages: false,
      deleteMessages: false,
      banUsers: false,
      inviteUsers: false,
      pinMessages: false,
      addAdmins: false,
      anonymous: false,
      manageCall: false,
      other: false,
      ...r,
    });
    const promote = (actor: bigint, target: bigint, r: ReturnType<typeof rights>) =>
      api.editAdmin(
        {
          context: ctxOf(actor),
          channel: g,
          user: { kind: { $case: 'user', value: { userId: target, accessHash: 0n } } },
          adminRights: r,
          rank: '',
        },
        call,
      );
    expect(await failure(promote(member, admin, rights({ banUsers: true })))).toBe('CHAT_ADMIN_REQUIRED');
    expect(await failure(promote(owner, other, rights({ banUsers: true })))).toBe('USER_NOT_PARTICIPANT');
    await promote(owner, admin, rights({ banUsers: true, addAdmins: true }));
    expect(await failure(promote(admin, member, rights({ changeInfo: true })))).toBe('RIGHT_FORBIDDEN');
    const admins = await api.getParticipants(
      {
        context: ctxOf(member),
        channel: g,
        filter: GetParticipantsRequest_Filter.ADMINS,
        q: '',
        offset: 0,
        limit: 10,
        hash: 0n,
      },
      call,
    );
    expect(new Set(admins.participants.map((p) => p.userId))).toEqual(new Set([owner, admin]));
    expect(admins.count).toBe(2);

    // Messages: authors edit their own; deleting another's needs the right.
    const mine = await send(member, g, 'my text');
    expect(
      await failure(
        api.editChannelMessage(
          {
            context: ctxOf(admin),
            channel: g,
            id: mine.message!.id,
            message: 'x',
            hasMessage: true,
            entities: [],
            noWebpage: false,
          },
          call,
        ),
      ),
    ).toBe('MESSAGE_AUTHOR_REQUIRED');
    expect(
      await failure(
        api.editChannelMessage(
          {
            context: ctxOf(member),
            channel: g,
            id: mine.message!.id,
            message: 'my text',
            hasMessage: true,
            entities: [],
            noWebpage: false,
          },
          call,
        ),
      ),
    ).toBe('MESSAGE_NOT_MODIFIED');
    const adminPost = await send(admin, g, 'admin text');
    expect(
      await failure(
        api.deleteChannelMessages({ context: ctxOf(member), channel: g, ids: [adminPost.message!.id] }, call),
      ),
    ).toBe('MESSAGE_DELETE_FORBIDDEN');

    // Restrict, then ban.
    const ban = (actor: bigint, target: bigint, r: { viewMessages?: boolean; sendMessages?: boolean }) =>
      api.editBanned(
        {
          context: ctxOf(actor),
          channel: g,
          participant: { kind: { $case: 'user', value: { userId: target, accessHash: 0n } } },
          bannedRights: { ...NO_BANS, ...r },
        },
        call,
      );
    expect(await failure(ban(member, admin, { sendMessages: true }))).toBe('CHAT_ADMIN_REQUIRED');
    expect(await failure(ban(admin, owner, { sendMessages: true }))).toBe('USER_ADMIN_INVALID');
    await ban(admin, member, { sendMessages: true });
    expect(await failure(send(member, g, 'muted'))).toBe('USER_BANNED_IN_CHANNEL');
    await ban(admin, member, { viewMessages: true });
    expect(await failure(send(member, g, 'gone'))).toBe('CHANNEL_PRIVATE');
    expect(await failure(api.joinChannel({ context: ctxOf(member), channel: g }, call))).toBe(
      'USER_BANNED_IN_CHANNEL',
    );
    const kicked = await api.getParticipants(
      {
        context: ctxOf(admin),
        channel: g,
        filter: GetParticipantsRequest_Filter.KICKED,
        q: '',
        offset: 0,
        limit: 10,
        hash: 0n,
      },
      call,
    );
    expect(kicked.participants.map((p) => [p.userId, p.role])).toEqual([
      [member, ChannelParticipant_Role.BANNED],
    ]);
    expect(
      await failure(
        api.getParticipant(
          {
            context: ctxOf(admin),
            channel: g,
            participant: { kind: { $case: 'user', value: { userId: other, accessHash: 0n } } },
          },
          call,
        ),
      ),
    ).toBe('USER_NOT_PARTICIPANT');
    const full = await api.getFullChannel({ context: ctxOf(owner), channel: g }, call);
    expect(full.fullChat).toMatchObject({ participantsCount: 2, adminsCount: 2, kickedCount: 1 });

    // Slow mode.
    expect(await failure(api.toggleSlowMode({ context: ctxOf(admin), channel: g, seconds: 7 }, call))).toBe(
      'SECONDS_INVALID',
    );
    await api.toggleSlowMode({ context: ctxOf(admin), channel: g, seconds: 60 }, call);
    await api.joinChannel({ context: ctxOf(other), channel: g }, call);
    await send(other, g, 'first');
    expect(await failure(send(other, g, 'second'))).toMatch(/^SLOWMODE_WAIT_\d+$/);
    // The wait holds on a replica that knows nothing of the first post (restart, takeover).
    const again = restarted.sendChannelMessage(sendRequest(other, g, 'third'), call);
    expect(await failure(again)).toMatch(/^SLOWMODE_WAIT_\d+$/);
    // The admin log recorded the changes.
    const adminLog = await api.getAdminLog(
      { context: ctxOf(owner), channel: g, q: '', maxId: 0n, minId: 0n, limit: 50 },
      call,
    );
    expect(adminLog.events.map((e) => e.action?.$case)).toEqual(
      expect.arrayContaining([
        'participantAdminChanged',
        'participantBannedChanged',
        'slowModeSeconds',
        'changedUsername',
      ]),
    );
  }, 60_000);

  it('refuses a 501st channel (CHANNELS_TOO_MUCH), counted at the member home DC', async () => {
    const owner = newUser();
    const busy = newUser();
    const { input } = await create(owner, true, 'One too many');
    await makePublic(owner, input);
    // One after another: all 500 rows are in the member's one partition, and 500 concurrent
    // lightweight transactions on one partition time out in Paxos contention on a loaded machine
    // (a real member's memberships change one at a time).
    for (let i = 0; i < 500; i++)
      await store.recordMembership({
        userId: busy,
        channelId: BigInt(i + 1) << 10n,
        dcId: 0,
        member: true,
        version: 1n,
        channel: Channel.create({ id: BigInt(i + 1) << 10n }),
        date: 1,
      });
    expect(await failure(api.joinChannel({ context: ctxOf(busy), channel: input }, call))).toBe(
      'CHANNELS_TOO_MUCH',
    );
  }, 60_000);

  it('joins a private channel by invite link; the hash names the home DC', async () => {
    const owner = newUser();
    const guest = newUser();
    const { input } = await create(owner, true, 'Private');
    const invite = await api.exportChannelInvite(
      {
        context: ctxOf(owner),
        channel: input,
        expireDate: 0,
        usageLimit: 0,
        legacyRevokePermanent: false,
        title: '',
      },
      call,
    );
    expect(invite.hash.startsWith(`${DC}.`)).toBe(true);
    expect(await failure(api.checkChannelInvite({ context: ctxOf(guest), hash: 'nonsense' }, call))).toBe(
      'INVITE_HASH_INVALID',
    );
    const preview = await api.checkChannelInvite({ context: ctxOf(guest), hash: invite.hash }, call);
    expect(preview).toMatchObject({ title: 'Private', megagroup: true, participantsCount: 1 });
    await api.importChannelInvite({ context: ctxOf(guest), hash: invite.link }, call);
    expect(await failure(api.importChannelInvite({ context: ctxOf(guest), hash: invite.hash }, call))).toBe(
      'USER_ALREADY_PARTICIPANT',
    );
    expect(
      (await api.checkChannelInvite({ context: ctxOf(guest), hash: invite.hash }, call)).already?.id,
    ).toBe(input.channelId);
    const limited = await api.exportChannelInvite(
      {
        context: ctxOf(owner),
        channel: input,
        expireDate: 0,
        usageLimit: 1,
        legacyRevokePermanent: false,
        title: 'one',
      },
      call,
    );
    await api.importChannelInvite({ context: ctxOf(newUser()), hash: limited.hash }, call);
    expect(
      await failure(api.importChannelInvite({ context: ctxOf(newUser()), hash: limited.hash }, call)),
    ).toBe('INVITE_HASH_EXPIRED');
  });

  it('keeps pts contiguous under concurrent posts, and a new owner continues after the true end', async () => {
    const owner = newUser();
    const { id, input } = await create(owner, false, 'Busy');
    const posted = await Promise.all(Array.from({ length: 60 }, (_, i) => send(owner, input, `p${i}`)));
    expect(posted.map(ptsOf).sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 2));
    // Another replica takes the shard (a newer fence): it reads the log's end before writing.
    const next = new ChannelWriter(store, () => ({ epoch: 2n, valid: () => true }));
    const more = await next.run(id, (tx) =>
      tx.append({
        ptsCount: 1,
        type: 'channel',
        build: (pts) => ({ pts, ptsCount: 1, kind: { $case: 'channel', value: { channelId: id } } }),
      }),
    );
    expect(more).toBe(62);
    expect(await store.head(id)).toEqual({ pts: 62, topId: 61 });
    // A retried createChannel (same random_id) returns the same channel and rewrites nothing.
    const again = await api.createChannel(
      { context: ctxOf(owner), title: 'Again', about: '', broadcast: true, megagroup: false, randomId: 77n },
      call,
    );
    const twice = await api.createChannel(
      { context: ctxOf(owner), title: 'Again', about: '', broadcast: true, megagroup: false, randomId: 77n },
      call,
    );
    expect(twice.channel!.id).toBe(again.channel!.id);
  }, 60_000);

  it('pins, searches, counts views, toggles signatures and deletes the channel', async () => {
    const owner = newUser();
    const viewer = newUser();
    const { id, input } = await create(owner, false, 'Misc');
    await makePublic(owner, input);
    await api.joinChannel({ context: ctxOf(viewer), channel: input }, call);
    await api.toggleSignatures({ context: ctxOf(owner), channel: input, enabled: true }, call);
    expect(
      await failure(api.toggleSignatures({ context: ctxOf(owner), channel: input, enabled: true }, call)),
    ).toBe('CHAT_NOT_MODIFIED');
    const post = await send(owner, input, 'needle in a haystack');
    expect(post.message!.postAuthor).toBe('Author');
    await send(owner, input, 'hay');
    const found = await api.searchChannel(
      { context: ctxOf(viewer), channel: input, q: 'NEEDLE', filter: 0, minDate: 0, maxDate: 0 },
      call,
    );
    expect(found.page!.messages.map((m) => m.id)).toEqual([post.message!.id]);
    await api.getMessagesViews(
      { context: ctxOf(viewer), channel: input, ids: [post.message!.id], increment: true },
      call,
    );
    await api.getMessagesViews(
      { context: ctxOf(viewer), channel: input, ids: [post.message!.id], increment: true },
      call,
    );
    await api.getMessagesViews(
      { context: ctxOf(owner), channel: input, ids: [post.message!.id], increment: true },
      call,
    );
    const views = await api.getMessagesViews(
      { context: ctxOf(owner), channel: input, ids: [post.message!.id], increment: false },
      call,
    );
    expect(views.views).toEqual([2]);
    const pinned = await api.updateChannelPinnedMessage(
      { context: ctxOf(owner), channel: input, id: post.message!.id, unpin: false, silent: false },
      call,
    );
    expect(pinned.updates!.updates.map((u) => u.kind?.$case)).toEqual([
      'pinnedChannelMessages',
      'newChannelMessage',
    ]);
    const service = pinned.updates!.updates[1]!;
    if (service.kind?.$case !== 'newChannelMessage') throw new Error('unreachable');
    expect(service.kind.value.message!.replyToMsgId).toBe(post.message!.id);
    expect(service.pts).toBe(pinned.updates!.updates[0]!.pts + 1);
    const [again] = (
      await api.getChannelMessages({ context: ctxOf(viewer), channel: input, ids: [post.message!.id] }, call)
    ).page!.messages;
    expect(again!.pinned).toBe(true);
    expect(
      await failure(
        api.updateChannelPinnedMessage(
          { context: ctxOf(viewer), channel: input, id: post.message!.id, unpin: true, silent: false },
          call,
        ),
      ),
    ).toBe('CHAT_ADMIN_REQUIRED');
    expect(
      (await api.getFullChannel({ context: ctxOf(viewer), channel: input }, call)).fullChat!.pinnedMsgId,
    ).toBe(post.message!.id);
    expect(await failure(api.deleteChannel({ context: ctxOf(viewer), channel: input }, call))).toBe(
      'CHAT_ADMIN_REQUIRED',
    );
    await api.deleteChannel({ context: ctxOf(owner), channel: input }, call);
    expect(await failure(api.getFullChannel({ context: ctxOf(viewer), channel: input }, call))).toBe(
      'CHANNEL_PRIVATE',
    );
    expect(
      (await api.getChannelDialogs({ context: ctxOf(viewer), offsetDate: 0, limit: 10, only: [] }, call))
        .dialogs,
    ).toEqual([]);
    expect(usernames.size).toBeGreaterThan(0);
    void id;
  });

  it('CanReadChannel: members and, for a public channel, anyone; never the banned or a deleted channel', async () => {
    const owner = newUser();
    const stranger = newUser();
    const { id, input } = await create(owner, false, 'Readers');
    const readable = async (user: bigint) =>
      (await api.canReadChannel({ channelId: id, userId: user }, call)).readable;
    expect(await readable(owner)).toBe(true);
    expect(await readable(stranger)).toBe(false);
    await makePublic(owner, input);
    expect(await readable(stranger)).toBe(true);
    await api.joinChannel({ context: ctxOf(stranger), channel: input }, call);
    expect(await readable(stranger)).toBe(true);
    await api.editBanned(
      {
        context: ctxOf(owner),
        channel: input,
        participant: { kind: { $case: 'user', value: { userId: stranger, accessHash: 0n } } },
        bannedRights: { ...NO_BANS, viewMessages: true },
      },
      call,
    );
    expect(await readable(stranger)).toBe(false); // banned from a public channel
    await api.deleteChannel({ context: ctxOf(owner), channel: input }, call);
    expect(await readable(owner)).toBe(false);
    expect(await failure(api.canReadChannel({ channelId: id + 1n, userId: owner }, call))).toBe(
      'CHANNEL_INVALID',
    ); // another DC's id: asked at the wrong DC
  });

  it('posts media: the file is made at its DC and granted to the channel, once', async () => {
    const owner = newUser();
    const subs = [newUser(), newUser()];
    const { id, input } = await create(owner, false, 'Media');
    await makePublic(owner, input);
    for (const u of subs) await api.joinChannel({ context: ctxOf(u), channel: input }, call);
    const res = await api.sendChannelMessage(
      {
        context: ctxOf(owner),
        channel: input,
        message: '',
        randomId: 31n,
        entities: [],
        media: { kind: { $case: 'document', value: InputDocument.create({ id: 777n }) } },
        replyToMsgId: 0,
        silent: false,
        noWebpage: false,
        postAuthor: '',
      },
      call,
    );
    expect(res.message!.media?.kind?.$case).toBe('document');
    expect(grants.filter((g) => g.media === 777n)).toEqual([{ media: 777n, channelId: id }]);
  });

  it('edits the chat photo: admins only, a service message each way, the photo on every view', async () => {
    const owner = newUser();
    const member = newUser();
    const { id, input } = await create(owner, true, 'Photo');
    await makePublic(owner, input);
    await api.joinChannel({ context: ctxOf(member), channel: input }, call);
    const file = InputFile.create({ id: 9001n, parts: 1, name: 'p.jpg' });
    expect(
      await failure(
        api.editChannelPhoto({ context: ctxOf(member), channel: input, file, remove: false }, call),
      ),
    ).toBe('CHAT_ADMIN_REQUIRED');
    expect(grants.some((g) => g.media === 9001n)).toBe(false); // refused before media was asked
    expect(
      await failure(api.editChannelPhoto({ context: ctxOf(owner), channel: input, remove: true }, call)),
    ).toBe('CHAT_NOT_MODIFIED');

    const set = await api.editChannelPhoto(
      { context: ctxOf(owner), channel: input, file, remove: false },
      call,
    );
    const message = set.updates!.updates.find((u) => u.kind?.$case === 'newChannelMessage');
    const action =
      message?.kind?.$case === 'newChannelMessage' ? message.kind.value.message?.action : undefined;
    expect(action?.kind).toEqual({ $case: 'chatEditPhoto', value: expect.objectContaining({ id: 9001n }) });
    expect(set.updates!.channels[0]?.photo?.id).toBe(9001n);
    expect(grants).toContainEqual({ media: 9001n, channelId: id });
    // Every later rendering of the channel carries it, for members and others alike.
    const seen = await api.getChannels({ context: ctxOf(member), channels: [input] }, call);
    expect(seen.channels[0]?.photo?.id).toBe(9001n);
    expect(
      await failure(
        api.editChannelPhoto({ context: ctxOf(owner), channel: input, file, remove: false }, call),
      ),
    ).toBe('CHAT_NOT_MODIFIED');

    const removed = await api.editChannelPhoto({ context: ctxOf(owner), channel: input, remove: true }, call);
    const gone = removed.updates!.updates.find((u) => u.kind?.$case === 'newChannelMessage');
    expect(gone?.kind?.$case === 'newChannelMessage' && gone.kind.value.message?.action?.kind?.$case).toBe(
      'chatDeletePhoto',
    );
    expect(
      (await api.getChannels({ context: ctxOf(member), channels: [input] }, call)).channels[0]?.photo,
    ).toBe(undefined);
    const log = await api.getAdminLog(
      { context: ctxOf(owner), channel: input, q: '', maxId: 0n, minId: 0n, limit: 10 },
      call,
    );
    const changes = log.events.filter((e) => e.action?.$case === 'changedPhoto');
    expect(changes).toHaveLength(2);
  });

  it('a post costs the same statements with 10 and with 1000 members', async () => {
    const owner = newUser();
    async function channelWith(n: number) {
      const { id, input } = await create(owner, true, `size ${n}`);
      // Members written straight into the store (joining 1000 users one call at a time would
      // measure joins, not posts).
      const ids = Array.from({ length: n - 1 }, () => newUser());
      for (let i = 0; i < ids.length; i += 50)
        await Promise.all(
          ids.slice(i, i + 50).map((u, k) =>
            db.batch(
              store.participantStmts(id, undefined, {
                userId: u,
                p: {
                  userId: u,
                  role: ChannelParticipant_Role.MEMBER,
                  date: 1,
                  inviterId: 0n,
                  rank: '',
                  actorId: 0n,
                  isSelf: false,
                },
                version: nextVersion(0n),
                recentKey: BigInt(i + k + 1),
              }),
              { prepare: true, logged: true },
            ),
          ),
        );
      await db.execute(
        'UPDATE channels SET participants_count = ? WHERE channel_id = ?',
        [n, id.toString()],
        { prepare: true },
      );
      return { id, input };
    }
    const small = await channelWith(10);
    const big = await channelWith(1000);
    expect(
      (await api.getFullChannel({ context: ctxOf(owner), channel: big.input }, call)).fullChat!
        .participantsCount,
    ).toBe(1000);
    const cost = async (c: { id: bigint; input: InputChannel }) => {
      const from = batches.length;
      await send(owner, c.input, 'one post');
      const mine = batches.slice(from).filter((b) => b.channelId === c.id);
      return mine.map((b) => b.stmts.length);
    };
    const smallCost = await cost(small);
    const bigCost = await cost(big);
    expect(smallCost).toEqual([4]); // log row, head hint, message, random_id
    expect(bigCost).toEqual(smallCost);
    const recent = await api.getParticipants(
      {
        context: ctxOf(owner),
        channel: big.input,
        filter: GetParticipantsRequest_Filter.RECENT,
        q: '',
        offset: 0,
        limit: 200,
        hash: 0n,
      },
      call,
    );
    expect(recent.participants).toHaveLength(200);
    expect(recent.count).toBe(1000);
  }, 120_000);
});

/**
 * Two DCs, each a channel service behind a real gRPC server (routing included) with its own
 * throwaway keyspace. A user of one DC
 * works with a channel of the other only through its own DC's service, as its gateway would.
 */
describe('channel service across two DCs (gRPC, real Cassandra and NATS)', () => {
  const s = stack();
  const settings = cassandraSettings(s);
  const keyspaces = [0, 1].map(() => `tern_test_ch_${randomUUID().replace(/-/g, '').slice(0, 10)}`);
  const A = 900 + Math.floor(Math.random() * 49) * 2;
  const B = A + 1;
  const homes = new Map<bigint, number>();
  const ports = new Map<number, number>();
  const clients = new Map<number, ChannelServiceClient>();
  const servers: Server[] = [];
  const raw = new RawClients();
  let ddl: Client;
  const dbs: Client[] = [];
  let bus: EventBus;
  const liveStreams = () =>
    [A, B].flatMap((dc) => streamsFor(dc).filter((x) => /_(USER|CHANNEL)_UPDATES$/.test(x.name)));

  const clientOf = (dc: number): ChannelServiceClient => {
    let c = clients.get(dc);
    if (!c) {
      c = createClient(ChannelServiceClient, { host: '127.0.0.1', port: ports.get(dc)! });
      clients.set(dc, c);
    }
    return c;
  };

  async function startDc(dc: number, keyspace: string): Promise<void> {
    const db = createCassandraClient(settings, keyspace);
    await connectWithRetry(db, 5);
    dbs.push(db);
    await applyMigrations(
      db,
      keyspace,
      loadMigrations(servicesDir(), 'dc').filter((m) => m.service === 'channel'),
      log,
    );
    const store = new ChannelStore(db);
    const writer = new ChannelWriter(store, () => ({ epoch: 1n, valid: () => true }));
    const core = channelCore({
      dcId: dc,
      store,
      writer,
      profiles: {
        homes: (ids) =>
          Promise.resolve(new Map(ids.flatMap((id) => (homes.has(id) ? [[id, homes.get(id)!]] : [])))),
        users: (viewer, ids) => profiles.users(viewer, ids),
      },
      publisher: new UpdatePublisher(dc, bus, log),
      channelOf: { forDc: clientOf },
      dcIds: [A, B],
      setChannelUsername: () => Promise.resolve(),
      attach: () => Promise.reject(new TernError('MEDIA_INVALID')),
      grant: () => Promise.resolve(),
      chatPhoto: () => Promise.reject(new TernError('PHOTO_INVALID')),
    });
    const impl = {
      ...channelHandlers(core),
      ...messageHandlers(core),
      ...memberHandlers(core),
      migrateChat: () => Promise.reject(new TernError('METHOD_NOT_IMPLEMENTED', 501)),
    };
    const routed = routeChannels(ChannelServiceService, impl, {
      dcId: dc,
      dcAddress: (x) => (ports.has(x) ? `127.0.0.1:${ports.get(x)}` : undefined),
      routes: {
        waitForRoute: () =>
          Promise.resolve({ kind: 'here', fence: { shard: 0, epoch: 1n, valid: () => true } }),
      },
      clients: raw,
      inviteChannel: async (hash) => (await store.invite(hash))?.channelId,
    });
    const server = createServer();
    server.addService(
      ChannelServiceService,
      adaptService(ChannelServiceService, () => routed, log, { service: 'channel', dcId: dc }),
    );
    ports.set(dc, await bindServer(server, { host: '127.0.0.1', port: 0 }));
    servers.push(server);
  }

  beforeAll(async () => {
    ddl = createCassandraClient(settings);
    await connectWithRetry(ddl, 5);
    for (const k of keyspaces)
      await ensureKeyspace(ddl, k, { class: 'SimpleStrategy', replication_factor: 1 });
    bus = await EventBus.connect({ servers: s.natsUrl.split(','), name: 'test-channel-two-dcs', log });
    await bus.ensureStreams(liveStreams());
    await startDc(A, keyspaces[0]!);
    await startDc(B, keyspaces[1]!);
  }, 60_000);

  afterAll(async () => {
    for (const c of clients.values()) c.close();
    raw.close();
    for (const server of servers) server.forceShutdown();
    for (const x of liveStreams()) await bus?.jsm.streams.delete(x.name).catch(() => false);
    await bus?.close();
    for (const db of dbs) await db.shutdown();
    for (const k of keyspaces) await ddl?.execute(`DROP KEYSPACE IF EXISTS ${k}`).catch(() => undefined);
    await ddl?.shutdown();
  });

  const userOf = (dc: number): bigint => {
    const id = newUser();
    homes.set(id, dc);
    return id;
  };
  const ctxAt = (user: bigint): RequestContext => ({ ...ctxOf(user), dcId: homes.get(user)! });
  /** One call to DC `dc`'s service; the request is completed with the defaults of its type. */
  const rpc = <Res>(dc: number, method: keyof typeof ChannelServiceService, req: object): Promise<Res> => {
    const c = clientOf(dc) as unknown as Record<string, UnaryMethod<unknown, Res>>;
    const full = ChannelServiceService[method].requestDeserialize(
      (ChannelServiceService[method].requestSerialize as (v: unknown) => Buffer)(complete(req)),
    );
    return unary(c[method]!.bind(c), full);
  };
  const rpcFailure = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (err) {
      return errorDetailFrom(err as ServiceError)?.message ?? String(err);
    }
    throw new Error('expected a failure');
  };

  it('a user of DC A joins, reads, posts in and lists a channel of DC B through its own DC only', async () => {
    const owner = userOf(B);
    const reader = userOf(A);
    const stranger = userOf(A);
    const created: CreateChannelResponse = await rpc(B, 'createChannel', {
      context: ctxAt(owner),
      title: 'Across',
      about: '',
      broadcast: false,
      megagroup: true,
      randomId: 1n,
    });
    const ch = created.channel!;
    expect(channelDc(ch.id)).toBe(B);
    const input = { channelId: ch.id, accessHash: ch.accessHash };
    await rpc(B, 'updateChannelUsername', { context: ctxAt(owner), channel: input, username: `x${ch.id}` });
    // Through A: passed on to B with the client's context, the membership recorded back at A.
    await rpc(A, 'joinChannel', { context: ctxAt(reader), channel: input });
    const mine: GetUserChannelsResponse = await rpc(A, 'getUserChannels', { userId: reader });
    expect(mine.channels).toEqual([{ channelId: ch.id, dcId: B }]);
    expect((await rpc<GetUserChannelsResponse>(B, 'getUserChannels', { userId: reader })).channels).toEqual(
      [],
    );

    for (let i = 0; i < 3; i++)
      await rpc(B, 'sendChannelMessage', {
        context: ctxAt(owner),
        channel: input,
        message: `from B ${i}`,
        randomId: BigInt(i + 10),
      });
    const sent: SendChannelMessageResponse = await rpc(A, 'sendChannelMessage', {
      context: ctxAt(reader),
      channel: input,
      message: 'from A',
      randomId: 99n,
    });
    expect(sent.message!.id).toBe(5);
    const history: GetChannelHistoryResponse = await rpc(A, 'getChannelHistory', {
      context: ctxAt(reader),
      channel: input,
    });
    expect(history.page!.messages.map((m) => m.id)).toEqual([5, 4, 3, 2, 1]);

    // Dialogs at A: the tops asked from B in one call; unread = top − read marker.
    await rpc(A, 'readChannelHistory', { context: ctxAt(reader), channel: input, maxId: 3 });
    const dialogs: GetChannelDialogsResponse = await rpc(A, 'getChannelDialogs', {
      context: ctxAt(reader),
      limit: 20,
    });
    expect(dialogs.dialogs).toHaveLength(1);
    expect(dialogs.dialogs[0]).toMatchObject({ topMessage: 5, readInboxMaxId: 3, unreadCount: 2, pts: 5 });
    expect(dialogs.channels[0]!.id).toBe(ch.id);
    const full: GetFullChannelResponse = await rpc(A, 'getFullChannel', {
      context: ctxAt(reader),
      channel: input,
    });
    expect(full.fullChat).toMatchObject({ readInboxMaxId: 3, unreadCount: 2, participantsCount: 2 });

    // Errors made at B reach the caller at A unchanged.
    expect(
      await rpcFailure(
        rpc(A, 'sendChannelMessage', {
          context: ctxAt(stranger),
          channel: input,
          message: 'x',
          randomId: 1n,
        }),
      ),
    ).toBe('CHANNEL_PRIVATE');
    expect(
      await rpcFailure(
        rpc(A, 'getChannelHistory', {
          context: ctxAt(reader),
          channel: { channelId: (5n << 10n) | 1000n, accessHash: 0n },
        }),
      ),
    ).toBe('CHANNEL_INVALID');

    // An invite link of B imported through A.
    const invite: ExportChannelInviteResponse = await rpc(A, 'exportChannelInvite', {
      context: ctxAt(owner),
      channel: input,
    });
    await rpc(A, 'importChannelInvite', { context: ctxAt(stranger), hash: invite.link });
    expect((await rpc<GetUserChannelsResponse>(A, 'getUserChannels', { userId: stranger })).channels).toEqual(
      [{ channelId: ch.id, dcId: B }],
    );
  }, 60_000);
});

/**
 * The service module itself (src/service.ts) started in-process for a test-only DC: real shard
 * ownership in NATS KV, real routing, this DC's clients pointed at the stack's DC 1 auth and media.
 * Checks the wiring: leases are taken, calls reach the owner, a post lands.
 */
describe('channel service module (real ownership)', () => {
  const s = stack();
  const settings = cassandraSettings(s);
  const keyspace = `tern_test_ch_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  const dcId = 900 + Math.floor(Math.random() * 99);
  const dc1 = s.dcs.find((d) => d.id === 1);
  let ddl: Client;
  let db: Client;
  let bus: EventBus;
  let lifecycle: Lifecycle;

  beforeAll(async () => {
    ddl = createCassandraClient(settings);
    await connectWithRetry(ddl, 5);
    await ensureKeyspace(ddl, keyspace, { class: 'SimpleStrategy', replication_factor: 1 });
    db = createCassandraClient(settings, keyspace);
    await connectWithRetry(db, 5);
    await applyMigrations(
      db,
      keyspace,
      loadMigrations(servicesDir(), 'dc').filter((m) => m.service === 'channel'),
      log,
    );
    bus = await EventBus.connect({ servers: s.natsUrl.split(','), name: 'test-channel-module', log });
    lifecycle = new Lifecycle(log, 5000);
    // The module calls the stack's DC 1 auth and media, which take only callers with a certificate
    // their Callers: lines allow: this process stands in for a channel service.
    useTransportSecurity(mutualTls(join(s.tlsDir, 'dc1-channel')));
  }, 60_000);

  afterAll(async () => {
    useTransportSecurity(PLAINTEXT);
    await lifecycle?.handOver();
    await lifecycle?.shutdown().catch(() => undefined);
    const names = channelOwnershipBucketsFor(dcId);
    for (const b of [names.replicas, names.leases])
      await bus?.jsm.streams.delete(`KV_${b}`).catch(() => false);
    await bus?.close();
    await db?.shutdown();
    await ddl?.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
    await ddl?.shutdown();
  });

  it('takes its leases and serves calls through routing', async () => {
    const local = { host: '127.0.0.1', port: 1 };
    const dc: DcTopology = {
      id: dcId,
      gateway: { host: '127.0.0.1', tcpPort: 1, wsPort: 2 },
      services: {
        gateway: local,
        auth: parseHostPort(dc1?.services.auth ?? '127.0.0.1:50051'),
        messaging: local,
        channel: local,
        media: parseHostPort(dc1?.services.media ?? '127.0.0.1:50054'),
      },
    };
    const impl = await channelService.start({
      name: 'channel',
      dcId,
      dc,
      topology: { testMode: true, dcs: [dc] },
      settings: { TERN_CHANNEL_REPLICA_ADDRESS: undefined } as never,
      log,
      lifecycle,
      cassandra: { dc: db, global: db },
      bus,
    });
    const grpcCall = { metadata: new Metadata(), getDeadline: () => Infinity } as never;
    const owner = newUser();
    const context = { ...ctxOf(owner), dcId };
    const created = await impl.createChannel(
      { context, title: 'Module', about: '', broadcast: false, megagroup: true, randomId: 5n },
      grpcCall,
    );
    const input = { channelId: created.channel!.id, accessHash: created.channel!.accessHash };
    // The first call about the channel waits for the shard's lease (taken at start).
    const sent = await eventually(() =>
      impl.sendChannelMessage(
        {
          context,
          channel: input,
          message: 'through the module',
          randomId: 1n,
          entities: [],
          replyToMsgId: 0,
          silent: false,
          noWebpage: false,
          postAuthor: '',
        },
        grpcCall,
      ),
    );
    expect(sent.message!.id).toBe(2);
    const dialogs = await impl.getChannelDialogs({ context, offsetDate: 0, limit: 10, only: [] }, grpcCall);
    expect(dialogs.dialogs.map((d) => d.topMessage)).toEqual([2]);
  }, 60_000);
});
