/**
 * The method table: every TL method the gateway answers, what it needs before it may run, and
 * which handler runs it. This is the one place a reader looks to see which Telegram API call
 * becomes which gRPC call (each handler names its service RPC: `d.messaging.sendMessage` is
 * MessagingService.SendMessage); the handlers translate and hold no business rules.
 *
 * `needs` is checked here, in `methodTable`, and nowhere else:
 *   'none'     — any auth key: logging in, help.*, binding keys;
 *   'user'     — a key logged in as a user; else 401 AUTH_KEY_UNREGISTERED, without running the
 *                handler (the services refuse such calls the same way; asking first saves the
 *                call and makes the answer independent of each service);
 *   'temp-key' — a temporary auth key (auth.bindTempAuthKey); else 400 TEMP_AUTH_KEY_EMPTY.
 * A method not listed is answered at once with 501 METHOD_NOT_IMPLEMENTED.
 *
 * `limit`, where a method has one, is its rate class (limits/rate-limits.ts), also checked here
 * only, after `needs` and before the handler: each class has a token bucket per auth key and one
 * per client address (TERN_GATEWAY_LIMIT_*, docs/configuration.md "Rate limits"); a call either
 * bucket cannot pay for is answered 420 FLOOD_WAIT_X without running the handler, and takes
 * nothing. A method without a class is never limited here.
 *   'login'    — auth.sendCode, resendCode, signIn, signUp, checkPassword, account.getPassword;
 *   'send'     — messages.sendMessage, sendMedia, forwardMessages, editMessage, uploadMedia,
 *                channels.createChannel, inviteToChannel;
 *   'upload'   — upload.saveFilePart, saveBigFilePart (one token per part);
 *   'import'   — contacts.importContacts;
 *   'username' — account.checkUsername, updateUsername, contacts.resolveUsername,
 *                channels.checkUsername, updateUsername, messages.checkChatInvite, importChatInvite
 *                (invite hashes are guessed like usernames, and Telegram limits them alike).
 */
import { errors, requireUser } from '../../../shared/src';
import type { RateClass, RateLimits } from '../limits/rate-limits';
import type { KeyStore } from '../mtproto/auth-keys';
import type { ApiHandler, CallContext } from '../mtproto/invocation';
import type { ApiResult, TlObject, TlRuntime } from '../mtproto/tl-types';
import {
  checkUsername,
  getAuthorizations,
  getNotifySettings,
  getPassword,
  registerDevice,
  resetAuthorization,
  unregisterDevice,
  updateNotifySettings,
  updatePasswordSettings,
  updateProfile,
  updateStatus,
  updateUsername,
} from './account';
import {
  bindTempAuthKey,
  cancelCode,
  checkPassword,
  exportAuthorization,
  importAuthorization,
  logOut,
  resendCode,
  resetAuthorizations,
  sendCode,
  signIn,
  signUp,
} from './auth';
import {
  checkUsername as checkChannelUsername,
  createChannel,
  deleteChannel,
  editPhoto,
  editTitle,
  getChannels,
  getFullChannel,
  inviteToChannel,
  joinChannel,
  leaveChannel,
  toggleSignatures,
  toggleSlowMode,
  updateUsername as updateChannelUsername,
} from './channels/channels';
import { checkChatInvite, exportChatInvite, importChatInvite } from './channels/invites';
import { migrateChat } from './channels/migrate';
import { clearAllDrafts, getAllDrafts, saveDraft } from './messages/drafts';
import { unpinAllMessages, updatePinnedMessage } from './messages/pins';
import {
  deleteMessages as deleteChannelMessages,
  getAdminLog,
  getMessages as getChannelMessages,
  getMessagesViews,
  readHistory as readChannelHistory,
} from './channels/messages';
import { editAdmin, editBanned, getParticipant, getParticipants } from './channels/participants';
import { deleteContacts, getContacts, importContacts, resolveUsername } from './contacts';
import { requestContext, type ChannelDeps, type MediaDeps } from './context';
import { getAppConfig, getConfig, getNearestDc, type HelpDeps } from './help';
import {
  addChatUser,
  createChat,
  deleteChatUser,
  editChatTitle,
  getChats,
  getFullChat,
} from './messages/chats';
import { getDialogs, getPeerDialogs, toggleDialogPin } from './messages/dialogs';
import { deleteMessages, editMessage } from './messages/edit';
import { getHistory, getMessages, readHistory, search } from './messages/history';
import { forwardMessages, sendMedia, sendMessage, setTyping, uploadMedia } from './messages/send';
import { deletePhotos, getUserPhotos, updateProfilePhoto, uploadProfilePhoto } from './photos';
import { getChannelDifference, getDifference, getState } from './updates';
import { getFile, saveBigFilePart, saveFilePart } from './upload';
import { getFullUser, getUsers } from './users';

/** What handlers may use: the deployment's shape, this DC's backend clients, the TL runtime. */
export interface MethodDeps extends MediaDeps, ChannelDeps, HelpDeps {
  keys: KeyStore;
  tl: Pick<TlRuntime, 'decodeService' | 'resultType'>;
  /** The rate limits of `limit` (one instance per gateway: its buckets are the gateway's state). */
  limits: RateLimits;
}

/** What a method needs before its handler runs (see the top of this file). */
export type Needs = 'none' | 'user' | 'temp-key';

export interface Method {
  run: (call: TlObject, ctx: CallContext, deps: MethodDeps) => Promise<ApiResult>;
  needs: Needs;
  /** Its rate class, when calls of it are rate-limited (see the top of this file). */
  limit?: RateClass;
}

/** TL method name → what it needs, its rate class and its handler. Sorted by name (and so by namespace). */
export const METHODS: Readonly<Record<string, Method>> = {
  'account.checkUsername': { run: checkUsername, needs: 'user', limit: 'username' },
  'account.getAuthorizations': { run: getAuthorizations, needs: 'user' },
  'account.getNotifySettings': { run: getNotifySettings, needs: 'user' },
  'account.getPassword': { run: getPassword, needs: 'none', limit: 'login' },
  'account.registerDevice': { run: registerDevice, needs: 'user' },
  'account.resetAuthorization': { run: resetAuthorization, needs: 'user' },
  'account.unregisterDevice': { run: unregisterDevice, needs: 'user' },
  'account.updateNotifySettings': { run: updateNotifySettings, needs: 'user' },
  'account.updatePasswordSettings': { run: updatePasswordSettings, needs: 'user' },
  'account.updateProfile': { run: updateProfile, needs: 'user' },
  'account.updateStatus': { run: updateStatus, needs: 'user' },
  'account.updateUsername': { run: updateUsername, needs: 'user', limit: 'username' },
  'auth.bindTempAuthKey': { run: bindTempAuthKey, needs: 'temp-key' },
  'auth.cancelCode': { run: cancelCode, needs: 'none' },
  'auth.checkPassword': { run: checkPassword, needs: 'none', limit: 'login' },
  'auth.exportAuthorization': { run: exportAuthorization, needs: 'user' },
  'auth.importAuthorization': { run: importAuthorization, needs: 'none' },
  'auth.logOut': { run: logOut, needs: 'user' },
  'auth.resendCode': { run: resendCode, needs: 'none', limit: 'login' },
  'auth.resetAuthorizations': { run: resetAuthorizations, needs: 'user' },
  'auth.sendCode': { run: sendCode, needs: 'none', limit: 'login' },
  'auth.signIn': { run: signIn, needs: 'none', limit: 'login' },
  'auth.signUp': { run: signUp, needs: 'none', limit: 'login' },
  'channels.checkUsername': { run: checkChannelUsername, needs: 'user', limit: 'username' },
  'channels.createChannel': { run: createChannel, needs: 'user', limit: 'send' },
  'channels.deleteChannel': { run: deleteChannel, needs: 'user' },
  'channels.deleteMessages': { run: deleteChannelMessages, needs: 'user' },
  'channels.editAdmin': { run: editAdmin, needs: 'user' },
  'channels.editBanned': { run: editBanned, needs: 'user' },
  'channels.editPhoto': { run: editPhoto, needs: 'user' },
  'channels.editTitle': { run: editTitle, needs: 'user' },
  'channels.getAdminLog': { run: getAdminLog, needs: 'user' },
  'channels.getChannels': { run: getChannels, needs: 'user' },
  'channels.getFullChannel': { run: getFullChannel, needs: 'user' },
  'channels.getMessages': { run: getChannelMessages, needs: 'user' },
  'channels.getParticipant': { run: getParticipant, needs: 'user' },
  'channels.getParticipants': { run: getParticipants, needs: 'user' },
  'channels.inviteToChannel': { run: inviteToChannel, needs: 'user', limit: 'send' },
  'channels.joinChannel': { run: joinChannel, needs: 'user' },
  'channels.leaveChannel': { run: leaveChannel, needs: 'user' },
  'channels.readHistory': { run: readChannelHistory, needs: 'user' },
  'channels.toggleSignatures': { run: toggleSignatures, needs: 'user' },
  'channels.toggleSlowMode': { run: toggleSlowMode, needs: 'user' },
  'channels.updateUsername': { run: updateChannelUsername, needs: 'user', limit: 'username' },
  'contacts.deleteContacts': { run: deleteContacts, needs: 'user' },
  'contacts.getContacts': { run: getContacts, needs: 'user' },
  'contacts.importContacts': { run: importContacts, needs: 'user', limit: 'import' },
  'contacts.resolveUsername': { run: resolveUsername, needs: 'user', limit: 'username' },
  'help.getAppConfig': { run: getAppConfig, needs: 'none' },
  'help.getConfig': { run: getConfig, needs: 'none' },
  'help.getNearestDc': { run: getNearestDc, needs: 'none' },
  'messages.addChatUser': { run: addChatUser, needs: 'user' },
  'messages.checkChatInvite': { run: checkChatInvite, needs: 'user', limit: 'username' },
  'messages.clearAllDrafts': { run: clearAllDrafts, needs: 'user' },
  'messages.createChat': { run: createChat, needs: 'user' },
  'messages.deleteChatUser': { run: deleteChatUser, needs: 'user' },
  'messages.deleteMessages': { run: deleteMessages, needs: 'user' },
  'messages.editChatTitle': { run: editChatTitle, needs: 'user' },
  'messages.editMessage': { run: editMessage, needs: 'user', limit: 'send' },
  'messages.exportChatInvite': { run: exportChatInvite, needs: 'user' },
  'messages.forwardMessages': { run: forwardMessages, needs: 'user', limit: 'send' },
  'messages.getAllDrafts': { run: getAllDrafts, needs: 'user' },
  'messages.getChats': { run: getChats, needs: 'user' },
  'messages.getDialogs': { run: getDialogs, needs: 'user' },
  'messages.getFullChat': { run: getFullChat, needs: 'user' },
  'messages.getHistory': { run: getHistory, needs: 'user' },
  'messages.getMessages': { run: getMessages, needs: 'user' },
  'messages.getMessagesViews': { run: getMessagesViews, needs: 'user' },
  'messages.getPeerDialogs': { run: getPeerDialogs, needs: 'user' },
  'messages.importChatInvite': { run: importChatInvite, needs: 'user', limit: 'username' },
  'messages.migrateChat': { run: migrateChat, needs: 'user', limit: 'send' },
  'messages.readHistory': { run: readHistory, needs: 'user' },
  'messages.saveDraft': { run: saveDraft, needs: 'user' },
  'messages.search': { run: search, needs: 'user' },
  'messages.sendMedia': { run: sendMedia, needs: 'user', limit: 'send' },
  'messages.sendMessage': { run: sendMessage, needs: 'user', limit: 'send' },
  'messages.setTyping': { run: setTyping, needs: 'user' },
  'messages.toggleDialogPin': { run: toggleDialogPin, needs: 'user' },
  'messages.unpinAllMessages': { run: unpinAllMessages, needs: 'user' },
  'messages.updatePinnedMessage': { run: updatePinnedMessage, needs: 'user' },
  'messages.uploadMedia': { run: uploadMedia, needs: 'user', limit: 'send' },
  'photos.deletePhotos': { run: deletePhotos, needs: 'user' },
  'photos.getUserPhotos': { run: getUserPhotos, needs: 'user' },
  'photos.updateProfilePhoto': { run: updateProfilePhoto, needs: 'user' },
  'photos.uploadProfilePhoto': { run: uploadProfilePhoto, needs: 'user' },
  'updates.getChannelDifference': { run: getChannelDifference, needs: 'user' },
  'updates.getDifference': { run: getDifference, needs: 'user' },
  'updates.getState': { run: getState, needs: 'user' },
  'upload.getFile': { run: getFile, needs: 'user' },
  'upload.saveBigFilePart': { run: saveBigFilePart, needs: 'user', limit: 'upload' },
  'upload.saveFilePart': { run: saveFilePart, needs: 'user', limit: 'upload' },
  'users.getFullUser': { run: getFullUser, needs: 'user' },
  'users.getUsers': { run: getUsers, needs: 'user' },
};

/** Throws the rpc_error a call gets when its key does not have what the method needs. */
async function checkNeeds(needs: Needs, ctx: CallContext, deps: MethodDeps): Promise<void> {
  switch (needs) {
    case 'none':
      return;
    case 'user':
      // The RequestContext built here is the one the handler gets (context.ts).
      requireUser(await requestContext(ctx, deps.auth, deps.dcId));
      return;
    case 'temp-key':
      if (!ctx.authKey.temporary) throw errors.badRequest('TEMP_AUTH_KEY_EMPTY');
      return;
  }
}

/** Throws FLOOD_WAIT_X when the call's key or address has no token left for its rate class. */
function checkLimit(limit: RateClass | undefined, ctx: CallContext, limits: RateLimits): void {
  if (!limit) return;
  const wait = limits.take(limit, {
    // A temporary key bound to a permanent one counts as that key, as its login does.
    authKeyId: ctx.authKey.permAuthKeyId ?? ctx.authKey.id,
    address: ctx.remoteAddress,
  });
  if (wait > 0) throw errors.floodWait(wait);
}

/**
 * The dispatcher the engine calls for every API call: table lookup, `needs`, the rate limit, then
 * the handler.
 */
export function methodTable(deps: MethodDeps, table: Readonly<Record<string, Method>> = METHODS): ApiHandler {
  return async (call, ctx) => {
    const method = table[call._];
    if (!method) throw errors.notImplemented(call._);
    await checkNeeds(method.needs, ctx, deps);
    checkLimit(method.limit, ctx, deps.limits);
    return method.run(call, ctx, deps);
  };
}
