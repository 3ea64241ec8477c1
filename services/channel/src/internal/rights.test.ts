import { ChannelParticipant, ChannelParticipant_Role } from '../../../shared/src/gen/tern/channel/v1/channel';
import type { ChannelRow, ParticipantRow } from '../storage/store';
import {
  ALL_RIGHTS,
  activeBans,
  channelView,
  checkTitle,
  exceedsRights,
  hasRight,
  isMember,
  NO_BANS,
  NO_RIGHTS,
  noBans,
  slowmodeWait,
} from './rights';

const participant = (
  role: ChannelParticipant_Role,
  extra: Partial<ChannelParticipant> = {},
): ParticipantRow => ({
  userId: 5n,
  p: ChannelParticipant.create({ userId: 5n, role, ...extra }),
  version: 1n,
  recentKey: 1n,
});

const row: ChannelRow = {
  id: (77n << 10n) | 2n,
  accessHash: 123n,
  megagroup: true,
  title: 't',
  about: '',
  username: '',
  creatorId: 1n,
  date: 1,
  signatures: false,
  slowmodeSeconds: 0,
  pinnedMsgId: 0,
  participantsCount: 3,
  adminsCount: 1,
  kickedCount: 0,
  bannedCount: 0,
  deleted: false,
  migratedFromChatId: 0n,
  migratedFromMaxId: 0,
  logFloor: 0,
  invites: new Map(),
  createKey: 0n,
  readOutboxMaxId: 0,
};

describe('channel rights', () => {
  it('the creator holds every right, admins their own, members none', () => {
    expect(hasRight(participant(ChannelParticipant_Role.CREATOR), 'addAdmins')).toBe(true);
    const admin = participant(ChannelParticipant_Role.ADMIN, {
      adminRights: { ...NO_RIGHTS, banUsers: true },
    });
    expect(hasRight(admin, 'banUsers')).toBe(true);
    expect(hasRight(admin, 'addAdmins')).toBe(false);
    expect(hasRight(participant(ChannelParticipant_Role.MEMBER), 'postMessages')).toBe(false);
    expect(hasRight(undefined, 'postMessages')).toBe(false);
  });

  it('an admin cannot grant what it lacks (RIGHT_FORBIDDEN)', () => {
    expect(exceedsRights({ ...NO_RIGHTS, banUsers: true }, { ...NO_RIGHTS, banUsers: true })).toBe(false);
    expect(exceedsRights({ ...NO_RIGHTS, banUsers: true }, { ...NO_RIGHTS, changeInfo: true })).toBe(true);
    expect(exceedsRights(ALL_RIGHTS, { ...ALL_RIGHTS, anonymous: true })).toBe(false);
  });

  it('membership, bans and their expiry', () => {
    expect(isMember(participant(ChannelParticipant_Role.RESTRICTED))).toBe(true);
    expect(isMember(participant(ChannelParticipant_Role.BANNED))).toBe(false);
    expect(isMember(participant(ChannelParticipant_Role.LEFT))).toBe(false);
    const muted = participant(ChannelParticipant_Role.RESTRICTED, {
      bannedRights: { ...NO_BANS, sendMessages: true, untilDate: 100 },
    });
    expect(activeBans(muted, 99)?.sendMessages).toBe(true);
    expect(activeBans(muted, 100)).toBeUndefined();
    expect(noBans(NO_BANS)).toBe(true);
    expect(noBans({ ...NO_BANS, sendMedia: true })).toBe(false);
  });

  it('slow mode waits out the rest of the interval', () => {
    expect(slowmodeWait(0, 100, 101)).toBe(0);
    expect(slowmodeWait(60, 0, 101)).toBe(0);
    expect(slowmodeWait(60, 100, 130)).toBe(30);
    expect(slowmodeWait(60, 100, 160)).toBe(0);
  });

  it('titles: trimmed, not empty, at most 128 characters', () => {
    expect(checkTitle('  x ')).toBe('x');
    expect(() => checkTitle('   ')).toThrow('CHAT_TITLE_EMPTY');
    expect(() => checkTitle('a'.repeat(129))).toThrow('CHAT_TITLE_TOO_LONG');
  });
});

describe('channelView', () => {
  it('is viewer-relative for a viewer, and a plain member view for events', () => {
    const creator = channelView(row, participant(ChannelParticipant_Role.CREATOR), 1);
    expect(creator).toMatchObject({ creator: true, left: false, dcId: 2, megagroup: true, broadcast: false });
    expect(creator.adminRights?.addAdmins).toBe(true);
    expect(channelView(row, undefined, 1)).toMatchObject({ creator: false, left: true });
    expect(channelView(row, participant(ChannelParticipant_Role.BANNED), 1).forbidden).toBe(true);
    const neutral = channelView(row, undefined, 1, false);
    expect(neutral).toMatchObject({ creator: false, left: false, accessHash: 123n });
    expect(neutral.adminRights).toBeUndefined();
    const restricted = channelView(
      row,
      participant(ChannelParticipant_Role.RESTRICTED, { bannedRights: { ...NO_BANS, sendMessages: true } }),
      1,
    );
    expect(restricted.bannedRights?.sendMessages).toBe(true);
  });
});
