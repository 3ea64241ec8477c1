/**
 * The method table: every TL method the gateway answers, and where. This is the one place a
 * reader looks to see which Telegram API call becomes which gRPC call; the handlers translate
 * and hold no business rules. A method not listed is answered at once with 501
 * METHOD_NOT_IMPLEMENTED.
 */
import type { Topology } from '../../../shared/src/config/topology';
import { RpcError, type ApiHandler, type ApiResult, type CallContext } from '../mtproto/engine';
import {
  checkUsername,
  getAuthorizations,
  getFullUser,
  logOut,
  resetAuthorization,
  resetAuthorizations,
  resolveUsername,
  updateProfile,
  updateStatus,
  updateUsername,
} from './account';
import { deleteContacts, getContacts, importContacts } from './contacts';
import {
  cancelCode,
  exportAuthorization,
  getUsers,
  importAuthorization,
  resendCode,
  sendCode,
  signIn,
  signUp,
} from './auth';
import { addChatUser, createChat, deleteChatUser, editChatTitle, getChats, getFullChat } from './chats';
import {
  deleteMessages,
  editMessage,
  forwardMessages,
  getDialogs,
  getMessages,
  getPeerDialogs,
  readHistory,
  search,
  setTyping,
  toggleDialogPin,
} from './dialogs';
import { getDifference, getHistory, getState, sendMessage, type MessagingDeps } from './messages';
import { bindTempAuthKey, type PfsDeps } from './pfs';
import { getNotifySettings, registerDevice, unregisterDevice, updateNotifySettings } from './notify';
import type { TlObject } from '../mtproto/tl-types';
import { config, nearestDc } from './help';
import { deletePhotos, getUserPhotos, updateProfilePhoto, uploadProfilePhoto } from './photos';
import { getFile, saveBigFilePart, saveFilePart, sendMedia, uploadMedia, type MediaDeps } from './upload';

/** What handlers may use: the deployment's shape and this DC's backend clients. */
export interface MethodDeps extends PfsDeps, MessagingDeps, MediaDeps {
  dcId: number;
  topology: Topology;
}

type Method = (call: TlObject, ctx: CallContext, deps: MethodDeps) => Promise<ApiResult>;

/** TL method name → handler. Keep it sorted by namespace. */
export const METHODS: Readonly<Record<string, Method>> = {
  'account.checkUsername': checkUsername,
  'account.getAuthorizations': getAuthorizations,
  'account.getNotifySettings': getNotifySettings,
  'account.registerDevice': registerDevice,
  'account.resetAuthorization': resetAuthorization,
  'account.unregisterDevice': unregisterDevice,
  'account.updateNotifySettings': updateNotifySettings,
  'account.updateProfile': updateProfile,
  'account.updateStatus': updateStatus,
  'account.updateUsername': updateUsername,
  'auth.bindTempAuthKey': bindTempAuthKey,
  'auth.cancelCode': cancelCode,
  'auth.exportAuthorization': exportAuthorization,
  'auth.importAuthorization': importAuthorization,
  'auth.logOut': logOut,
  'auth.resendCode': resendCode,
  'auth.resetAuthorizations': resetAuthorizations,
  'auth.sendCode': sendCode,
  'auth.signIn': signIn,
  'auth.signUp': signUp,
  'contacts.deleteContacts': deleteContacts,
  'contacts.getContacts': getContacts,
  'contacts.importContacts': importContacts,
  'contacts.resolveUsername': resolveUsername,
  'help.getConfig': (_call, _ctx, d) => Promise.resolve(config(d.topology, d.dcId)),
  'help.getNearestDc': (_call, _ctx, d) => Promise.resolve(nearestDc(d.dcId)),
  // Start-up calls answered empty but valid (no app-specific configuration yet).
  'help.getAppConfig': () =>
    Promise.resolve({ _: 'help.appConfig', hash: 0, config: { _: 'jsonObject', value: [] } }),
  'messages.addChatUser': addChatUser,
  'messages.createChat': createChat,
  'messages.deleteChatUser': deleteChatUser,
  'messages.editChatTitle': editChatTitle,
  'messages.getChats': getChats,
  'messages.getFullChat': getFullChat,
  'messages.getHistory': getHistory,
  'messages.deleteMessages': deleteMessages,
  'messages.editMessage': editMessage,
  'messages.forwardMessages': forwardMessages,
  'messages.getDialogs': getDialogs,
  'messages.getMessages': getMessages,
  'messages.getPeerDialogs': getPeerDialogs,
  'messages.readHistory': readHistory,
  'messages.search': search,
  'messages.setTyping': setTyping,
  'messages.toggleDialogPin': toggleDialogPin,
  'messages.sendMedia': sendMedia,
  'messages.uploadMedia': uploadMedia,
  'messages.sendMessage': sendMessage,
  'photos.deletePhotos': deletePhotos,
  'photos.getUserPhotos': getUserPhotos,
  'photos.updateProfilePhoto': updateProfilePhoto,
  'photos.uploadProfilePhoto': uploadProfilePhoto,
  'updates.getDifference': getDifference,
  'updates.getState': getState,
  'upload.getFile': getFile,
  'upload.saveBigFilePart': saveBigFilePart,
  'upload.saveFilePart': saveFilePart,
  'users.getFullUser': getFullUser,
  'users.getUsers': getUsers,
};

export function methodTable(deps: MethodDeps): ApiHandler {
  return (call, ctx) => {
    const method = METHODS[call._];
    if (!method) return Promise.reject(new RpcError(501, 'METHOD_NOT_IMPLEMENTED'));
    return method(call, ctx, deps);
  };
}
