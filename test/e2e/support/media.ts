/**
 * Helpers of the GramJS media suites (media, media-photos, media-sharing, media-clients): finding the peer to send a file to,
 * reading the Telegram error a call fails with, closing a client that downloaded from other DCs,
 * and the pictures the photo tests send and compare.
 */
import { randomInt } from 'node:crypto';
import sharp from 'sharp';
import type { Api as GramApi } from 'telegram';
import type { Gram } from './users';

/** The input peer `viewer` uses for `other` (found by username, as a client would). */
export async function peerOf(viewer: Gram, other: Gram): Promise<GramApi.InputPeerUser> {
  const name = `f_${randomInt(0, 1e9).toString(36)}x`;
  await other.client.invoke(new other.Api.account.UpdateUsername({ username: name }));
  const resolved = await viewer.client.invoke(new viewer.Api.contacts.ResolveUsername({ username: name }));
  const u = resolved.users[0] as GramApi.User;
  return new viewer.Api.InputPeerUser({ userId: u.id, accessHash: u.accessHash! });
}

/** The Telegram error a call fails with ('FILE_MIGRATE_2' for GramJS's redirect errors). */
export async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    const err = e as { errorMessage?: string; newDc?: number; constructor: { name: string } };
    if (err.constructor.name === 'FileMigrateError') return `FILE_MIGRATE_${err.newDc}`;
    return err.errorMessage ?? String(e);
  }
}

/**
 * Destroys a client and the senders it opened to other DCs: GramJS's disconnect walks its maps of
 * exported senders with Object.values, which sees nothing in a Map, so they and their 30 s release
 * timers would outlive the test.
 */
export async function close(g: Gram | undefined): Promise<void> {
  if (!g) return;
  const c = g.client as unknown as {
    _exportedSenderPromises: Map<number, Promise<{ disconnect(): Promise<void> } | undefined>>;
    _exportedSenderReleaseTimeouts: Map<number, ReturnType<typeof setTimeout>>;
  };
  for (const t of c._exportedSenderReleaseTimeouts.values()) clearTimeout(t);
  for (const p of c._exportedSenderPromises.values()) await (await p.catch(() => undefined))?.disconnect();
  await g.client.destroy();
}

/** The document of a message that must carry one. */
export function documentOf(m: GramApi.Message | undefined): GramApi.Document {
  const media = m?.media as GramApi.MessageMediaDocument | undefined;
  expect(media?.className).toBe('MessageMediaDocument');
  return media!.document as GramApi.Document;
}

/** The photo of a message that must carry one. */
export function photoOf(m: GramApi.Message | undefined): GramApi.Photo {
  const media = m?.media as GramApi.MessageMediaPhoto | undefined;
  expect(media?.className).toBe('MessageMediaPhoto');
  return media!.photo as GramApi.Photo;
}

/** A `w`×`h` JPEG with bands of colour and a checkerboard, as a camera might send. */
export async function pictureJpeg(w: number, h: number): Promise<Buffer> {
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const check = (Math.floor(x / 100) + Math.floor(y / 100)) % 2 === 0;
      raw[i] = Math.floor((x / w) * 255);
      raw[i + 1] = check ? 220 : 30;
      raw[i + 2] = Math.floor((y / h) * 255);
    }
  return sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 92 })
    .toBuffer();
}

/**
 * How far apart two pictures are: the mean difference per channel (0–255) of their 8×6 shrunk
 * copies. A stripped thumbnail (quality 20, the checkerboard gone) keeps the picture's colour
 * gradients and stays close; one decoded with the wrong tables is noise and misses by far more.
 */
export async function gridDifference(a: Buffer, b: Buffer): Promise<number> {
  const grid = (jpeg: Buffer) => sharp(jpeg).resize(8, 6, { fit: 'fill' }).raw().toBuffer();
  const [got, want] = [await grid(a), await grid(b)];
  let error = 0;
  for (let i = 0; i < want.length; i++) error += Math.abs(want[i]! - got[i]!);
  return error / want.length;
}
