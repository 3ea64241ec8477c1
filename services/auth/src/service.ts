/**
 * The auth service of one DC: auth keys, phone codes, sign-up/sign-in, the global
 * user directory, authorization export/import. See README.md for what it owns.
 */
import { DcClients, defineService, type AsyncImplOf } from '../../shared/src';
import { AuthServiceClient, AuthServiceService } from '../../shared/src/gen/tern/auth/v1/auth';
import { MediaServiceClient } from '../../shared/src/gen/tern/media/v1/media';
import { MessagingServiceClient } from '../../shared/src/gen/tern/messaging/v1/messaging';
import { authorizationHandlers } from './api/authorizations';
import { exportHandlers } from './api/exports';
import { moveHandlers } from './api/move';
import { profileHandlers } from './api/profile';
import { profilePhotoHandlers } from './api/profile-photos';
import { ProfilePhotoStore } from './storage/profile-photos';
import { messagingLinks, ProfileReader } from './internal/profiles';
import { Revoker } from './internal/revocation';
import { DirectoryNotices } from './internal/directory-notices';
import { AuthorizationStore } from './storage/authorizations';
import { UsernameStore } from './storage/usernames';
import { ExportStore } from './storage/exports';
import { authKeyHandlers } from './api/auth-keys';
import { loginHandlers } from './api/login';
import { passwordHandlers } from './api/password';
import { PasswordStore } from './storage/passwords';
import { DevCodeDelivery, WebhookCodeDelivery, type CodeDelivery } from './internal/code-delivery';
import { Placement } from './internal/placement';
import { authSpec, verifyAuthSettings } from './settings';
import { AuthKeyStore } from './storage/auth-keys';
import { Directory } from './storage/directory';
import { LoginStore } from './storage/login';

export const authService = defineService({
  name: 'auth',
  grpc: { fullName: 'tern.auth.v1.AuthService', definition: AuthServiceService },
  needs: { cassandra: true, nats: true },
  settings: authSpec,
  verify: verifyAuthSettings,
  async start(ctx) {
    const db = ctx.cassandra;
    const s = ctx.settings;
    let delivery: CodeDelivery;
    if (s.TERN_AUTH_CODE_DELIVERY === 'webhook') {
      // verifyAuthSettings has refused webhook delivery without a URL.
      delivery = new WebhookCodeDelivery(String(s.TERN_AUTH_CODE_WEBHOOK_URL));
    } else {
      const dev = new DevCodeDelivery(ctx.log.child({ component: 'codes' }), s.TERN_PRODUCTION);
      if (s.TERN_AUTH_DEV_CODES_LISTEN) {
        const server = await dev.serve(s.TERN_AUTH_DEV_CODES_LISTEN.host, s.TERN_AUTH_DEV_CODES_LISTEN.port);
        ctx.lifecycle.onShutdown('dev-codes', () => new Promise<void>((r) => server.close(() => r())));
      }
      delivery = dev;
    }
    const loginStore = new LoginStore(db.dc, s.TERN_AUTH_CODE_TTL_SECONDS);
    const directory = new Directory(db.global);
    const authorizations = new AuthorizationStore(db.dc);
    const keys = new AuthKeyStore(db.dc);
    const authOf = new DcClients(AuthServiceClient, ctx.topology, 'auth');
    ctx.lifecycle.onShutdown('auth-clients', () => authOf.close());
    // Every DC's messaging, for moving a user's box with the account (api/move.ts).
    const messagingOf = new DcClients(MessagingServiceClient, ctx.topology, 'messaging');
    ctx.lifecycle.onShutdown('messaging-clients', () => messagingOf.close());
    // Every DC's media: this DC's makes profile photos, a photo's own DC releases a deleted one.
    const mediaOf = new DcClients(MediaServiceClient, ctx.topology, 'media');
    ctx.lifecycle.onShutdown('media-clients', () => mediaOf.close());
    const profilePhotos = new ProfilePhotoStore(db.dc);
    // Contact relations and statuses, for rendering profiles (messaging of this DC keeps them).
    const reader = new ProfileReader(
      ctx.dcId,
      loginStore,
      directory,
      authOf,
      messagingLinks(messagingOf.forDc(ctx.dcId), ctx.log.child({ component: 'profiles' })),
    );
    const revoker = new Revoker({
      dcId: ctx.dcId,
      store: authorizations,
      bus: ctx.bus,
      authOf,
      log: ctx.log.child({ component: 'revocation' }),
    });
    // Every DC's messaging caches directory entries and profiles; changes made here are announced.
    const notices = new DirectoryNotices(ctx.dcId, ctx.bus);
    const keyHandlers = authKeyHandlers(keys);
    const passwords = new PasswordStore(db.dc);
    const login = loginHandlers({
      dcId: ctx.dcId,
      testMode: ctx.topology.testMode,
      directory,
      store: loginStore,
      authorizations,
      delivery,
      placement: new Placement(s.TERN_AUTH_PLACEMENT),
      codesPerHour: s.TERN_AUTH_CODES_PER_HOUR,
      notices,
      passwords,
    });
    const twoStep = passwordHandlers({
      dcId: ctx.dcId,
      login: loginStore,
      directory,
      passwords,
      authorizations,
    });
    const exported = exportHandlers({
      dcId: ctx.dcId,
      topology: ctx.topology,
      exports: new ExportStore(db.dc),
      authorizations,
      reader,
      authOf,
    });
    const sessions = authorizationHandlers({ store: authorizations, keys, revoker });
    const move = moveHandlers({
      dcId: ctx.dcId,
      dcIds: ctx.topology.dcs.map((dc) => dc.id),
      directory,
      login: loginStore,
      photos: profilePhotos,
      authOf,
      messagingOf,
      log: ctx.log.child({ component: 'move' }),
      notices,
    });
    const profile = profileHandlers({
      dcId: ctx.dcId,
      login: loginStore,
      directory,
      usernames: new UsernameStore(db.global),
      reader,
      notices,
    });
    const photos = profilePhotoHandlers({
      dcId: ctx.dcId,
      login: loginStore,
      directory,
      photos: profilePhotos,
      reader,
      authOf,
      mediaOf,
      log: ctx.log.child({ component: 'profile-photos' }),
      notices,
    });
    // Every RPC of proto/tern/auth/v1/auth.proto, each named once (the type checks none is missing).
    return {
      sendCode: login.sendCode,
      resendCode: login.resendCode,
      cancelCode: login.cancelCode,
      signIn: login.signIn,
      signUp: login.signUp,
      logOut: sessions.logOut,
      exportAuthorization: exported.exportAuthorization,
      importAuthorization: exported.importAuthorization,
      checkExportedAuthorization: exported.checkExportedAuthorization,
      getAuthorizations: sessions.getAuthorizations,
      resetAuthorization: sessions.resetAuthorization,
      resetAuthorizations: sessions.resetAuthorizations,
      revokeImportedAuthorizations: sessions.revokeImportedAuthorizations,
      saveAuthKey: keyHandlers.saveAuthKey,
      getAuthKey: keyHandlers.getAuthKey,
      setAuthKeyLayer: keyHandlers.setAuthKeyLayer,
      bindTempAuthKey: keyHandlers.bindTempAuthKey,
      bindAuthKeyUser: sessions.bindAuthKeyUser,
      getAuthKeyUser: sessions.getAuthKeyUser,
      destroyAuthKey: sessions.destroyAuthKey,
      getUsers: profile.getUsers,
      getFullUser: profile.getFullUser,
      getProfiles: profile.getProfiles,
      updateProfile: profile.updateProfile,
      checkUsername: profile.checkUsername,
      updateUsername: profile.updateUsername,
      resolveUsername: profile.resolveUsername,
      lookupPhone: profile.lookupPhone,
      lookupUserDc: profile.lookupUserDc,
      moveUser: move.moveUser,
      importUserData: move.importUserData,
      uploadProfilePhoto: photos.uploadProfilePhoto,
      updateProfilePhoto: photos.updateProfilePhoto,
      deleteProfilePhotos: photos.deleteProfilePhotos,
      getUserPhotos: photos.getUserPhotos,
      listProfilePhotos: photos.listProfilePhotos,
      setChannelUsername: profile.setChannelUsername,
      getPassword: twoStep.getPassword,
      updatePasswordSettings: twoStep.updatePasswordSettings,
      checkPassword: twoStep.checkPassword,
    } satisfies AsyncImplOf<typeof AuthServiceService>;
  },
});
