/**
 * Media on messages. A file lives in the DC that received its upload, and the media service of
 * that DC decides who may download it (its grants). So before any copy of a message with media is
 * stored, every user who will hold a copy is granted the file at the file's DC: no box ever shows
 * a file its owner cannot fetch.
 *
 * - A new message (sendMessage / sendMedia): the sender uploaded to its home DC, which is this
 *   DC, so this DC's media service completes the upload and grants. A file sent again by
 *   reference (inputMediaDocument / inputMediaPhoto) goes to the DC its id names instead.
 * - A forward: the file may live in any DC (the original sender's); its media service there
 *   checks that the forwarder may see it and grants the new holders.
 */
import { dcOfFileId, errors, unary, type DcClients } from '../../../shared/src';
import type { RequestContext } from '../../../shared/src/gen/tern/common/v1/context';
import type { InputMedia, MessageMedia } from '../../../shared/src/gen/tern/common/v1/media';
import type { MediaServiceClient } from '../../../shared/src/gen/tern/media/v1/media';

/** Completing an upload reads it once and copies it inside the object store: allow big files. */
const UPLOAD_MEDIA_DEADLINE_MS = 120_000;

/**
 * A message's media, made once the users who will hold the message are known (a group send reads
 * the members itself). Undefined: the message has none.
 */
export type MediaFor = (holders: bigint[]) => Promise<MessageMedia>;

export interface Attachments {
  /** New media from the sender: completes an upload or re-uses a file the sender may see. */
  attach(ctx: RequestContext, input: InputMedia, holders: bigint[]): Promise<MessageMedia>;
  /** Stored media passed on (forwards): the same file, granted to `holders` where it lives. */
  share(ctx: RequestContext, media: MessageMedia, holders: bigint[]): Promise<MessageMedia>;
}

/** The file a stored MessageMedia names, and the DC that holds it. */
function fileOf(media: MessageMedia): { id: bigint; dcId: number } {
  const k = media.kind;
  if (k?.$case === 'document' || k?.$case === 'photo') return { id: k.value.id, dcId: k.value.dcId };
  throw errors.badRequest('MEDIA_INVALID');
}

/**
 * @param local this DC's media service (uploads land here: it is the sender's home DC).
 * @param byDc every DC's media service, for files stored elsewhere.
 * @param dcIds the deployment's DCs: a reference naming another DC is not a file.
 */
export function attachments(
  local: MediaServiceClient,
  byDc: DcClients<MediaServiceClient>,
  dcIds: readonly number[],
): Attachments {
  /** The media service holding the file `input` names (this DC's for a new upload). */
  function holderOf(input: InputMedia): MediaServiceClient {
    const k = input.kind;
    if (k?.$case !== 'document' && k?.$case !== 'photo') return local;
    const dc = dcOfFileId(k.value.id);
    if (!dcIds.includes(dc)) throw errors.badRequest(k.$case === 'photo' ? 'PHOTO_INVALID' : 'MEDIA_INVALID');
    return byDc.forDc(dc);
  }

  return {
    async attach(ctx, input, holders) {
      const service = holderOf(input);
      const res = await unary(
        service.uploadMedia.bind(service),
        { context: ctx, media: input, grantUserIds: holders },
        { deadlineMs: UPLOAD_MEDIA_DEADLINE_MS },
      );
      if (!res.media) throw errors.badRequest('MEDIA_INVALID');
      return res.media;
    },

    async share(ctx, media, holders) {
      const file = fileOf(media);
      const service = byDc.forDc(file.dcId);
      await unary(service.grantAccess.bind(service), {
        context: ctx,
        fileId: file.id,
        userIds: holders,
        channelIds: [],
      });
      return media;
    },
  };
}
