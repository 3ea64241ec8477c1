/**
 * The messaging service of one DC: per-user update logs (pts), private chats, dialogs and live
 * delivery events. See README.md for what it owns. RPCs not built yet answer UNIMPLEMENTED
 * (Telegram 501).
 */
import { createClient, DcClients, type ServiceModule } from '../../shared/src';
import { AuthServiceClient } from '../../shared/src/gen/tern/auth/v1/auth';
import { MediaServiceClient } from '../../shared/src/gen/tern/media/v1/media';
import {
  type DeliverToBoxRequest,
  MessagingServiceClient,
  MessagingServiceService,
} from '../../shared/src/gen/tern/messaging/v1/messaging';
import { attachments } from './api/attachments';
import { chatModule } from './api/chats';
import { Chats } from './storage/chats';
import { contactHandlers } from './api/contacts';
import { ContactStore } from './storage/contacts';
import { boxCore } from './api/core';
import { editHandlers } from './api/edits';
import { historyHandlers } from './api/history';
import { receiptHandlers } from './api/receipts';
import { typingHandlers } from './api/typing';
import { privateHandlers } from './api/private-messages';
import { syncHandlers } from './api/sync';
import { Outbox } from './consumers/outbox';
import { UpdatePublisher } from './producers/updates';
import { notifyHandlers } from './api/notify';
import { buildProviders, pushSpec, type PushSettings } from './consumers/push-providers';
import { startPushWorker } from './consumers/push';
import { PushPublisher } from './producers/push';
import { Devices, NotifySettings } from './storage/devices';
import { Boxes } from './storage/boxes';
import { Dialogs } from './storage/dialogs';
import { UpdateLog } from './storage/update-log';
import { boxTransferHandlers } from './api/box-transfer';
import { BoxTransfer } from './storage/transfer';

export const messagingService: ServiceModule<PushSettings> = {
  name: 'messaging',
  grpc: [{ fullName: 'tern.messaging.v1.MessagingService', definition: MessagingServiceService }],
  needs: { cassandra: true, nats: true },
  settings: pushSpec,
  async start(ctx) {
    const pushProviders = buildProviders(ctx.settings);
    const db = ctx.cassandra!.dc;
    const log = new UpdateLog(db);
    const auth = createClient(AuthServiceClient, ctx.dc.services.auth);
    const authOf = new DcClients(AuthServiceClient, ctx.topology, 'auth');
    const messagingOf = new DcClients(MessagingServiceClient, ctx.topology, 'messaging');
    const media = createClient(MediaServiceClient, ctx.dc.services.media);
    const mediaOf = new DcClients(MediaServiceClient, ctx.topology, 'media');
    ctx.lifecycle.onShutdown('clients', () => {
      auth.close();
      media.close();
      mediaOf.close();
      authOf.close();
      messagingOf.close();
    });
    const outbox = ctx.bus
      ? new Outbox({
          dcId: ctx.dcId,
          dcIds: ctx.topology.dcs.map((dc) => dc.id),
          bus: ctx.bus,
          messagingOf,
          homeOf: async (userId) => (await core.homes([userId])).get(userId),
          log: ctx.log.child({ component: 'outbox' }),
        })
      : undefined;
    const core = boxCore({
      outbox,
      dcId: ctx.dcId,
      log,
      boxes: new Boxes(db, log),
      dialogs: new Dialogs(db),
      publisher: new UpdatePublisher(ctx.dcId, ctx.bus, ctx.log.child({ component: 'updates' })),
      auth,
      authOf,
      messagingOf,
      push:
        pushProviders.length > 0
          ? new PushPublisher(ctx.dcId, ctx.bus, ctx.log.child({ component: 'push' }))
          : undefined,
    });
    const chats = chatModule(core, new Chats(db));
    const devices = new Devices(db);
    const notify = new NotifySettings(db);
    const tokenTypes = await startPushWorker({
      dcId: ctx.dcId,
      bus: ctx.bus!,
      devices,
      settings: notify,
      providers: pushProviders,
      totalUnread: (u) => core.dialogs.totalUnread(u),
      chatTitle: async (viewer, id) => (await core.chatDirectory.chats(viewer, [id]))[0]?.title ?? '',
      log: ctx.log.child({ component: 'push-worker' }),
      maxAttempts: ctx.settings.TERN_PUSH_MAX_ATTEMPTS,
      timeoutMs: ctx.settings.TERN_PUSH_TIMEOUT_MS,
      concurrency: ctx.settings.TERN_PUSH_CONCURRENCY,
      lifecycle: ctx.lifecycle,
    });
    if (outbox) {
      await outbox.start();
      ctx.lifecycle.onShutdown('outbox', () => outbox.stop());
    }
    const handlers = {
      ...notifyHandlers(core, devices, notify, tokenTypes),
      ...privateHandlers(
        core,
        (req, sender, extras) => chats.send(req, sender, extras),
        attachments(
          media,
          mediaOf,
          ctx.topology.dcs.map((dc) => dc.id),
        ),
      ),
      ...historyHandlers(core),
      ...syncHandlers(core),
      ...receiptHandlers(core),
      ...editHandlers(core),
      ...typingHandlers(core),
      ...boxTransferHandlers(core, new BoxTransfer(db, log)),
      ...contactHandlers(core, new ContactStore(db), ctx.log.child({ component: 'contacts' })),
      ...chats.handlers,
      deliverToBox: (req: DeliverToBoxRequest) => core.deliverHere(req),
    };
    return { 'tern.messaging.v1.MessagingService': handlers };
  },
};
