/**
 * The messaging service of one DC: per-user update logs (pts), private chats, dialogs and live
 * delivery events. See README.md for what it owns. RPCs not built yet answer UNIMPLEMENTED
 * (Telegram 501).
 */
import { createClient, DcClients, type ServiceModule } from '../../shared/src';
import { AuthServiceClient } from '../../shared/src/gen/tern/auth/v1/auth';
import {
  type DeliverToBoxRequest,
  MessagingServiceClient,
  MessagingServiceService,
} from '../../shared/src/gen/tern/messaging/v1/messaging';
import { chatModule } from './api/chats';
import { boxCore } from './api/core';
import { historyHandlers } from './api/history';
import { privateHandlers } from './api/private-messages';
import { syncHandlers } from './api/sync';
import { UpdatePublisher } from './producers/updates';
import { Boxes } from './storage/boxes';
import { Dialogs } from './storage/dialogs';
import { UpdateLog } from './storage/update-log';

export const messagingService: ServiceModule = {
  name: 'messaging',
  grpc: [{ fullName: 'tern.messaging.v1.MessagingService', definition: MessagingServiceService }],
  needs: { cassandra: true, nats: true },
  start(ctx) {
    const db = ctx.cassandra!.dc;
    const log = new UpdateLog(db);
    const auth = createClient(AuthServiceClient, ctx.dc.services.auth);
    const authOf = new DcClients(AuthServiceClient, ctx.topology, 'auth');
    const messagingOf = new DcClients(MessagingServiceClient, ctx.topology, 'messaging');
    ctx.lifecycle.onShutdown('clients', () => {
      auth.close();
      authOf.close();
      messagingOf.close();
    });
    const core = boxCore({
      dcId: ctx.dcId,
      log,
      boxes: new Boxes(db, log),
      dialogs: new Dialogs(db),
      publisher: new UpdatePublisher(ctx.dcId, ctx.bus, ctx.log.child({ component: 'updates' })),
      auth,
      authOf,
      messagingOf,
    });
    const chats = chatModule(core);
    const handlers = {
      ...privateHandlers(core, (req, sender) => chats.send(req, sender)),
      ...historyHandlers(core),
      ...syncHandlers(core),
      ...chats.handlers,
      deliverToBox: (req: DeliverToBoxRequest) => core.deliverHere(req),
    };
    return Promise.resolve({ 'tern.messaging.v1.MessagingService': handlers });
  },
};
