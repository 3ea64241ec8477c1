/**
 * The messaging service of one DC: per-user update logs (pts), boxes, dialogs, basic groups,
 * contacts, push devices and notification settings, typing, live delivery events and the
 * cross-DC outbox. See README.md for what it owns.
 *
 * `start` wires the parts in dependency order — the chat directory, then the box core built on
 * it, then the handler modules built on the core — and answers with one implementation object
 * that names every RPC of tern.messaging.v1.MessagingService once (checked against the generated
 * definition: a missing or misspelt RPC, or a wrong request or response type, does not compile).
 */
import {
  addressOf,
  boxOwnershipBucketsFor,
  ShardOwnership,
  shardOf,
  createClient,
  DcClients,
  defineService,
  optionalHostPort,
  requireUser,
  type AsyncImplOf,
  type HostPort,
  type SpecOf,
  unary,
} from '../../shared/src';
import {
  announceContactsChanged,
  DirectoryCache,
  ProfileCache,
  subscribeInvalidations,
} from './internal/directory-cache';
import { AuthServiceClient } from '../../shared/src/gen/tern/auth/v1/auth';
import { MediaServiceClient } from '../../shared/src/gen/tern/media/v1/media';
import {
  MessagingServiceClient,
  MessagingServiceService,
} from '../../shared/src/gen/tern/messaging/v1/messaging';
import { attachments } from './api/attachments';
import { chatDirectory, chatModule } from './api/chats';
import { Chats } from './storage/chats';
import { contactHandlers } from './api/contacts';
import { ContactStore } from './storage/contacts';
import { boxCore, lookupHomes } from './api/core';
import { editHandlers } from './api/edits';
import { historyHandlers } from './api/history';
import { pinHandlers } from './api/pins';
import { receiptHandlers } from './api/receipts';
import { typingHandlers } from './api/typing';
import { draftModule } from './api/drafts';
import { Drafts } from './storage/drafts';
import { Pins } from './storage/pins';
import { privateHandlers } from './api/private-messages';
import { syncHandlers } from './api/sync';
import { Outbox } from './consumers/outbox';
import { UpdatePublisher } from './producers/updates';
import { notifyHandlers } from './api/notify';
import { buildProviders, pushSpec, verifyPushSettings, type PushSettings } from './consumers/push-providers';
import { startPushWorker } from './consumers/push';
import { PushPublisher } from './producers/push';
import { Devices, NotifySettings } from './storage/devices';
import { Boxes } from './storage/boxes';
import { Dialogs } from './storage/dialogs';
import { UpdateLog } from './storage/update-log';
import { BoxWriter } from './storage/box-writer';
import { deliveryRouter, ReplicaClients, routeToOwners } from './api/routing';
import { boxTransferHandlers } from './api/box-transfer';
import { BoxTransfer } from './storage/transfer';

interface ReplicaSettings {
  TERN_MESSAGING_REPLICA_ADDRESS: HostPort | undefined;
}

const replicaSpec: SpecOf<ReplicaSettings> = {
  TERN_MESSAGING_REPLICA_ADDRESS: optionalHostPort({
    describe:
      "this replica's own gRPC address (host:port) that the DC's other messaging replicas pass calls on to; default the DC's messaging address (one replica)",
  }),
};

const messagingSpec: SpecOf<PushSettings & ReplicaSettings> = { ...pushSpec, ...replicaSpec };

export const messagingService = defineService({
  name: 'messaging',
  grpc: { fullName: 'tern.messaging.v1.MessagingService', definition: MessagingServiceService },
  needs: { cassandra: true, nats: true },
  settings: messagingSpec,
  verify: verifyPushSettings,
  async start(ctx) {
    const pushProviders = buildProviders(ctx.settings);
    const db = ctx.cassandra.dc;
    const log = new UpdateLog(db);
    // One writer per box: this replica writes the boxes whose shard lease it holds, and passes
    // calls about the others on to their owners (docs/decisions/0017-one-writer-per-box.md).
    const ownership: ShardOwnership = new ShardOwnership({
      js: ctx.bus.js,
      natsConnected: () => ctx.bus.connected,
      bucketPlacement: ctx.bus.kvPlacement(),
      buckets: boxOwnershipBucketsFor(ctx.dcId),
      what: 'box',
      selfAddress: addressOf(ctx.settings.TERN_MESSAGING_REPLICA_ADDRESS ?? ctx.dc.services.messaging),
      log: ctx.log.child({ component: 'ownership' }),
      hooks: {
        drain: (shard) => writer.drain((u) => shardOf(u) === shard),
        onLost: (shard) => writer.dropWhere((u) => shardOf(u) === shard),
      },
    });
    const writer = new BoxWriter(db, log, (userId) => {
      const route = ownership.route(userId);
      return route.kind === 'here' ? route.fence : undefined;
    });
    const replicas = new ReplicaClients();
    const auth = createClient(AuthServiceClient, ctx.dc.services.auth);
    const authOf = new DcClients(AuthServiceClient, ctx.topology, 'auth');
    const messagingOf = new DcClients(MessagingServiceClient, ctx.topology, 'messaging');
    const media = createClient(MediaServiceClient, ctx.dc.services.media);
    const mediaOf = new DcClients(MediaServiceClient, ctx.topology, 'media');
    ctx.lifecycle.onShutdown('clients', () => {
      replicas.close();
      auth.close();
      media.close();
      mediaOf.close();
      authOf.close();
      messagingOf.close();
    });
    // The directory and profiles as this DC last read them, forgotten on directory notices from
    // any DC and after short lifetimes: a steady-state send asks auth nothing.
    const directory = new DirectoryCache(
      async (ids) => (await unary(auth.lookupUserDc.bind(auth), { userIds: ids })).entries,
    );
    const profiles = new ProfileCache(
      (ids) => directory.homes(ids),
      async (dc, viewer, ids) => {
        const dcAuth = authOf.forDc(dc);
        const res = await unary(dcAuth.getProfiles.bind(dcAuth), { viewerId: viewer, userIds: ids });
        return res.profiles.flatMap((p) => (p.user ? [p.user] : []));
      },
    );
    const caches = { directory, profiles };
    subscribeInvalidations(ctx.bus, caches, ctx.log.child({ component: 'directory-cache' }));
    const outbox = new Outbox({
      dcId: ctx.dcId,
      dcIds: ctx.topology.dcs.map((dc) => dc.id),
      bus: ctx.bus,
      messagingOf,
      homeOf: async (userId) => (await lookupHomes(auth, [userId])).get(userId),
      log: ctx.log.child({ component: 'outbox' }),
    });
    const chatStore = new Chats(db);
    const chatReads = chatDirectory({ dcId: ctx.dcId, store: chatStore, messagingOf });
    const core = boxCore({
      outbox,
      chatDirectory: chatReads,
      dcId: ctx.dcId,
      log,
      writer,
      boxes: new Boxes(db, writer),
      dialogs: new Dialogs(db, writer),
      publisher: new UpdatePublisher(ctx.dcId, ctx.bus, ctx.log.child({ component: 'updates' })),
      auth,
      directory,
      profiles,
      authOf,
      messagingOf,
      onOtherReplica: deliveryRouter(ownership, replicas),
      push:
        pushProviders.length > 0
          ? new PushPublisher(ctx.dcId, ctx.bus, ctx.log.child({ component: 'push' }))
          : undefined,
    });
    const chats = chatModule(core, chatStore, chatReads);
    const devices = new Devices(db);
    const notify = new NotifySettings(db);
    const tokenTypes = await startPushWorker({
      dcId: ctx.dcId,
      bus: ctx.bus,
      devices,
      settings: notify,
      providers: pushProviders,
      totalUnread: (u) => core.dialogs.totalUnread(u),
      chatTitle: async (viewer, id) => (await chatReads.chats(viewer, [id]))[0]?.title ?? '',
      log: ctx.log.child({ component: 'push-worker' }),
      maxAttempts: ctx.settings.TERN_PUSH_MAX_ATTEMPTS,
      timeoutMs: ctx.settings.TERN_PUSH_TIMEOUT_MS,
      concurrency: ctx.settings.TERN_PUSH_CONCURRENCY,
      lifecycle: ctx.lifecycle,
    });
    await outbox.start();
    ctx.lifecycle.onShutdown('outbox', () => outbox.stop());

    // The handler modules, each a typed part of the service; building them registers their
    // DeliverToBox operations on the core.
    const pushSettings = notifyHandlers(core, devices, notify, tokenTypes);
    const privates = privateHandlers(
      core,
      (req, sender, extras) => chats.send(req, sender, extras),
      attachments(
        media,
        mediaOf,
        ctx.topology.dcs.map((dc) => dc.id),
      ),
    );
    const pins = new Pins(db);
    const history = historyHandlers(core, pins);
    const sync = syncHandlers(core);
    const receipts = receiptHandlers(core);
    const edits = editHandlers(core);
    const pinning = pinHandlers(core, pins, (req, sender, extras) => chats.send(req, sender, extras));
    const typing = typingHandlers(core);
    const drafts = draftModule(core, new Drafts(db));
    const transfer = boxTransferHandlers(core, new BoxTransfer(db, log), (ids) => lookupHomes(auth, ids));
    const contacts = contactHandlers(
      core,
      new ContactStore(db),
      ctx.log.child({ component: 'contacts' }),
      (owner, ids) => announceContactsChanged(ctx.bus, ctx.dcId, owner, ids, caches),
    );
    const groups = chats.handlers;

    // Last: leases are taken once everything that writes is built. On shutdown they are handed
    // over before the server drains, so calls arriving meanwhile are passed on to the new owners.
    await ownership.start();
    ctx.lifecycle.onHandOver('box ownership', () => ownership.stop());

    const impl = {
      // Messages
      sendMessage: async (req, call) => {
        const sent = await privates.sendMessage(req, call);
        if (req.clearDraft) await drafts.clearAfterSend(requireUser(req.context), sent.message?.peer);
        return sent;
      },
      forwardMessages: (req, call) => privates.forwardMessages(req, call),
      editMessage: (req, call) => edits.editMessage(req, call),
      deleteMessages: (req, call) => edits.deleteMessages(req, call),
      updatePinnedMessage: (req, call) => pinning.updatePinnedMessage(req, call),
      unpinAllMessages: (req, call) => pinning.unpinAllMessages(req, call),
      readHistory: (req, call) => receipts.readHistory(req, call),
      setTyping: (req, call) => typing.setTyping(req, call),
      saveDraft: (req, call) => drafts.handlers.saveDraft(req, call),
      getAllDrafts: (req, call) => drafts.handlers.getAllDrafts(req, call),
      clearAllDrafts: (req, call) => drafts.handlers.clearAllDrafts(req, call),
      // Reading the box
      getHistory: (req, call) => history.getHistory(req, call),
      getMessages: (req, call) => history.getMessages(req, call),
      search: (req, call) => history.search(req, call),
      getDialogs: async (req, call) => drafts.withDrafts(req.context, await history.getDialogs(req, call)),
      getPeerDialogs: (req, call) => history.getPeerDialogs(req, call),
      toggleDialogPin: (req, call) => history.toggleDialogPin(req, call),
      // Sync
      getState: (req, call) => sync.getState(req, call),
      getDifference: (req, call) => sync.getDifference(req, call),
      // Contacts and status
      importContacts: (req, call) => contacts.importContacts(req, call),
      getContacts: (req, call) => contacts.getContacts(req, call),
      deleteContacts: (req, call) => contacts.deleteContacts(req, call),
      updateStatus: (req, call) => contacts.updateStatus(req, call),
      getContactLinks: (req, call) => contacts.getContactLinks(req, call),
      linkContacts: (req, call) => contacts.linkContacts(req, call),
      announceUserStatus: (req, call) => contacts.announceUserStatus(req, call),
      // Basic groups
      createChat: (req, call) => groups.createChat(req, call),
      addChatUser: (req, call) => groups.addChatUser(req, call),
      deleteChatUser: (req, call) => groups.deleteChatUser(req, call),
      editChatTitle: (req, call) => groups.editChatTitle(req, call),
      markChatMigrated: (req, call) => groups.markChatMigrated(req, call),
      getChats: (req, call) => groups.getChats(req, call),
      getFullChat: (req, call) => groups.getFullChat(req, call),
      // Push devices and notification settings
      registerDevice: (req, call) => pushSettings.registerDevice(req, call),
      unregisterDevice: (req, call) => pushSettings.unregisterDevice(req, call),
      updateNotifySettings: (req, call) => pushSettings.updateNotifySettings(req, call),
      getNotifySettings: (req, call) => pushSettings.getNotifySettings(req, call),
      // Service to service: deliveries into boxes, and the box moves of auth MoveUser
      deliverToBox: (req) => core.deliverHere(req),
      importBox: (req, call) => transfer.importBox(req, call),
      exportBox: (req, call) => transfer.exportBox(req, call),
      deleteBox: (req, call) => transfer.deleteBox(req, call),
    } satisfies AsyncImplOf<typeof MessagingServiceService>;
    return routeToOwners(MessagingServiceService, impl, ownership, replicas);
  },
});
