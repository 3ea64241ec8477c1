import type { DcClients, EventBus, Logger } from '../../../shared/src';
import type { AuthServiceClient } from '../../../shared/src/gen/tern/auth/v1/auth';
import { DirectoryChange, DirectoryChangedEvent } from '../../../shared/src/gen/tern/events/v1/events';
import type { MessagingServiceClient } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import { DirectoryNotices } from '../internal/directory-notices';
import type { Directory } from '../storage/directory';
import type { LoginStore } from '../storage/login';
import type { ProfilePhotoStore } from '../storage/profile-photos';
import { moveHandlers } from './move';

/** A unary gRPC method of a fake client: records its name and answers `res`. */
function method(steps: string[], name: string, res: object, onCall?: () => void) {
  return (_req: unknown, _meta: unknown, _opts: unknown, cb: (err: null, res: object) => void) => {
    steps.push(name);
    onCall?.();
    cb(null, res);
  };
}

describe('MoveUser and the directory cache', () => {
  it('announces the fence, waits before the copy, and announces the switch', async () => {
    const steps: string[] = [];
    const bus = {
      notify: (_subject: string, data: Uint8Array) => {
        const e = DirectoryChangedEvent.decode(data);
        steps.push(`notice ${DirectoryChange[e.change]} ${e.userIds.join(',')}`);
      },
    } as unknown as EventBus;
    const directory = {
      byId: () => Promise.resolve({ userId: 5n, phone: '999662', homeDc: 2 }),
      startMove: () => (steps.push('fence'), Promise.resolve(true)),
      switchHome: () => (steps.push('switch'), Promise.resolve(true)),
    } as unknown as Directory;
    const profile = {
      userId: 5n,
      accessHash: 1n,
      phone: '999662',
      firstName: 'a',
      lastName: '',
      username: '',
      about: '',
    };
    let profileGone = false;
    const login = {
      freeze: () => (steps.push('freeze'), Promise.resolve()),
      profile: () => Promise.resolve(profileGone ? undefined : profile),
      deleteProfile: () => ((profileGone = true), Promise.resolve()),
    } as unknown as LoginStore;
    const photos = {
      list: () => Promise.resolve([]),
      removeAll: () => Promise.resolve(),
    } as unknown as ProfilePhotoStore;
    let copiedAt = 0;
    const auth = { importUserData: method(steps, 'import user', {}, () => (copiedAt = Date.now())) };
    const messaging = {
      importBox: method(steps, 'import box', { pts: 1, rows: 1n, passes: 2 }),
      deleteBox: method(steps, 'delete box', { removed: 1n }),
    };
    const log = { child: () => log, info: () => undefined } as unknown as Logger;
    const move = moveHandlers({
      dcId: 2,
      dcIds: [1, 2, 3],
      directory,
      login,
      photos,
      authOf: { forDc: () => auth } as unknown as DcClients<AuthServiceClient>,
      messagingOf: { forDc: () => messaging } as unknown as DcClients<MessagingServiceClient>,
      log,
      notices: new DirectoryNotices(2, bus),
      fenceWaitMs: 50,
    });
    const started = Date.now();
    const res = await move.moveUser({ userId: 5n, targetDcId: 1 }, undefined as never);
    expect(res.homeDcId).toBe(1);
    expect(steps).toEqual([
      'fence',
      'freeze',
      'notice HOME 5',
      'import user',
      'import box',
      'switch',
      'notice HOME 5',
      'delete box',
    ]);
    expect(copiedAt - started).toBeGreaterThanOrEqual(45);
  });
});

describe('MoveUser and the 2FA password', () => {
  const password = {
    salt1: Buffer.alloc(40, 1),
    salt2: Buffer.alloc(16, 2),
    g: 3,
    p: Buffer.alloc(256, 3),
    verifier: Buffer.alloc(256, 4),
    hint: 'h',
    version: Buffer.alloc(16, 5),
    setAtMs: 1n,
  };
  const log = { child: () => log, info: () => undefined } as unknown as Logger;
  const photos = {
    list: () => Promise.resolve([]),
    removeAll: () => Promise.resolve(),
    put: () => Promise.resolve(),
  } as unknown as ProfilePhotoStore;

  it('copies the verifier to the target with the profile, and the target stores it', async () => {
    const sent: unknown[] = [];
    const auth = {
      importUserData: (req: unknown, _md: unknown, _opts: unknown, cb: (err: null, res: object) => void) => {
        sent.push(req);
        cb(null, {});
      },
    };
    const messaging = {
      importBox: method([], 'import box', { pts: 1, rows: 1n, passes: 2 }),
      deleteBox: method([], 'delete box', { removed: 1n }),
    };
    const profile = {
      userId: 5n,
      accessHash: 1n,
      phone: '9',
      firstName: 'a',
      lastName: '',
      username: '',
      about: '',
      password,
    };
    const from = moveHandlers({
      dcId: 2,
      dcIds: [1, 2],
      directory: {
        byId: () => Promise.resolve({ userId: 5n, phone: '9', homeDc: 2 }),
        startMove: () => Promise.resolve(true),
        switchHome: () => Promise.resolve(true),
      } as unknown as Directory,
      login: {
        freeze: () => Promise.resolve(),
        profile: () => Promise.resolve(profile),
        deleteProfile: () => Promise.resolve(),
      } as unknown as LoginStore,
      photos,
      authOf: { forDc: () => auth } as unknown as DcClients<AuthServiceClient>,
      messagingOf: { forDc: () => messaging } as unknown as DcClients<MessagingServiceClient>,
      log,
      fenceWaitMs: 0,
    });
    await from.moveUser({ userId: 5n, targetDcId: 1 }, undefined as never);
    expect(sent).toEqual([expect.objectContaining({ userId: 5n, password })]);

    const saved: unknown[] = [];
    const to = moveHandlers({
      dcId: 1,
      dcIds: [1, 2],
      directory: {
        byId: () => Promise.resolve({ userId: 5n, phone: '9', homeDc: 2, movingTo: 1 }),
      } as unknown as Directory,
      login: { saveProfile: (p: unknown) => (saved.push(p), Promise.resolve()) } as unknown as LoginStore,
      photos,
      authOf: {} as unknown as DcClients<AuthServiceClient>,
      messagingOf: {} as unknown as DcClients<MessagingServiceClient>,
      log,
    });
    await to.importUserData(sent[0] as never, undefined as never);
    expect(saved).toEqual([expect.objectContaining({ userId: 5n, password })]);
  });
});
