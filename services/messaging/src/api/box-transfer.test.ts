import { types } from 'cassandra-driver';
import { BoxTransferValue } from '../../../shared/src/gen/tern/messaging/v1/messaging';
import { decodeCursor, decodeValue, encodeCursor, encodeValue } from './box-transfer';

/** Driver value → wire → bytes → wire → driver value. */
const roundTrip = (v: unknown) =>
  decodeValue(BoxTransferValue.decode(BoxTransferValue.encode(encodeValue(v)).finish()));

describe('box transfer wire values', () => {
  it('carries every column type of a box exactly, bigints beyond 2^53 included', () => {
    const big = types.Long.fromString('-9007199254740993');
    expect((roundTrip(big) as types.Long).toString()).toBe('-9007199254740993');
    expect(roundTrip(2147483647)).toBe(2147483647);
    expect(roundTrip('u123')).toBe('u123');
    expect(roundTrip(false)).toBe(false);
    expect(roundTrip(Buffer.from([0, 1, 255]))).toEqual(Buffer.from([0, 1, 255]));
    expect(roundTrip(new Date(1_700_000_000_123))).toEqual(new Date(1_700_000_000_123));
    expect(roundTrip(null)).toBeNull();
  });

  it('refuses a type it cannot carry instead of writing something else', () => {
    expect(() => encodeValue(new Map())).toThrow(/unsupported type/);
  });
});

describe('export cursors', () => {
  it('round-trips, and answers CURSOR_INVALID for anything else', () => {
    const c = { group: 3, index: 7, pageState: '00ff' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor(encodeCursor(undefined))).toBeUndefined();
    for (const bad of ['{', '{"group":-1,"index":0}', '{"group":1,"index":0,"pageState":"x y"}'])
      expect(() => decodeCursor(Buffer.from(bad))).toThrow(/CURSOR_INVALID/);
  });
});
