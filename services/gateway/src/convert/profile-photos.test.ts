import type { User } from '../../../shared/src/gen/tern/common/v1/user';
import { loadTlRuntime } from '../tl-runtime';
import { encodeResultForLayer } from '../tl/downgrade';
import { tlUser } from './users';
import { fileLocationOf } from './media';

const tl = loadTlRuntime();

const alice: User = {
  id: 42n,
  accessHash: -9n,
  firstName: 'Alice',
  lastName: '',
  username: '',
  phone: '',
  dcId: 2,
  isSelf: false,
  contact: false,
  mutualContact: false,
  deleted: false,
  bot: false,
  photo: { photoId: (2n << 56n) | 77n, dcId: 2, strippedThumb: Buffer.from([1, 40, 40, 0xaa]) },
};

describe('profile photos in TL', () => {
  it('shows the current photo on the user in every served layer', () => {
    const u = tlUser(alice);
    expect(u.photo).toEqual({
      _: 'userProfilePhoto',
      photo_id: (2n << 56n) | 77n,
      stripped_thumb: Buffer.from([1, 40, 40, 0xaa]),
      dc_id: 2,
    });
    for (const layer of tl.layers) expect(tl.encodeObject(layer, u).length).toBeGreaterThan(30);
    expect(tlUser({ ...alice, photo: undefined }).photo).toBeUndefined();
  });

  it('reads inputPeerPhotoFileLocation with its peer, photo id and size', () => {
    expect(
      fileLocationOf({
        _: 'inputPeerPhotoFileLocation',
        big: true,
        peer: { _: 'inputPeerUser', user_id: 42n, access_hash: -9n },
        photo_id: 77n,
      }),
    ).toEqual({
      kind: {
        $case: 'peerPhoto',
        value: {
          peer: { kind: { $case: 'user', value: { userId: 42n, accessHash: -9n } } },
          photoId: 77n,
          big: true,
        },
      },
    });
    const small = fileLocationOf({
      _: 'inputPeerPhotoFileLocation',
      peer: { _: 'inputPeerSelf' },
      photo_id: 1n,
    });
    expect(small.kind?.$case === 'peerPhoto' && small.kind.value.big).toBe(false);
    expect(() => fileLocationOf({ _: 'inputStickerSetThumb' })).toThrow('LOCATION_INVALID');
  });

  it('answers photos.deletePhotos with a vector of longs in every served layer', () => {
    for (const layer of tl.layers)
      expect(encodeResultForLayer('photos.deletePhotos', [1n, -2n], layer).length).toBe(4 + 4 + 16);
  });
});
