/**
 * createChat's answer changed shape between layers (messages.invitedUsers replaced the bare
 * Updates); the handler asks the TL runtime which one the client's layer has.
 */
import type { MessagingServiceClient } from '../../../../shared/src/gen/tern/messaging/v1/messaging';
import type { AuthServiceClient } from '../../../../shared/src/gen/tern/auth/v1/auth';
import type { CallContext } from '../../mtproto/invocation';
import type { Session } from '../../mtproto/sessions';
import { loadTlRuntime } from '../../tl-runtime';
import { createChat, type ChatDeps } from './chats';

const tl = loadTlRuntime();

const reply =
  (res: unknown) => (_req: unknown, _md: unknown, _opts: unknown, cb: (e: null, r: unknown) => void) =>
    cb(null, res);

const deps: ChatDeps = {
  dcId: 1,
  auth: { getAuthKeyUser: reply({ userId: 42n }) } as unknown as AuthServiceClient,
  messaging: {
    createChat: reply({
      updates: { updates: [], users: [], chats: [], date: 1_700_000_000 },
      missingInvitees: [7n],
    }),
  } as unknown as MessagingServiceClient,
  tl,
};

const call = (layer: number): CallContext => ({
  msgId: 4n,
  session: { id: 5n } as Session,
  authKey: { id: 9n, idBytes: Buffer.alloc(8), key: Buffer.alloc(256), temporary: false, expiresAt: 0 },
  layer,
  remoteAddress: '',
});

describe('messages.createChat across layers', () => {
  it('answers messages.invitedUsers where the layer has it, the bare Updates where it does not', async () => {
    const shapes = new Set<string>();
    for (const layer of tl.layers) {
      const answer = await createChat({ _: 'messages.createChat', users: [], title: 'g' }, call(layer), deps);
      const has = tl.resultType(layer, 'messages.createChat') === 'messages.InvitedUsers';
      expect(answer._).toBe(has ? 'messages.invitedUsers' : 'updates');
      if (has) expect(answer.missing_invitees).toEqual([{ _: 'missingInvitee', user_id: 7n }]);
      // Whatever the shape, the codec writes it in that layer.
      expect(tl.encodeApi(layer, answer, 'messages.createChat').length).toBeGreaterThan(0);
      shapes.add(answer._);
    }
    expect(tl.resultType(tl.newestLayer, 'messages.createChat')).toBe('messages.InvitedUsers');
    expect(shapes.size).toBe(2);
  });
});
