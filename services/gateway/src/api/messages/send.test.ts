import type { CallContext } from '../../mtproto/invocation';
import type { ChannelDeps, MediaDeps } from '../context';
import { forwardMessages, sendMedia, sendMessage } from './send';

/** Deps that fail the test if a send reaches any service. */
const untouched = new Proxy({} as MediaDeps & ChannelDeps, {
  get(_t, name) {
    throw new Error(`a scheduled send reached ${String(name)}`);
  },
});
const ctx = {} as CallContext;
const rpcName = (e: unknown) => (e as { details?: string; message?: string }).details ?? String(e);

describe('scheduled sends (not built)', () => {
  const peer = { _: 'inputPeerSelf' };
  it.each([
    [
      'sendMessage',
      () =>
        sendMessage(
          { _: 'messages.sendMessage', peer, message: 'x', random_id: 1n, schedule_date: 2_000_000_000 },
          ctx,
          untouched,
        ),
    ],
    [
      'sendMedia',
      () =>
        sendMedia(
          {
            _: 'messages.sendMedia',
            peer,
            message: '',
            random_id: 1n,
            media: { _: 'inputMediaEmpty' },
            schedule_date: 2_000_000_000,
          },
          ctx,
          untouched,
        ),
    ],
    [
      'forwardMessages',
      () =>
        forwardMessages(
          {
            _: 'messages.forwardMessages',
            from_peer: peer,
            to_peer: peer,
            id: [1],
            random_id: [1n],
            schedule_date: 2_000_000_000,
          },
          ctx,
          untouched,
        ),
    ],
  ])('%s with schedule_date is refused with SCHEDULE_DATE_INVALID, never sent now', async (_name, send) => {
    const err = await send().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(rpcName(err)).toContain('SCHEDULE_DATE_INVALID');
  });
});
