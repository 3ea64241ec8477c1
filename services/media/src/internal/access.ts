/**
 * Who may read a stored file. A document or photo (one id space, the same rules) may be used by
 * its uploader, by users it was granted to (file_grants: the recipients of a message carrying it)
 * and, while a profile shows a photo, by anyone logged in. A client names the file with its id,
 * access hash and a file reference issued by a gateway (docs/decisions/0013-file-references.md).
 *
 * Unknown files and files the caller may not see answer the same FILE_ID_INVALID, so ids cannot be
 * probed. An id names the DC holding the file, so another DC's id is FILE_MIGRATE_X with no lookup.
 */
import { BoundedMap, cachedLoad, dcOfFileId, errors, type FileReferences } from '../../../shared/src';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import type { InputPeer } from '../../../shared/src/gen/tern/common/v1/peer';
import type { FileStore, StoredDocument, StoredPhoto } from '../storage/files';

/**
 * The access check of a user named by a client: the owner of users is the auth service (access
 * hashes, and wherever the user lives), so the media service asks it rather than keeping hashes.
 */
export interface PeerCheck {
  /** Whether the caller (`context`) addressed `userId` with the access hash it was given. */
  userAddressable(context: RequestContext | undefined, userId: bigint, accessHash: bigint): Promise<boolean>;
}

/**
 * Whether a user may read a channel (and so the files posted in it): the channel service of the
 * channel's home DC decides (CanReadChannel); see channel-readers.ts for the cache in front of it.
 */
export interface ChannelCheck {
  readable(channelId: bigint, userId: bigint): Promise<boolean>;
}

/** A stored file someone may hold: a document or a photo (same id space, same access rules). */
export interface Held {
  id: bigint;
  accessHash: bigint;
  fileReference: Buffer;
  ownerId: bigint;
  /** Set (non-zero) on a photo a profile shows: then anyone logged in may download it. */
  profileUserId?: bigint;
}

/** How a client names a stored file: InputDocument, InputPhoto, or a file location. */
export interface FileRef {
  id: bigint;
  accessHash: bigint;
  fileReference: Uint8Array;
}

/** Users one GrantAccess call may add (a basic group's size is the largest fan-out today). */
const MAX_GRANTS = 1000;
/** Channels one GrantAccess call may add (a post names one). */
const MAX_CHANNEL_GRANTS = 10;
/**
 * Channels a download check asks about at most: a file posted in more channels than this is
 * downloadable only by readers of the first ones (by channel id order), a bound on the calls one
 * check makes.
 */
const CHANNELS_CHECKED = 20;

/** Whether `user` may download `file` without a grant: the uploader, or anyone for a profile photo. */
export const openTo = (file: Held, user: bigint): boolean =>
  file.ownerId === user || (file.profileUserId ?? 0n) !== 0n;

export interface AccessDeps {
  dcId: number;
  /** DC ids of the deployment: an id naming an unknown DC is FILE_ID_INVALID, not a redirect. */
  dcIds: readonly number[];
  store: FileStore;
  /** Checks the references clients present (issued by gateways with the deployment's key). */
  references: FileReferences;
  /** Whether a caller may address a user (inputPeerPhotoFileLocation): the auth service decides. */
  peers: PeerCheck;
  /** Whether a user may read a channel a file was posted in. */
  channels: ChannelCheck;
}

/** Documents and grants kept in memory (neither changes once written; each download checks both). */
const DOCUMENTS_CACHED = 10_000;
const GRANTS_CACHED = 50_000;

export class FileAccess {
  private readonly documents = new BoundedMap<bigint, StoredDocument>(DOCUMENTS_CACHED);
  /** `<file id>:<user id>` of grants seen; only granted pairs (a grant may be added any moment). */
  private readonly grants = new BoundedMap<string, true>(GRANTS_CACHED);

  constructor(private readonly d: AccessDeps) {}

  /**
   * Whether `user` may read `file`: it is open to them (openTo), was granted to them, or was
   * posted in a channel they may read.
   */
  async mayRead(file: Held, user: bigint): Promise<boolean> {
    if (openTo(file, user)) return true;
    const granted = await cachedLoad(this.grants, `${file.id}:${user}`, async () =>
      (await this.d.store.granted(file.id, user)) ? true : undefined,
    );
    if (granted) return true;
    const channels = await this.d.store.grantedChannels(file.id, CHANNELS_CHECKED);
    // Side by side: each may be a call to another DC.
    return (await Promise.all(channels.map((c) => this.d.channels.readable(c, user)))).some(Boolean);
  }

  /**
   * A stored document or photo (`load` reads which) `user` may use: the id is this DC's
   * (FILE_MIGRATE_X otherwise), the access hash matches, the user may read it (mayRead), and the
   * file reference is current.
   */
  async usable<T extends Held>(
    user: bigint,
    ref: FileRef,
    load: (id: bigint) => Promise<T | undefined>,
  ): Promise<T> {
    const dc = dcOfFileId(ref.id);
    if (dc !== this.d.dcId) {
      if (this.d.dcIds.includes(dc)) throw errors.migrate('FILE', dc);
      throw errors.badRequest('FILE_ID_INVALID');
    }
    const file = await load(ref.id);
    if (!file || file.accessHash !== ref.accessHash) throw errors.badRequest('FILE_ID_INVALID');
    if (!(await this.mayRead(file, user))) throw errors.badRequest('FILE_ID_INVALID');
    // References are issued by the gateway each time it shows the file and expire after a while
    // (shared/src/files/file-reference.ts). Forged ones get the same answer as expired ones: either
    // way the client's way out is to fetch the message again for a fresh reference.
    if (this.d.references.check(file.id, ref.fileReference) !== 'valid')
      throw errors.badRequest('FILE_REFERENCE_EXPIRED');
    return file;
  }

  /** A document `user` may use (usable). */
  usableDocument(user: bigint, ref: FileRef): Promise<StoredDocument> {
    return this.usable(user, ref, (id) => cachedLoad(this.documents, id, () => this.d.store.document(id)));
  }

  /** A photo `user` may use (usable). */
  usablePhoto(user: bigint, ref: FileRef): Promise<StoredPhoto> {
    return this.usable(user, ref, (id) => this.d.store.photo(id));
  }

  /**
   * The profile photo inputPeerPhotoFileLocation names: a photo of this DC (FILE_MIGRATE_X
   * otherwise) on the profile of the user `peer` names, which the caller must be able to address
   * (PEER_ID_INVALID). Clients ask with the photo id the user showed when they fetched it, so any
   * photo still on the profile is served, not only the current one. The location carries no file
   * reference: the peer check takes its place, as on Telegram.
   */
  async profilePhoto(
    context: RequestContext | undefined,
    user: bigint,
    peer: InputPeer | undefined,
    photoId: bigint,
  ): Promise<StoredPhoto> {
    const dc = dcOfFileId(photoId);
    if (dc !== this.d.dcId) {
      if (this.d.dcIds.includes(dc)) throw errors.migrate('FILE', dc);
      throw errors.badRequest('LOCATION_INVALID');
    }
    let owner: bigint;
    if (peer?.kind?.$case === 'self') owner = user;
    else if (peer?.kind?.$case === 'user') {
      const { userId, accessHash } = peer.kind.value;
      // One's own profile needs no access hash (and asking auth would send a user who moved to
      // USER_MIGRATE_X while its old photos stay here).
      if (userId !== user && !(await this.d.peers.userAddressable(context, userId, accessHash)))
        throw errors.badRequest('PEER_ID_INVALID');
      owner = userId;
    } else if (peer?.kind?.$case === 'channel') {
      // A channel's chat photo: granted to the channel when it was set (UploadChatPhoto), so
      // whoever may read the channel may see it; it is not on anyone's profile.
      const channelId = peer.kind.value.channelId;
      const photo = await this.d.store.photo(photoId);
      if (!photo || !(await this.d.store.grantedChannels(photoId, CHANNELS_CHECKED)).includes(channelId))
        throw errors.badRequest('LOCATION_INVALID');
      if (!(await this.d.channels.readable(channelId, user))) throw errors.badRequest('CHANNEL_PRIVATE');
      return photo;
    } else throw errors.badRequest('PEER_ID_INVALID'); // basic groups have no photos yet
    const photo = await this.d.store.photo(photoId);
    if (!photo || photo.profileUserId !== owner) throw errors.badRequest('LOCATION_INVALID');
    return photo;
  }

  /**
   * Lets `users`, and the readers of `channels`, read a file of `owner` (the uploader needs no
   * grant, user 0 is nobody). At most MAX_GRANTS users (USERS_TOO_MUCH) and MAX_CHANNEL_GRANTS
   * channels (CHANNELS_TOO_MUCH) at once.
   */
  async grant(
    fileId: bigint,
    owner: bigint,
    users: readonly bigint[],
    channels: readonly bigint[] = [],
  ): Promise<void> {
    const others = [...new Set(users)].filter((u) => u !== owner && u !== 0n);
    if (others.length > MAX_GRANTS) throw errors.badRequest('USERS_TOO_MUCH');
    const chans = [...new Set(channels)].filter((c) => c > 0n);
    if (chans.length > MAX_CHANNEL_GRANTS) throw errors.badRequest('CHANNELS_TOO_MUCH');
    if (others.length > 0) await this.d.store.grant(fileId, others);
    if (chans.length > 0) await this.d.store.grantChannels(fileId, chans);
  }
}
