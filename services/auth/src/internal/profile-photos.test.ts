import type { Photo } from '../../../shared/src/gen/tern/common/v1/media';
import { currentPhotoOf, orderPhotos, pageOf, type ProfilePhotoRow } from './profile-photos';

const photo = (id: bigint, stripped = Buffer.alloc(0)): Photo => ({
  id,
  accessHash: 1n,
  fileReference: Buffer.alloc(0),
  date: 0,
  dcId: 2,
  sizes: [
    ...(stripped.length ? [{ type: 'i', w: 0, h: 0, size: 0, bytes: stripped }] : []),
    { type: 'a', w: 160, h: 160, size: 100, bytes: Buffer.alloc(0) },
  ],
});
const row = (id: bigint, setAtMs: bigint): ProfilePhotoRow => ({ photo: photo(id), setAtMs });
const ids = (p: { photos: Photo[] }) => p.photos.map((x) => Number(x.id));

describe('profile photo list', () => {
  // Set in the order 10, 20, 30, then 10 again: 10 is current, then 30, then 20.
  const rows = orderPhotos([row(20n, 2n), row(10n, 4n), row(30n, 3n)]);

  it('puts the photo set last first, ties by id', () => {
    expect(rows.map((r) => Number(r.photo.id))).toEqual([10, 30, 20]);
    expect(orderPhotos([row(9n, 1n), row(3n, 1n)]).map((r) => Number(r.photo.id))).toEqual([3, 9]);
  });

  it('shows the current photo with its DC and stripped thumbnail', () => {
    const cur = currentPhotoOf([{ photo: photo(7n, Buffer.from([1, 40, 40])), setAtMs: 5n }, row(8n, 1n)]);
    expect(cur).toEqual({ photoId: 7n, dcId: 2, strippedThumb: Buffer.from([1, 40, 40]) });
    expect(currentPhotoOf([])).toBeUndefined();
  });

  it('pages from the start, after max_id, with offsets and limits', () => {
    expect(pageOf(rows, 0, 0n, 10)).toMatchObject({ count: 3 });
    expect(ids(pageOf(rows, 0, 0n, 10))).toEqual([10, 30, 20]);
    expect(ids(pageOf(rows, 1, 0n, 1))).toEqual([30]);
    expect(ids(pageOf(rows, 0, 30n, 10))).toEqual([20]);
    // What clients send to refetch one photo (a fresh file reference): itself.
    expect(ids(pageOf(rows, -1, 30n, 1))).toEqual([30]);
    expect(ids(pageOf(rows, 0, 99n, 10))).toEqual([]);
    expect(pageOf(rows, 0, 0n, 0)).toEqual({ photos: [], count: 3 });
    expect(ids(pageOf(rows, -5, 0n, 1000))).toEqual([10, 30, 20]);
  });
});
