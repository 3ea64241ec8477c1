/**
 * Helpers of the GramJS media suites (media, media-photos, media-sharing, media-clients): finding the peer to send a file to,
 * reading the Telegram error a call fails with, and closing a client that downloaded from other
 * DCs.
 */
import { randomInt } from 'node:crypto';
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
