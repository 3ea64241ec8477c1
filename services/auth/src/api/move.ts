/**
 * MoveUser: the operator's move of a user's account to another DC, in four steps that can each be
 * repeated, so a move interrupted at any point is finished by running it again:
 *
 *   1. freeze:  the directory records the move (users_by_id.moving_to, one move at a time) and the
 *               profile row here refuses writes (users.moving_to; writes check it in the same
 *               lightweight transaction, so none can land after the copy); the fence is
 *               announced to every DC's messaging (which caches directory entries) and the move
 *               waits out the cache lifetime, so no box write can pass a stale entry after this;
 *   2. copy:    the target DC stores the account data (ImportUserData, with the profile photo
 *               list and the 2FA password's verifier; the photos stay in the DCs their ids name;
 *               idempotent), then the
 *               target's messaging service copies the user's box from this DC's (ImportBox,
 *               which pulls it page by page with ExportBox; repeatable, counters included);
 *   3. switch:  one lightweight transaction on users_by_id makes the target the home DC;
 *   4. cleanup: this DC's messaging service deletes the box (DeleteBox), then the profile row
 *               and its profile photo list here are deleted. Run on every DC the user does not live in, it drops a stale copy
 *               of an interrupted or abandoned move as well.
 *
 * Before step 3 the user lives here (the target's copy is unused); after it the user lives in the
 * target (this DC answers USER_MIGRATE_X, its stale copy is never served). Auth keys stay where
 * they are: keys never leave their DC, and a client moves its login with export/import.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { errors, unary, type AsyncService, type DcClients, type Logger } from '../../../shared/src';
import type { AuthServiceClient, AuthServiceServer } from '../../../shared/src/gen/tern/auth/v1/auth';
import type { MessagingServiceClient } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import { MOVE_FENCE_WAIT_MS, type DirectoryNotices } from '../internal/directory-notices';
import type { Directory } from '../storage/directory';
import type { LoginStore } from '../storage/login';
import { currentPhotoOf } from '../internal/profile-photos';
import type { ProfilePhotoStore } from '../storage/profile-photos';

export interface MoveDeps {
  dcId: number;
  dcIds: number[];
  directory: Directory;
  login: LoginStore;
  /** The profile photo list moves with the profile (the photos' bytes stay in their DCs). */
  photos: ProfilePhotoStore;
  authOf: DcClients<AuthServiceClient>;
  /** Messaging of every DC: the target's copies the box (ImportBox), this DC's deletes it. */
  messagingOf: DcClients<MessagingServiceClient>;
  log: Logger;
  /** Tells every DC's messaging that the fence was set or the home switched (their caches). */
  notices?: DirectoryNotices;
  /** Between fence and copy (MOVE_FENCE_WAIT_MS unless a test says otherwise). */
  fenceWaitMs?: number;
}

/**
 * How long the target may take to copy a box: it reads the whole box (at least twice, see
 * ImportBox), page by page, so this grows with the history. The command's own deadline is longer.
 */
export const IMPORT_BOX_DEADLINE_MS = 20 * 60_000;

type Handlers = Pick<AsyncService<AuthServiceServer>, 'moveUser' | 'importUserData'>;

export function moveHandlers(d: MoveDeps): Handlers {
  return {
    async moveUser(req) {
      const { userId, targetDcId: to } = req;
      if (!d.dcIds.includes(to)) throw errors.badRequest('DC_ID_INVALID');
      const entry = await d.directory.byId(userId);
      if (!entry) throw errors.badRequest('USER_ID_INVALID');
      const steps: string[] = [];
      const log = d.log.child({ userId: userId.toString(), from: d.dcId, to });

      if (entry.homeDc === d.dcId && entry.movingTo !== undefined && entry.movingTo !== to)
        throw errors.badRequest('USER_MOVE_IN_PROGRESS', `moving to DC ${entry.movingTo}`);
      if (entry.homeDc === d.dcId && to !== d.dcId) {
        if (!(await d.directory.startMove(userId, d.dcId, to)))
          throw errors.badRequest('USER_MOVE_IN_PROGRESS');
        await d.login.freeze(userId, to);
        steps.push('freeze');
        // Messaging caches directory entries: announce the fence, then outwait every cached
        // entry read before it, so that no replica (even one that missed the notice) still
        // writes to the box once the copy starts. Repeated on a re-run: the wait is cheap next
        // to a copy and nothing says how long ago the earlier run set the fence.
        d.notices?.home(userId);
        await sleep(d.fenceWaitMs ?? MOVE_FENCE_WAIT_MS);
        log.info('move: frozen');

        const profile = await d.login.profile(userId);
        if (!profile) throw errors.internal(new Error(`user ${userId} has no profile in DC ${d.dcId}`));
        const target = d.authOf.forDc(to);
        await unary(target.importUserData.bind(target), {
          userId,
          accessHash: profile.accessHash,
          phone: profile.phone,
          firstName: profile.firstName,
          lastName: profile.lastName,
          username: profile.username,
          about: profile.about,
          sourceDcId: d.dcId,
          profilePhotos: await d.photos.list(userId),
          // The 2FA password moves with the account (read with the frozen profile: a change
          // after the freeze is refused, so this is the last one).
          ...(profile.password ? { password: profile.password } : {}),
        });
        const targetMessaging = d.messagingOf.forDc(to);
        const box = await unary(
          targetMessaging.importBox.bind(targetMessaging),
          { userId, sourceDcId: d.dcId },
          { deadlineMs: IMPORT_BOX_DEADLINE_MS },
        );
        steps.push('copy');
        log.info(
          { pts: box.pts, rows: box.rows.toString(), passes: box.passes },
          'move: copied (profile and box)',
        );

        if (!(await d.directory.switchHome(userId, entry.phone, d.dcId, to)))
          throw errors.internal(new Error('home DC switch was not applied'));
        steps.push('switch');
        // The fence is lifted and the home moved: caches learn it now rather than within their
        // lifetime (until then a stale entry only answers FLOOD_WAIT, which clients and the
        // outbox retry; nothing is written to the old box).
        d.notices?.home(userId);
        log.info('move: home switched');
      } else if (entry.homeDc !== to) {
        throw errors.badRequest('USER_NOT_HOMED_HERE', `home is DC ${entry.homeDc}`);
      }

      // The user lives in `to`: whatever is left here is a stale copy. The box goes first and
      // whether there was one is checked every time: the profile may be gone already when an
      // earlier cleanup stopped between the two.
      if (to !== d.dcId) {
        const messaging = d.messagingOf.forDc(d.dcId);
        const box = await unary(messaging.deleteBox.bind(messaging), { userId }, { deadlineMs: 120_000 });
        const profile = await d.login.profile(userId);
        await d.photos.removeAll(userId);
        if (profile) await d.login.deleteProfile(userId);
        if (profile || box.removed > 0n) {
          steps.push('cleanup');
          log.info({ removed: box.removed.toString() }, 'move: cleaned up');
        }
      }
      return { homeDcId: to, steps };
    },

    async importUserData(req) {
      const entry = await d.directory.byId(req.userId);
      const expected = entry?.homeDc === req.sourceDcId && entry.movingTo === d.dcId;
      if (!expected)
        throw errors.badRequest('USER_MOVE_INVALID', 'no move of this user to this DC is under way');
      // Whatever an abandoned earlier move left here is replaced, not merged.
      await d.photos.removeAll(req.userId);
      for (const p of req.profilePhotos)
        if (p.photo) await d.photos.put(req.userId, { photo: p.photo, setAtMs: p.setAtMs });
      const photo = currentPhotoOf(
        req.profilePhotos.flatMap((p) => (p.photo ? [{ photo: p.photo, setAtMs: p.setAtMs }] : [])),
      );
      await d.login.saveProfile({
        userId: req.userId,
        accessHash: req.accessHash,
        phone: req.phone,
        firstName: req.firstName,
        lastName: req.lastName,
        username: req.username,
        about: req.about,
        ...(photo ? { photo } : {}),
        ...(req.password ? { password: req.password } : {}),
      });
      return {};
    },
  };
}
