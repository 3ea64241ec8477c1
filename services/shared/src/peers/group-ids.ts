/**
 * The id layout basic groups and channels share (docs/decisions/0010, 0018): `(n << 10) | home_dc`,
 * so every service finds a group's or a channel's home DC from its id alone, without a lookup.
 * The services that make ids (messaging for basic groups, channel for channels) choose `n`; the
 * others only read the DC.
 */

/** Low bits of a group or channel id that name its home DC (topology DC ids are 1..1000). */
export const GROUP_ID_DC_BITS = 10;

/** The DC that owns the basic group or channel `id`. */
export const groupHomeDc = (id: bigint): number => Number(id & ((1n << BigInt(GROUP_ID_DC_BITS)) - 1n));
