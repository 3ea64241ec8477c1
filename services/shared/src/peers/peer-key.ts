import type { Peer } from '../gen/tern/common/v1/peer';

/**
 * A peer as a string key (`u5` a user, `c7` a basic group, `h9` a channel; '' for none), for maps
 * and for storage rows keyed by dialog (messaging's drafts).
 */
export function peerKey(p: Peer | undefined): string {
  switch (p?.kind?.$case) {
    case 'userId':
      return `u${p.kind.value}`;
    case 'chatId':
      return `c${p.kind.value}`;
    case 'channelId':
      return `h${p.kind.value}`;
    default:
      return '';
  }
}

/** The peer of a non-empty peerKey. */
export function peerOfKey(key: string): Peer {
  const id = BigInt(key.slice(1));
  if (key.startsWith('c')) return { kind: { $case: 'chatId', value: id } };
  if (key.startsWith('h')) return { kind: { $case: 'channelId', value: id } };
  return { kind: { $case: 'userId', value: id } };
}
