/**
 * The messaging service of one DC: per-user update logs (pts), private chats and basic
 * groups, dialogs, contacts, push. See README.md for what it owns.
 *
 * Foundation stage: the process, its dependencies and its contract are in place; the
 * RPCs answer UNIMPLEMENTED (Telegram 501) until the messaging issue fills them in.
 */
import type { ServiceModule } from '../../shared/src';
import { MessagingServiceService } from '../../shared/src/gen/tern/messaging/v1/messaging';

export const messagingService: ServiceModule = {
  name: 'messaging',
  grpc: [{ fullName: 'tern.messaging.v1.MessagingService', definition: MessagingServiceService }],
  needs: { cassandra: true, nats: true },
  start() {
    return Promise.resolve({ 'tern.messaging.v1.MessagingService': {} });
  },
};
